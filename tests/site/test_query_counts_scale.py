"""
The jurisdiction page and search cost a fixed number of queries, whatever the catalogue holds.

Each is asked with 5 and with 50 initiatives behind it and must run the same
queries; the jurisdiction page also keeps its count with any number of peers,
whose figures come from the coverage summary.
"""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cities import selectors
from cities.models import Jurisdiction
from initiatives.models import FocusArea
from tests.factories import InitiativeFactory, JurisdictionFactory
from tests.site.test_jurisdiction_page import JURISDICTION_PAGE_QUERIES, build_page_world
from tests.site.test_search import SEARCH_QUERIES

pytestmark = pytest.mark.django_db


def queries_of(client: Any, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


@pytest.mark.parametrize("count", [5, 50])
def test_the_jurisdiction_page_costs_the_same_queries_at_any_size(client, count):
    city = build_page_world(count)
    number, html = queries_of(client, city.get_absolute_url())
    assert number == JURISDICTION_PAGE_QUERIES
    # The city's own and its district's.
    assert f"{count + 1} initiatives shown" in html


@pytest.mark.parametrize("peers", [1, 30])
def test_the_peer_figures_cost_the_same_queries_with_any_number_of_peers(client, peers):
    """Peers, their coverage and medians come from the summary: no query per peer."""
    city = build_page_world(5)
    for n in range(peers):
        InitiativeFactory.create(jurisdiction=JurisdictionFactory.create(name=f"Peer {n}"))
    number, html = queries_of(client, city.get_absolute_url())
    assert number == JURISDICTION_PAGE_QUERIES
    assert f"Peers: the {peers + 0} other jurisdiction" in html


def coverage_row(html: str, area: FocusArea) -> str:
    panel = html[html.index('id="coverage-heading"') : html.index('id="plans-heading"')]
    return panel[panel.index(str(area.name)) :].split("</tr>", 1)[0]


def test_peer_figures_follow_published_initiatives_at_once(client):
    """
    A peer's new published initiative moves the peer figures on the next view; a
    peer's draft does not, as peer figures count published records only.
    """
    area = FocusArea.objects.order_by("position", "slug").last()
    assert area is not None
    city = JurisdictionFactory.create(name="Metropolis", slug="metropolis")
    peers = [JurisdictionFactory.create(name=f"Peer {n}") for n in range(2)]
    for place in (city, *peers):
        InitiativeFactory.create(jurisdiction=place, focus_areas=[])
    before = coverage_row(queries_of(client, city.get_absolute_url())[1], area)
    assert "Not covered; covered by 0 of 2 peers" in before

    InitiativeFactory.create(jurisdiction=peers[0], focus_areas=[area])
    InitiativeFactory.create(jurisdiction=peers[1], focus_areas=[area], publication_state="draft")
    InitiativeFactory.create(jurisdiction=city, focus_areas=[area])
    after = coverage_row(queries_of(client, city.get_absolute_url())[1], area)
    assert "Covered" in after
    assert "1 / 2 (50 %)" in after


def test_peers_include_jurisdictions_whose_initiatives_sit_below_them(db):
    """A place with initiatives only in its district is a peer; one with none at all is not."""
    city = JurisdictionFactory.create(name="Metropolis")
    InitiativeFactory.create(jurisdiction=city)
    busy = JurisdictionFactory.create(name="Busy")
    district = JurisdictionFactory.create(
        kind=Jurisdiction.Kind.DISTRICT, name="Busy district", parent=busy
    )
    InitiativeFactory.create(jurisdiction=district)
    JurisdictionFactory.create(name="Empty")
    draft_only = JurisdictionFactory.create(name="Drafts only")
    InitiativeFactory.create(jurisdiction=draft_only, publication_state="draft")
    peers = selectors.peer_group(jurisdiction=city)
    assert peers.count == 1
    assert [peer.name for peer in peers.named] == ["Busy"]
    # By kind, then name: districts come before places.
    assert [j.name for j in selectors.comparison_choices(user=None)] == [
        "Busy district",
        "Busy",
        "Metropolis",
    ]


def test_the_page_names_two_peers_and_counts_the_rest(db):
    """Of many peers the page names the first two by name and counts them all."""
    city = JurisdictionFactory.create(name="Metropolis")
    InitiativeFactory.create(jurisdiction=city)
    for name in ("Zeta", "Alpha", "Mu", "Beta"):
        InitiativeFactory.create(jurisdiction=JurisdictionFactory.create(name=name))
    peers = selectors.peer_group(jurisdiction=city)
    assert peers.count == 4
    assert [peer.name for peer in peers.named] == ["Alpha", "Beta"]


@pytest.mark.parametrize("count", [5, 50])
def test_search_for_a_common_word_costs_the_same_queries_at_any_size(client, count):
    """Every initiative matches: the page, its count and the facets are fixed queries."""
    place = JurisdictionFactory.create()
    areas = list(FocusArea.objects.all()[:2])
    InitiativeFactory.create_batch(count, jurisdiction=place, focus_areas=areas)
    number, html = queries_of(client, "/en/search/?q=library")
    assert number == SEARCH_QUERIES
    assert html.count('href="/en/initiatives/initiative-') >= min(count, 20)


@pytest.mark.parametrize(
    ("values", "total"),
    [([], 0), ([], 3), ([2], 1), ([1, 4], 2), ([3], 4), ([5, 1, 2], 4), ([7, 7, 1], 5), ([2], 2)],
)
def test_the_peer_median_counts_the_peers_without_initiatives_as_zeros(values, total):
    """Only non-zero counts are summarised; the median is still that of every peer."""
    padded = [0] * (total - len(values)) + values
    expected = statistics.median(padded) if padded else 0
    assert selectors._median_of_spread(Counter(values), total=total) == expected
