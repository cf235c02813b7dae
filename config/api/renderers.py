"""
The API's representations: JSON (the default), flat CSV, GeoJSON and JSON-LD.

Each is chosen by ``?format=`` (json, csv, geojson, jsonld, api) or by the
Accept header. Lists arrive here as the paginator's envelope
``{"next", "previous", "results"}``; each non-JSON renderer maps that envelope
to its own idiom. Error bodies (status 400 and up) are always written as JSON,
since a problem document has no sensible CSV or GeoJSON form.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from django.db.models.query import QuerySet
from django.utils.encoding import force_str
from django.utils.functional import Promise
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response

SCHEMA_ORG = "https://schema.org/"
HYDRA = "http://www.w3.org/ns/hydra/core#"


def _default(value: Any) -> Any:
    """Types orjson does not know, encoded as DRF's own JSON encoder would."""
    if isinstance(value, Promise):
        return force_str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.timedelta):
        return str(value.total_seconds())
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, QuerySet):
        return list(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Iterable) and not isinstance(value, str):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(data: Any, *, indent: bool = False) -> bytes:
    options = orjson.OPT_NON_STR_KEYS | (orjson.OPT_INDENT_2 if indent else 0)
    return orjson.dumps(data, default=_default, option=options)


def _response(renderer_context: Mapping[str, Any] | None) -> Response | None:
    response = (renderer_context or {}).get("response")
    return response if isinstance(response, Response) else None


def _is_error(renderer_context: Mapping[str, Any] | None) -> bool:
    response = _response(renderer_context)
    return response is not None and response.status_code >= 400


def _is_page(data: Any) -> bool:
    return isinstance(data, Mapping) and isinstance(data.get("results"), list) and "next" in data


def _items(data: Any) -> list[Any]:
    """The records in a response body: a page's results, a plain list, or one object."""
    if _is_page(data):
        return list(data["results"])
    if isinstance(data, list):
        return data
    return [] if data is None else [data]


class ORJSONRenderer(BaseRenderer):
    """JSON through orjson; understands Decimal, datetime, date, UUID and lazy strings."""

    media_type = "application/json"
    format = "json"
    charset = None  # JSON is UTF-8 by definition (RFC 8259); no charset parameter.
    render_style = "text"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        indent = bool((renderer_context or {}).get("indent")) or "indent=" in (
            accepted_media_type or ""
        )
        return dumps(data, indent=indent)


class _ErrorsAsJSON(BaseRenderer, ABC):
    """Shared fallback: an error body under a non-JSON format is written as JSON."""

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if _is_error(renderer_context):
            return self.render_error(data, renderer_context)
        return self.render_data(data, renderer_context)

    @abstractmethod
    def render_data(self, data: Any, renderer_context: Mapping[str, Any] | None) -> bytes:
        """The body for a successful response in this renderer's format."""

    def render_error(self, data: Any, renderer_context: Mapping[str, Any] | None) -> bytes:
        response = _response(renderer_context)
        if response is not None and response.content_type is None:
            # The exception handler did not choose a type, so say what the body really is.
            response["Content-Type"] = "application/json"
        return b"" if data is None else dumps(data)


class CSVRenderer(_ErrorsAsJSON):
    """
    One CSV row per record, UTF-8, with a header row.

    Nested objects become dotted columns (``jurisdiction.slug``), lists of
    scalars are joined with ``|``, lists of objects are JSON-encoded in one
    cell. The header is the union of the records' keys in first-seen order.
    CSV has no envelope, so the next and previous pages travel in the
    ``Link`` header.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"
    list_separator = "|"

    def render_data(self, data: Any, renderer_context: Mapping[str, Any] | None) -> bytes:
        if _is_page(data):
            self._set_link_header(data, renderer_context)
        rows = [self.flatten(item) for item in _items(data)]
        header: dict[str, None] = {}
        for row in rows:
            header.update(dict.fromkeys(row))
        if not header:
            header = dict.fromkeys(self.empty_header(renderer_context))
        if not header:
            # Never an empty body: DRF drops the Content-Type of one, and a client
            # could then not tell an empty CSV from a missing answer.
            return b"\r\n"
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(header), restval="", lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue().encode("utf-8")

    @staticmethod
    def empty_header(renderer_context: Mapping[str, Any] | None) -> list[str]:
        """The columns of an empty page: the top-level fields its items would have."""
        view = (renderer_context or {}).get("view")
        get_serializer = getattr(view, "get_serializer", None)
        if get_serializer is None:
            return []
        names = list(get_serializer().fields)
        selected = getattr(view, "requested_fields", None)
        expanded = tuple(getattr(view, "requested_expand", ()))
        if selected is not None:
            names = [name for name in names if name in selected]
        return names + [name for name in expanded if name not in names]

    def flatten(self, item: Any, prefix: str = "") -> dict[str, str]:
        if not isinstance(item, Mapping):
            return {prefix or "value": self.cell(item)}
        row: dict[str, str] = {}
        for key, value in item.items():
            column = f"{prefix}{key}"
            if isinstance(value, Mapping) and value:
                row.update(self.flatten(value, prefix=f"{column}."))
            else:
                row[column] = self.cell(value)
        return row

    def cell(self, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, Mapping):
            return "" if not value else dumps(value).decode()
        if isinstance(value, list | tuple):
            if all(not isinstance(part, Mapping | list | tuple) for part in value):
                return self.list_separator.join(self.cell(part) for part in value)
            return dumps(value).decode()
        if isinstance(value, str):
            return value
        return force_str(_default(value) if isinstance(value, Promise | decimal.Decimal) else value)

    @staticmethod
    def _set_link_header(
        data: Mapping[str, Any], renderer_context: Mapping[str, Any] | None
    ) -> None:
        response = _response(renderer_context)
        if response is None or response.has_header("Link"):
            return
        links = [
            f'<{data[key]}>; rel="{rel}"'
            for key, rel in (("next", "next"), ("previous", "prev"))
            if data.get(key)
        ]
        if links:
            response["Link"] = ", ".join(links)


def _coordinate(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


class GeoJSONRenderer(_ErrorsAsJSON):
    """
    A FeatureCollection for lists and a Feature for one object (RFC 7946).

    The geometry is a Point ``[longitude, latitude]`` read from the record's
    top-level ``latitude``/``longitude`` or else from its ``point`` object; it
    is null when either is missing. The properties are the record without
    those keys. Pages carry ``next``/``previous`` members and OGC-style
    ``links``.
    """

    media_type = "application/geo+json"
    format = "geojson"
    charset = None
    geometry_keys = ("latitude", "longitude", "point")

    def render_data(self, data: Any, renderer_context: Mapping[str, Any] | None) -> bytes:
        if data is None:
            return b""
        if isinstance(data, Mapping) and not _is_page(data):
            return dumps(self.feature(data))
        collection: dict[str, Any] = {
            "type": "FeatureCollection",
            "features": [self.feature(item) for item in _items(data)],
        }
        if _is_page(data):
            collection["next"] = data.get("next")
            collection["previous"] = data.get("previous")
            collection["links"] = [
                {"rel": rel, "href": data[key], "type": self.media_type}
                for key, rel in (("next", "next"), ("previous", "prev"))
                if data.get(key)
            ]
        return dumps(collection)

    def feature(self, item: Any) -> dict[str, Any]:
        if not isinstance(item, Mapping):
            return {"type": "Feature", "geometry": None, "properties": {"value": item}}
        feature: dict[str, Any] = {"type": "Feature"}
        if isinstance(item.get("id"), int | str):
            feature["id"] = item["id"]
        feature["geometry"] = self.geometry(item)
        feature["properties"] = {
            key: value for key, value in item.items() if key not in self.geometry_keys
        }
        return feature

    @staticmethod
    def geometry(item: Mapping[str, Any]) -> dict[str, Any] | None:
        source: Any = item
        if "latitude" not in item and "longitude" not in item:
            source = item.get("point")
        if not isinstance(source, Mapping):
            return None
        latitude = _coordinate(source.get("latitude"))
        longitude = _coordinate(source.get("longitude"))
        if latitude is None or longitude is None:
            return None
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            return None
        return {"type": "Point", "coordinates": [longitude, latitude]}


class JSONLDRenderer(_ErrorsAsJSON):
    """
    JSON-LD in the schema.org vocabulary.

    Each record gets ``@id`` (its ``url``) and ``@type`` (the view's
    ``jsonld_type``, else ``Thing``); nested objects with a ``url`` get an
    ``@id`` too. A list is an ``@graph`` with Hydra ``next``/``previous``
    links. A view may extend the context with a ``jsonld_context`` mapping.
    """

    media_type = "application/ld+json"
    format = "jsonld"
    charset = None
    default_type = "Thing"
    context: dict[str, Any] = {
        "@vocab": SCHEMA_ORG,
        "schema": SCHEMA_ORG,
        "hydra": HYDRA,
        "id": "schema:identifier",
        "url": {"@id": "schema:url", "@type": "@id"},
        "title": "schema:name",
        "summary": "schema:abstract",
        "created_at": {"@id": "schema:dateCreated", "@type": "schema:DateTime"},
        "updated_at": {"@id": "schema:dateModified", "@type": "schema:DateTime"},
        "start_date": {"@id": "schema:startDate", "@type": "schema:Date"},
        "end_date": {"@id": "schema:endDate", "@type": "schema:Date"},
        "website": {"@id": "schema:sameAs", "@type": "@id"},
        "next": {"@id": "hydra:next", "@type": "@id"},
        "previous": {"@id": "hydra:previous", "@type": "@id"},
    }

    def render_data(self, data: Any, renderer_context: Mapping[str, Any] | None) -> bytes:
        if data is None:
            return b""
        view = (renderer_context or {}).get("view")
        context = {**self.context, **(getattr(view, "jsonld_context", None) or {})}
        node_type = getattr(view, "jsonld_type", None) or self.default_type
        if isinstance(data, Mapping) and not _is_page(data):
            return dumps({"@context": context, **self.node(data, node_type)})
        document: dict[str, Any] = {
            "@context": context,
            "@graph": [self.node(item, node_type) for item in _items(data)],
        }
        if _is_page(data):
            document["next"] = data.get("next")
            document["previous"] = data.get("previous")
        return dumps(document)

    def node(self, item: Any, node_type: str | None) -> Any:
        if not isinstance(item, Mapping):
            return item
        node: dict[str, Any] = {}
        if isinstance(item.get("url"), str) and item["url"]:
            node["@id"] = item["url"]
        if node_type:
            node["@type"] = node_type
        for key, value in item.items():
            if isinstance(value, Mapping):
                node[key] = self.node(value, None)
            elif isinstance(value, list):
                node[key] = [self.node(part, None) for part in value]
            else:
                node[key] = value
        return node


# ------------------------------------------------------------------------------
# OpenAPI: each representation's own shape
# ------------------------------------------------------------------------------

GEOJSON_FEATURE = "GeoJSONFeature"
GEOJSON_COLLECTION = "GeoJSONFeatureCollection"
JSONLD_NODE = "JSONLDNode"
JSONLD_GRAPH = "JSONLDGraph"

_NEXT_LINK = {"type": "string", "format": "uri", "nullable": True}
_REPRESENTATION_COMPONENTS: dict[str, dict[str, Any]] = {
    GEOJSON_FEATURE: {
        "type": "object",
        "description": "A record as a GeoJSON Feature (RFC 7946); properties hold its fields.",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
            "geometry": {
                "type": "object",
                "nullable": True,
                "required": ["type", "coordinates"],
                "properties": {
                    "type": {"type": "string", "enum": ["Point"]},
                    "coordinates": {
                        "type": "array",
                        "description": "Longitude, then latitude.",
                        "items": {"type": "number"},
                        "minItems": 2,
                        "maxItems": 2,
                    },
                },
            },
            "properties": {"type": "object", "additionalProperties": True},
        },
    },
    GEOJSON_COLLECTION: {
        "type": "object",
        "description": "A page of records as a GeoJSON FeatureCollection.",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {
                "type": "array",
                "items": {"$ref": f"#/components/schemas/{GEOJSON_FEATURE}"},
            },
            "next": _NEXT_LINK,
            "previous": _NEXT_LINK,
            "links": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "rel": {"type": "string"},
                        "href": {"type": "string", "format": "uri"},
                        "type": {"type": "string"},
                    },
                },
            },
        },
    },
    JSONLD_NODE: {
        "type": "object",
        "description": "A record as JSON-LD in the schema.org vocabulary.",
        "properties": {
            "@context": {"type": "object", "additionalProperties": True},
            "@id": {"type": "string", "format": "uri"},
            "@type": {"type": "string"},
        },
        "additionalProperties": True,
    },
    JSONLD_GRAPH: {
        "type": "object",
        "description": "A page of records as a JSON-LD graph, with Hydra next and previous links.",
        "required": ["@context", "@graph"],
        "properties": {
            "@context": {"type": "object", "additionalProperties": True},
            "@graph": {
                "type": "array",
                "items": {"$ref": f"#/components/schemas/{JSONLD_NODE}"},
            },
            "next": _NEXT_LINK,
            "previous": _NEXT_LINK,
        },
    },
}


def document_representations(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """
    drf-spectacular postprocessing hook: give CSV, GeoJSON and JSON-LD their real shapes.

    drf-spectacular repeats the JSON schema under every renderer's media type,
    which would tell clients (and schemathesis) that a GeoJSON page has
    ``results``. Successful responses are rewritten here: CSV is text, GeoJSON
    a Feature or FeatureCollection, JSON-LD a node or a graph.
    """
    components = result.setdefault("components", {}).setdefault("schemas", {})

    def is_collection(schema: Any) -> bool:
        while isinstance(schema, dict) and "$ref" in schema:
            schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
        if not isinstance(schema, dict):
            return False
        return schema.get("type") == "array" or "results" in schema.get("properties", {})

    used = False
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for code, response in operation.get("responses", {}).items():
                content = response.get("content", {}) if str(code).startswith("2") else {}
                json_schema = content.get(ORJSONRenderer.media_type, {}).get("schema")
                page = is_collection(json_schema)
                shapes = {
                    CSVRenderer.media_type: {"type": "string"},
                    GeoJSONRenderer.media_type: {
                        "$ref": f"#/components/schemas/"
                        f"{GEOJSON_COLLECTION if page else GEOJSON_FEATURE}"
                    },
                    JSONLDRenderer.media_type: {
                        "$ref": f"#/components/schemas/{JSONLD_GRAPH if page else JSONLD_NODE}"
                    },
                }
                for media_type, shape in shapes.items():
                    if media_type in content:
                        content[media_type] = {"schema": shape}
                        used = True
    if used:
        for name, schema in _REPRESENTATION_COMPONENTS.items():
            components.setdefault(name, schema)
    return result
