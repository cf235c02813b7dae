"""The jurisdiction page's paginated list and the home page's figures from the summary."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from cities import coverage
from council.models import Organization
from initiatives.models import FocusArea, Initiative, PublicationState
from tests.conftest import AtlasMap
from tests.factories import InitiativeFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def fill(atlas_map: AtlasMap, count: int) -> FocusArea:
    """``count`` published initiatives in Chicago, every third in the first focus area."""
    area = FocusArea.objects.order_by("position", "slug").first()
    assert area is not None
    initiatives = Initiative.objects.bulk_create(
        Initiative(
            jurisdiction=atlas_map.chicago,
            title=f"Initiative {n:03d}",
            slug=f"initiative-{n:03d}",
            status=Initiative.Status.ACTIVE if n % 2 else Initiative.Status.PLANNED,
            publication_state=PublicationState.PUBLISHED,
        )
        for n in range(count)
    )
    through = Initiative.focus_areas.through
    through.objects.bulk_create(
        through(initiative_id=initiative.pk, focusarea_id=area.pk)
        for initiative in initiatives[::3]
    )
    coverage.coverage_rebuild()
    return area


def titles(html: str) -> list[str]:
    """The initiatives listed, in title order (the page groups them by area and status)."""
    return sorted(set(re.findall(r">(Initiative \d{3})<", html)))


def test_the_list_shows_fifty_initiatives_a_page_with_the_whole_count(
    client: Client, atlas_map: AtlasMap
) -> None:
    fill(atlas_map, 120)
    html = client.get("/en/jurisdictions/chicago/").content.decode()
    assert "120 initiatives shown" in html
    assert titles(html) == [f"Initiative {n:03d}" for n in range(50)]
    assert "<strong>120</strong> initiatives" in html
    last = client.get("/en/jurisdictions/chicago/?page=3").content.decode()
    assert titles(last) == [f"Initiative {n:03d}" for n in range(100, 120)]
    assert "101\u2013120 on this page" in last


def test_page_links_keep_the_filters(client: Client, atlas_map: AtlasMap) -> None:
    area = fill(atlas_map, 300)
    url = f"/en/jurisdictions/chicago/?focus_area={area.slug}&status=active&page=2"
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    # Every third initiative is in the area, every other one active: 50 of 300.
    assert "50 initiatives shown" in html
    assert "page=2" not in html.split('id="initiatives"', 1)[1].split("</form>", 1)[0]
    filtered = client.get(f"/en/jurisdictions/chicago/?focus_area={area.slug}").content.decode()
    assert "100 initiatives shown" in filtered
    assert f"?focus_area={area.slug}&amp;page=2#initiatives" in filtered


@pytest.mark.parametrize(
    ("page", "first"),
    [("abc", 0), ("0", 0), ("-3", 0), ("1e9", 0), ("", 0), ("9" * 30, 50), ("2", 50)],
)
def test_a_bad_page_number_gives_a_page_not_an_error(
    client: Client, atlas_map: AtlasMap, page: str, first: int
) -> None:
    """Not a positive number: the first page; beyond the end: the last."""
    fill(atlas_map, 60)
    response = client.get(f"/en/jurisdictions/chicago/?page={page}")
    assert response.status_code == 200
    assert titles(response.content.decode())[0] == f"Initiative {first:03d}"


def test_a_page_past_the_end_shows_the_last_one(client: Client, atlas_map: AtlasMap) -> None:
    fill(atlas_map, 60)
    html = client.get("/en/jurisdictions/chicago/?page=9").content.decode()
    assert titles(html) == [f"Initiative {n:03d}" for n in range(50, 60)]


def test_the_coverage_panel_says_peer_figures_are_published_records(
    client: Client, atlas_map: AtlasMap
) -> None:
    InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    InitiativeFactory.create(jurisdiction=atlas_map.nyc)
    html = client.get("/en/jurisdictions/chicago/").content.decode()
    assert "Peer figures count published initiatives only." in html


def test_the_home_figures_come_from_the_summary(client: Client, atlas_map: AtlasMap) -> None:
    area = FocusArea.objects.order_by("position", "slug").first()
    InitiativeFactory.create_batch(2, jurisdiction=atlas_map.chicago, focus_areas=[area])
    InitiativeFactory.create(jurisdiction=atlas_map.nyc, focus_areas=[area])
    InitiativeFactory.create(
        jurisdiction=atlas_map.nyc, publication_state=PublicationState.DRAFT, focus_areas=[area]
    )
    OrganizationFactory.create_batch(3)
    response = client.get("/en/")
    counts = response.context["counts"]
    assert (counts.jurisdictions, counts.initiatives) == (2, 3)
    assert counts.organizations == Organization.objects.count() >= 3
    reach = {row.focus_area: row for row in response.context["focus_area_reach"]}
    assert (reach[area].initiatives, reach[area].jurisdictions) == (3, 2)
    assert [j.name for j in response.context["jurisdictions"]] == ["Chicago", "New York City"]
