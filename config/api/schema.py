"""
The OpenAPI schema's additions: the API-key scheme, errors, examples and the Redoc page.

drf-spectacular builds the schema from the views; what it cannot see goes here:
the errors the shared machinery (keys, throttling, validation) can give every
operation, as RFC 9457 problems, and examples. The hook walks whatever paths
exist, so it needs no change when an endpoint is added.
"""

from __future__ import annotations

import copy
import re
import zoneinfo
from collections.abc import Iterable
from typing import Any

from django.template import engines
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.views import SpectacularRedocView
from rest_framework.renderers import TemplateHTMLRenderer

from config.api.viewsets import WEB_URL_PATTERN
from initiatives.dumps import data_license
from initiatives.models import CURRENCY_CODES

Schema = dict[str, Any]

API_KEY_SCHEME = "ApiKeyAuth"
PROBLEM_COMPONENT = "Problem"
PROBLEM_MEDIA_TYPE = "application/problem+json"


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describes API keys as HTTP Bearer auth."""

    # A string, resolved lazily: the schema still builds while the class is missing.
    target_class = "config.api.authentication.ApiKeyAuthentication"
    name = API_KEY_SCHEME

    def get_security_definition(self, auto_schema: AutoSchema) -> Schema:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "Atlas API key",
            "description": (
                "An API key, sent as `Authorization: Bearer <key>`. Read keys raise the "
                "rate limit; write keys act with their council member's rights. Create one "
                "with `python manage.py create_api_key --user USERNAME`."
            ),
        }


# ------------------------------------------------------------------------------
# Examples
# ------------------------------------------------------------------------------

# Plausible values by property name, so a generated example reads like a real record.
SAMPLE_VALUES: dict[str, Any] = {
    "id": 42,
    "slug": "chicago-digital-equity-plan",
    "title": "Chicago Digital Equity Plan",
    "name": "Chicago",
    "summary": "Broadband, devices and skills for every Chicago household.",
    "description": "The city's plan to close the digital divide by 2030.",
    "status": "active",
    "kind": "place",
    "language": "en",
    "ocd_id": "ocd-division/country:us/state:il/place:chicago",
    "jurisdiction": "chicago",
    "plan": "chicago-technology-plan",
    "lead_organization": "chicago-department-of-technology",
    "organization": "chicago-department-of-technology",
    "focus_areas": "open-data",
    "sectors": "public-sector",
    "point": {"latitude": 41.8781, "longitude": -87.6298},
    "publication_state": "published",
    "budget_currency": "USD",
    "budget_amount": "2500000.00",
    "start_date": "2024-01-01",
    "end_date": "2027-12-31",
    "latitude": 41.8781,
    "longitude": -87.6298,
    "population": 2746388,
    "website": "https://www.chicago.gov/",
    "url": "https://www.chicago.gov/digital-equity",
    "source_url": "https://www.chicago.gov/digital-equity",
    "created_at": "2024-02-01T09:30:00Z",
    "updated_at": "2026-10-15T14:05:00Z",
    "published_at": "2024-02-12T10:00:00Z",
}

FORMAT_SAMPLES = {
    "date": "2026-01-15",
    "date-time": "2026-01-15T09:30:00Z",
    "uri": "https://example.org/",
    "email": "council@example.org",
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "decimal": "12.50",
    "binary": None,
}

PROBLEM_SCHEMA: Schema = {
    "type": "object",
    "description": "An error, as RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string", "description": "A URI reference naming the kind of problem."},
        "title": {"type": "string", "description": "A short summary of the kind of problem."},
        "status": {"type": "integer", "description": "The HTTP status code."},
        "detail": {"type": "string", "description": "What went wrong this time."},
        "instance": {"type": "string", "description": "The request path."},
        "errors": {
            "type": "object",
            "description": "Validation problems only: messages by field (nested for "
            "nested fields).",
            "additionalProperties": {},
        },
    },
    "required": ["type", "title", "status"],
}

# The problem kinds config.api.problem gives each status, for the examples.
PROBLEM_KINDS = {
    "400": ("validation-error", "Invalid input", "Some fields are not valid; see errors."),
    "401": ("not-authenticated", "Authentication required", "No valid API key was given."),
    "403": ("permission-denied", "Permission denied", "You may not change this record."),
    "404": ("not-found", "Not found", "No such record."),
    "405": ("method-not-allowed", "Method not allowed", 'Method "PUT" not allowed.'),
    "406": ("not-acceptable", "Not acceptable", "No representation matches Accept."),
    "409": ("conflict", "Conflict", "The record is still referred to by other records."),
    "413": ("content-too-large", "Content too large", "The request body is too large."),
    "415": ("unsupported-media-type", "Unsupported media type", "Send application/json."),
    "429": ("throttled", "Too many requests", "Request was throttled; retry in 12 seconds."),
}
PROBLEM_TYPE_BASE = "/api/v1/problems/"


def _resolve(schema: Schema, components: Schema) -> Schema:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        resolved: Schema = components.get(ref.rsplit("/", 1)[-1], {})
        return resolved
    return schema


def example_for(schema: Schema, components: Schema, *, name: str = "", depth: int = 0) -> Any:
    """A plausible value for ``schema``, built from its types, formats and property names."""
    schema = _resolve(schema, components)
    if depth > 6:
        return None
    for combined in ("allOf", "oneOf", "anyOf"):
        if schema.get(combined):
            if combined == "allOf":
                merged: dict[str, Any] = {}
                for part in schema[combined]:
                    value = example_for(part, components, name=name, depth=depth + 1)
                    if isinstance(value, dict):
                        merged.update(value)
                    elif value is not None:
                        return value
                return merged
            return example_for(schema[combined][0], components, name=name, depth=depth + 1)
    if "example" in schema:
        return schema["example"]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    if schema.get("enum"):
        choices = [c for c in schema["enum"] if c not in ("", None)]
        if name in SAMPLE_VALUES and SAMPLE_VALUES[name] in choices:
            return SAMPLE_VALUES[name]
        return choices[0] if choices else schema["enum"][0]
    kind = schema.get("type")
    if (
        kind == "object"
        and not schema.get("properties")
        and isinstance(SAMPLE_VALUES.get(name), dict)
    ):
        return copy.deepcopy(SAMPLE_VALUES[name])
    if kind == "object" or "properties" in schema:
        return {
            prop: example_for(sub, components, name=prop, depth=depth + 1)
            for prop, sub in schema.get("properties", {}).items()
            if not sub.get("writeOnly")
        }
    if kind == "array":
        item = example_for(schema.get("items", {}), components, name=name, depth=depth + 1)
        return [] if item is None else [item]
    sample = SAMPLE_VALUES.get(name)
    if sample is not None and _fits(sample, kind):
        return sample
    if kind == "string":
        fmt = schema.get("format", "")
        if fmt in FORMAT_SAMPLES:
            return FORMAT_SAMPLES[fmt]
        return name.replace("_", " ").capitalize() or "string"
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return False
    return None


EXAMPLE_HOST = "https://atlas.example.org"


def _with_addresses(value: Any, collection: str) -> Any:
    """Point an example record's ``url`` at its own detail path, not a generic address."""
    if isinstance(value, list):
        return [_with_addresses(item, collection) for item in value]
    if not isinstance(value, dict):
        return value
    value = {key: _with_addresses(item, collection) for key, item in value.items()}
    if isinstance(value.get("url"), str) and "slug" in value:
        value["url"] = f"{EXAMPLE_HOST}{collection}{value['slug']}/"
    elif isinstance(value.get("url"), str) and "id" in value:
        value["url"] = f"{EXAMPLE_HOST}{collection}{value['id']}/"
    if isinstance(value.get("web_url"), str) and "slug" in value:
        section = collection.removeprefix("/api/v1/")
        value["web_url"] = f"{EXAMPLE_HOST}/en/{section}{value['slug']}/"
    return value


def _fits(sample: Any, kind: str | None) -> bool:
    if kind == "string":
        return isinstance(sample, str)
    if kind == "integer":
        return isinstance(sample, int) and not isinstance(sample, bool)
    if kind == "number":
        return isinstance(sample, int | float) and not isinstance(sample, bool)
    if kind == "boolean":
        return isinstance(sample, bool)
    return False


PATH_SAMPLES = {"slug": "chicago-digital-equity-plan", "id": "42", "name": "atlas-2026-11-27.zip"}


def _example_path(path: str) -> str:
    """A concrete path for a templated one: /initiatives/{slug}/ becomes a real-looking one."""
    return re.sub(r"\{(\w+)\}", lambda m: PATH_SAMPLES.get(m.group(1), "42"), path)


def _problem_example(status: str, path: str, schema: Schema, components: Schema) -> Any:
    """An example problem, shaped by the response's own schema when it has one."""
    slug, title, detail = PROBLEM_KINDS.get(status, ("error", "Error", "Something went wrong."))
    value = example_for(schema, components)
    if not isinstance(value, dict):
        value = {}
    value.update(
        {
            "type": PROBLEM_TYPE_BASE + slug,
            "title": title,
            "status": int(status),
            "detail": detail,
            "instance": _example_path(path),
        }
    )
    if status == "400":
        value["errors"] = {"title": ["This field is required."]}
    else:
        value.pop("errors", None)
    return value


def _add_example(media: Schema, key: str, summary: str, value: Any) -> None:
    # An operation's own examples win; "example" and "examples" exclude each other.
    if value is None or "example" in media or media.get("examples"):
        return
    media["examples"] = {key: {"summary": summary, "value": value}}


def _is_bare_object(schema: Schema | None) -> bool:
    return not schema or (schema.get("type") == "object" and not schema.get("properties"))


ERROR_DESCRIPTIONS = {
    "400": "Invalid input: a parameter, cursor or body field is not valid, or the JSON is "
    "malformed.",
    "401": "The API key is unknown, expired or revoked.",
    "403": "The key or user may not do this.",
    "404": "No such record, or not one this key or user may see, or one that was archived; "
    "a filter naming a record that is not there; or an unknown format.",
    "409": "A conflict with the records as they stand: a slug or identifier already "
    "taken, a slug changed after creation, a status change the lifecycle forbids, or "
    "(deleting) a record others still refer to.",
    "413": "The request body is too large.",
    "415": "The body is not JSON.",
    "429": "Too many requests; see Retry-After.",
}


def _error_statuses(path: str, method: str, operation: Schema) -> list[str]:
    """The errors any such operation can answer with, whatever its view declares."""
    # 404 everywhere: besides a missing record, DRF answers an unknown ?format= with it.
    statuses = ["401", "404", "429"]
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.append("400")
    if method != "get":
        # 403 also when a body names a jurisdiction or initiative outside the writer's scope.
        statuses += ["403", "409"]
    if operation.get("requestBody"):
        statuses += ["413", "415"]
    return sorted(statuses)


def _add_error_responses(path: str, method: str, operation: Schema) -> None:
    responses = operation.setdefault("responses", {})
    for status in _error_statuses(path, method, operation):
        responses.setdefault(
            status,
            {
                "description": ERROR_DESCRIPTIONS[status],
                "content": {PROBLEM_MEDIA_TYPE: {"schema": {}}},
            },
        )


# No query value may hold a NUL character (Django's form fields refuse it).
NO_NUL_PATTERN = "^[^\\x00]*$"
NON_BLANK_PATTERN = "^[^\\x00]*[^\\s\\x00][^\\x00]*$"
SLUG_PATTERN = "^[-a-zA-Z0-9_]+$"
# Request fields that name another record by its slug.
REFERENCE_FIELDS = frozenset(
    {
        "jurisdiction",
        "parent",
        "plan",
        "lead_organization",
        "organization",
        "initiative",
        "focus_areas",
        "sectors",
        "coalition",
    }
)


def _forbid_nul_in_query(operation: Schema) -> None:
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {})
        targets = [schema, schema.get("items", {})] if schema.get("type") == "array" else [schema]
        for target in targets:
            if target.get("type") == "string" and not {"pattern", "enum", "format"} & set(target):
                target["pattern"] = NO_NUL_PATTERN


# Text fields whose validators accept a closed list: the schema lists it.
CHOICES_BY_NAME = {
    "budget_currency": lambda: sorted(CURRENCY_CODES),
    "time_zone": lambda: sorted(zoneinfo.available_timezones()),
}


def _tighten_values(schema: Schema) -> None:
    """Say in the schema what the validators check of any text: web addresses, no NUL."""
    items = schema.get("items", {})
    for branch in [schema, items, *schema.get("oneOf", []), *schema.get("anyOf", [])]:
        if branch.get("type") != "string" or "enum" in branch:
            continue
        if branch.get("format") == "uri":
            branch["pattern"] = WEB_URL_PATTERN
            if branch.get("default") == "":
                # The blank alternative beside it carries the empty default.
                del branch["default"]
        elif "format" not in branch and "pattern" not in branch:
            # Text is trimmed before it is checked, so a required one needs a visible character.
            required = branch.get("minLength", 0) >= 1
            branch["pattern"] = NON_BLANK_PATTERN if required else NO_NUL_PATTERN


def _drop_defaults_the_pattern_refuses(node: Any) -> None:
    """
    A blank-allowed URL field is documented as a oneOf of a web address and an empty
    string; the empty default belongs to the second branch, not to the pattern's.
    """
    if isinstance(node, dict):
        pattern, default = node.get("pattern"), node.get("default")
        refused = isinstance(pattern, str) and isinstance(default, str)
        if refused and not re.search(str(pattern), str(default)):
            del node["default"]
        for value in node.values():
            _drop_defaults_the_pattern_refuses(value)
    elif isinstance(node, list):
        for value in node:
            _drop_defaults_the_pattern_refuses(value)


def _tighten_requests(components: Schema) -> None:
    """
    Say in request schemas what the validators check, so that a client (or a
    fuzzer) can tell a valid body from an invalid one before sending it:
    references are slugs, closed lists are enums, text holds no NUL.
    """
    for name, component in components.items():
        if not name.endswith("Request"):
            continue
        # Send only the documented fields. (The API ignores others, read-only ones
        # included, rather than refusing them: see mass assignment in the README.)
        component.setdefault("additionalProperties", False)
        for field, schema in component.get("properties", {}).items():
            target = schema.get("items", {}) if schema.get("type") == "array" else schema
            if field in REFERENCE_FIELDS and target.get("type") == "string":
                target["minLength"] = max(1, target.get("minLength", 0))
                target["pattern"] = SLUG_PATTERN
            elif field in CHOICES_BY_NAME:
                schema["enum"] = ["", *CHOICES_BY_NAME[field]()]
                schema.pop("maxLength", None)
            elif field == "wikidata_qid":
                schema["pattern"] = "^(Q[1-9][0-9]*)?$"
            elif field == "slug":
                schema["description"] = (
                    "Chosen at creation and fixed afterwards: a change resends the same slug "
                    "(or, with PATCH, none); another one is a 409."
                )
            _tighten_values(schema)


def _allow_empty_query_values(operation: Schema) -> None:
    """
    Say that ``?name=`` is accepted: every optional query parameter of the API
    (filters, format, cursor, page_size, fields, expand) reads an empty value as
    "not given", as HTML forms send it.
    """
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "query" and not parameter.get("required"):
            parameter["allowEmptyValue"] = True


def postprocess_examples(
    result: Schema, generator: Any, request: Any, public: bool, **kwargs: Any
) -> Schema:
    """
    Add the error responses, the problem+json shape and examples to every operation.

    Runs after drf-spectacular's enum hook. Each operation under /api/v1/ gets
    the errors the API's shared machinery (keys, throttling, validation) can
    give it, unless its view declared them. A success response gets an example
    generated from its own schema. An error response whose schema says no more
    than "an object" is given the RFC 9457 problem schema, and each error an
    example problem.
    """
    components = result.setdefault("components", {}).setdefault("schemas", {})
    lic = data_license()
    result.setdefault("info", {}).setdefault("license", {"name": lic.name, "url": lic.url})
    uses_problem = False
    _tighten_requests(components)
    _drop_defaults_the_pattern_refuses(components)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", "put", "patch", "post", "delete"):
                continue
            if path.startswith("/api/v1/"):
                _add_error_responses(path, method, operation)
                _allow_empty_query_values(operation)
                _forbid_nul_in_query(operation)
                # Anyone may read: say so where a view's own permission class hides it.
                security = operation.get("security")
                if method == "get" and security and {} not in security:
                    security.append({})
            for status, response in operation.get("responses", {}).items():
                for media_type, media in response.get("content", {}).items():
                    if status.startswith(("4", "5")):
                        if _is_bare_object(media.get("schema")):
                            media["schema"] = {"$ref": f"#/components/schemas/{PROBLEM_COMPONENT}"}
                            uses_problem = True
                        schema = media["schema"]
                        if schema.get("$ref", "").endswith(f"/{PROBLEM_COMPONENT}"):
                            schema = components.get(PROBLEM_COMPONENT, PROBLEM_SCHEMA)
                        value = _problem_example(status, path, schema, components)
                        _add_example(media, "problem", "An error", value)
                    # Only plain JSON: other renderers (GeoJSON, JSON-LD, CSV) reshape the
                    # record, so an example built from its serializer would mislead.
                    elif status.startswith("2") and media_type == "application/json":
                        value = example_for(media.get("schema", {}), components)
                        value = _with_addresses(value, path.split("{", 1)[0])
                        _add_example(media, "example", "An example response", value)
    if uses_problem and PROBLEM_COMPONENT not in components:
        components[PROBLEM_COMPONENT] = copy.deepcopy(PROBLEM_SCHEMA)
    return result


# ------------------------------------------------------------------------------
# Redoc
# ------------------------------------------------------------------------------

# drf-spectacular's Redoc page links web fonts from a font CDN; this page keeps its
# <head> free of them, so the docs load nothing from elsewhere.
_REDOC_PAGE = """{% extends "drf_spectacular/redoc.html" %}
{% block head %}
<title>{{ title|default:"Redoc" }}</title>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body { margin: 0; padding: 0; }</style>
{% endblock head %}"""


class _LocalRedocRenderer(TemplateHTMLRenderer):
    def resolve_template(self, template_names: Iterable[str]) -> Any:
        return engines["django"].from_string(_REDOC_PAGE)


class LocalRedocView(SpectacularRedocView):
    """Redoc served entirely from the Atlas's own static files."""

    renderer_classes = [_LocalRedocRenderer]
