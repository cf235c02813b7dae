"""The compare page: two to four jurisdictions side by side, from a shareable URL."""

import datetime

import pytest
from django.utils import timezone

from initiatives.models import FocusArea
from tests.factories import (
    CoalitionFactory,
    CoalitionMembershipFactory,
    InitiativeFactory,
    JurisdictionFactory,
    MilestoneFactory,
    OrganizationFactory,
)
from tests.site.test_jurisdiction_page import build_portfolio

pytestmark = pytest.mark.django_db

COMPARE_QUERIES = 8
PICKER_QUERIES = 2


def _section(html: str, heading_id: str) -> str:
    section = html[html.index(f'id="{heading_id}"') :]
    return section[: section.index("</section>")]


@pytest.mark.parametrize("count", [1, 10, 200])
def test_compare_runs_a_fixed_number_of_queries(client, django_assert_num_queries, count):
    """Comparing three jurisdictions costs the same with 1, 10 or 200 initiatives each."""
    slugs = []
    for n in range(3):
        city = JurisdictionFactory.create(name=f"City {n}", slug=f"city-{n}")
        build_portfolio(city, count)
        coalition = CoalitionFactory.create(jurisdiction=city)
        CoalitionMembershipFactory.create(coalition=coalition)
        slugs.append(city.slug)
    url = "/en/compare/?" + "&".join(f"j={slug}" for slug in slugs)
    with django_assert_num_queries(COMPARE_QUERIES):
        response = client.get(url)
    assert response.status_code == 200


@pytest.mark.parametrize("count", [1, 10, 200])
def test_the_picker_alone_runs_a_fixed_number_of_queries(client, django_assert_num_queries, count):
    city = JurisdictionFactory.create(name="City", slug="city")
    build_portfolio(city, count)
    with django_assert_num_queries(PICKER_QUERIES):
        response = client.get("/en/compare/")
    assert response.status_code == 200


def test_without_parameters_only_the_picker_shows(client, atlas_map):
    InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    response = client.get("/en/compare/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="j" value="chicago"' in html
    assert 'name="j" value="illinois"' in html  # via Chicago
    assert 'value="springfield"' not in html  # nothing to compare
    assert 'id="matrix-heading"' not in html
    assert "error-summary" not in html


def test_matrix_shows_counts_and_status_mix(client, atlas_map):
    open_gov = FocusArea.objects.get(slug="open-government")
    for status in ("active", "active", "planned"):
        InitiativeFactory.create(
            jurisdiction=atlas_map.chicago, status=status, focus_areas=[open_gov]
        )
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, publication_state="draft", focus_areas=[open_gov]
    )
    InitiativeFactory.create(jurisdiction=atlas_map.nyc, focus_areas=[open_gov])
    response = client.get("/en/compare/?j=chicago&j=new-york-city")
    assert response.status_code == 200
    matrix = _section(response.content.decode(), "matrix-heading")
    assert 'data-chart="bar"' in matrix
    row = matrix[matrix.index(open_gov.name_en) :]
    row = row[: row.index("</tr>")]
    assert '<td data-value="3">3 (1 planned, 2 active)</td>' in row
    assert '<td data-value="1">1 (1 active)</td>' in row
    assert '<th scope="col">Chicago</th>' in matrix
    assert '<th scope="col">New York City</th>' in matrix
    glance = _section(response.content.decode(), "glance-heading")
    total = FocusArea.objects.count()
    assert glance.count(f"<td>1 of {total}</td>") == 2


def test_a_state_is_compared_with_its_cities_included(client, atlas_map):
    open_gov = FocusArea.objects.get(slug="open-government")
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, focus_areas=[open_gov])
    html = client.get("/en/compare/?j=illinois&j=new-york").content.decode()
    row = html[html.index(open_gov.name_en, html.index('id="matrix-heading"')) :]
    row = row[: row.index("</tr>")]
    assert '<td data-value="1">1 (1 active)</td>' in row


def test_coalition_breadth_counts_current_members_by_kind(client, atlas_map):
    InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    coalition = CoalitionFactory.create(jurisdiction=atlas_map.chicago)
    for kind in ("university", "university", "foundation"):
        CoalitionMembershipFactory.create(
            coalition=coalition, organization=OrganizationFactory.create(kind=kind)
        )
    CoalitionMembershipFactory.create(
        coalition=coalition,
        organization=OrganizationFactory.create(kind="company"),
        until=timezone.localdate() - datetime.timedelta(days=1),
    )
    html = client.get("/en/compare/?j=chicago&j=new-york-city").content.decode()
    breadth = _section(html, "breadth-heading")
    assert '<tr><th scope="row">University</th><td>2</td><td>0</td></tr>' in breadth
    assert '<tr><th scope="row">Foundation</th><td>1</td><td>0</td></tr>' in breadth
    assert "Company" not in breadth


def test_milestone_completion_and_freshness(client, atlas_map):
    initiative = InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    today = timezone.localdate()
    MilestoneFactory.create(initiative=initiative, completed_on=today)
    MilestoneFactory.create(initiative=initiative, due_date=today)
    MilestoneFactory.create(initiative=initiative, completed_on=today)
    MilestoneFactory.create(initiative=initiative)
    html = client.get("/en/compare/?j=chicago&j=new-york-city").content.decode()
    glance = _section(html, "glance-heading")
    assert "2 of 4 (50 %)" in glance
    assert "No milestones" in glance
    assert glance.count("badge-fresh") == 2
    assert "Updated" in glance


def test_the_url_keeps_the_choice_checked(client, atlas_map):
    InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    InitiativeFactory.create(jurisdiction=atlas_map.nyc)
    html = client.get("/en/compare/?j=chicago&j=new-york-city").content.decode()
    assert (
        'value="chicago" id="id_j" checked' in html
        or 'value="chicago" id="j-chicago" checked' in html
    )
    assert 'value="new-york-city" id="j-new-york-city" checked' in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?j=chicago", "at least 2"),
        ("?j=", "at least 2"),
        ("?j=chicago&j=chicago", "at least 2"),
        ("?j=a&j=b&j=c&j=d&j=e", "at most 4"),
        ("?j=chicago&j=atlantis", "atlantis"),
        ("?j=chicago&j=%3Cscript%3E", "&lt;script&gt;"),
        ("?j=chicago&j=new%00york", "No jurisdiction is called"),
        ("?j=chicago&j=" + "x" * 5000, "No jurisdiction is called"),
    ],
)
def test_bad_choices_give_an_error_summary_not_a_500(client, atlas_map, query, message):
    response = client.get("/en/compare/" + query)
    assert response.status_code == 400
    html = response.content.decode()
    summary = html[html.index('class="error-summary"') :]
    assert message in summary[: summary.index("</div>")]
    assert 'href="#id_j"' in summary
    assert "<script>" not in html[html.index("<main") :]


def test_compare_speaks_french(client, atlas_map):
    InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    response = client.get("/fr/compare/?j=chicago&j=new-york-city")
    assert response.status_code == 200
    assert '<html lang="fr">' in response.content.decode()
