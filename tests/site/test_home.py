"""The home page: figures, recent initiatives, the map, focus-area reach and search."""

import datetime
import json

import pytest
from django.db.models import F

from cities.models import Jurisdiction
from initiatives.models import FocusArea, Initiative
from tests.factories import InitiativeFactory, JurisdictionFactory, PlanFactory
from tests.site.test_jurisdiction_page import build_portfolio

pytestmark = pytest.mark.django_db

HOME_QUERIES = 6


def _map_data(html: str) -> dict:
    start = html.index('<script id="home-map-data" type="application/json">')
    start = html.index(">", start) + 1
    return json.loads(html[start : html.index("</script>", start)])


@pytest.mark.parametrize("count", [1, 10, 200])
def test_home_runs_a_fixed_number_of_queries(client, django_assert_num_queries, count):
    """The home page costs the same queries with 1, 10 or 200 initiatives."""
    for n in range(3):
        city = JurisdictionFactory.create(
            name=f"City {n}", slug=f"city-{n}", latitude=40 + n, longitude=-80 - n
        )
        build_portfolio(city, count)
        PlanFactory.create(jurisdiction=city)
    with django_assert_num_queries(HOME_QUERIES):
        response = client.get("/en/")
    assert response.status_code == 200


def test_home_shows_the_figures(client, atlas_map):
    InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    InitiativeFactory.create(jurisdiction=atlas_map.nyc)
    InitiativeFactory.create(jurisdiction=atlas_map.springfield, publication_state="draft")
    PlanFactory.create(jurisdiction=atlas_map.chicago)
    html = client.get("/en/").content.decode()
    assert "<strong>2</strong> jurisdictions with initiatives" in html
    assert "<strong>3</strong> initiatives" in html
    assert "<strong>1</strong> plan" in html


def test_home_lists_recent_initiatives_newest_first_without_drafts(client, atlas_map):
    for n in range(12):
        InitiativeFactory.create(jurisdiction=atlas_map.chicago, title=f"Thing {n:02d}")
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, title="Hidden draft", publication_state="draft"
    )
    html = client.get("/en/").content.decode()
    section = html[html.index('id="home-recent"') :]
    section = section[: section.index("</section>")]
    assert "Hidden draft" not in html
    assert section.count('class="badge badge-active"') == 10
    assert section.index("Thing 11") < section.index("Thing 10")
    assert "Thing 01" not in section


def test_home_map_has_a_point_per_located_jurisdiction(client, atlas_map):
    Jurisdiction.objects.filter(pk=atlas_map.chicago.pk).update(latitude=41.88, longitude=-87.63)
    InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    InitiativeFactory.create(jurisdiction=atlas_map.nyc)  # not located: listed only
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, publication_state="draft")
    html = client.get("/en/").content.decode()
    data = _map_data(html)
    assert data["type"] == "FeatureCollection"
    assert data["features"] == [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-87.63, 41.88]},
            "properties": {"name": "Chicago", "url": "/en/jurisdictions/chicago/", "count": 2},
        }
    ]
    assert 'class="atlas-map" data-geojson="home-map-data"' in html
    assert '<a href="/en/jurisdictions/new-york-city/">New York City</a>' in html


def test_home_shows_focus_area_reach_as_a_bar_chart_table(client, atlas_map):
    open_gov = FocusArea.objects.get(slug="open-government")
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, focus_areas=[open_gov])
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, focus_areas=[open_gov])
    InitiativeFactory.create(jurisdiction=atlas_map.nyc, focus_areas=[open_gov])
    html = client.get("/en/").content.decode()
    table = html[html.index('data-chart="bar"') :]
    row = table[table.index(open_gov.name_en) :]
    row = row[: row.index("</tr>")]
    assert '<td data-value="3">3</td>' in row
    assert '<td data-value="2">2</td>' in row
    assert table.count("<tr>") == FocusArea.objects.count() + 1


def test_home_has_a_labelled_search_form(client, db):
    html = client.get("/en/").content.decode()
    assert 'action="/en/search/"' in html
    assert '<label for="home-search-q">' in html
    assert 'id="home-search-q" name="q"' in html


def test_home_speaks_french_with_french_names(client, atlas_map):
    open_gov = FocusArea.objects.get(slug="open-government")
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, focus_areas=[open_gov])
    html = client.get("/fr/").content.decode()
    assert '<html lang="fr">' in html
    assert open_gov.name_fr.replace("'", "&#x27;") in html
    assert "/fr/jurisdictions/chicago/" in html


def test_recent_list_follows_updated_at(client, atlas_map):
    old = InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Old one")
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="New one")
    Initiative.objects.filter(pk=old.pk).update(
        updated_at=F("updated_at") - datetime.timedelta(days=5)
    )
    html = client.get("/en/").content.decode()
    assert html.index("New one") < html.index("Old one")


def test_the_map_loads_no_tiles_unless_a_server_is_set(client, db, settings):
    InitiativeFactory.create(publication_state="published")
    assert "data-tiles" not in client.get("/en/").content.decode()

    settings.ATLAS_MAP_TILES_URL = "https://tiles.example.org/{z}/{x}/{y}.png"
    settings.ATLAS_MAP_TILES_ATTRIBUTION = "© Example tiles"
    html = client.get("/en/").content.decode()
    assert 'data-tiles="https://tiles.example.org/{z}/{x}/{y}.png"' in html
    assert 'data-tiles-attribution="© Example tiles"' in html
