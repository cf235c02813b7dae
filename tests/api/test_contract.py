"""
The schema says what the API does: regressions found by fuzzing the live API.

Each test pins one place where the API and its OpenAPI document disagreed:
the API refused a value the schema allows, accepted one it forbids, or
answered with a body the schema does not describe.
"""

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from jsonschema import Draft4Validator, FormatChecker
from rest_framework.test import APIClient

from initiatives.models import FocusArea, Initiative
from tests.factories import InitiativeFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_throttles() -> None:
    """Each test starts with empty rate-limit counters, however fast the suite runs."""
    cache.clear()


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.fixture
def schema(client: APIClient) -> dict[str, Any]:
    response = client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    loaded: dict[str, Any] = json.loads(response.content)
    return loaded


@pytest.fixture
def wifi(atlas_map: Any) -> Initiative:
    initiative: Initiative = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, slug="chicago-wifi"
    )
    initiative.focus_areas.set([FocusArea.objects.get(slug="technology-access")])
    initiative.lead_organization = OrganizationFactory.create(
        slug="chicago-doit", jurisdiction=atlas_map.chicago
    )
    initiative.save()
    return initiative


URI_CHECKER = FormatChecker(formats=())


@URI_CHECKER.checks("uri")
def _is_uri(value: object) -> bool:
    # An empty website is valid only as the schema's "empty string" branch, not as a URI.
    return not isinstance(value, str) or bool(urlsplit(value).scheme)


def parameter(schema: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == name
    )
    return found


# ---------------------------------------------------------------- empty values


@pytest.mark.parametrize(
    "query",
    ["focus_area=", "sector=", "status=", "include_descendants=", "updated_since=", "format="],
)
def test_an_empty_initiative_filter_is_the_same_as_leaving_it_out(
    client: APIClient, wifi: Initiative, query: str
) -> None:
    response = client.get(f"/api/v1/initiatives/?{query}")
    assert response.status_code == 200, response.content
    assert [item["slug"] for item in response.json()["results"]] == ["chicago-wifi"]


def test_an_empty_repeatable_jurisdiction_kind_is_ignored(
    client: APIClient, atlas_map: Any
) -> None:
    assert client.get("/api/v1/jurisdictions/?kind=").status_code == 200


def test_empty_values_beside_real_ones_are_dropped(client: APIClient, wifi: Initiative) -> None:
    response = client.get("/api/v1/initiatives/?status=&status=" + wifi.status)
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_the_schema_says_every_optional_query_parameter_may_be_empty(
    schema: dict[str, Any],
) -> None:
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for operation in operations.values():
            for param in operation.get("parameters", []):
                if param["in"] == "query" and not param.get("required"):
                    assert param.get("allowEmptyValue") is True, (path, param["name"])


# ---------------------------------------------------------------- booleans


def test_boolean_filters_document_exactly_the_values_they_accept(schema: dict[str, Any]) -> None:
    documented = parameter(schema, "/api/v1/initiatives/", "include_descendants")["schema"]
    assert documented["type"] == "string"
    assert set(documented["enum"]) == {"true", "false", "1", "0", "yes", "no", "on", "off"}


@pytest.mark.parametrize("value", ["TRUE", " true", "null"])
def test_a_boolean_filter_outside_the_documented_values_is_a_400(
    client: APIClient, atlas_map: Any, value: str
) -> None:
    response = client.get("/api/v1/initiatives/", {"include_descendants": value})
    assert response.status_code == 400


# ---------------------------------------------------------------- references


def test_the_parent_filter_is_documented_as_a_slug_not_an_integer(schema: dict[str, Any]) -> None:
    assert parameter(schema, "/api/v1/jurisdictions/", "parent")["schema"]["type"] == "string"


# ---------------------------------------------------------------- ?fields= and ?expand=


def test_fields_and_expand_are_documented_as_comma_lists_of_known_names(
    schema: dict[str, Any],
) -> None:
    fields = parameter(schema, "/api/v1/initiatives/", "fields")
    assert fields["style"] == "form"
    assert fields["explode"] is False
    assert {"slug", "title", "milestones"} <= set(fields["schema"]["items"]["enum"])
    expand = parameter(schema, "/api/v1/initiatives/", "expand")
    assert "focus_areas" in expand["schema"]["items"]["enum"]


@pytest.mark.parametrize("fields", ["slug,", "slug, title", ",slug"])
def test_fields_are_taken_exactly_as_sent(client: APIClient, wifi: Initiative, fields: str) -> None:
    response = client.get("/api/v1/initiatives/chicago-wifi/", {"fields": fields})
    assert response.status_code == 400


def test_a_trimmed_record_still_matches_the_response_schema(
    client: APIClient, schema: dict[str, Any], wifi: Initiative
) -> None:
    body = client.get("/api/v1/initiatives/chicago-wifi/", {"fields": "slug"}).json()
    component = _nullable_to_types(schema["components"]["schemas"]["Initiative"])
    validator = Draft4Validator(
        {**component, "components": _nullable_to_types(schema["components"])},
        format_checker=URI_CHECKER,
    )
    assert body == {"slug": "chicago-wifi"}
    assert not list(validator.iter_errors(body))


def test_an_expanded_record_still_matches_the_response_schema(
    client: APIClient, schema: dict[str, Any], wifi: Initiative
) -> None:
    body = client.get(
        "/api/v1/initiatives/chicago-wifi/",
        {"expand": "focus_areas,lead_organization,jurisdiction,milestones"},
    ).json()
    assert isinstance(body["focus_areas"][0], dict)
    component = _nullable_to_types(schema["components"]["schemas"]["Initiative"])
    validator = Draft4Validator(
        {**component, "components": _nullable_to_types(schema["components"])},
        format_checker=URI_CHECKER,
    )
    assert not list(validator.iter_errors(body))


def _nullable_to_types(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable`` as plain JSON Schema, for jsonschema's validator."""
    if isinstance(node, list):
        return [_nullable_to_types(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _nullable_to_types(value) for key, value in node.items()}
    if converted.pop("nullable", False):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


# ---------------------------------------------------------------- CSV


def test_an_empty_csv_page_has_a_header_row_and_its_content_type(
    client: APIClient, atlas_map: Any
) -> None:
    response = client.get("/api/v1/initiatives/", {"format": "csv", "fields": "slug,title"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.content == b"slug,title\r\n"


def test_deletes_document_the_409_of_a_record_still_referred_to(schema: dict[str, Any]) -> None:
    responses = schema["paths"]["/api/v1/organizations/{slug}/"]["delete"]["responses"]
    assert "409" in responses
