"""The public initiative page shows the whole record, its lineage and its history."""

import datetime
import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.formats import date_format

from council.models import Organization
from initiatives.models import (
    FocusArea,
    Indicator,
    Initiative,
    InitiativeLink,
    Measurement,
    Milestone,
    Partnership,
    Sector,
    Source,
)
from tests.factories import (
    IndicatorFactory,
    InitiativeFactory,
    MeasurementFactory,
    MilestoneFactory,
    OrganizationFactory,
    PartnershipFactory,
    PlanFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db

# The initiative with its jurisdiction, parent, lead and plan; focus areas; sectors;
# partnerships; milestones; indicators; measurements; sources; outgoing links;
# incoming links; the history summary; accepted comments and the suggester.
INITIATIVE_PAGE_QUERIES = 12


def jsonld(html: str) -> list[dict]:
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return [json.loads(block) for block in blocks]


@pytest.fixture
def focus_area(db):
    return FocusArea.objects.get(slug="open-government")


@pytest.fixture
def initiative(atlas_map, focus_area):
    lead = OrganizationFactory.create(name="University of Chicago", slug="uchicago")
    plan = PlanFactory.create(jurisdiction=atlas_map.chicago, title="Chicago digital plan")
    initiative = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        title="Broadband for all",
        slug="broadband-for-all",
        summary="Free Wi-Fi <b>everywhere</b>.",
        description="A **bold** plan.",
        status=Initiative.Status.ACTIVE,
        start_date=datetime.date(2024, 1, 1),
        end_date=datetime.date(2027, 12, 31),
        budget_amount=Decimal("1250000"),
        budget_currency="USD",
        plan=plan,
        lead_organization=lead,
        is_illustrative=True,
        focus_areas=[focus_area],
    )
    initiative.sectors.add(Sector.objects.get(slug="higher-education"))
    return initiative


def test_the_page_shows_the_whole_record(client, initiative):
    html = client.get("/en/initiatives/broadband-for-all/").content.decode()
    assert '<h1 lang="en">Broadband for all</h1>' in html
    assert "Free Wi-Fi &lt;b&gt;everywhere&lt;/b&gt;." in html
    assert "<strong>bold</strong>" in html
    assert "Active" in html
    assert '<time datetime="2024-01-01">Jan. 1, 2024</time>' in html
    assert '<time datetime="2027-12-31">Dec. 31, 2027</time>' in html
    assert "1,250,000 USD" in html
    assert "Chicago digital plan" in html
    assert 'href="/en/jurisdictions/chicago/"' in html
    assert 'href="/en/focus-areas/open-government/"' in html
    assert 'href="/en/sectors/higher-education/"' in html
    assert 'href="/en/organizations/uchicago/"' in html
    assert "Illustrative example" in html


def test_a_real_initiative_is_not_labelled_illustrative(client, atlas_map):
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug="real", is_illustrative=False)
    assert "Illustrative example" not in client.get("/en/initiatives/real/").content.decode()


def test_the_budget_follows_the_page_language(client, initiative):
    html = client.get("/fr/initiatives/broadband-for-all/").content.decode()
    assert "1\u202f250\u202f000 USD" in html or "1 250 000 USD" in html or "1\xa0250\xa0000" in html


def test_a_draft_plan_is_not_linked(client, atlas_map):
    plan = PlanFactory.create(jurisdiction=atlas_map.chicago, publication_state="draft")
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug="with-draft-plan", plan=plan)
    html = client.get("/en/initiatives/with-draft-plan/").content.decode()
    assert plan.get_absolute_url() not in html


def test_milestone_progress_counts_completed_and_marks_overdue(client, initiative):
    today = timezone.localdate()
    MilestoneFactory.create(
        initiative=initiative,
        title="Pilot",
        due_date=today - datetime.timedelta(days=30),
        completed_on=today - datetime.timedelta(days=31),
    )
    MilestoneFactory.create(
        initiative=initiative, title="Late one", due_date=today - datetime.timedelta(days=3)
    )
    MilestoneFactory.create(
        initiative=initiative, title="Future", due_date=today + datetime.timedelta(days=30)
    )
    html = client.get(initiative.get_absolute_url()).content.decode()
    assert '<progress id="milestone-progress" max="3" value="1">' in html
    assert "1 of 3 milestones completed" in html
    late = html[html.index("Late one") - 200 : html.index("Late one") + 400]
    assert "overdue" in late
    assert "Overdue" in late
    future = html[html.index("Future") : html.index("Future") + 300]
    assert "Overdue" not in future


def test_each_indicator_has_a_chart_table(client, initiative):
    indicator = IndicatorFactory.create(initiative=initiative, name="Homes online", unit="%")
    MeasurementFactory.create(
        indicator=indicator, measured_on=datetime.date(2024, 1, 1), value=Decimal("12.5")
    )
    MeasurementFactory.create(
        indicator=indicator, measured_on=datetime.date(2025, 1, 1), value=Decimal("40")
    )
    html = client.get(initiative.get_absolute_url()).content.decode()
    assert '<table class="data" data-chart="line">' in html
    assert "unit: %" in html
    assert '<td data-value="12.5">12.5 %</td>' in html
    assert '<td data-value="40">40 %</td>' in html
    assert html.index('data-value="12.5"') < html.index('data-value="40"')


def test_chart_values_stay_plain_numbers_in_french(client, initiative):
    indicator = IndicatorFactory.create(initiative=initiative, unit="km")
    MeasurementFactory.create(indicator=indicator, value=Decimal("1234.5"))
    html = client.get("/fr/initiatives/broadband-for-all/").content.decode()
    assert 'data-value="1234.5"' in html
    assert "234,5 km" in html


def test_partners_show_with_their_roles(client, initiative):
    funder = OrganizationFactory.create(name="Knight Foundation", kind="foundation")
    PartnershipFactory.create(
        initiative=initiative, organization=funder, role=Partnership.Role.FUNDER
    )
    html = client.get(initiative.get_absolute_url()).content.decode()
    assert f'<a href="{funder.get_absolute_url()}">Knight Foundation</a> · Funder' in html


def test_lineage_shows_both_directions_across_cities(client, atlas_map, initiative):
    origin = InitiativeFactory.create(jurisdiction=atlas_map.nyc, title="LinkNYC", slug="linknyc")
    follower = InitiativeFactory.create(
        jurisdiction=atlas_map.springfield, title="Springfield Wi-Fi", slug="springfield-wifi"
    )
    InitiativeLink.objects.create(
        from_initiative=initiative, to_initiative=origin, kind=InitiativeLink.Kind.INSPIRED_BY
    )
    InitiativeLink.objects.create(
        from_initiative=follower, to_initiative=initiative, kind=InitiativeLink.Kind.ADAPTED_FROM
    )

    html = client.get(initiative.get_absolute_url()).content.decode()
    inspired_by = html[html.index("<h3>Inspired by</h3>") : html.index("<h3>Inspired</h3>")]
    assert 'href="/en/initiatives/linknyc/"' in inspired_by
    assert "New York City" in inspired_by
    inspired = html[html.index("<h3>Inspired</h3>") :]
    assert 'href="/en/initiatives/springfield-wifi/"' in inspired
    assert "Springfield" in inspired
    assert "Adapted from this initiative" in inspired

    # And the other way round, from New York's page.
    origin_html = client.get(origin.get_absolute_url()).content.decode()
    origin_inspired = origin_html[origin_html.index("<h3>Inspired</h3>") :]
    assert 'href="/en/initiatives/broadband-for-all/"' in origin_inspired
    assert "Chicago" in origin_inspired


def test_lineage_leaves_out_drafts(client, atlas_map, initiative):
    draft = InitiativeFactory.create(
        jurisdiction=atlas_map.nyc, title="Secret plan", slug="secret", publication_state="draft"
    )
    InitiativeLink.objects.create(
        from_initiative=initiative, to_initiative=draft, kind=InitiativeLink.Kind.INSPIRED_BY
    )
    InitiativeLink.objects.create(
        from_initiative=draft, to_initiative=initiative, kind=InitiativeLink.Kind.INSPIRED_BY
    )
    html = client.get(initiative.get_absolute_url()).content.decode()
    assert "Secret plan" not in html
    assert "/initiatives/secret/" not in html


def test_sources_open_safely_with_their_access_date(client, initiative):
    SourceFactory.create(
        initiative=initiative,
        title="Press release",
        url="https://example.org/press",
        accessed_on=datetime.date(2025, 3, 4),
    )
    html = client.get(initiative.get_absolute_url()).content.decode()
    assert '<a href="https://example.org/press" rel="noopener external">Press release</a>' in html
    assert "accessed March 4, 2025" in html


def test_the_change_summary_names_the_council_not_the_editor(client, initiative, chicago_editor):
    initiative.title = "Broadband for all (phase 2)"
    initiative._change_reason = "edit"
    initiative.save()
    record = initiative.history.latest()
    record.history_user = chicago_editor
    record.save()

    html = client.get(initiative.get_absolute_url()).content.decode()
    changed = date_format(timezone.localdate(record.history_date))
    assert f"Last changed on {changed} by the council of Chicago." in html
    assert f"{initiative.history.count()} changes recorded." in html
    assert "chicago-editor" not in html
    assert chicago_editor.email not in html


def test_subscribe_and_share_entry_points(client, initiative):
    html = client.get(initiative.get_absolute_url()).content.decode()
    assert 'href="/en/feeds/jurisdictions/chicago.atom"' in html
    assert 'href="/en/feeds/focus-areas/open-government.atom"' in html
    assert 'value="http://testserver/en/initiatives/broadband-for-all/" readonly' in html
    assert 'href="mailto:?subject=Broadband%20for%20all&amp;body=http%3A%2F%2Ftestserver' in html
    # Share links are plain links: no third-party script, frame or image on the page.
    assert not re.search(r'<(script|iframe|img)[^>]+src="https?://', html)


def test_the_page_describes_a_project_in_json_ld(client, atlas_map, initiative):
    funder = OrganizationFactory.create(name="Knight Foundation")
    PartnershipFactory.create(initiative=initiative, organization=funder, role="funder")
    data = jsonld(client.get(initiative.get_absolute_url()).content.decode())
    project = next(block for block in data if block["@type"] == "Project")
    assert project["name"] == "Broadband for all"
    assert project["url"] == "http://testserver/en/initiatives/broadband-for-all/"
    assert project["startDate"] == "2024-01-01"
    assert project["location"]["@type"] == "City"
    assert project["location"]["containedInPlace"]["name"] == "Illinois"
    assert [org["name"] for org in project["funder"]] == ["Knight Foundation"]
    assert [org["name"] for org in project["member"]] == ["University of Chicago"]


def test_the_page_has_canonical_and_language_alternates(client, initiative):
    html = client.get(initiative.get_absolute_url() + "?utm_source=x").content.decode()
    url = "http://testserver/en/initiatives/broadband-for-all/"
    assert f'<link rel="canonical" href="{url}">' in html
    assert f'<link rel="alternate" hreflang="en" href="{url}">' in html
    assert (
        '<link rel="alternate" hreflang="fr" '
        'href="http://testserver/fr/initiatives/broadband-for-all/">' in html
    )
    assert (
        '<link rel="alternate" hreflang="x-default" '
        'href="http://testserver/initiatives/broadband-for-all/">' in html
    )
    assert '<meta property="og:title" content="Broadband for all">' in html


@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_unknown_initiative_is_404_in_both_languages(client, db, language):
    response = client.get(f"/{language}/initiatives/atlantis/")
    assert response.status_code == 404
    assert f'lang="{language}"' in response.content.decode()


def test_a_draft_is_hidden_from_the_public(client, atlas_map):
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, slug="draft", publication_state="draft"
    )
    assert client.get("/en/initiatives/draft/").status_code == 404


# ------------------------------------------------------------------------------
# Query count
# ------------------------------------------------------------------------------


def _fill(initiative: Initiative, size: int, atlas_map) -> None:
    """``size`` of everything the page lists, created in bulk."""
    organizations = Organization.objects.bulk_create(
        Organization(name=f"Org {n}", slug=f"org-{size}-{n}", kind="university")
        for n in range(size)
    )
    Partnership.objects.bulk_create(
        Partnership(initiative=initiative, organization=org, role="implementer")
        for org in organizations
    )
    Milestone.objects.bulk_create(
        Milestone(
            initiative=initiative,
            title=f"Step {n}",
            due_date=datetime.date(2024, 1, 1) + datetime.timedelta(days=n),
        )
        for n in range(size)
    )
    indicators = Indicator.objects.bulk_create(
        Indicator(initiative=initiative, name=f"Measure {n}") for n in range(size)
    )
    Measurement.objects.bulk_create(
        Measurement(
            indicator=indicators[0],
            measured_on=datetime.date(2020, 1, 1) + datetime.timedelta(days=n),
            value=n,
        )
        for n in range(size)
    )
    Source.objects.bulk_create(
        Source(initiative=initiative, title=f"Source {n}", url=f"https://example.org/{n}")
        for n in range(size)
    )
    others = Initiative.objects.bulk_create(
        Initiative(
            jurisdiction=atlas_map.nyc,
            title=f"Other {n}",
            slug=f"other-{size}-{n}",
            publication_state="published",
        )
        for n in range(size)
    )
    InitiativeLink.objects.bulk_create(
        InitiativeLink(from_initiative=initiative, to_initiative=other, kind="inspired_by")
        for other in others
    )
    InitiativeLink.objects.bulk_create(
        InitiativeLink(from_initiative=other, to_initiative=initiative, kind="inspired_by")
        for other in others
    )


@pytest.mark.parametrize("size", [1, 10, 200])
def test_the_page_runs_a_fixed_number_of_queries(client, atlas_map, initiative, size):
    _fill(initiative, size, atlas_map)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(initiative.get_absolute_url())
    assert response.status_code == 200
    assert response.content.decode().count("<li>Inspired by:") == size
    assert len(queries) == INITIATIVE_PAGE_QUERIES, [q["sql"] for q in queries]
