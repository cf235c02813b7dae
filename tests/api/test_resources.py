"""
Plans, organizations, coalitions, taxonomies, milestones and indicators; and the
query counts of every list and detail endpoint, which must not grow with the page.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from cities.models import Jurisdiction
from council import permissions
from initiatives.models import FocusArea, InitiativeLink, PublicationState, Sector
from tests.conftest import AtlasMap
from tests.factories import (
    CoalitionFactory,
    CoalitionMembershipFactory,
    IndicatorFactory,
    InitiativeFactory,
    JurisdictionFactory,
    MeasurementFactory,
    MilestoneFactory,
    OrganizationFactory,
    PartnershipFactory,
    PlanFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db

PAGE_SIZES = (1, 50, 200)


@pytest.fixture(autouse=True)
def fresh_throttles() -> None:
    """These tests send many requests; each starts with empty rate-limit counters."""
    cache.clear()


@pytest.fixture
def client() -> APIClient:
    return APIClient()


# ---------------------------------------------------------------- plans


def test_anyone_lists_and_retrieves_published_plans(client, atlas_map):
    PlanFactory.create(jurisdiction=atlas_map.chicago, slug="chicago-plan")
    listed = client.get("/api/v1/plans/").json()["results"]
    assert [item["slug"] for item in listed] == ["chicago-plan"]
    detail = client.get("/api/v1/plans/chicago-plan/").json()
    assert detail["jurisdiction"]["slug"] == "chicago"
    assert detail["url"] == "http://testserver/api/v1/plans/chicago-plan/"


def test_draft_plans_are_hidden_from_anonymous_readers(client, atlas_map):
    PlanFactory.create(
        jurisdiction=atlas_map.chicago, slug="p", publication_state=PublicationState.DRAFT
    )
    assert client.get("/api/v1/plans/p/").status_code == 404


def test_draft_plans_are_visible_to_the_jurisdictions_editor(client, atlas_map, chicago_editor):
    PlanFactory.create(
        jurisdiction=atlas_map.chicago, slug="p", publication_state=PublicationState.DRAFT
    )
    client.force_authenticate(chicago_editor)
    assert client.get("/api/v1/plans/p/").status_code == 200


def test_a_plans_document_is_document_url(client, atlas_map):
    PlanFactory.create(jurisdiction=atlas_map.chicago, slug="p", url="https://example.org/p.pdf")
    assert client.get("/api/v1/plans/p/").json()["document_url"] == "https://example.org/p.pdf"


# ---------------------------------------------------------------- organizations and coalitions


def test_anyone_lists_and_retrieves_organizations(client, atlas_map):
    OrganizationFactory.create(slug="uic", name="UIC", jurisdiction=atlas_map.chicago)
    assert [o["slug"] for o in client.get("/api/v1/organizations/").json()["results"]] == ["uic"]
    detail = client.get("/api/v1/organizations/uic/").json()
    assert detail["name"] == "UIC"
    assert detail["web_url"].endswith("/organizations/uic/")


def test_an_organization_without_a_home_has_a_null_jurisdiction(client, atlas_map):
    OrganizationFactory.create(slug="w3c")
    assert client.get("/api/v1/organizations/w3c/").json()["jurisdiction"] is None


def test_anyone_lists_and_retrieves_coalitions(client, atlas_map):
    CoalitionFactory.create(jurisdiction=atlas_map.chicago, slug="chicago-council")
    listed = client.get("/api/v1/coalitions/").json()["results"]
    assert [c["slug"] for c in listed] == ["chicago-council"]
    assert client.get("/api/v1/coalitions/chicago-council/").status_code == 200


def test_expand_members_lists_a_coalitions_organizations(client, atlas_map):
    coalition = CoalitionFactory.create(jurisdiction=atlas_map.chicago, slug="c")
    CoalitionMembershipFactory.create(
        coalition=coalition, organization=OrganizationFactory.create(slug="uic", name="UIC")
    )
    members = client.get("/api/v1/coalitions/c/?expand=members").json()["members"]
    assert members == [
        {"organization": "uic", "name": "UIC", "role": "member", "since": None, "until": None}
    ]


# ---------------------------------------------------------------- taxonomies


def test_focus_areas_list_with_bilingual_names(client, db):
    results = client.get("/api/v1/focus-areas/?page_size=200").json()["results"]
    assert len(results) == FocusArea.objects.count()
    assert {"slug", "name_en", "name_fr", "url", "web_url"} <= set(results[0])


def test_a_focus_area_is_retrieved_by_slug(client, db):
    item = client.get("/api/v1/focus-areas/technology-access/").json()
    assert item["name_en"] == "Technology access and infrastructure"


def test_a_sector_is_retrieved_by_slug(client, db):
    item = client.get("/api/v1/sectors/health-care/").json()
    assert (item["name_en"], item["name_fr"]) == ("Health care", "Santé")


# ---------------------------------------------------------------- milestones and indicators


def test_anyone_lists_and_retrieves_milestones_of_published_initiatives(client, atlas_map):
    milestone = MilestoneFactory.create(initiative__jurisdiction=atlas_map.chicago)
    listed = client.get("/api/v1/milestones/").json()["results"]
    assert [m["id"] for m in listed] == [milestone.pk]
    detail = client.get(f"/api/v1/milestones/{milestone.pk}/").json()
    assert detail["initiative"] == milestone.initiative.slug


def test_milestones_of_draft_initiatives_are_hidden_from_anonymous_readers(client, atlas_map):
    milestone = MilestoneFactory.create(
        initiative__jurisdiction=atlas_map.chicago,
        initiative__publication_state=PublicationState.DRAFT,
    )
    assert client.get("/api/v1/milestones/").json()["results"] == []
    assert client.get(f"/api/v1/milestones/{milestone.pk}/").status_code == 404


def test_milestones_of_draft_initiatives_are_visible_to_the_editor(
    client, atlas_map, chicago_editor
):
    milestone = MilestoneFactory.create(
        initiative__jurisdiction=atlas_map.chicago,
        initiative__publication_state=PublicationState.DRAFT,
    )
    client.force_authenticate(chicago_editor)
    assert client.get(f"/api/v1/milestones/{milestone.pk}/").status_code == 200


def test_anyone_lists_and_retrieves_indicators_with_measurements(client, atlas_map):
    indicator = IndicatorFactory.create(initiative__jurisdiction=atlas_map.chicago)
    MeasurementFactory.create(indicator=indicator, measured_on=dt.date(2026, 1, 1), value=5)
    listed = client.get("/api/v1/indicators/").json()["results"]
    assert [i["id"] for i in listed] == [indicator.pk]
    detail = client.get(f"/api/v1/indicators/{indicator.pk}/").json()
    assert detail["measurements"] == [
        {"measured_on": "2026-01-01", "value": "5.0000", "source_url": ""}
    ]


def test_indicators_of_draft_initiatives_are_hidden_from_anonymous_readers(client, atlas_map):
    indicator = IndicatorFactory.create(
        initiative__jurisdiction=atlas_map.chicago,
        initiative__publication_state=PublicationState.DRAFT,
    )
    assert client.get(f"/api/v1/indicators/{indicator.pk}/").status_code == 404


def test_a_non_numeric_milestone_id_is_a_404(client, db):
    assert client.get("/api/v1/milestones/first/").status_code == 404


# ---------------------------------------------------------------- query counts


@dataclass(frozen=True)
class Endpoint:
    """A resource, how to fill its table with ``n`` rows, and the expansions it offers."""

    path: str
    make: Callable[[AtlasMap, int], list[str]]
    expand: str = ""


def _jurisdictions(atlas: AtlasMap, n: int) -> list[str]:
    made = [
        JurisdictionFactory.create(parent=atlas.chicago, latitude=41.0, longitude=-87.0)
        for _ in range(n)
    ]
    return [j.slug for j in made]


def _initiatives(atlas: AtlasMap, n: int) -> list[str]:
    """Initiatives with one of every related record, so any per-item query would show."""
    access = FocusArea.objects.get(slug="technology-access")
    health = Sector.objects.get(slug="health-care")
    plan = PlanFactory.create(jurisdiction=atlas.chicago)
    lead = OrganizationFactory.create(jurisdiction=atlas.chicago)
    partner = OrganizationFactory.create(jurisdiction=atlas.chicago)
    made = []
    previous = None
    for _ in range(n):
        initiative = InitiativeFactory.create(
            jurisdiction=atlas.chicago, plan=plan, lead_organization=lead
        )
        initiative.focus_areas.set([access])
        initiative.sectors.set([health])
        MilestoneFactory.create(initiative=initiative)
        MeasurementFactory.create(indicator=IndicatorFactory.create(initiative=initiative))
        PartnershipFactory.create(initiative=initiative, organization=partner)
        SourceFactory.create(initiative=initiative)
        if previous is not None:
            InitiativeLink.objects.create(
                from_initiative=initiative, to_initiative=previous, kind="inspired_by"
            )
        previous = initiative
        made.append(initiative.slug)
    return made


def _plans(atlas: AtlasMap, n: int) -> list[str]:
    return [PlanFactory.create(jurisdiction=atlas.chicago).slug for _ in range(n)]


def _organizations(atlas: AtlasMap, n: int) -> list[str]:
    return [OrganizationFactory.create(jurisdiction=atlas.chicago).slug for _ in range(n)]


def _coalitions(atlas: AtlasMap, n: int) -> list[str]:
    made = []
    for _ in range(n):
        coalition = CoalitionFactory.create(jurisdiction=atlas.chicago)
        CoalitionMembershipFactory.create(coalition=coalition)
        made.append(coalition.slug)
    return made


def _taxa(model: Any) -> Callable[[AtlasMap, int], list[str]]:
    def make(atlas: AtlasMap, n: int) -> list[str]:
        for index in range(max(0, n - model.objects.count())):
            model.objects.create(
                slug=f"extra-{index}", name_en=f"Extra {index}", name_fr=f"Autre {index}"
            )
        return list(model.objects.values_list("slug", flat=True)[:n])

    return make


def _milestones(atlas: AtlasMap, n: int) -> list[str]:
    initiative = InitiativeFactory.create(jurisdiction=atlas.chicago)
    return [str(MilestoneFactory.create(initiative=initiative).pk) for _ in range(n)]


def _indicators(atlas: AtlasMap, n: int) -> list[str]:
    initiative = InitiativeFactory.create(jurisdiction=atlas.chicago)
    made = []
    for _ in range(n):
        indicator = IndicatorFactory.create(initiative=initiative)
        MeasurementFactory.create(indicator=indicator)
        MeasurementFactory.create(indicator=indicator)
        made.append(str(indicator.pk))
    return made


ENDPOINTS = [
    Endpoint("jurisdictions", _jurisdictions, "parent,boundary"),
    Endpoint(
        "initiatives",
        _initiatives,
        "milestones,indicators,partners,sources,links,jurisdiction,lead_organization,"
        "focus_areas,sectors",
    ),
    Endpoint("plans", _plans, "jurisdiction"),
    Endpoint("organizations", _organizations, "jurisdiction"),
    Endpoint("coalitions", _coalitions, "jurisdiction,members"),
    Endpoint("focus-areas", _taxa(FocusArea)),
    Endpoint("sectors", _taxa(Sector)),
    Endpoint("milestones", _milestones),
    Endpoint("indicators", _indicators),
]


def count_queries(client: APIClient, url: str) -> tuple[int, Any]:
    # Each real request loads its user afresh; a forced test user would keep its
    # memberships cached from the previous request and save a query.
    user = getattr(client.handler, "_force_user", None)
    if user is not None:
        permissions.forget_memberships(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries), response.json()


def list_counts(client: APIClient, endpoint: Endpoint, *, expand: str) -> dict[int, int]:
    counts = {}
    for size in PAGE_SIZES:
        url = f"/api/v1/{endpoint.path}/?page_size={size}"
        if expand:
            url += f"&expand={expand}"
        counts[size], body = count_queries(client, url)
        assert len(body["results"]) == size
    return counts


@pytest.fixture(params=["anonymous", "editor"])
def reader(request, client, chicago_editor) -> APIClient:
    if request.param == "editor":
        client.force_authenticate(chicago_editor)
    return client


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.path)
def test_list_queries_do_not_grow_with_the_page(endpoint, atlas_map, reader):
    """Pages of 1, 50 and 200 items cost the same number of queries, expanded or not."""
    endpoint.make(atlas_map, max(PAGE_SIZES))
    plain = list_counts(reader, endpoint, expand="")
    assert len(set(plain.values())) == 1, plain
    if endpoint.expand:
        expanded = list_counts(reader, endpoint, expand=endpoint.expand)
        assert len(set(expanded.values())) == 1, expanded


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.path)
def test_detail_queries_do_not_depend_on_the_record(endpoint, atlas_map, reader):
    """Any record costs the same number of queries, expanded or not."""
    lookups = endpoint.make(atlas_map, 3)
    suffix = f"?expand={endpoint.expand}" if endpoint.expand else ""
    counts = {
        lookup: count_queries(reader, f"/api/v1/{endpoint.path}/{lookup}/")[0] for lookup in lookups
    }
    assert len(set(counts.values())) == 1, counts
    expanded = {
        lookup: count_queries(reader, f"/api/v1/{endpoint.path}/{lookup}/{suffix}")[0]
        for lookup in lookups
    }
    assert len(set(expanded.values())) == 1, expanded


@pytest.mark.parametrize("children", [1, 50, 200])
def test_an_initiatives_detail_costs_the_same_however_many_children(
    children, atlas_map, client, django_assert_num_queries
):
    """Expanding milestones, indicators and partners costs one query each, not one per child."""
    initiative = InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug="busy")
    for _ in range(children):
        MilestoneFactory.create(initiative=initiative)
        MeasurementFactory.create(indicator=IndicatorFactory.create(initiative=initiative))
        PartnershipFactory.create(initiative=initiative)
    url = "/api/v1/initiatives/busy/?expand=milestones,indicators,partners"
    queries, body = count_queries(client, url)
    assert len(body["milestones"]) == children
    # Initiative, focus areas, sectors, milestones, indicators, measurements, partners.
    assert queries == 7


@pytest.mark.parametrize("children", [1, 50, 200])
def test_a_coalitions_detail_costs_the_same_however_many_members(children, atlas_map, client):
    coalition = CoalitionFactory.create(jurisdiction=atlas_map.chicago, slug="big")
    for _ in range(children):
        CoalitionMembershipFactory.create(coalition=coalition)
    queries, body = count_queries(client, "/api/v1/coalitions/big/?expand=members")
    assert len(body["members"]) == children
    assert queries == 2


@pytest.mark.parametrize("children", [1, 50, 200])
def test_an_indicators_detail_costs_the_same_however_many_measurements(children, atlas_map, client):
    indicator = IndicatorFactory.create(initiative__jurisdiction=atlas_map.chicago)
    for _ in range(children):
        MeasurementFactory.create(indicator=indicator)
    queries, body = count_queries(client, f"/api/v1/indicators/{indicator.pk}/")
    assert len(body["measurements"]) == children
    assert queries == 2


def test_jurisdictions_fixture_is_deep_enough(atlas_map):
    """The query-count fixtures put rows under Chicago, two levels below the root."""
    assert Jurisdiction.objects.get(slug="chicago").depth == 2
