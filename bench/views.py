"""
The peers the Atlas is measured against, served by the same Django process (bench.urls).

- The floor: a bare view answering the bytes the Atlas gave for a case, captured once by
  the runner. Whatever it costs is Django's and gunicorn's share of every request; the
  Atlas cannot be faster than it.
- SQL-built JSON: the initiatives list (first or cursor page) and detail built by one SQL
  statement with ``json_build_object``/``json_agg``, as PostgREST does, answering the same
  JSON document as /api/v1/initiatives/. Only the envelope's two links are added in Python:
  their cursors are signed with the project's key, which the database does not hold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.utils.urls import replace_query_param

from config.api.pagination import (
    AtlasCursorPagination,
    KeysetCursor,
    cursor_value,
    order_keys,
)
from initiatives.api.views import InitiativeViewSet
from initiatives.models import Initiative, PublicationState

# ------------------------------------------------------------------------------
# The floor
# ------------------------------------------------------------------------------

FLOOR_MANIFEST = "floor.json"


@dataclass(frozen=True)
class FloorPage:
    body: bytes
    content_type: str


def load_floor(directory: str | Path | None) -> dict[str, FloorPage]:
    """
    The captured pages in ``directory``, by case name; none when it holds no manifest.

    The manifest maps each case to ``{"file": ..., "content_type": ...}``; the files are the
    exact bodies the Atlas answered, so nginx can serve the same ones.
    """
    if not directory:
        return {}
    root = Path(directory)
    manifest = root / FLOOR_MANIFEST
    if not manifest.is_file():
        return {}
    entries: dict[str, dict[str, str]] = json.loads(manifest.read_text())
    return {
        case: FloorPage(
            body=(root / entry["file"]).read_bytes(), content_type=entry["content_type"]
        )
        for case, entry in entries.items()
    }


# Read once, when the URLconf is imported: the floor does no I/O per request.
FLOOR: dict[str, FloorPage] = load_floor(getattr(settings, "BENCH_FLOOR_DIR", None))


@require_GET
def floor(request: HttpRequest, case: str) -> HttpResponse:
    page = FLOOR.get(case)
    if page is None:
        return JsonResponse(
            {"detail": f"No page was captured for {case!r}.", "cases": sorted(FLOOR)}, status=404
        )
    return HttpResponse(page.body, content_type=page.content_type)


# ------------------------------------------------------------------------------
# SQL-built JSON
# ------------------------------------------------------------------------------


def timestamp_sql(column: str) -> str:
    """A timestamptz as DRF writes it: ISO 8601 in UTC with a Z, microseconds only when set."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"CASE WHEN {column} IS NULL THEN NULL ELSE "
        f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
        f"CASE WHEN mod(extract(microseconds FROM {utc})::bigint, 1000000) = 0 THEN '' "
        f"ELSE to_char({utc}, '.US') END || 'Z' END"
    )


def date_sql(column: str) -> str:
    return f"to_char({column}, 'YYYY-MM-DD')"


def taxa_sql(table: str, column: str) -> str:
    """An initiative's focus areas or sectors as slugs, in the taxonomy's own order."""
    # Table names come from this module only.
    return (
        f"(SELECT coalesce(json_agg(t.slug ORDER BY t.position, t.slug), '[]'::json) "  # noqa: S608
        f"FROM initiatives_initiative_{table} m JOIN initiatives_{column} t "
        f"ON t.id = m.{column}_id WHERE m.initiative_id = i.id)"
    )


# One initiative as InitiativeSerializer writes it, key for key and in the same order.
# %(api)s and %(web)s are the absolute URL prefixes of its API and web pages.
INITIATIVE_JSON = f"""
json_build_object(
    'id', i.id,
    'url', %(api)s || i.slug || '/',
    'web_url', %(web)s || i.slug || '/',
    'slug', i.slug,
    'title', i.title,
    'summary', i.summary,
    'description', i.description,
    'language', i.language,
    'status', i.status,
    'jurisdiction', json_build_object('slug', j.slug, 'name', j.name, 'ocd_id', j.ocd_id),
    'point', CASE WHEN j.latitude IS NULL OR j.longitude IS NULL THEN NULL
             ELSE json_build_object('latitude', j.latitude, 'longitude', j.longitude) END,
    'plan', p.slug,
    'focus_areas', {taxa_sql("focus_areas", "focusarea")},
    'sectors', {taxa_sql("sectors", "sector")},
    'lead_organization', o.slug,
    'start_date', {date_sql("i.start_date")},
    'end_date', {date_sql("i.end_date")},
    'budget_amount', i.budget_amount::text,
    'budget_currency', i.budget_currency,
    'publication_state', i.publication_state,
    'published_at', {timestamp_sql("i.published_at")},
    'is_illustrative', i.is_illustrative,
    'created_at', {timestamp_sql("i.created_at")},
    'updated_at', {timestamp_sql("i.updated_at")}
)"""

RELATED = """
JOIN cities_jurisdiction j ON j.id = i.jurisdiction_id
LEFT JOIN initiatives_plan p ON p.id = i.plan_id
LEFT JOIN council_organization o ON o.id = i.lead_organization_id
"""

# The page (one row more than asked, to tell whether another follows) is read through the
# (updated_at, id) order the API uses; the outer query turns it into one JSON array and
# also hands back the first and last row's position, for the envelope's cursors.
LIST_SQL = f"""
WITH page AS (
    SELECT i.id, i.updated_at
    FROM initiatives_initiative i
    WHERE i.publication_state = %(published)s {{beyond}}
    ORDER BY i.updated_at {{direction}}, i.id {{direction}}
    LIMIT %(limit)s
), numbered AS (
    SELECT id, updated_at,
           row_number() OVER (ORDER BY updated_at {{direction}}, id {{direction}}) AS n
    FROM page
)
SELECT
    coalesce(
        json_agg({INITIATIVE_JSON} ORDER BY i.updated_at DESC, i.id DESC)
            FILTER (WHERE n.n <= %(size)s),
        '[]'::json
    )::text,
    count(*) > %(size)s,
    (array_agg(i.updated_at ORDER BY i.updated_at DESC, i.id DESC)
        FILTER (WHERE n.n <= %(size)s))[1],
    (array_agg(i.id ORDER BY i.updated_at DESC, i.id DESC) FILTER (WHERE n.n <= %(size)s))[1],
    (array_agg(i.updated_at ORDER BY i.updated_at ASC, i.id ASC)
        FILTER (WHERE n.n <= %(size)s))[1],
    (array_agg(i.id ORDER BY i.updated_at ASC, i.id ASC) FILTER (WHERE n.n <= %(size)s))[1]
FROM numbered n
JOIN initiatives_initiative i ON i.id = n.id
{RELATED}
"""  # noqa: S608 - module constants; values are parameters

DETAIL_SQL = f"""
SELECT {INITIATIVE_JSON}::text
FROM initiatives_initiative i
{RELATED}
WHERE i.slug = %(slug)s AND i.publication_state = %(published)s
"""  # noqa: S608 - module constants; values are parameters


def _prefixes(request: HttpRequest) -> dict[str, str]:
    """The absolute URL prefixes of an initiative's API and web pages (the slug follows)."""
    marker = "--slug--"
    api = reverse("initiative-detail", kwargs={"slug": marker})
    web = reverse("initiatives:initiative-detail", kwargs={"slug": marker})
    return {
        "api": request.build_absolute_uri(api).removesuffix(f"{marker}/"),
        "web": request.build_absolute_uri(web).removesuffix(f"{marker}/"),
    }


def _problem(error: ValidationError) -> JsonResponse:
    return JsonResponse(error.detail, status=400, safe=False)


def _link(
    paginator: AtlasCursorPagination,
    base_url: str,
    position: tuple[Any, ...] | None,
    *,
    reverse: bool,
) -> str:
    values = None if position is None else tuple(cursor_value(value) for value in position)
    cursor = paginator.encode_cursor(KeysetCursor(values=values, reverse=reverse))
    return replace_query_param(base_url, paginator.cursor_query_param, cursor)


def initiative_paginator() -> AtlasCursorPagination:
    """The API's paginator, keyed on the initiative list's default order, for its cursors."""
    paginator = AtlasCursorPagination()
    paginator.keys = order_keys(Initiative, InitiativeViewSet.ordering)
    return paginator


@require_GET
def sql_initiative_list(request: HttpRequest) -> HttpResponse:
    """The page /api/v1/initiatives/ answers (anonymous, default order), built by one query."""
    paginator = initiative_paginator()
    drf_request = Request(request)
    try:
        size = paginator.get_page_size(drf_request)
        keyset = paginator.decode_cursor(drf_request)
    except ValidationError as error:
        return _problem(error)

    backwards = keyset is not None and keyset.reverse
    beyond = ""
    params: dict[str, Any] = {
        "published": PublicationState.PUBLISHED,
        "size": size,
        "limit": size + 1,
        **_prefixes(request),
    }
    if keyset is not None and keyset.values is not None:
        # The same keyset condition as the API's, written as a row comparison.
        beyond = "AND (i.updated_at, i.id) " + (">" if backwards else "<") + " (%(at)s, %(pk)s)"
        params["at"], params["pk"] = keyset.values
    sql = LIST_SQL.format(beyond=beyond, direction="ASC" if backwards else "DESC")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        results, more, first_at, first_pk, last_at, last_pk = cursor.fetchone()

    base_url = request.build_absolute_uri(reverse_list_url(request))
    first = (first_at, first_pk) if first_pk is not None else None
    last = (last_at, last_pk) if last_pk is not None else None
    if backwards:
        has_previous, has_next = bool(more), True
    else:
        has_next = bool(more)
        has_previous = keyset is not None and keyset.values is not None
    envelope = json.dumps(
        {
            "next": _link(paginator, base_url, last, reverse=False) if has_next else None,
            "previous": _link(paginator, base_url, first, reverse=True) if has_previous else None,
        },
        separators=(",", ":"),
    )
    # The results array is spliced in as the database wrote it, never parsed in Python.
    body = envelope[:-1] + ',"results":' + results + "}"
    return HttpResponse(body, content_type="application/json")


def reverse_list_url(request: HttpRequest) -> str:
    """The API list's own address with this request's query: where its links point."""
    query = request.META.get("QUERY_STRING", "")
    path = reverse("initiative-list")
    return f"{path}?{query}" if query else path


@require_GET
def sql_initiative_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """What /api/v1/initiatives/<slug>/ answers an anonymous reader, built by one query."""
    with connection.cursor() as cursor:
        cursor.execute(
            DETAIL_SQL,
            {"slug": slug, "published": PublicationState.PUBLISHED, **_prefixes(request)},
        )
        row = cursor.fetchone()
    if row is None:
        return JsonResponse({"detail": "No published initiative has this slug."}, status=404)
    return HttpResponse(row[0], content_type="application/json")
