"""Plan, organization, focus-area and sector pages: content, pagination, queries."""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cities.models import Jurisdiction
from council.models import CoalitionMembership
from initiatives.models import FocusArea, Initiative, Partnership, Sector
from tests.factories import (
    CoalitionFactory,
    CoalitionMembershipFactory,
    InitiativeFactory,
    JurisdictionFactory,
    OrganizationFactory,
    PartnershipFactory,
    PlanFactory,
)

pytestmark = pytest.mark.django_db

# Count of the page's initiatives; the page of them; their focus areas.
LIST_QUERIES = 3
# The plan; then the list.
PLAN_PAGE_QUERIES = 1 + LIST_QUERIES
# The organization; the list; its roles in each; its coalition memberships.
ORGANIZATION_PAGE_QUERIES = 1 + 2 + 1 + 1
# The taxon; the list; the counts by jurisdiction.
TAXON_PAGE_QUERIES = 1 + LIST_QUERIES + 1


def jsonld(html: str) -> list[dict]:
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return [json.loads(block) for block in blocks]


def types(html: str) -> set[str]:
    return {block["@type"] for block in jsonld(html)}


@pytest.fixture
def open_government(db):
    return FocusArea.objects.get(slug="open-government")


@pytest.fixture
def technology(db):
    return Sector.objects.get(slug="technology")


# ------------------------------------------------------------------------------
# Plan
# ------------------------------------------------------------------------------


def test_the_plan_page_lists_its_initiatives_and_document(client, atlas_map):
    plan = PlanFactory.create(
        jurisdiction=atlas_map.chicago,
        title="Chicago Tech Plan",
        slug="chicago-tech-plan",
        url="https://example.org/plan.pdf",
        language="en",
    )
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, plan=plan, title="Wi-Fi")
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, plan=plan, title="Hidden", publication_state="draft"
    )
    html = client.get("/en/plans/chicago-tech-plan/").content.decode()
    assert '<h1 lang="en">Chicago Tech Plan</h1>' in html
    assert 'href="https://example.org/plan.pdf" rel="noopener external"' in html
    assert 'href="/en/jurisdictions/chicago/"' in html
    assert "Wi-Fi" in html
    assert "Hidden" not in html
    assert "CreativeWork" in types(html)


def test_a_draft_plan_is_404_for_the_public(client, atlas_map):
    PlanFactory.create(jurisdiction=atlas_map.chicago, slug="draft-plan", publication_state="draft")
    assert client.get("/en/plans/draft-plan/").status_code == 404


# ------------------------------------------------------------------------------
# Organization
# ------------------------------------------------------------------------------


def test_the_organization_page_shows_its_initiatives_roles_and_coalitions(client, atlas_map):
    org = OrganizationFactory.create(
        name="University of Illinois",
        slug="uiuc",
        kind="university",
        jurisdiction=atlas_map.illinois,
    )
    led = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, title="Data Academy", lead_organization=org
    )
    partnered = InitiativeFactory.create(jurisdiction=atlas_map.nyc, title="Open Labs")
    PartnershipFactory.create(initiative=partnered, organization=org, role=Partnership.Role.FUNDER)
    PartnershipFactory.create(initiative=led, organization=org, role=Partnership.Role.ADVISOR)
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        title="Draft thing",
        lead_organization=org,
        publication_state="draft",
    )
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Unrelated")
    doubly_led = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, title="Twice lead", lead_organization=org
    )
    PartnershipFactory.create(initiative=doubly_led, organization=org, role=Partnership.Role.LEAD)
    coalition = CoalitionFactory.create(jurisdiction=atlas_map.chicago, name="Chicago Council")
    CoalitionMembershipFactory.create(
        coalition=coalition, organization=org, role=CoalitionMembership.Role.CONVENER
    )

    html = client.get("/en/organizations/uiuc/").content.decode()
    assert "<h1>University of Illinois</h1>" in html
    assert "University" in html
    assert 'href="/en/jurisdictions/illinois/"' in html
    assert "Data Academy" in html
    assert "Lead, Advisor" in html
    assert "Open Labs" in html
    assert "Funder" in html
    assert "Draft thing" not in html
    assert "Unrelated" not in html
    assert "(3)" in html
    assert 'Twice lead</a> · <a href="/en/jurisdictions/chicago/">Chicago</a> · Lead</li>' in html
    assert "Chicago Council" in html
    assert "Convener" in html
    assert "Organization" in types(html)


def test_an_unknown_organization_is_404(client, db):
    assert client.get("/fr/organizations/nobody/").status_code == 404


# ------------------------------------------------------------------------------
# Focus areas and sectors
# ------------------------------------------------------------------------------


def test_a_focus_area_lists_every_initiative_across_jurisdictions(
    client, atlas_map, open_government
):
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, title="Chicago Data Portal", focus_areas=[open_government]
    )
    InitiativeFactory.create(
        jurisdiction=atlas_map.nyc, title="NYC Open Data", focus_areas=[open_government]
    )
    InitiativeFactory.create(
        jurisdiction=atlas_map.nyc, title="NYC 311", focus_areas=[open_government]
    )
    InitiativeFactory.create(
        jurisdiction=atlas_map.nyc,
        title="NYC Draft",
        focus_areas=[open_government],
        publication_state="draft",
    )
    InitiativeFactory.create(jurisdiction=atlas_map.nyc, title="Elsewhere")

    html = client.get("/en/focus-areas/open-government/").content.decode()
    assert "<h1>Open government / government 2.0</h1>" in html
    assert "3 initiatives · 2 jurisdictions" in html
    assert html.index("<h3><a") < html.index("Chicago Data Portal") < html.index("NYC 311")
    assert (
        '<a href="/en/jurisdictions/new-york-city/">New York City</a></th><td data-value="2">'
        in html
    )
    assert "NYC Draft" not in html
    assert "Elsewhere" not in html
    assert 'href="/en/feeds/focus-areas/open-government.atom"' in html
    assert "DefinedTerm" in types(html)


def test_a_sector_page_lists_its_initiatives(client, atlas_map, technology):
    initiative = InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="1871 hub")
    initiative.sectors.add(technology)
    html = client.get("/fr/sectors/technology/").content.decode()
    assert "<h1>Technologies</h1>" in html
    assert "1871 hub" in html


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("kind", ["focus-areas", "sectors", "plans", "organizations"])
def test_unknown_slugs_are_404_in_both_languages(client, db, kind, language):
    response = client.get(f"/{language}/{kind}/atlantis/")
    assert response.status_code == 404
    assert f'lang="{language}"' in response.content.decode()


# ------------------------------------------------------------------------------
# Pagination
# ------------------------------------------------------------------------------


def _bulk_initiatives(jurisdictions, count, **fields) -> list[Initiative]:
    return Initiative.objects.bulk_create(
        Initiative(
            jurisdiction=jurisdictions[n % len(jurisdictions)],
            title=f"Initiative {n:03d}",
            slug=f"bulk-{n}",
            publication_state="published",
            **fields,
        )
        for n in range(count)
    )


def _tag(initiatives, focus_area) -> None:
    through = Initiative.focus_areas.through
    through.objects.bulk_create(
        through(initiative_id=initiative.pk, focusarea_id=focus_area.pk)
        for initiative in initiatives
    )


def test_long_lists_are_paginated_by_fifty(client, atlas_map, open_government):
    _tag(_bulk_initiatives([atlas_map.chicago], 120), open_government)
    first = client.get("/en/focus-areas/open-government/").content.decode()
    assert first.count('<li><a href="/en/initiatives/bulk-') == 50
    assert "Page 1 of 3" in first
    assert 'href="?page=2" rel="next"' in first
    third = client.get("/en/focus-areas/open-government/?page=3").content.decode()
    assert third.count('<li><a href="/en/initiatives/bulk-') == 20


@pytest.mark.parametrize("page", ["abc", "0", "-1", "99", "1e3", "9" * 40])
def test_a_malformed_page_number_gives_a_clear_message(client, atlas_map, open_government, page):
    _tag(_bulk_initiatives([atlas_map.chicago], 3), open_government)
    for url in (
        "/en/focus-areas/open-government/",
        "/en/sectors/technology/",
        f"/en/organizations/{OrganizationFactory.create().slug}/",
        PlanFactory.create(jurisdiction=atlas_map.chicago).get_absolute_url(),
    ):
        response = client.get(url, {"page": page})
        assert response.status_code == 400, url
        html = response.content.decode()
        assert 'class="error-summary"' in html
        assert "Enter a page number from 1 to 1." in html
        assert 'id="id_page"' in html


# ------------------------------------------------------------------------------
# Query counts
# ------------------------------------------------------------------------------


def _measure(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.fixture
def many_places(db) -> list[Jurisdiction]:
    return [
        JurisdictionFactory.create(name=f"Town {n}", slug=f"town-{n}", ocd_id=f"ocd-division/x:{n}")
        for n in range(5)
    ]


@pytest.mark.parametrize("size", [1, 10, 200])
def test_the_plan_page_runs_a_fixed_number_of_queries(client, many_places, size):
    plan = PlanFactory.create(jurisdiction=many_places[0])
    _bulk_initiatives(many_places, size, plan=plan)
    assert _measure(client, plan.get_absolute_url()) == PLAN_PAGE_QUERIES


@pytest.mark.parametrize("size", [1, 10, 200])
def test_the_organization_page_runs_a_fixed_number_of_queries(client, many_places, size):
    org = OrganizationFactory.create()
    initiatives = _bulk_initiatives(many_places, size, lead_organization=org)
    Partnership.objects.bulk_create(
        Partnership(initiative=initiative, organization=org, role="funder")
        for initiative in initiatives
    )
    CoalitionMembership.objects.bulk_create(
        CoalitionMembership(
            coalition=CoalitionFactory.create(jurisdiction=many_places[0]), organization=org
        )
        for _n in range(min(size, 10))
    )
    assert _measure(client, org.get_absolute_url()) == ORGANIZATION_PAGE_QUERIES


@pytest.mark.parametrize("size", [1, 10, 200])
def test_the_focus_area_page_runs_a_fixed_number_of_queries(
    client, many_places, open_government, size
):
    _tag(_bulk_initiatives(many_places, size), open_government)
    assert _measure(client, open_government.get_absolute_url()) == TAXON_PAGE_QUERIES


@pytest.mark.parametrize("size", [1, 10, 200])
def test_the_sector_page_runs_a_fixed_number_of_queries(client, many_places, technology, size):
    through = Initiative.sectors.through
    through.objects.bulk_create(
        through(initiative_id=initiative.pk, sector_id=technology.pk)
        for initiative in _bulk_initiatives(many_places, size)
    )
    assert _measure(client, technology.get_absolute_url()) == TAXON_PAGE_QUERIES
