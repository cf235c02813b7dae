"""Representations: JSON, CSV, GeoJSON and JSON-LD, content negotiation, and JSON bodies."""

import csv
import datetime as dt
import decimal
import io
import json
import uuid
from typing import Any

import geojson
import pytest
from django.test import override_settings
from django.utils.translation import gettext_lazy
from drf_spectacular.generators import SchemaGenerator
from openapi_spec_validator import validate
from rest_framework.test import APIClient

from config.api.renderers import CSVRenderer, ORJSONRenderer, document_representations
from initiatives.models import FocusArea, Initiative
from tests.factories import InitiativeFactory, JurisdictionFactory, MilestoneFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.api.transport_urls")]

PROJECTS = "/transport/projects/"
PLACES = "/transport/places/"
ECHO = "/transport/echo/"


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.fixture
def chicago_projects() -> list[Initiative]:
    """Three initiatives in Chicago (which has a location) and one in a place without one."""
    chicago = JurisdictionFactory.create(name="Chicago", latitude=41.8781, longitude=-87.6298)
    wifi = FocusArea.objects.create(
        slug="connectivity", name_en="Connectivity", name_fr="Connectivité"
    )
    museums = FocusArea.objects.create(slug="museums", name_en="Museums", name_fr="Musées")
    projects = InitiativeFactory.create_batch(
        3, jurisdiction=chicago, focus_areas=[wifi, museums], title="Réseau numérique"
    )
    MilestoneFactory.create(initiative=projects[0], title="Pilot, phase 1")
    InitiativeFactory.create(jurisdiction=JurisdictionFactory.create(name="Nowhere"))
    return projects


def csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


# ------------------------------------------------------------------ JSON


def test_json_is_the_default(client: APIClient, chicago_projects: list[Initiative]) -> None:
    response = client.get(PROJECTS)
    assert response["Content-Type"] == "application/json"
    assert len(response.json()["results"]) == 4


def test_orjson_renderer_encodes_decimals_dates_uuids_and_lazy_strings() -> None:
    identifier = uuid.uuid4()
    content = ORJSONRenderer().render(
        {
            "budget": decimal.Decimal("12.50"),
            "at": dt.datetime(2026, 5, 1, 12, 30, tzinfo=dt.UTC),
            "on": dt.date(2026, 5, 1),
            "id": identifier,
            "label": gettext_lazy("Published"),
        }
    )
    assert json.loads(content) == {
        "budget": "12.50",
        "at": "2026-05-01T12:30:00+00:00",
        "on": "2026-05-01",
        "id": str(identifier),
        "label": "Published",
    }


def test_browsable_api_is_served_as_html(
    client: APIClient, chicago_projects: list[Initiative]
) -> None:
    response = client.get(PROJECTS, {"format": "api"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


# ------------------------------------------------------------------ negotiation


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        ("application/json", "application/json"),
        ("text/csv", "text/csv; charset=utf-8"),
        ("application/geo+json", "application/geo+json"),
        ("application/ld+json", "application/ld+json"),
        ("text/html", "text/html; charset=utf-8"),
    ],
)
def test_accept_header_chooses_the_representation(
    client: APIClient, chicago_projects: list[Initiative], accept: str, content_type: str
) -> None:
    response = client.get(PROJECTS, HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"] == content_type


@pytest.mark.parametrize(
    ("format_", "content_type"),
    [
        ("json", "application/json"),
        ("csv", "text/csv; charset=utf-8"),
        ("geojson", "application/geo+json"),
        ("jsonld", "application/ld+json"),
    ],
)
def test_format_parameter_chooses_the_representation(
    client: APIClient, chicago_projects: list[Initiative], format_: str, content_type: str
) -> None:
    response = client.get(PROJECTS, {"format": format_})
    assert response["Content-Type"] == content_type


# ------------------------------------------------------------------ CSV


def test_csv_has_one_row_per_record_with_dotted_columns(
    client: APIClient, chicago_projects: list[Initiative]
) -> None:
    rows = csv_rows(client.get(PROJECTS, {"format": "csv"}).content)
    assert len(rows) == 4
    assert {"jurisdiction.slug", "jurisdiction.name", "point.latitude", "point.longitude"} <= set(
        rows[0]
    )
    chicago_row = next(row for row in rows if row["jurisdiction.name"] == "Chicago")
    assert chicago_row["point.latitude"] == "41.8781"


def test_csv_joins_scalar_lists_and_encodes_object_lists(
    client: APIClient, chicago_projects: list[Initiative]
) -> None:
    rows = csv_rows(client.get(PROJECTS, {"format": "csv"}).content)
    first = next(row for row in rows if row["id"] == str(chicago_projects[0].pk))
    assert first["focus_areas"] == "connectivity|museums"
    assert json.loads(first["milestones"]) == [{"title": "Pilot, phase 1"}]


def test_csv_keeps_non_ascii_text_in_utf8(
    client: APIClient, chicago_projects: list[Initiative]
) -> None:
    rows = csv_rows(client.get(PROJECTS, {"format": "csv"}).content)
    assert "Réseau numérique" in {row["title"] for row in rows}


def test_csv_pages_link_to_the_next_page_in_a_header(
    client: APIClient, chicago_projects: list[Initiative]
) -> None:
    response = client.get(PROJECTS, {"format": "csv", "page_size": "2"})
    assert len(csv_rows(response.content)) == 2
    assert response["Link"].startswith("<http://testserver/transport/projects/?")
    assert response["Link"].endswith('>; rel="next"')
    assert "format=csv" in response["Link"]


def test_csv_renderer_sets_the_link_header_from_the_envelope() -> None:
    """Even for a response the paginator did not build, the envelope's links become a header."""
    from rest_framework.response import Response

    response = Response()
    CSVRenderer().render(
        {"next": "https://example.org/?cursor=a", "previous": None, "results": [{"id": 1}]},
        renderer_context={"response": response},
    )
    assert response["Link"] == '<https://example.org/?cursor=a>; rel="next"'


def test_csv_of_one_record_is_one_row(
    client: APIClient, chicago_projects: list[Initiative]
) -> None:
    response = client.get(f"{PROJECTS}{chicago_projects[0].slug}/", {"format": "csv"})
    rows = csv_rows(response.content)
    assert len(rows) == 1
    assert rows[0]["slug"] == chicago_projects[0].slug


def test_csv_header_is_the_union_of_keys_in_first_seen_order() -> None:
    content = CSVRenderer().render([{"a": 1, "b": {"c": 2}}, {"a": 3, "d": True}])
    assert content.decode().splitlines() == ["a,b.c,d", "1,2,", "3,,true"]


def test_csv_error_is_written_as_json(client: APIClient) -> None:
    """An error under format=csv is a JSON body, never a 500 or a half-written CSV."""
    response = client.get(PROJECTS, {"format": "csv", "page_size": "500"})
    assert response.status_code == 400
    assert "json" in response["Content-Type"]
    assert "page_size" in json.dumps(json.loads(response.content))


# ------------------------------------------------------------------ GeoJSON


def test_geojson_list_is_a_valid_feature_collection(
    client: APIClient, chicago_projects: list[Initiative]
) -> None:
    response = client.get(PROJECTS, {"format": "geojson"})
    collection = geojson.loads(response.content.decode())
    assert collection.is_valid, collection.errors()
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == 4


def test_geojson_points_are_longitude_then_latitude(
    client: APIClient, chicago_projects: list[Initiative]
) -> None:
    collection = client.get(PROJECTS, {"format": "geojson"}).json()
    feature = next(f for f in collection["features"] if f["id"] == chicago_projects[0].pk)
    assert feature["geometry"] == {"type": "Point", "coordinates": [-87.6298, 41.8781]}
    assert "point" not in feature["properties"]
    assert feature["properties"]["slug"] == chicago_projects[0].slug


def test_geojson_geometry_is_null_without_a_location(
    client: APIClient, chicago_projects: list[Initiative]
) -> None:
    collection = client.get(PROJECTS, {"format": "geojson"}).json()
    nowhere = next(
        f for f in collection["features"] if f["properties"]["jurisdiction"]["name"] == "Nowhere"
    )
    assert nowhere["geometry"] is None


def test_geojson_reads_top_level_coordinates(client: APIClient) -> None:
    JurisdictionFactory.create(name="Springfield", latitude=39.7817, longitude=-89.6501)
    text = client.get(PLACES, HTTP_ACCEPT="application/geo+json").content.decode()
    collection = geojson.loads(text)
    assert collection.is_valid
    feature = collection["features"][0]
    assert feature["geometry"]["coordinates"] == [-89.6501, 39.7817]
    assert "latitude" not in feature["properties"]


def test_geojson_pages_link_to_the_next_page(
    client: APIClient, chicago_projects: list[Initiative]
) -> None:
    text = client.get(PROJECTS, {"format": "geojson", "page_size": "2"}).content.decode()
    collection = geojson.loads(text)
    assert collection.is_valid
    assert collection["next"].startswith("http://testserver/transport/projects/?")
    assert collection["links"] == [
        {"rel": "next", "href": collection["next"], "type": "application/geo+json"}
    ]


def test_geojson_detail_is_a_valid_feature(
    client: APIClient, chicago_projects: list[Initiative]
) -> None:
    text = client.get(
        f"{PROJECTS}{chicago_projects[0].slug}/", {"format": "geojson"}
    ).content.decode()
    feature = geojson.loads(text)
    assert feature.is_valid
    assert feature["type"] == "Feature"
    assert feature["id"] == chicago_projects[0].pk


def test_geojson_error_is_written_as_json(client: APIClient) -> None:
    response = client.get(PROJECTS, {"format": "geojson", "cursor": "garbage"})
    assert response.status_code == 400
    assert "json" in response["Content-Type"]
    assert "cursor" in json.dumps(json.loads(response.content))


# ------------------------------------------------------------------ JSON-LD


def test_jsonld_list_is_a_graph_of_typed_nodes(
    client: APIClient, chicago_projects: list[Initiative]
) -> None:
    document = json.loads(client.get(PROJECTS, {"format": "jsonld", "page_size": "2"}).content)
    assert document["@context"]["@vocab"] == "https://schema.org/"
    assert len(document["@graph"]) == 2
    node = document["@graph"][0]
    assert node["@type"] == "Project"
    assert node["@id"] == node["url"]
    assert node["@id"].startswith("http://testserver/transport/projects/")
    assert document["next"].startswith("http://testserver/transport/projects/?")


def test_jsonld_detail_is_one_node_with_context(
    client: APIClient, chicago_projects: list[Initiative]
) -> None:
    response = client.get(
        f"{PROJECTS}{chicago_projects[0].slug}/", HTTP_ACCEPT="application/ld+json"
    )
    document = json.loads(response.content)
    assert "@context" in document
    assert document["@type"] == "Project"
    assert document["@id"].endswith(f"/transport/projects/{chicago_projects[0].slug}/")


def test_jsonld_type_comes_from_the_view(client: APIClient) -> None:
    JurisdictionFactory.create(name="Springfield")
    document = client.get(PLACES, {"format": "jsonld"}).json()
    assert {node["@type"] for node in document["@graph"]} == {"AdministrativeArea"}


def test_jsonld_not_found_is_written_as_json(client: APIClient) -> None:
    response = client.get(f"{PROJECTS}no-such-project/", {"format": "jsonld"})
    assert response.status_code == 404
    assert "json" in response["Content-Type"]
    assert isinstance(json.loads(response.content), dict)


# ------------------------------------------------------------------ request bodies


def test_a_json_body_is_parsed(client: APIClient) -> None:
    response = client.post(ECHO, {"title": "Wi-Fi", "tags": ["a", "b"]}, format="json")
    assert response.status_code == 200
    assert response.json() == {"title": "Wi-Fi", "tags": ["a", "b"]}


@pytest.mark.parametrize("body", ['{"title": ', "{'title': 1}", '{"n": NaN}', "\xff"])
def test_malformed_json_is_a_400(client: APIClient, body: Any) -> None:
    response = client.post(ECHO, body, content_type="application/json")
    assert response.status_code == 400


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
def test_an_oversized_json_body_is_a_413(client: APIClient) -> None:
    response = client.post(ECHO, {"text": "x" * 200}, format="json")
    assert response.status_code == 413


# ------------------------------------------------------------------ OpenAPI


def test_schema_hook_gives_each_representation_its_shape() -> None:
    page = {"$ref": "#/components/schemas/PaginatedThingList"}
    schema: dict[str, Any] = {
        "paths": {
            "/things/": {
                "get": {
                    "responses": {
                        "200": {
                            "content": {
                                media_type: {"schema": page}
                                for media_type in (
                                    "application/json",
                                    "text/csv",
                                    "application/geo+json",
                                    "application/ld+json",
                                )
                            }
                        }
                    }
                }
            }
        },
        "components": {
            "schemas": {"PaginatedThingList": {"type": "object", "properties": {"results": {}}}}
        },
    }
    content = document_representations(schema)["paths"]["/things/"]["get"]["responses"]["200"][
        "content"
    ]
    assert content["application/json"]["schema"] == page
    assert content["text/csv"]["schema"] == {"type": "string"}
    assert content["application/geo+json"]["schema"]["$ref"].endswith("GeoJSONFeatureCollection")
    assert content["application/ld+json"]["schema"]["$ref"].endswith("JSONLDGraph")
    assert "GeoJSONFeature" in schema["components"]["schemas"]


@pytest.mark.urls("config.urls")
def test_schema_with_the_hook_is_valid_openapi() -> None:
    """The rewritten schema of the real API still passes openapi-spec-validator."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    schema = json.loads(json.dumps(document_representations(generated), default=str))
    validate(schema)
    detail = schema["paths"].get("/api/v1/initiatives/{slug}/")
    if detail is None:
        pytest.skip("/api/v1/initiatives/ is not routed yet")
    content = detail["get"]["responses"]["200"]["content"]
    assert content["application/geo+json"]["schema"]["$ref"].endswith("/GeoJSONFeature")
