"""Validators for the identifiers a jurisdiction carries."""

import re
import zoneinfo
from functools import cache
from typing import Any

import pycountry
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# OCDEP 2: "ocd-division" then one or more type:id pairs. Types are lowercase
# letters and underscores; ids are lowercase Unicode letters, digits and . - _ ~
OCD_DIVISION_RE = re.compile(r"^ocd-division(?:/[a-z_]+:[\w.~-]+)+$")
WIKIDATA_QID_RE = re.compile(r"^Q[1-9][0-9]*$")


def validate_ocd_division_id(value: str) -> None:
    if not OCD_DIVISION_RE.match(value) or value != value.lower():
        raise ValidationError(
            _("%(value)s is not an OCD division id such as ocd-division/country:us/state:il."),
            code="invalid_ocd_id",
            params={"value": value},
        )


def validate_iso_3166(value: str) -> None:
    """Accept an ISO 3166-1 alpha-2 country code or an ISO 3166-2 subdivision code."""
    found = (
        pycountry.subdivisions.get(code=value)
        if "-" in value
        else pycountry.countries.get(alpha_2=value)
    )
    if found is None:
        raise ValidationError(
            _("%(value)s is not an ISO 3166 code (for example US or US-IL)."),
            code="invalid_iso_3166",
            params={"value": value},
        )


def validate_wikidata_qid(value: str) -> None:
    if not WIKIDATA_QID_RE.match(value):
        raise ValidationError(
            _("%(value)s is not a Wikidata item id such as Q1297."),
            code="invalid_qid",
            params={"value": value},
        )


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in _time_zones():
        raise ValidationError(
            _("%(value)s is not an IANA time zone such as America/Chicago."),
            code="invalid_time_zone",
            params={"value": value},
        )


GEOMETRY_TYPES = {"Polygon", "MultiPolygon"}


def validate_boundary(value: Any) -> None:
    """A boundary is a GeoJSON Polygon or MultiPolygon geometry (RFC 7946)."""
    if value in (None, ""):
        return
    if (
        not isinstance(value, dict)
        or value.get("type") not in GEOMETRY_TYPES
        or not isinstance(value.get("coordinates"), list)
        or not value["coordinates"]
    ):
        raise ValidationError(
            _("The boundary must be a GeoJSON Polygon or MultiPolygon geometry."),
            code="invalid_boundary",
        )
