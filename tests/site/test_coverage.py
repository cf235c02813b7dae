"""The coverage matrix: every jurisdiction of a kind against the focus areas, as a heatmap."""

import pytest

from cities.selectors import heat_level
from initiatives.models import FocusArea
from tests.factories import InitiativeFactory, JurisdictionFactory
from tests.site.test_jurisdiction_page import build_portfolio

pytestmark = pytest.mark.django_db

COVERAGE_QUERIES = 4


@pytest.mark.parametrize("count", [1, 10, 200])
def test_coverage_runs_a_fixed_number_of_queries(client, django_assert_num_queries, count):
    for n in range(3):
        city = JurisdictionFactory.create(name=f"City {n}", slug=f"city-{n}")
        build_portfolio(city, count)
    with django_assert_num_queries(COVERAGE_QUERIES):
        response = client.get("/en/coverage/?kind=city")
    assert response.status_code == 200
    assert response.content.decode().count('<th scope="row">') == 3


def test_matrix_counts_initiatives_per_jurisdiction_and_focus_area(client, atlas_map):
    open_gov = FocusArea.objects.get(slug="open-government")
    access = FocusArea.objects.get(slug="technology-access")
    for _ in range(4):
        InitiativeFactory.create(jurisdiction=atlas_map.chicago, focus_areas=[open_gov])
    InitiativeFactory.create(jurisdiction=atlas_map.nyc, focus_areas=[access, open_gov])
    InitiativeFactory.create(
        jurisdiction=atlas_map.nyc, focus_areas=[access], publication_state="draft"
    )
    response = client.get("/en/coverage/?kind=place")
    assert response.status_code == 200
    html = response.content.decode()
    table = html[html.index('<table class="data heatmap">') :]
    chicago = table[table.index("/en/jurisdictions/chicago/") :]
    chicago = chicago[: chicago.index("</tr>")]
    nyc = table[table.index("/en/jurisdictions/new-york-city/") :]
    nyc = nyc[: nyc.index("</tr>")]
    areas = list(FocusArea.objects.order_by("position", "slug"))
    cells = [part.split("</td>")[0] for part in chicago.split("<td ")[1:]]
    assert len(cells) == len(areas)
    assert cells[areas.index(open_gov)] == 'class="heat-5" data-value="4">4'
    assert cells[areas.index(access)] == 'class="heat-0" data-value="0">0'
    nyc_cells = [part.split("</td>")[0] for part in nyc.split("<td ")[1:]]
    assert nyc_cells[areas.index(access)] == 'class="heat-2" data-value="1">1'
    # Springfield has nothing and is counted apart, not drawn.
    assert "springfield" not in table
    assert "1 other jurisdiction of this kind has no initiatives recorded" in html
    assert 'class="heat-legend"' in html


def test_states_include_their_cities(client, atlas_map):
    open_gov = FocusArea.objects.get(slug="open-government")
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, focus_areas=[open_gov])
    html = client.get("/en/coverage/?kind=state").content.decode()
    row = html[html.index("/en/jurisdictions/illinois/") :]
    assert 'data-value="1">1' in row[: row.index("</tr>")]
    assert "/en/jurisdictions/new-york/" not in html


def test_without_a_kind_cities_are_shown(client, atlas_map):
    InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    response = client.get("/en/coverage/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<option value="place" selected>' in html
    assert "/en/jurisdictions/chicago/" in html


@pytest.mark.parametrize("kind", ["planet", "%00", "<b>x</b>", "x" * 500])
def test_an_unknown_kind_gives_an_error_summary(client, db, kind):
    response = client.get("/en/coverage/", {"kind": kind})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert 'href="#id_kind"' in html
    assert 'id="id_kind"' in html
    assert "<b>x</b>" not in html


def test_coverage_speaks_french(client, db):
    response = client.get("/fr/coverage/?kind=state")
    assert response.status_code == 200
    assert '<html lang="fr">' in response.content.decode()


@pytest.mark.parametrize(
    ("count", "maximum", "level"),
    [(0, 10, 0), (1, 10, 1), (2, 10, 1), (3, 10, 2), (10, 10, 5), (1, 1, 5), (0, 0, 0)],
)
def test_heat_levels_scale_with_the_busiest_cell(count, maximum, level):
    assert heat_level(count, maximum) == level
