"""
Keyset cursor pagination for every list under /api/v1/.

Why not DRF's own ``CursorPagination`` as it stands: it keys on the first
ordering field only and breaks ties with an offset, so rows sharing a
timestamp can be skipped or repeated when writes land between two pages, and
a malformed cursor answers 404. This class keeps DRF's interface (the
browsable API, drf-spectacular and ``ordering`` all work as before) but keys
on the whole ordering, always ending in the primary key, and signs its
cursors.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core import signing
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Field, ForeignObjectRel, Model, Q, QuerySet
from django.db.models.expressions import OrderBy
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

if TYPE_CHECKING:
    from rest_framework.views import APIView

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
CURSOR_SALT = "config.api.pagination.cursor"

# A JSON-safe ordering value, as it travels inside a cursor.
CursorValue = str | int | float | bool | None


@dataclass(frozen=True)
class OrderKey:
    """One term of the ordering: a lookup path, its direction, and whether it can be NULL."""

    path: str
    descending: bool
    nullable: bool
    field: Field[Any, Any] | None

    @property
    def term(self) -> str:
        return f"-{self.path}" if self.descending else self.path


@dataclass(frozen=True)
class KeysetCursor:
    """Where a page starts: strictly beyond ``values``, walking backwards when ``reverse``."""

    values: tuple[CursorValue, ...] | None
    reverse: bool


class AtlasCursorPagination(CursorPagination):
    """
    Cursor (keyset) pagination that never counts and never skips.

    Query parameters: ``cursor`` (opaque, from ``next``/``previous``) and
    ``page_size`` (1 to 200, default 50). A page size outside that range, or
    one that is not a whole number, is refused with a 400 rather than clamped,
    so that a client never silently receives less than it asked for. A cursor
    that is malformed, tampered with, or was issued for another ordering is
    also a 400. Cursors are signed with the project's secret key; rotating the
    key invalidates outstanding cursors.

    Ordering, first match wins: the view's ``OrderingFilter`` (``?ordering=``,
    which itself defaults to the view's ``ordering``); an order a FilterSet
    applied to the queryset when ``?ordering=`` was given; the view's
    ``ordering``; the queryset's own order; the model's ``Meta.ordering``;
    the primary key. The primary key is appended when absent, so every row has
    a unique position and the cursor is a plain keyset condition
    ``(a, b, pk) > (x, y, z)``: no OFFSET and no COUNT(*), one query per page.
    NULLs sort as the largest value on every database.

    Incremental sync: filter ``updated_since=T`` with ``ordering=updated_at``
    and follow ``next`` until it is null. A row changed while paging gets a
    newer ``updated_at``, moves past the cursor, and is served again near the
    end; a row not yet reached that changes is simply reached later. No row
    present when paging started is skipped. For the next sync, start from the
    largest ``updated_at`` seen minus a small safety margin (a minute), since
    a transaction that commits after its own timestamp was taken can land
    behind a cursor. Deletions (archiving) show up as changed rows.
    """

    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    ordering: tuple[str, ...] = ("-pk",)
    bad_cursor_message = _(
        "This cursor is not valid. Follow the next or previous links as given, "
        "or start again without a cursor."
    )
    foreign_cursor_message = _(
        "This cursor belongs to another ordering. Start again without a cursor."
    )
    page_size_message = _("Give a whole number from 1 to %(max)d.")

    keys: tuple[OrderKey, ...]
    keyset: KeysetCursor | None
    page: list[Any]

    # ---------------------------------------------------------------- paging

    def paginate_queryset(
        self,
        queryset: QuerySet[Any, Any] | Sequence[Any],
        request: Request,
        view: APIView | None = None,
    ) -> list[Any] | None:
        if not isinstance(queryset, QuerySet):
            raise TypeError("Keyset pagination needs a QuerySet to filter on.")
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.ordering = self.get_ordering(request, queryset, view)
        self.keys = order_keys(queryset.model, self.ordering)
        self.keyset = self.decode_cursor(request)

        reverse = self.keyset is not None and self.keyset.reverse
        queryset = queryset.order_by(*order_by(self.keys, reverse=reverse))
        if self.keyset is not None and self.keyset.values is not None:
            queryset = queryset.filter(beyond(self.keys, self.keyset.values, reverse=reverse))

        # One row more than the page tells whether another page follows, without counting.
        rows = list(queryset[: self.page_size + 1])
        more = len(rows) > self.page_size
        self.page = rows[: self.page_size]
        if reverse:
            self.page.reverse()
            self.has_previous, self.has_next = more, True
        else:
            self.has_next = more
            self.has_previous = self.keyset is not None and self.keyset.values is not None
        self.display_page_controls = self.has_next or self.has_previous
        return self.page

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param or "page_size", "")
        if raw == "":
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise ValidationError(
                {"page_size": [self.page_size_message % {"max": self.max_page_size}]},
                code="invalid_page_size",
            )
        return size

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        values = self._position(self.page[-1]) if self.page else None
        return self._link(KeysetCursor(values=values, reverse=False))

    def get_previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        values = self._position(self.page[0]) if self.page else None
        return self._link(KeysetCursor(values=values, reverse=True))

    def get_paginated_response(self, data: Any) -> Response:
        next_link, previous_link = self.get_next_link(), self.get_previous_link()
        # Link headers let formats without an envelope (CSV) page too.
        links = [
            f'<{url}>; rel="{rel}"'
            for rel, url in (("next", next_link), ("prev", previous_link))
            if url
        ]
        return Response(
            {"next": next_link, "previous": previous_link, "results": data},
            headers={"Link": ", ".join(links)} if links else None,
        )

    # ---------------------------------------------------------------- ordering

    def get_ordering(
        self, request: Request, queryset: QuerySet[Any], view: APIView | None
    ) -> tuple[str, ...]:
        for backend in getattr(view, "filter_backends", None) or ():
            if hasattr(backend, "get_ordering"):
                chosen = backend().get_ordering(request, queryset, view)
                if chosen:
                    return tuple(chosen)
        candidates: list[Sequence[Any] | None] = []
        if request.query_params.get("ordering"):
            candidates.append(queryset.query.order_by)
        candidates += [
            getattr(view, "ordering", None),
            queryset.query.order_by,
            queryset.model._meta.ordering,
        ]
        for candidate in candidates:
            terms = ordering_terms(candidate)
            if terms:
                return terms
        return tuple(self.ordering)

    # ---------------------------------------------------------------- cursors

    def decode_cursor(self, request: Request) -> KeysetCursor | None:  # type: ignore[override]
        encoded = request.query_params.get(self.cursor_query_param, "")
        if not encoded:
            return None
        try:
            payload = signing.Signer(salt=CURSOR_SALT).unsign_object(encoded)
        except (signing.BadSignature, ValueError) as error:
            raise self._invalid(self.bad_cursor_message) from error
        if not isinstance(payload, dict) or payload.get("k") != self._fingerprint():
            raise self._invalid(
                self.foreign_cursor_message
                if isinstance(payload, dict) and "k" in payload
                else self.bad_cursor_message
            )
        values = payload.get("v")
        reverse = payload.get("r")
        if not isinstance(reverse, bool) or not (
            values is None or (isinstance(values, list) and len(values) == len(self.keys))
        ):
            raise self._invalid(self.bad_cursor_message)
        if values is None:
            return KeysetCursor(values=None, reverse=reverse)
        try:
            typed = tuple(
                value if value is None or key.field is None else key.field.to_python(value)
                for key, value in zip(self.keys, values, strict=True)
            )
        except (DjangoValidationError, TypeError, ValueError) as error:
            raise self._invalid(self.bad_cursor_message) from error
        return KeysetCursor(values=typed, reverse=reverse)

    def encode_cursor(self, cursor: KeysetCursor) -> str:  # type: ignore[override]
        # A plain Signer, not signing.dumps: no timestamp, so the same page always
        # links to the same cursors and its ETag stays stable.
        return signing.Signer(salt=CURSOR_SALT).sign_object(
            {
                "k": self._fingerprint(),
                "v": None if cursor.values is None else list(cursor.values),
                "r": cursor.reverse,
            }
        )

    def _link(self, cursor: KeysetCursor) -> str:
        return replace_query_param(
            self.base_url or "", self.cursor_query_param, self.encode_cursor(cursor)
        )

    def _fingerprint(self) -> str:
        terms = ",".join(key.term for key in self.keys)
        return hashlib.blake2b(terms.encode(), digest_size=6).hexdigest()

    def _position(self, instance: Any) -> tuple[CursorValue, ...]:
        return tuple(cursor_value(read_path(instance, key.path)) for key in self.keys)

    @staticmethod
    def _invalid(message: Any) -> ValidationError:
        return ValidationError({"cursor": [message]}, code="invalid_cursor")

    # ---------------------------------------------------------------- schema

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        example = (
            f"https://atlas.example.org/api/v1/initiatives/?{self.cursor_query_param}=eyJr...Ig"
        )
        link = {"type": "string", "nullable": True, "format": "uri", "example": example}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {
                    **link,
                    "description": (
                        "The next page, or null on the last page. Follow it as given: its "
                        "signed cursor parameter is opaque, and an altered one is a 400."
                    ),
                },
                "previous": {
                    **link,
                    "description": "The previous page, or null on the first. Opaque, as next.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        # The cursor is not listed: it is not a value a client composes but part
        # of the next/previous links, which the response schema documents. Any
        # string is no more a valid cursor than any string is a valid signature.
        return [
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page, from 1 to {self.max_page_size}.",
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                    "default": self.page_size,
                },
            },
        ]


# ------------------------------------------------------------------------------
# Keyset helpers
# ------------------------------------------------------------------------------


def ordering_terms(ordering: Sequence[Any] | str | None) -> tuple[str, ...]:
    """Plain ``"-field"`` terms from an ordering that may hold strings or ``F().desc()``."""
    if not ordering:
        return ()
    if isinstance(ordering, str):
        ordering = (ordering,)
    terms: list[str] = []
    for term in ordering:
        if isinstance(term, str) and term and term != "?":
            terms.append(term)
        elif isinstance(term, OrderBy) and isinstance(term.expression, F):
            name = str(getattr(term.expression, "name", ""))
            terms.append(f"-{name}" if term.descending else name)
        else:
            # A term the keyset cannot follow (an expression, a random order): ignore the lot.
            return ()
    return tuple(terms)


def order_keys(model: type[Model], ordering: Sequence[str]) -> tuple[OrderKey, ...]:
    """The ordering as keys, with the primary key appended when it is missing."""
    pk_names = {"pk", model._meta.pk.name, model._meta.pk.attname}
    keys: list[OrderKey] = []
    for term in ordering:
        descending = term.startswith("-")
        path = term.lstrip("-+")
        if path in pk_names:
            keys.append(OrderKey("pk", descending, nullable=False, field=model._meta.pk))
            break  # Unique already: later terms could never matter.
        field, nullable, path = resolve_path(model, path)
        keys.append(OrderKey(path, descending, nullable=nullable, field=field))
    if not keys or keys[-1].path != "pk":
        descending = keys[0].descending if keys else True
        keys.append(OrderKey("pk", descending, nullable=False, field=model._meta.pk))
    return tuple(keys)


def resolve_path(model: type[Model], path: str) -> tuple[Field[Any, Any] | None, bool, str]:
    """The model field behind a lookup path, whether it can be NULL, and the path to order on."""
    parts = path.split("__")
    current: type[Model] = model
    nullable = False
    field: Any = None
    for index, part in enumerate(parts):
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:
            # An annotation or something else the keyset can still compare but not type.
            return None, True, path
        nullable = (
            nullable or bool(getattr(field, "null", False)) or isinstance(field, ForeignObjectRel)
        )
        last = index == len(parts) - 1
        if field.is_relation and field.related_model is not None:
            if last and field.many_to_one:
                # Ordering on a foreign key would follow the target's Meta.ordering;
                # the keyset compares the stored id instead.
                parts[index] = field.attname
                return field.target_field, nullable, "__".join(parts)
            current = field.related_model
    return field, nullable, path


def order_by(keys: Sequence[OrderKey], *, reverse: bool) -> list[OrderBy]:
    """``ORDER BY`` terms with NULLs always the largest value, whatever the database's default."""
    clauses = []
    for key in keys:
        descending = key.descending != reverse
        expression = F(key.path)
        if not key.nullable:
            clauses.append(expression.desc() if descending else expression.asc())
        elif descending:
            clauses.append(expression.desc(nulls_first=True))
        else:
            clauses.append(expression.asc(nulls_last=True))
    return clauses


def beyond(keys: Sequence[OrderKey], values: Sequence[Any], *, reverse: bool) -> Q:
    """Rows strictly after ``values`` in the ordering (or before it, walking back)."""
    condition: Q | None = None
    tied = Q()
    for key, value in zip(keys, values, strict=True):
        clause = tied & _after(key, value, descending=key.descending != reverse)
        condition = clause if condition is None else condition | clause
        tied &= Q(**{f"{key.path}__isnull": True}) if value is None else Q(**{key.path: value})
    if condition is None:
        return Q()
    return _leading_bound(keys[0], values[0], reverse=reverse) & condition


def _leading_bound(key: OrderKey, value: Any, *, reverse: bool) -> Q:
    """
    A range on the first key alone, implied by the full condition but stated apart.

    The full condition is an OR across the keys, which an index cannot seek into:
    PostgreSQL would walk the index from the first row and filter, so page 1,000
    would cost a thousand pages. This plain range lets it start at the cursor.
    """
    if value is None:
        return Q()
    if key.descending != reverse:
        return Q(**{f"{key.path}__lte": value})
    at_or_after = Q(**{f"{key.path}__gte": value})
    # NULLs sort after every value going up, so they stay in range.
    return at_or_after | Q(**{f"{key.path}__isnull": True}) if key.nullable else at_or_after


def _after(key: OrderKey, value: Any, *, descending: bool) -> Q:
    if descending:
        if value is None:
            return Q(**{f"{key.path}__isnull": False})
        return Q(**{f"{key.path}__lt": value})
    if value is None:
        return Q(pk__in=[])  # Nothing sorts after NULL going up.
    after = Q(**{f"{key.path}__gt": value})
    return after | Q(**{f"{key.path}__isnull": True}) if key.nullable else after


def read_path(instance: Any, path: str) -> Any:
    """The value at a lookup path on a model instance or a ``values()`` dict."""
    if isinstance(instance, dict):
        return instance.get(path)
    value = instance
    for part in path.split("__"):
        if value is None:
            return None
        value = getattr(value, part)
    return value


def cursor_value(value: Any) -> CursorValue:
    """A JSON-safe form of an ordering value that loses no precision (microseconds included)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return str(value)
