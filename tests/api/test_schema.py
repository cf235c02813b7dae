"""The OpenAPI schema at /api/v1/schema/: valid in YAML and JSON, with auth, errors and examples."""

import json
import re
from typing import Any

import pytest
import yaml
from django.core.cache import cache
from openapi_spec_validator import validate

from config.api.schema import example_for

pytestmark = pytest.mark.django_db

SCHEMA = "/api/v1/schema/"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Throttle counters live in the cache; each test starts from none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def schema(client) -> dict[str, Any]:
    response = client.get(SCHEMA, {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def test_yaml_schema_is_valid_openapi(client):
    """/api/v1/schema/ serves YAML by default, and it passes openapi-spec-validator."""
    response = client.get(SCHEMA)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    document = yaml.safe_load(response.content)
    validate(document)
    assert document["info"]["title"] == "Digital Leadership Atlas API"


def test_json_schema_is_valid_openapi(client):
    """?format=json serves the same schema as JSON, and it passes openapi-spec-validator."""
    response = client.get(SCHEMA, {"format": "json"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    document = json.loads(response.content)
    validate(document)
    assert document["info"]["version"] == "1.0.0"


def test_yaml_and_json_describe_the_same_api(client, schema):
    """The two formats are one schema."""
    assert yaml.safe_load(client.get(SCHEMA).content)["paths"].keys() == schema["paths"].keys()


def test_schema_describes_api_keys_as_bearer_auth(schema):
    """API keys appear as an HTTP Bearer security scheme that operations accept."""
    scheme = schema["components"]["securitySchemes"]["ApiKeyAuth"]

    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    used = {
        name
        for operations in schema["paths"].values()
        for operation in operations.values()
        for requirement in operation.get("security", [])
        for name in requirement
    }
    assert "ApiKeyAuth" in used


def test_schema_names_the_configured_data_licence(client, settings):
    """info.license follows ATLAS_DATA_LICENSE."""
    settings.ATLAS_DATA_LICENSE = "CC0-1.0"

    document = json.loads(client.get(SCHEMA, {"format": "json"}).content)

    assert document["info"]["license"]["url"] == (
        "https://creativecommons.org/publicdomain/zero/1.0/"
    )


def test_description_covers_auth_pagination_formats_errors_and_licence(schema):
    """The schema's description is the API's short manual."""
    description = schema["info"]["description"]

    for heading in ("Authentication", "Pagination", "Formats", "Errors", "Licence"):
        assert f"## {heading}" in description


def test_every_error_response_is_a_problem_with_an_example(schema):
    """Each 4xx response is application/problem+json with the Problem schema and an example."""
    errors = [
        (path, status, response)
        for path, operations in schema["paths"].items()
        for operation in operations.values()
        for status, response in operation["responses"].items()
        if status.startswith("4")
    ]

    assert errors
    for path, status, response in errors:
        media = response["content"]["application/problem+json"]
        assert media["schema"] == {"$ref": "#/components/schemas/Problem"}, (path, status)
        (example,) = media["examples"].values()
        assert example["value"]["status"] == int(status)
    problem = schema["components"]["schemas"]["Problem"]
    assert {"type", "title", "status"} <= set(problem["required"])


def test_every_api_operation_documents_throttling(schema):
    """Every operation under /api/v1/ can answer 429, and says so."""
    for path, operations in schema["paths"].items():
        if path.startswith("/api/v1/"):
            for operation in operations.values():
                assert "429" in operation["responses"], path


def test_json_success_responses_carry_examples(schema):
    """Every application/json success response has an example."""
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                media = response.get("content", {}).get("application/json")
                if status.startswith("2") and media:
                    assert media.get("examples") or "example" in media, (path, status)


def test_initiative_list_example_reads_like_a_record(schema):
    """The initiatives list, once there, shows a plausible initiative rather than placeholders."""
    operation = schema["paths"].get("/api/v1/initiatives/", {}).get("get")
    if operation is None:
        pytest.skip("the initiatives endpoint is not routed yet")

    (example,) = operation["responses"]["200"]["content"]["application/json"]["examples"].values()
    value = example["value"]
    records = value["results"] if isinstance(value, dict) else value

    assert records[0]["slug"] == "chicago-digital-equity-plan"


def test_dump_endpoints_and_catalog_are_documented(schema):
    """The open-data endpoints are in the schema, the download as a zip."""
    download = schema["paths"]["/api/v1/dumps/{name}"]["get"]

    assert "application/zip" in download["responses"]["200"]["content"]
    assert "/api/v1/dumps/" in schema["paths"]
    assert (
        "application/ld+json"
        in (schema["paths"]["/catalog.jsonld"]["get"]["responses"]["200"]["content"])
    )


def test_example_for_follows_references_and_arrays():
    """The example builder resolves $ref, fills arrays and prefers known sample values."""
    components = {
        "Tag": {"type": "object", "properties": {"slug": {"type": "string"}}},
    }
    schema = {
        "type": "object",
        "properties": {
            "tags": {"type": "array", "items": {"$ref": "#/components/schemas/Tag"}},
            "updated_at": {"type": "string", "format": "date-time"},
            "secret": {"type": "string", "writeOnly": True},
        },
    }

    assert example_for(schema, components) == {
        "tags": [{"slug": "chicago-digital-equity-plan"}],
        "updated_at": "2026-10-15T14:05:00Z",
    }


def test_the_cursor_is_not_offered_as_a_parameter(schema):
    """Cursors are opaque parts of the next/previous links, not values to compose."""
    for operations in schema["paths"].values():
        for operation in operations.values():
            names = {parameter["name"] for parameter in operation.get("parameters", [])}
            assert "cursor" not in names


def test_decimals_are_documented_with_their_digits_and_sign(schema):
    budget = schema["components"]["schemas"]["InitiativeRequest"]["properties"]["budget_amount"]
    pattern = re.compile(budget["pattern"])
    for accepted in ("0", "12.5", "12345678901234.99", ".5"):
        assert pattern.fullmatch(accepted), accepted
    for refused in ("", "-", ".", "-1", "1.234", "123456789012345"):
        assert not pattern.fullmatch(refused), refused


def test_closed_lists_are_enums(schema):
    properties = schema["components"]["schemas"]["JurisdictionRequest"]["properties"]
    assert "America/Chicago" in properties["time_zone"]["enum"]
    initiative = schema["components"]["schemas"]["InitiativeRequest"]["properties"]
    assert {"", "USD", "EUR"} <= set(initiative["budget_currency"]["enum"])


def test_writes_document_403_and_409(schema):
    responses = schema["paths"]["/api/v1/initiatives/"]["post"]["responses"]
    assert {"403", "409"} <= set(responses)


def test_reference_fields_in_bodies_are_slugs(schema):
    properties = schema["components"]["schemas"]["InitiativeRequest"]["properties"]
    assert properties["jurisdiction"]["pattern"] == "^[-a-zA-Z0-9_]+$"
    assert properties["jurisdiction"]["minLength"] == 1
    assert properties["focus_areas"]["items"]["pattern"] == "^[-a-zA-Z0-9_]+$"


def test_free_text_query_parameters_refuse_nul(schema, client):
    parameters = schema["paths"]["/api/v1/initiatives/"]["get"]["parameters"]
    q = next(parameter for parameter in parameters if parameter["name"] == "q")
    pattern = re.compile(q["schema"]["pattern"])
    assert pattern.fullmatch("digital équité")
    assert not pattern.fullmatch("a\x00b")
    assert client.get("/api/v1/initiatives/", {"q": "a\x00b"}).status_code == 400
