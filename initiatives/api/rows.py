"""
Initiatives as ``InitiativeSerializer`` writes them when nothing is expanded, built without it.

A list page is the API's busiest answer, and most of its time went to machinery rather than
data: for fifty initiatives, DRF runs some 1,250 field objects (each looking its attribute up
through ``get_attribute``), and ``prefetch_related`` gives every initiative a related manager
and a queryset for its focus areas and again for its sectors. Here a page costs the same
three queries as before (the page, with its jurisdiction, plan and lead organization joined;
then the focus-area and sector slugs as bare pairs), and each item is one dict built from
attributes, its URLs from one ``reverse`` per request.

The serializer stays the contract: it writes records, documents the schema, and renders every
expansion. tests/api/test_initiative_rows.py holds this module to its output, item by item, in
both languages and with every optional field empty and set.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any

from django.conf import settings
from django.urls import reverse
from rest_framework import ISO_8601
from rest_framework import fields as drf_fields
from rest_framework.request import Request
from rest_framework.reverse import reverse as api_reverse
from rest_framework.settings import api_settings

from initiatives.api.serializers import InitiativeSerializer
from initiatives.models import FocusArea, Initiative, Sector

# Stands in for the slug in a reversed URL, which is then cut around it once per request.
_SLUG = "SLUG"
FIELDS: tuple[str, ...] = InitiativeSerializer.Meta.fields
# The columns an item reads, for ``only()``: the related rows come with their whole width
# otherwise (a jurisdiction's description and boundary among them), and each column
# loaded is a value converted.
_NOT_COLUMNS = frozenset(
    (
        "url",
        "web_url",
        "jurisdiction",
        "point",
        "plan",
        "focus_areas",
        "sectors",
        "lead_organization",
    )
)
COLUMNS: tuple[str, ...] = (
    *(name for name in FIELDS if name not in _NOT_COLUMNS),
    "jurisdiction__slug",
    "jurisdiction__name",
    "jurisdiction__ocd_id",
    "jurisdiction__latitude",
    "jurisdiction__longitude",
    "plan__slug",
    "lead_organization__slug",
)


def _taxa(
    through: Any, column: str, model: type[FocusArea | Sector], ids: Sequence[int]
) -> dict[int, list[str]]:
    """Each initiative's taxon slugs, in the taxonomy's own order, as the prefetch gives them."""
    order = [
        f"-{column}__{term[1:]}" if term.startswith("-") else f"{column}__{term}"
        for term in map(str, model._meta.ordering or ("pk",))
    ]
    rows = (
        through.objects.filter(initiative_id__in=ids)
        .order_by(*order)
        .values_list("initiative_id", f"{column}__slug")
    )
    slugs: dict[int, list[str]] = defaultdict(list)
    for initiative_id, slug in rows:
        slugs[initiative_id].append(slug)
    return slugs


def _around_slug(url: str) -> tuple[str, str]:
    """What comes before and after the slug; the last occurrence, so a host cannot match."""
    before, _slug, after = url.rpartition(_SLUG)
    return before, after


class InitiativeRows:
    """Renders initiatives for one request; ``fields`` trims each item like ``?fields=``."""

    def __init__(self, request: Request, *, fields: Collection[str] | None = None) -> None:
        self.request = request
        self.fields = FIELDS if fields is None else tuple(f for f in FIELDS if f in fields)
        # The API URL as DRF builds it (versioning included), and the site URL in the
        # active language; each item only puts its slug in.
        self._api_url = _around_slug(
            api_reverse("initiative-detail", kwargs={"slug": _SLUG}, request=request)
        )
        self._web_url = _around_slug(
            request.build_absolute_uri(
                reverse("initiatives:initiative-detail", kwargs={"slug": _SLUG})
            )
        )
        # DRF's own fields format dates, timestamps and amounts, so the settings that
        # govern the serializer (time zone, formats, decimals as strings) govern these too.
        self._timestamp = drf_fields.DateTimeField()
        # DRF's ISO 8601 output, in the time zone it would use, without its per-value
        # checks: a page holds 150 timestamps. The tests hold the two to the same text.
        self._zone = self._timestamp.default_timezone() if settings.USE_TZ else None
        self._iso = api_settings.DATETIME_FORMAT in (None, ISO_8601)
        self._date = drf_fields.DateField()
        self._amount = drf_fields.DecimalField(max_digits=16, decimal_places=2)

    def represent(self, initiatives: Sequence[Initiative]) -> list[dict[str, Any]]:
        """``initiatives`` need jurisdiction, plan and lead_organization selected."""
        ids = [initiative.pk for initiative in initiatives]
        focus_areas: dict[int, list[str]] = {}
        sectors: dict[int, list[str]] = {}
        if ids and "focus_areas" in self.fields:
            focus_areas = _taxa(Initiative.focus_areas.through, "focusarea", FocusArea, ids)
        if ids and "sectors" in self.fields:
            sectors = _taxa(Initiative.sectors.through, "sector", Sector, ids)
        return [self._item(i, focus_areas, sectors) for i in initiatives]

    def _item(
        self,
        initiative: Initiative,
        focus_areas: dict[int, list[str]],
        sectors: dict[int, list[str]],
    ) -> dict[str, Any]:
        jurisdiction = initiative.jurisdiction
        plan = initiative.plan
        lead = initiative.lead_organization
        stamp = self._stamp
        day = self._optional_date
        has_point = jurisdiction.latitude is not None and jurisdiction.longitude is not None
        values: dict[str, Any] = {
            "id": initiative.pk,
            "url": initiative.slug.join(self._api_url),
            "web_url": initiative.slug.join(self._web_url),
            "slug": initiative.slug,
            "title": initiative.title,
            "summary": initiative.summary,
            "description": initiative.description,
            "language": initiative.language,
            "status": initiative.status,
            "jurisdiction": {
                "slug": jurisdiction.slug,
                "name": jurisdiction.name,
                "ocd_id": jurisdiction.ocd_id,
            },
            "point": (
                {"latitude": jurisdiction.latitude, "longitude": jurisdiction.longitude}
                if has_point
                else None
            ),
            "plan": plan.slug if plan is not None else None,
            "focus_areas": focus_areas.get(initiative.pk, []),
            "sectors": sectors.get(initiative.pk, []),
            "lead_organization": lead.slug if lead is not None else None,
            "start_date": day(initiative.start_date),
            "end_date": day(initiative.end_date),
            "budget_amount": (
                None
                if initiative.budget_amount is None
                else self._amount.to_representation(initiative.budget_amount)
            ),
            "budget_currency": initiative.budget_currency,
            "publication_state": initiative.publication_state,
            "published_at": (
                None if initiative.published_at is None else stamp(initiative.published_at)
            ),
            "is_illustrative": initiative.is_illustrative,
            "created_at": stamp(initiative.created_at),
            "updated_at": stamp(initiative.updated_at),
        }
        if len(self.fields) == len(FIELDS):
            return values
        return {name: values[name] for name in self.fields}

    def _stamp(self, value: dt.datetime) -> str:
        if not self._iso or self._zone is None:
            return str(self._timestamp.to_representation(value))
        text = value.astimezone(self._zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    def _optional_date(self, value: Any) -> Any:
        return None if value is None else self._date.to_representation(value)
