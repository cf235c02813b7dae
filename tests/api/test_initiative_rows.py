"""
InitiativeRows writes exactly what InitiativeSerializer writes, for lists and details.

The list and detail endpoints answer through InitiativeRows when nothing is expanded; the
serializer stays the contract. Each test renders the same initiatives both ways and compares
the bytes the API would send.
"""

import datetime as dt
from decimal import Decimal
from typing import Any

import orjson
import pytest
from django.core.cache import cache
from django.utils import timezone, translation
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from config.api.renderers import dumps
from initiatives import selectors
from initiatives.api.rows import FIELDS, InitiativeRows
from initiatives.api.serializers import InitiativeSerializer
from initiatives.models import FocusArea, Initiative, PublicationState, Sector
from tests.factories import InitiativeFactory, JurisdictionFactory, OrganizationFactory, PlanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_throttles() -> None:
    cache.clear()


@pytest.fixture
def varied() -> list[Initiative]:
    """Initiatives with every optional field set, and with every one empty."""
    placed = JurisdictionFactory(latitude=41.88, longitude=-87.63)
    unplaced = JurisdictionFactory(latitude=None, longitude=None)
    areas = list(FocusArea.objects.order_by("-position")[:3])
    sectors = list(Sector.objects.order_by("-slug")[:2])
    full = InitiativeFactory.create(
        jurisdiction=placed,
        plan=PlanFactory(jurisdiction=placed),
        lead_organization=OrganizationFactory(),
        summary='Résumé with accents, quotes " and <tags>.',
        description="# Markdown\n\nSecond paragraph.",
        language="fr",
        start_date=dt.date(2011, 5, 1),
        end_date=dt.date(2013, 12, 31),
        budget_amount=Decimal("1234567.50"),
        budget_currency="USD",
        published_at=timezone.now() - dt.timedelta(days=3, microseconds=123),
        is_illustrative=True,
        focus_areas=areas,
    )
    full.sectors.set(sectors)
    bare = InitiativeFactory.create(
        jurisdiction=unplaced,
        summary="",
        budget_amount=None,
        budget_currency="",
        published_at=None,
        publication_state=PublicationState.PUBLISHED,
    )
    return [full, bare]


def _request(path: str = "/api/v1/initiatives/", **params: str) -> Request:
    return Request(APIRequestFactory().get(path, params))


def _page(initiatives: list[Initiative]) -> list[Initiative]:
    ids = [initiative.pk for initiative in initiatives]
    return list(selectors.initiative_list().filter(pk__in=ids).order_by("pk"))


@pytest.mark.parametrize("language", ["en", "fr"])
def test_rows_equal_the_serializer_item_by_item(varied: list[Initiative], language: str) -> None:
    page = _page(varied)
    with translation.override(language):
        request = _request()
        expected = InitiativeSerializer(page, many=True, context={"request": request}).data
        actual = InitiativeRows(request).represent(page)
    assert dumps(actual) == dumps(expected)
    # The comparison saw the optional fields both set and empty.
    assert {item["plan"] is None for item in actual} == {True, False}
    assert {item["point"] is None for item in actual} == {True, False}
    assert actual[0]["focus_areas"]
    assert actual[0]["sectors"]


def test_rows_trim_to_the_requested_fields_in_the_serializer_order(
    varied: list[Initiative],
) -> None:
    page = _page(varied)
    request = _request()
    fields = {"updated_at", "slug", "focus_areas", "point"}
    expected = InitiativeSerializer(
        page, many=True, context={"request": request}, fields=fields
    ).data
    actual = InitiativeRows(request, fields=fields).represent(page)
    assert dumps(actual) == dumps(expected)
    assert list(actual[0]) == [name for name in FIELDS if name in fields]


def _serialized(path: str, initiatives: list[Initiative], language: str) -> Any:
    """What the serializer writes for ``initiatives`` on a request for ``path``, as JSON."""
    with translation.override(language):
        request = _request(path)
        many = InitiativeSerializer(initiatives, many=True, context={"request": request}).data
    return [dict(item) for item in many]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_list_endpoint_answers_like_the_serializer(varied: list[Initiative], language: str) -> None:
    response = APIClient().get("/api/v1/initiatives/?ordering=id", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    expected = _serialized("/api/v1/initiatives/", _page(varied), language)
    assert response.json()["results"] == _json(expected)


def test_detail_endpoint_answers_like_the_serializer(varied: list[Initiative]) -> None:
    for initiative in _page(varied):
        path = f"/api/v1/initiatives/{initiative.slug}/"
        response = APIClient().get(path)
        assert response.status_code == 200
        assert response.json() == _json(_serialized(path, [initiative], "en"))[0]


def test_expanded_reads_still_go_through_the_serializer(varied: list[Initiative]) -> None:
    response = APIClient().get("/api/v1/initiatives/?ordering=id&expand=focus_areas,sectors")
    assert response.status_code == 200
    first = response.json()["results"][0]
    assert isinstance(first["focus_areas"][0], dict)
    assert (
        first["focus_areas"][0]["slug"]
        == _page(varied)[0].focus_areas.order_by("position", "slug")[0].slug
    )


def _json(data: Any) -> Any:
    return orjson.loads(dumps(data))
