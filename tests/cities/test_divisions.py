"""The pure functions behind the division importer: ids, kinds, names and slugs."""

import pytest
from django.core.exceptions import ValidationError

from cities.divisions import (
    NAME_MAX_LENGTH,
    OCD_ID_MAX_LENGTH,
    SLUG_MAX_LENGTH,
    DivisionSegment,
    division_default_name,
    division_iso_code,
    division_kind,
    division_slug,
    parent_division_id,
    parse_division_id,
    readable_name,
    unique_slug,
)
from cities.models import Jurisdiction

Kind = Jurisdiction.Kind
CHICAGO = "ocd-division/country:us/state:il/place:chicago"


def test_the_length_limits_are_the_model_fields_lengths():
    lengths = {field.name: field.max_length for field in Jurisdiction._meta.concrete_fields}
    assert (lengths["slug"], lengths["name"], lengths["ocd_id"]) == (
        SLUG_MAX_LENGTH,
        NAME_MAX_LENGTH,
        OCD_ID_MAX_LENGTH,
    )


def test_parse_division_id_returns_the_segments_root_first():
    assert parse_division_id(CHICAGO) == (
        DivisionSegment("country", "us"),
        DivisionSegment("state", "il"),
        DivisionSegment("place", "chicago"),
    )


@pytest.mark.parametrize(
    "ocd_id",
    [
        "",
        "ocd-division",
        "ocd-division/",
        "ocd-division/country:US",
        "ocd-division/country:us/",
        "ocd-division/country",
        "ocd-division/country:us/state il",
        "country:us/state:il",
        "ocd-jurisdiction/country:us",
        " ocd-division/country:us",
    ],
)
def test_parse_division_id_refuses_what_is_not_a_division_id(ocd_id):
    with pytest.raises(ValidationError) as excinfo:
        parse_division_id(ocd_id)
    assert excinfo.value.code == "invalid_ocd_id"


def test_parent_division_id_drops_the_last_segment():
    assert parent_division_id(CHICAGO) == "ocd-division/country:us/state:il"


def test_a_root_division_has_no_parent():
    assert parent_division_id("ocd-division/country:us") is None


@pytest.mark.parametrize(
    ("segment_type", "kind"),
    [
        ("country", Kind.COUNTRY),
        ("state", Kind.STATE),
        ("province", Kind.STATE),
        ("territory", Kind.STATE),
        ("part", Kind.STATE),
        ("region", Kind.REGION),
        ("county", Kind.COUNTY),
        ("borough", Kind.COUNTY),
        ("parish", Kind.COUNTY),
        ("census_area", Kind.COUNTY),
        ("department", Kind.COUNTY),
        ("cd", Kind.COUNTY),
        ("place", Kind.PLACE),
        ("municipio", Kind.PLACE),
        ("commune", Kind.PLACE),
        ("csd", Kind.PLACE),
        ("city", Kind.PLACE),
        ("town", Kind.PLACE),
    ],
)
def test_kind_comes_from_the_last_segment_type(segment_type, kind):
    assert division_kind(f"ocd-division/country:zz/{segment_type}:x") == kind


@pytest.mark.parametrize("segment_type", ["ed", "fed", "ward", "district", "school_district"])
def test_other_segment_types_are_districts(segment_type):
    assert division_kind(f"ocd-division/country:zz/{segment_type}:1") == Kind.DISTRICT


def test_the_root_segment_alone_decides_a_root_kind():
    assert division_kind("ocd-division/country:us") == Kind.COUNTRY


def test_a_country_is_named_by_iso_3166_1():
    assert division_default_name("ocd-division/country:us") == "United States"


def test_a_country_prefers_its_common_name():
    """pycountry's official "Bolivia, Plurinational State of" would read badly in a list."""
    assert division_default_name("ocd-division/country:bo") == "Bolivia"


@pytest.mark.parametrize(
    ("ocd_id", "name"),
    [
        ("ocd-division/country:us/state:il", "Illinois"),
        ("ocd-division/country:us/territory:pr", "Puerto Rico"),
        ("ocd-division/country:ca/province:qc", "Quebec"),
        ("ocd-division/country:gb/part:eng", "England"),
    ],
)
def test_a_state_under_a_country_is_named_by_iso_3166_2(ocd_id, name):
    assert division_default_name(ocd_id) == name


def test_a_region_is_named_after_its_id_value_not_iso():
    """FR-IF is not an ISO code, and regions are not looked up even when one would match."""
    assert division_default_name("ocd-division/country:fr/region:if") == "If"


def test_a_state_not_directly_under_a_country_is_named_after_its_id_value():
    assert division_default_name("ocd-division/region:eu/state:il") == "Il"


@pytest.mark.parametrize(
    ("ocd_id", "name"),
    [
        ("ocd-division/country:zz", "Zz"),
        ("ocd-division/country:us/state:zz", "Zz"),
    ],
)
def test_a_code_iso_does_not_know_is_named_after_its_id_value(ocd_id, name):
    assert division_default_name(ocd_id) == name


def test_a_deeper_division_is_named_after_its_id_value():
    assert division_default_name("ocd-division/country:us/state:ny/place:new_york") == "New York"


def test_readable_name_turns_underscores_into_spaces_in_title_case():
    assert readable_name("st._mary_of_the_woods") == "St. Mary Of The Woods"


@pytest.mark.parametrize(
    ("ocd_id", "slug"),
    [
        (CHICAGO, "us-il-chicago"),
        ("ocd-division/country:fr/region:if/department:vp", "fr-if-vp"),
        ("ocd-division/country:us", "us"),
    ],
)
def test_the_slug_joins_the_slugified_id_values(ocd_id, slug):
    assert division_slug(ocd_id) == slug


def test_the_slug_turns_underscores_into_hyphens():
    assert division_slug("ocd-division/country:us/state:ny/place:new_york") == "us-ny-new-york"


def test_the_slug_folds_accents_to_ascii():
    assert division_slug("ocd-division/country:ca/csd:île_perrot") == "ca-ile-perrot"


def test_the_slug_drops_values_that_fold_to_nothing():
    assert division_slug("ocd-division/country:ru/place:москва") == "ru"


def test_the_slug_falls_back_when_every_value_folds_to_nothing():
    assert division_slug("ocd-division/region:москва") == "division"


def test_the_slug_is_cut_to_the_field_length():
    slug = division_slug(f"ocd-division/country:us/place:{'a' * 300}")
    assert len(slug) == SLUG_MAX_LENGTH
    assert slug.startswith("us-aaa")


def test_a_free_slug_is_kept():
    assert unique_slug("us-il-chicago", set()) == "us-il-chicago"


def test_a_taken_slug_gets_the_first_free_counter():
    taken = {"us-il-chicago", "us-il-chicago-2"}
    assert unique_slug("us-il-chicago", taken) == "us-il-chicago-3"


def test_a_numbered_slug_stays_within_the_field_length():
    base = "a" * SLUG_MAX_LENGTH
    slug = unique_slug(base, {base})
    assert len(slug) == SLUG_MAX_LENGTH
    assert slug.endswith("a-2")


@pytest.mark.parametrize(
    ("ocd_id", "code"),
    [
        ("ocd-division/country:us", "US"),
        ("ocd-division/country:us/state:il", "US-IL"),
        ("ocd-division/country:us/territory:pr", "US-PR"),
        ("ocd-division/country:ca/province:on", "CA-ON"),
        ("ocd-division/country:us/state:il/place:chicago", ""),
        ("ocd-division/country:zz", ""),
        ("ocd-division/region:eu", ""),
    ],
)
def test_iso_codes_come_from_iso_3166(ocd_id, code):
    assert division_iso_code(ocd_id) == code
