"""Cursor pagination: page sizes, exact walks in both directions, bad cursors, incremental sync."""

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from config.api.pagination import AtlasCursorPagination
from initiatives.models import Initiative
from tests.factories import InitiativeFactory, JurisdictionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.api.transport_urls")]

PROJECTS = "/transport/projects/"
PLACES = "/transport/places/"
BASE_TIME = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def client() -> APIClient:
    return APIClient()


def make_projects(count: int) -> list[Initiative]:
    """``count`` initiatives in one place, updated a minute apart, oldest first."""
    place = JurisdictionFactory.create()
    projects = InitiativeFactory.create_batch(count, jurisdiction=place)
    for minute, project in enumerate(projects):
        project.updated_at = BASE_TIME + dt.timedelta(minutes=minute)
        Initiative.objects.filter(pk=project.pk).update(updated_at=project.updated_at)
    return projects


def walk(client: APIClient, url: str, *, direction: str = "next") -> list[list[Any]]:
    """Follow ``direction`` links from ``url`` to the end; the ids of each page."""
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        pages.append([item["id"] for item in response.json()["results"]])
        url = response.json()[direction]
    return pages


def last_page_url(client: APIClient, url: str) -> str:
    while True:
        body = client.get(url).json()
        if body["next"] is None:
            return url
        url = body["next"]


@pytest.mark.parametrize("size", [1, 50, 200])
def test_page_size_sets_the_number_of_results(client: APIClient, size: int) -> None:
    """page_size from 1 to 200 returns that many results and a next link while rows remain."""
    make_projects(201)
    body = client.get(PROJECTS, {"page_size": size}).json()
    assert len(body["results"]) == size
    assert body["next"] is not None
    assert body["previous"] is None


def test_default_page_size_is_fifty(client: APIClient) -> None:
    make_projects(51)
    assert len(client.get(PROJECTS).json()["results"]) == 50


@pytest.mark.parametrize("size", ["201", "1000", "0", "-3", "ten", "2.5"])
def test_page_size_outside_one_to_two_hundred_is_refused(client: APIClient, size: str) -> None:
    """A page size above 200, below 1 or not a whole number is a 400, never silently clamped."""
    make_projects(2)
    response = client.get(PROJECTS, {"page_size": size})
    assert response.status_code == 400
    assert "page_size" in response.content.decode()


def test_a_page_never_counts_rows(client: APIClient) -> None:
    make_projects(3)
    with CaptureQueriesContext(connection) as queries:
        client.get(PROJECTS, {"page_size": 2})
    assert not [query for query in queries if "COUNT(" in query["sql"].upper()]


def test_query_count_does_not_grow_with_page_size(client: APIClient) -> None:
    """Page sizes 1, 50 and 200 cost the same number of queries."""
    make_projects(201)
    counts = []
    for size in (1, 50, 200):
        with CaptureQueriesContext(connection) as queries:
            client.get(PROJECTS, {"page_size": size})
        counts.append(len(queries))
    assert counts[0] == counts[1] == counts[2]


def test_next_links_visit_every_row_exactly_once(client: APIClient) -> None:
    projects = make_projects(23)
    pages = walk(client, f"{PROJECTS}?page_size=5")
    seen = [pk for page in pages for pk in page]
    assert [len(page) for page in pages] == [5, 5, 5, 5, 3]
    assert seen == [project.pk for project in reversed(projects)]


def test_previous_links_visit_every_row_exactly_once_backwards(client: APIClient) -> None:
    projects = make_projects(23)
    pages = walk(client, last_page_url(client, f"{PROJECTS}?page_size=5"), direction="previous")
    seen = [pk for page in reversed(pages) for pk in page]
    assert seen == [project.pk for project in reversed(projects)]


def test_rows_sharing_a_timestamp_are_neither_skipped_nor_repeated(client: APIClient) -> None:
    """The cursor keys on the whole ordering plus the id, so ties cannot confuse it."""
    projects = make_projects(12)
    Initiative.objects.update(updated_at=BASE_TIME)
    seen = [pk for page in walk(client, f"{PROJECTS}?page_size=5") for pk in page]
    assert sorted(seen) == sorted(project.pk for project in projects)
    assert len(seen) == len(set(seen))


def test_ordering_query_parameter_orders_the_pages(client: APIClient) -> None:
    make_projects(7)
    seen = [pk for page in walk(client, f"{PROJECTS}?page_size=3&ordering=title") for pk in page]
    titles = dict(Initiative.objects.values_list("pk", "title"))
    assert [titles[pk] for pk in seen] == sorted(titles.values())


def test_a_nullable_ordering_walks_every_row_once_both_ways(client: APIClient) -> None:
    """NULL start dates sort last going up and are paged like any other value."""
    projects = make_projects(9)
    for index, project in enumerate(projects[:5]):
        Initiative.objects.filter(pk=project.pk).update(start_date=dt.date(2025, 1, 1 + index % 3))
    url = f"{PROJECTS}?page_size=2&ordering=start_date"
    forward = [pk for page in walk(client, url) for pk in page]
    backward = [
        pk
        for page in reversed(walk(client, last_page_url(client, url), direction="previous"))
        for pk in page
    ]
    assert sorted(forward) == sorted(project.pk for project in projects)
    assert len(set(forward)) == len(forward) == 9
    assert backward == forward
    assert set(forward[-4:]) == {project.pk for project in projects[5:]}


def test_view_ordering_is_used_without_an_ordering_filter(client: APIClient) -> None:
    for name in ("Peoria", "Aurora", "Naperville"):
        JurisdictionFactory.create(name=name)
    names = [item["name"] for item in client.get(PLACES).json()["results"]]
    assert names == sorted(names)


def test_a_garbage_cursor_is_a_400(client: APIClient) -> None:
    make_projects(2)
    response = client.get(PROJECTS, {"cursor": "garbage"})
    assert response.status_code == 400
    assert "cursor" in response.content.decode()


def test_a_tampered_cursor_is_a_400(client: APIClient) -> None:
    """Cursors are signed: changing any character of a valid one is refused."""
    make_projects(4)
    next_url = client.get(PROJECTS, {"page_size": 2}).json()["next"]
    cursor = next_url.split("cursor=")[1].split("&")[0]
    tampered = cursor[:3] + ("A" if cursor[3] != "A" else "B") + cursor[4:]
    response = client.get(PROJECTS, {"page_size": 2, "cursor": tampered})
    assert response.status_code == 400


def test_a_cursor_from_another_ordering_is_a_400(client: APIClient) -> None:
    make_projects(4)
    next_url = client.get(PROJECTS, {"page_size": 2}).json()["next"]
    response = client.get(next_url.replace("page_size=2", "page_size=2&ordering=title"))
    assert response.status_code == 400


def test_json_pages_carry_a_link_header(client: APIClient) -> None:
    make_projects(5)
    first = client.get(PROJECTS, {"page_size": 2})
    second = client.get(first.json()["next"])
    assert first["Link"] == f'<{first.json()["next"]}>; rel="next"'
    assert 'rel="next"' in second["Link"]
    assert 'rel="prev"' in second["Link"]


def test_incremental_sync_sees_every_row_under_concurrent_writes(client: APIClient) -> None:
    """
    Paging with updated_since and ordering=updated_at while rows change between pages.

    Every row present at the start is seen at least once, and each row changed
    during the walk (one already seen, one not yet reached) is served again near the end.
    """
    projects = make_projects(12)
    before_sync = make_projects(1)[0]
    Initiative.objects.filter(pk=before_sync.pk).update(updated_at=BASE_TIME - dt.timedelta(days=1))
    url = f"{PROJECTS}?page_size=3&ordering=updated_at&updated_since=2026-01-01T00:00:00Z"
    already_seen, not_yet_seen = projects[1], projects[10]

    seen: list[int] = []
    page_number = 0
    while url:
        body = client.get(url).json()
        seen += [item["id"] for item in body["results"]]
        page_number += 1
        if page_number == 2:
            for project in (already_seen, not_yet_seen):
                Initiative.objects.filter(pk=project.pk).update(
                    title=f"{project.title} (changed)", updated_at=timezone.now()
                )
        url = body["next"]

    assert {project.pk for project in projects} <= set(seen)
    assert before_sync.pk not in seen
    assert seen.count(already_seen.pk) == 2
    assert set(seen[-2:]) == {already_seen.pk, not_yet_seen.pk}


def test_paginated_schema_documents_the_envelope() -> None:
    schema = AtlasCursorPagination().get_paginated_response_schema({"type": "array"})
    assert schema["required"] == ["next", "previous", "results"]
    assert schema["properties"]["next"]["nullable"] is True


def test_page_size_parameter_is_documented_with_its_limits() -> None:
    parameters = AtlasCursorPagination().get_schema_operation_parameters(view=None)  # type: ignore[arg-type]
    page_size = next(p for p in parameters if p["name"] == "page_size")
    assert page_size["schema"]["maximum"] == 200
    assert page_size["schema"]["minimum"] == 1
