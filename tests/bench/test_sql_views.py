"""The SQL-built JSON peer answers the very document the API answers, page for page."""

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from council.models import Organization
from initiatives.models import FocusArea, Initiative, PublicationState, Sector
from tests.conftest import AtlasMap
from tests.factories import InitiativeFactory, OrganizationFactory, PlanFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.urls("bench.urls"),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the SQL-built JSON peer is PostgreSQL's SQL"
    ),
]

API = "/api/v1/initiatives/"
SQL = "/bench/sql/initiatives/"
MOMENT = dt.datetime(2026, 5, 4, 12, 30, 15, 250_000, tzinfo=dt.UTC)


@pytest.fixture
def initiatives(atlas_map: AtlasMap) -> list[Initiative]:
    """Published initiatives covering every field's shapes, a draft, and a tie on updated_at."""
    chicago, springfield = atlas_map.chicago, atlas_map.springfield
    chicago.latitude, chicago.longitude = 41.881832, -87.623177
    chicago.save(update_fields=["latitude", "longitude"])
    lead: Organization = OrganizationFactory.create(slug="city-of-chicago")
    plan = PlanFactory.create(jurisdiction=chicago, slug="chicago-digital-plan")
    areas = list(FocusArea.objects.order_by("position", "slug")[:3])
    sectors = list(Sector.objects.order_by("position", "slug")[:2])

    full = InitiativeFactory.create(
        jurisdiction=chicago,
        slug="broadband-for-all",
        title='Broadband "for all" in Chicago',
        description="Markdown *text*.",
        lead_organization=lead,
        plan=plan,
        start_date=dt.date(2024, 1, 15),
        end_date=dt.date(2027, 6, 30),
        budget_amount=Decimal("1234567.5"),
        budget_currency="USD",
        published_at=MOMENT,
        focus_areas=areas,
    )
    full.sectors.set(sectors)
    french = InitiativeFactory.create(
        jurisdiction=springfield,
        slug="donnees-ouvertes",
        title="Données ouvertes à l'hôtel de ville",
        language="fr",
        is_illustrative=True,
        focus_areas=areas[1:2],
    )
    others = [InitiativeFactory.create(jurisdiction=chicago) for _ in range(4)]
    draft = InitiativeFactory.create(
        jurisdiction=chicago, slug="hidden-draft", publication_state=PublicationState.DRAFT
    )
    rows = [full, french, *others, draft]
    # Timestamps set directly: one with no microseconds, two rows tied on updated_at.
    stamps = [
        MOMENT,
        MOMENT.replace(microsecond=0) - dt.timedelta(days=1),
        MOMENT - dt.timedelta(days=2),
        MOMENT - dt.timedelta(days=2),
        MOMENT - dt.timedelta(days=3, microseconds=7),
        MOMENT - dt.timedelta(days=4),
        MOMENT - dt.timedelta(days=5),
    ]
    for row, stamp in zip(rows, stamps, strict=True):
        Initiative.objects.filter(pk=row.pk).update(updated_at=stamp, created_at=stamp)
    return rows


def _get(client: Client, url: str) -> tuple[int, Any]:
    response = client.get(url)
    return response.status_code, json.loads(response.content)


def _sql_url(api_url: str) -> str:
    return api_url.removeprefix("http://testserver").replace(API, SQL, 1)


def test_every_page_equals_the_apis(client: Client, initiatives: list[Initiative]) -> None:
    """Walking the list two by two, each SQL page is the API's page, links included."""
    url: str | None = f"{API}?page_size=2"
    pages = 0
    last_api_page: Any = None
    while url is not None:
        api_status, api_page = _get(client, url)
        sql_status, sql_page = _get(client, _sql_url(url))
        assert (api_status, sql_status) == (200, 200)
        assert sql_page == api_page
        pages += 1
        last_api_page = api_page
        url = api_page["next"]
    assert pages == 3  # six published initiatives, the draft left out
    # And back: the previous link of the last page, a reverse cursor.
    previous = last_api_page["previous"]
    assert previous is not None
    assert _get(client, _sql_url(previous)) == _get(client, previous)


def test_first_page_lists_published_rows_in_the_apis_order(
    client: Client, initiatives: list[Initiative]
) -> None:
    _status, page = _get(client, f"{SQL}?page_size=50")
    slugs = [item["slug"] for item in page["results"]]
    assert "hidden-draft" not in slugs
    assert slugs[:2] == ["broadband-for-all", "donnees-ouvertes"]
    assert page["next"] is None
    assert page["previous"] is None
    full = page["results"][0]
    assert full["budget_amount"] == "1234567.50"
    assert full["published_at"] == "2026-05-04T12:30:15.250000Z"
    assert page["results"][1]["updated_at"] == "2026-05-03T12:30:15Z"


def test_detail_equals_the_apis(client: Client, initiatives: list[Initiative]) -> None:
    for initiative in initiatives[:-1]:
        api = _get(client, f"{API}{initiative.slug}/")
        assert api[0] == 200
        assert _get(client, f"{SQL}{initiative.slug}/") == api


def test_a_draft_is_not_found(client: Client, initiatives: list[Initiative]) -> None:
    assert client.get(f"{SQL}hidden-draft/").status_code == 404


def test_one_query_builds_a_page(client: Client, initiatives: list[Initiative]) -> None:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"{SQL}?page_size=3")
    assert response.status_code == 200
    assert len(captured.captured_queries) == 1


@pytest.mark.parametrize(
    "query", ["page_size=0", "page_size=201", "page_size=ten", "cursor=forged", "cursor="]
)
def test_bad_input_is_a_400_like_the_apis(
    client: Client, initiatives: list[Initiative], query: str
) -> None:
    api = client.get(f"{API}?{query}")
    sql = client.get(f"{SQL}?{query}")
    assert sql.status_code == api.status_code
    if api.status_code == 400:
        assert set(json.loads(sql.content)) <= {"page_size", "cursor"}
