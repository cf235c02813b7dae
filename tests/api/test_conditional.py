"""Conditional GET: ETag, Last-Modified, 304 Not Modified, and Vary."""

import datetime as dt

import geojson
import pytest
import time_machine
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.http import http_date
from rest_framework.test import APIClient

from initiatives.models import Initiative
from tests.factories import InitiativeFactory, JurisdictionFactory

PROJECTS = "/transport/projects/"
ECHO = "/transport/echo/"
NEWEST = dt.datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=dt.UTC)

transport = pytest.mark.urls("tests.api.transport_urls")


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.fixture
def projects(db: None) -> list[Initiative]:
    """Three initiatives in a located place; the newest was updated at NEWEST."""
    place = JurisdictionFactory.create(latitude=41.88, longitude=-87.63)
    projects = InitiativeFactory.create_batch(3, jurisdiction=place)
    for days, project in enumerate(projects):
        Initiative.objects.filter(pk=project.pk).update(
            updated_at=NEWEST - dt.timedelta(days=len(projects) - 1 - days)
        )
    return projects


def detail(project: Initiative) -> str:
    return f"{PROJECTS}{project.slug}/"


@transport
def test_list_and_detail_carry_a_strong_etag(client: APIClient, projects: list[Initiative]) -> None:
    for url in (PROJECTS, detail(projects[0])):
        etag = client.get(url)["ETag"]
        assert etag.startswith('"')
        assert etag.endswith('"')


@transport
def test_etag_is_stable_across_identical_requests(
    client: APIClient, projects: list[Initiative]
) -> None:
    assert client.get(PROJECTS)["ETag"] == client.get(PROJECTS)["ETag"]


@transport
def test_etag_of_a_page_with_cursors_does_not_drift_with_time(
    client: APIClient, projects: list[Initiative]
) -> None:
    """The cursors in next/previous links carry no timestamp, so the body is the same later."""
    with time_machine.travel(NEWEST, tick=False) as traveller:
        first = client.get(PROJECTS, {"page_size": "1"})
        traveller.shift(dt.timedelta(hours=1))
        later = client.get(PROJECTS, {"page_size": "1"})
    assert first.json()["next"] == later.json()["next"]
    assert first["ETag"] == later["ETag"]


@transport
def test_each_representation_has_its_own_etag(
    client: APIClient, projects: list[Initiative]
) -> None:
    etags = {client.get(PROJECTS, {"format": fmt})["ETag"] for fmt in ("json", "csv", "geojson")}
    assert len(etags) == 3


@transport
def test_matching_if_none_match_gets_a_304_without_a_body(
    client: APIClient, projects: list[Initiative]
) -> None:
    etag = client.get(detail(projects[0]))["ETag"]
    response = client.get(detail(projects[0]), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


@transport
def test_csv_if_none_match_gets_a_304(client: APIClient, projects: list[Initiative]) -> None:
    etag = client.get(PROJECTS, {"format": "csv"})["ETag"]
    response = client.get(PROJECTS, {"format": "csv"}, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304


@transport
def test_the_json_etag_does_not_validate_the_csv(
    client: APIClient, projects: list[Initiative]
) -> None:
    etag = client.get(PROJECTS)["ETag"]
    assert client.get(PROJECTS, {"format": "csv"}, HTTP_IF_NONE_MATCH=etag).status_code == 200


@transport
def test_etag_changes_after_an_edit(client: APIClient, projects: list[Initiative]) -> None:
    before = client.get(PROJECTS)["ETag"]
    Initiative.objects.filter(pk=projects[0].pk).update(title="Renamed", updated_at=timezone.now())
    response = client.get(PROJECTS, HTTP_IF_NONE_MATCH=before)
    assert response.status_code == 200
    assert response["ETag"] != before


@transport
def test_last_modified_is_the_newest_updated_at_on_the_page(
    client: APIClient, projects: list[Initiative]
) -> None:
    assert client.get(PROJECTS)["Last-Modified"] == http_date(NEWEST.timestamp())


@transport
def test_detail_last_modified_is_its_own_updated_at(
    client: APIClient, projects: list[Initiative]
) -> None:
    oldest = projects[0]
    oldest.refresh_from_db()
    response = client.get(detail(oldest))
    assert response["Last-Modified"] == http_date(oldest.updated_at.timestamp())


@transport
def test_if_modified_since_the_last_change_gets_a_304(
    client: APIClient, projects: list[Initiative]
) -> None:
    response = client.get(PROJECTS, HTTP_IF_MODIFIED_SINCE=http_date(NEWEST.timestamp()))
    assert response.status_code == 304


@transport
def test_if_modified_since_before_the_last_change_gets_the_page(
    client: APIClient, projects: list[Initiative]
) -> None:
    earlier = http_date((NEWEST - dt.timedelta(minutes=1)).timestamp())
    assert client.get(PROJECTS, HTTP_IF_MODIFIED_SINCE=earlier).status_code == 200


@transport
def test_head_carries_the_same_etag(client: APIClient, projects: list[Initiative]) -> None:
    assert client.head(PROJECTS)["ETag"] == client.get(PROJECTS)["ETag"]


@transport
def test_responses_vary_on_negotiation_and_credentials(
    client: APIClient, projects: list[Initiative]
) -> None:
    vary = {part.strip().lower() for part in client.get(PROJECTS)["Vary"].split(",")}
    assert {"accept", "accept-language", "authorization", "cookie"} <= vary


@transport
def test_a_304_keeps_vary(client: APIClient, projects: list[Initiative]) -> None:
    etag = client.get(PROJECTS)["ETag"]
    assert "Accept" in client.get(PROJECTS, HTTP_IF_NONE_MATCH=etag)["Vary"]


@transport
def test_errors_carry_no_validators(client: APIClient, projects: list[Initiative]) -> None:
    response = client.get(f"{PROJECTS}no-such-project/")
    assert response.status_code == 404
    assert not response.has_header("ETag")
    assert not response.has_header("Last-Modified")


@transport
@pytest.mark.django_db
def test_unsafe_methods_are_not_conditional(client: APIClient) -> None:
    response = client.post(ECHO, {"a": 1}, format="json", HTTP_IF_NONE_MATCH="*")
    assert response.status_code == 200
    assert not response.has_header("ETag")


@transport
def test_a_failed_if_match_is_a_412(client: APIClient, projects: list[Initiative]) -> None:
    response = client.get(PROJECTS, HTTP_IF_MATCH='"not-the-etag"')
    assert response.status_code == 412
    assert "json" in response["Content-Type"]


@pytest.mark.django_db
def test_the_initiatives_endpoint_is_conditional_and_speaks_csv_and_geojson(
    client: APIClient, projects: list[Initiative]
) -> None:
    """The real /api/v1/initiatives/ uses this machinery."""
    try:
        resolve("/api/v1/initiatives/")
    except Resolver404:
        pytest.skip("/api/v1/initiatives/ is not routed yet")
    response = client.get("/api/v1/initiatives/")
    assert response.status_code == 200
    assert response.has_header("ETag")
    assert (
        client.get("/api/v1/initiatives/", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    )
    assert client.get("/api/v1/initiatives/", {"format": "csv"})["Content-Type"].startswith(
        "text/csv"
    )
    geo = client.get("/api/v1/initiatives/", HTTP_ACCEPT="application/geo+json")
    assert geo["Content-Type"] == "application/geo+json"
    assert geojson.loads(geo.content.decode()).is_valid
