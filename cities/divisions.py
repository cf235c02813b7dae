"""
Open Civic Data division ids: parsing, kinds, names and slugs.

An id such as ``ocd-division/country:us/state:il/place:chicago`` is a chain of
``type:value`` segments; each prefix of the chain names the parent division.
Everything here is a pure function of the id, so the importer can plan a whole
file before it touches the database.
"""

from __future__ import annotations

from collections.abc import Container
from functools import cache, lru_cache
from typing import NamedTuple

import pycountry
from django.utils.text import slugify

from cities.models import Jurisdiction
from cities.validators import validate_ocd_division_id

# The lengths of Jurisdiction.slug, .name and .ocd_id; a test keeps them in step.
SLUG_MAX_LENGTH = 120
NAME_MAX_LENGTH = 200
OCD_ID_MAX_LENGTH = 255
# A value whose every character folds away (say, a Cyrillic-only segment) still needs a slug.
SLUG_FALLBACK = "division"

Kind = Jurisdiction.Kind

KIND_BY_TYPE: dict[str, Jurisdiction.Kind] = {
    "country": Kind.COUNTRY,
    "state": Kind.STATE,
    "province": Kind.STATE,
    "territory": Kind.STATE,
    "part": Kind.STATE,
    "region": Kind.REGION,
    "county": Kind.COUNTY,
    "borough": Kind.COUNTY,
    "parish": Kind.COUNTY,
    "census_area": Kind.COUNTY,
    "department": Kind.COUNTY,
    "cd": Kind.COUNTY,
    "place": Kind.PLACE,
    "municipio": Kind.PLACE,
    "commune": Kind.PLACE,
    "csd": Kind.PLACE,
    "city": Kind.PLACE,
    "town": Kind.PLACE,
}


class DivisionSegment(NamedTuple):
    """One ``type:value`` step of a division id, such as ``state:il``."""

    type: str
    value: str


def parse_division_id(ocd_id: str) -> tuple[DivisionSegment, ...]:
    """
    Split a division id into its segments, root first.

    Raises ``ValidationError`` (code ``invalid_ocd_id``) for anything that is not a
    lowercase OCD division id.
    """
    validate_ocd_division_id(ocd_id)
    return tuple(DivisionSegment(*segment.split(":", 1)) for segment in ocd_id.split("/")[1:])


def parent_division_id(ocd_id: str) -> str | None:
    """
    The id one level up, or None for a root such as ``ocd-division/country:us``.

    Plain string work, because the importer asks this of every id it has already
    validated; give it a valid id.
    """
    parent = ocd_id.rpartition("/")[0]
    return parent if "/" in parent else None


def division_kind(ocd_id: str) -> Jurisdiction.Kind:
    """
    The Atlas kind, from the type of the last segment.

    Types the Atlas does not single out (ed, fed, ward, district, …) are districts.
    """
    segment_type = ocd_id.rpartition("/")[2].partition(":")[0]
    return KIND_BY_TYPE.get(segment_type, Kind.DISTRICT)


def readable_name(value: str) -> str:
    """A presentable name made from an id value: ``new_york`` becomes "New York"."""
    return value.replace("_", " ").title()[:NAME_MAX_LENGTH]


@cache
def _country_name(alpha_2: str) -> str | None:
    country = pycountry.countries.get(alpha_2=alpha_2.upper())
    if country is None:
        return None
    # common_name is the everyday form where the official one is long ("Bolivia").
    return str(getattr(country, "common_name", None) or country.name)


@cache
def _subdivision_name(code: str) -> str | None:
    subdivision = pycountry.subdivisions.get(code=code.upper())
    return None if subdivision is None else str(subdivision.name)


def division_default_name(ocd_id: str) -> str:
    """
    A name for a division that the source files do not list.

    Countries are named by ISO 3166-1 and states, provinces and territories that sit
    directly under a country by ISO 3166-2 (``US-IL`` is "Illinois"); anything else,
    or a code ISO does not know, is named after its id value.
    """
    segments = parse_division_id(ocd_id)
    last = segments[-1]
    name: str | None = None
    if len(segments) == 1 and last.type == "country":
        name = _country_name(last.value)
    elif (
        len(segments) == 2
        and segments[0].type == "country"
        and KIND_BY_TYPE.get(last.type) == Kind.STATE
    ):
        name = _subdivision_name(f"{segments[0].value}-{last.value}")
    return name or readable_name(last.value)


def division_iso_code(ocd_id: str) -> str:
    """
    The ISO 3166 code of a country ("US") or of a state-level division directly
    under one ("US-IL"), when ISO knows it; otherwise "".
    """
    segments = parse_division_id(ocd_id)
    last = segments[-1]
    if len(segments) == 1 and last.type == "country":
        return last.value.upper() if _country_name(last.value) else ""
    if (
        len(segments) == 2
        and segments[0].type == "country"
        and KIND_BY_TYPE.get(last.type) == Kind.STATE
    ):
        code = f"{segments[0].value}-{last.value}".upper()
        return code if _subdivision_name(code) else ""
    return ""


def division_slug(ocd_id: str) -> str:
    """
    The preferred slug: the id's values, slugified and joined with "-".

    ``ocd-division/country:fr/region:if/department:vp`` gives ``fr-if-vp``. Underscores
    become hyphens so that ``new_york`` reads ``new-york`` in a URL.
    """
    parts = [_slug_part(segment.value) for segment in parse_division_id(ocd_id)]
    slug = "-".join(part for part in parts if part)[:SLUG_MAX_LENGTH].strip("-")
    return slug or SLUG_FALLBACK


@lru_cache(maxsize=4096)
def _slug_part(value: str) -> str:
    # Cached because a national file repeats the same few country and state values.
    return slugify(value.replace("_", "-"))


def unique_slug(base: str, taken: Container[str]) -> str:
    """``base``, or ``base-2``, ``base-3``… whichever is free first, within the length limit."""
    if base not in taken:
        return base
    counter = 2
    while True:
        suffix = f"-{counter}"
        candidate = f"{base[: SLUG_MAX_LENGTH - len(suffix)].rstrip('-')}{suffix}"
        if candidate not in taken:
            return candidate
        counter += 1
