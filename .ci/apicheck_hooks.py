"""
Schemathesis hooks for .ci/apicheck: positive bodies that follow the rules a
schema cannot state.

OpenAPI can say that ``jurisdiction`` is a slug, not which slugs exist or which
ones a key may write to; that ``ocd_id`` is text, not which ids are real OCD
ids; that ``start_date`` and ``end_date`` are dates, not that one comes first.
Left alone, the fuzzer fills "valid" bodies with values the API rightly
refuses, and the run learns nothing about the writes themselves. These hooks
adjust positive bodies only, the way the schemathesis documentation advises
for validation the schema cannot express; negative bodies stay as generated,
so every refusal is still checked.

Rules applied, each mirroring a validator or constraint of the models:
- a change resends the record's own slug, which is fixed after creation;
- references name real, in-scope records (APICHECK_REFERENCES, a JSON object
  of field name to candidates, written by .ci/apicheck from the seeded data);
- an OCD id is a well-formed, unused id; an ISO 3166 code and a boundary are
  left blank (their validators consult pycountry and GeoJSON rules);
- a budget comes with its currency and a currency with its budget;
- an initiative or membership does not end before it starts;
- an indicator has at most one measurement a day;
- latitude and longitude are given together or not at all.
"""

from __future__ import annotations

import json
import os
import zlib
from typing import Any

import schemathesis

REFERENCES: dict[str, list[str]] = json.loads(os.environ.get("APICHECK_REFERENCES", "{}"))


def _seed(value: Any) -> int:
    # Deterministic in the generated value, so a failure replays with the same body.
    return zlib.crc32(json.dumps(value, sort_keys=True, default=str).encode())


def _pick(field: str, value: Any) -> str:
    candidates = REFERENCES[field]
    return candidates[_seed(value) % len(candidates)]


def _references(body: dict[str, Any]) -> None:
    for field, value in list(body.items()):
        if field not in REFERENCES:
            continue
        if isinstance(value, str):
            body[field] = _pick(field, value)
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            body[field] = sorted({_pick(field, item) for item in value})


def _identifiers(body: dict[str, Any]) -> None:
    if isinstance(body.get("ocd_id"), str):
        body["ocd_id"] = f"ocd-division/country:us/state:il/place:fuzz_{_seed(body['ocd_id'])}"
    if isinstance(body.get("iso_code"), str):
        body["iso_code"] = ""
    if "boundary" in body:
        body["boundary"] = None


def _budget(body: dict[str, Any]) -> None:
    amount, currency = body.get("budget_amount"), body.get("budget_currency")
    if "budget_amount" not in body and "budget_currency" not in body:
        return
    if amount is None or currency in (None, ""):
        body["budget_amount"], body["budget_currency"] = None, ""
    elif not isinstance(currency, str):
        body["budget_currency"] = "USD"


def _order(body: dict[str, Any], first: str, last: str) -> None:
    start, end = body.get(first), body.get(last)
    if last in body and end is None:
        return
    if isinstance(end, str) and (not isinstance(start, str) or start > end):
        body[first] = end
    elif isinstance(start, str) and last not in body:
        body[last] = None


def _measurements(body: dict[str, Any]) -> None:
    readings = body.get("measurements")
    if not isinstance(readings, list):
        return
    seen: set[Any] = set()
    kept = []
    for reading in readings:
        day = reading.get("measured_on") if isinstance(reading, dict) else None
        if day in seen:
            continue
        seen.add(day)
        kept.append(reading)
    body["measurements"] = kept


def _coordinates(body: dict[str, Any]) -> None:
    given = "latitude" in body or "longitude" in body
    if given and (body.get("latitude") is None or body.get("longitude") is None):
        body["latitude"] = body["longitude"] = None


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    body = case.body
    if not isinstance(body, dict) or not case.meta or not case.meta.generation.mode.is_positive:
        return case
    slug = (case.path_parameters or {}).get("slug")
    if isinstance(slug, str) and "slug" in body:
        body["slug"] = slug  # A slug is fixed once the record exists.
    _references(body)
    _identifiers(body)
    _budget(body)
    _order(body, "start_date", "end_date")
    _order(body, "since", "until")
    _measurements(body)
    _coordinates(body)
    return case
