"""
/api/v1/initiatives/ costs a fixed number of queries, however many rows the catalogue holds.

The first page, a page reached through a cursor and a single initiative each
run the same queries with 5 initiatives as with 50, and none of them counts
rows. Every initiative carries focus areas, sectors, a lead organization and a
plan, so a relation loaded row by row would show up as extra queries.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from council import permissions
from initiatives.models import FocusArea, Initiative, Sector
from tests.factories import (
    InitiativeFactory,
    JurisdictionFactory,
    OrganizationFactory,
    PlanFactory,
)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/initiatives/"
# The page of initiatives (with jurisdictions, lead organizations and plans
# joined), then their focus areas, then their sectors.
LIST_QUERIES = 3
DETAIL_QUERIES = 3
BASE_TIME = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


@pytest.fixture
def client() -> APIClient:
    return APIClient()


def make_catalogue(count: int) -> list[Initiative]:
    """``count`` published initiatives with every relation the list shows, a minute apart."""
    place = JurisdictionFactory.create()
    plan = PlanFactory.create(jurisdiction=place)
    lead = OrganizationFactory.create(jurisdiction=place)
    areas = list(FocusArea.objects.all()[:2])
    sectors = list(Sector.objects.all()[:2])
    initiatives = InitiativeFactory.create_batch(
        count, jurisdiction=place, plan=plan, lead_organization=lead, focus_areas=areas
    )
    for minute, initiative in enumerate(initiatives):
        initiative.sectors.set(sectors)
        Initiative.objects.filter(pk=initiative.pk).update(
            updated_at=BASE_TIME + dt.timedelta(minutes=minute)
        )
    return initiatives


def run(client: APIClient, url: str) -> tuple[list[str], Any]:
    """The SQL of one request, and its body."""
    user = getattr(client.handler, "_force_user", None)
    if user is not None:
        permissions.forget_memberships(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return [query["sql"] for query in queries.captured_queries], response.json()


@pytest.mark.parametrize("count", [5, 50])
def test_the_first_page_costs_the_same_queries_at_any_size(client: APIClient, count: int) -> None:
    """The first page runs three queries with 5 or 50 initiatives, and counts nothing."""
    make_catalogue(count)
    sql, body = run(client, f"{LIST}?page_size=50")
    assert len(body["results"]) == count
    assert all(item["focus_areas"] and item["sectors"] for item in body["results"])
    assert len(sql) == LIST_QUERIES
    assert not [statement for statement in sql if "COUNT(" in statement.upper()]


@pytest.mark.parametrize("count", [5, 50])
def test_a_page_deep_in_the_cursor_walk_costs_what_the_first_does(
    client: APIClient, count: int
) -> None:
    """Two rows a page: the last page, reached through cursors, runs the first page's queries."""
    make_catalogue(count)
    url = f"{LIST}?page_size=2"
    pages = 0
    while True:
        sql, body = run(client, url)
        pages += 1
        assert len(sql) == LIST_QUERIES
        if body["next"] is None:
            break
        url = body["next"]
    assert pages == (count + 1) // 2
    assert body["previous"] is not None
    assert not [statement for statement in sql if "COUNT(" in statement.upper()]


def test_a_cursor_seeks_on_the_leading_ordering_key(client: APIClient) -> None:
    """
    A cursor page bounds ``updated_at`` on its own, besides the keyset's OR: that
    plain range is what lets an index start at the cursor instead of the first row.
    """
    make_catalogue(5)
    _sql, first = run(client, f"{LIST}?page_size=2")
    sql, _body = run(client, first["next"])
    page = sql[0].replace('"', "")
    assert "initiatives_initiative.updated_at <= " in page


@pytest.mark.parametrize("count", [5, 50])
def test_one_initiative_costs_the_same_queries_however_many_exist(
    client: APIClient, count: int
) -> None:
    initiatives = make_catalogue(count)
    sql, body = run(client, f"{LIST}{initiatives[count // 2].slug}/")
    assert body["slug"] == initiatives[count // 2].slug
    assert len(sql) == DETAIL_QUERIES


@pytest.mark.parametrize("count", [5, 50])
def test_expanding_relations_adds_a_fixed_number_of_queries(client: APIClient, count: int) -> None:
    """Expanded jurisdictions, organizations and taxa are joined or prefetched, not per row."""
    make_catalogue(count)
    expand = "jurisdiction,lead_organization,focus_areas,sectors"
    sql, body = run(client, f"{LIST}?page_size=50&expand={expand}")
    assert len(body["results"]) == count
    assert body["results"][0]["lead_organization"]["slug"]
    assert len(sql) == LIST_QUERIES
