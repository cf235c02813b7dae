"""
``import_divisions`` and the service behind it.

Small CSV files written to tmp_path cover the edge cases; the tests marked slow
read the shared Open Civic Data files through the ``ocd_data`` fixture.
"""

import re
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from cities.models import Jurisdiction
from cities.services import DivisionImportError, DivisionImportResult, divisions_import
from tests.conftest import OCD_DATA
from tests.factories import JurisdictionFactory

pytestmark = pytest.mark.django_db

Kind = Jurisdiction.Kind
HEADER = "id,name,sameAs\n"
CHICAGO = "ocd-division/country:us/state:il/place:chicago"
ILLINOIS = "ocd-division/country:us/state:il"
US = "ocd-division/country:us"


def write_csv(directory: Path, text: str, name: str = "divisions.csv") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def import_text(directory: Path, text: str, **kwargs):
    return divisions_import(paths=[write_csv(directory, text)], **kwargs)


def get(ocd_id: str) -> Jurisdiction:
    return Jurisdiction.objects.get(ocd_id=ocd_id)


def assert_tree_consistent() -> None:
    """Every path and depth is what ``Jurisdiction.save()`` would have written."""
    for jurisdiction in Jurisdiction.objects.select_related("parent"):
        parent = jurisdiction.parent
        expected = f"{parent.path if parent else ''}{jurisdiction.pk}/"
        assert jurisdiction.path == expected, jurisdiction.ocd_id
        assert jurisdiction.depth == (parent.depth + 1 if parent else 0), jurisdiction.ocd_id


# ---------------------------------------------------------------- building the tree


def test_import_creates_listed_rows_and_their_missing_ancestors(tmp_path):
    result = import_text(
        tmp_path,
        HEADER
        + f"{CHICAGO},Chicago city,\n"
        + "ocd-division/country:us/state:il/place:springfield,Springfield city,\n",
    )
    assert (result.rows_read, result.created, result.ancestors_created) == (2, 4, 2)
    assert (result.existing, result.aliases_skipped, result.duplicates_skipped) == (0, 0, 0)
    assert set(Jurisdiction.objects.values_list("ocd_id", flat=True)) == {
        US,
        ILLINOIS,
        CHICAGO,
        "ocd-division/country:us/state:il/place:springfield",
    }


def test_a_listed_row_keeps_its_name_from_the_file(tmp_path):
    import_text(tmp_path, HEADER + f"{CHICAGO},Chicago city,\n")
    assert get(CHICAGO).name == "Chicago city"


def test_a_missing_country_is_named_from_pycountry(tmp_path):
    import_text(tmp_path, HEADER + f"{CHICAGO},Chicago city,\n")
    assert get(US).name == "United States"


def test_a_missing_state_is_named_from_pycountry_subdivisions(tmp_path):
    import_text(tmp_path, HEADER + f"{CHICAGO},Chicago city,\n")
    assert get(ILLINOIS).name == "Illinois"


def test_a_missing_territory_is_named_from_pycountry_subdivisions(tmp_path):
    import_text(
        tmp_path, HEADER + "ocd-division/country:us/territory:pr/municipio:adjuntas,Adjuntas,\n"
    )
    assert get("ocd-division/country:us/territory:pr").name == "Puerto Rico"


def test_other_missing_ancestors_are_named_after_their_id_value(tmp_path):
    import_text(
        tmp_path, HEADER + "ocd-division/country:us/state:il/county:de_kalb/place:sycamore,S,\n"
    )
    assert get("ocd-division/country:us/state:il/county:de_kalb").name == "De Kalb"


def test_a_listed_ancestor_keeps_the_name_from_the_file(tmp_path):
    """pycountry only names what no file lists."""
    import_text(tmp_path, HEADER + f"{CHICAGO},Chicago city,\n{US},United States of America,\n")
    assert get(US).name == "United States of America"
    assert get(US).parent is None


def test_kinds_come_from_the_last_segment_type(tmp_path):
    import_text(
        tmp_path,
        HEADER
        + "ocd-division/country:us/state:il/county:cook/place:chicago,Chicago,\n"
        + "ocd-division/country:us/state:il/county:cook/ward:1,Ward 1,\n",
    )
    kinds = dict(Jurisdiction.objects.values_list("ocd_id", "kind"))
    assert kinds == {
        US: Kind.COUNTRY,
        ILLINOIS: Kind.STATE,
        "ocd-division/country:us/state:il/county:cook": Kind.COUNTY,
        "ocd-division/country:us/state:il/county:cook/place:chicago": Kind.PLACE,
        "ocd-division/country:us/state:il/county:cook/ward:1": Kind.DISTRICT,
    }


def test_each_row_hangs_under_the_division_its_id_names(tmp_path):
    import_text(tmp_path, HEADER + f"{CHICAGO},Chicago city,\n")
    assert get(CHICAGO).parent == get(ILLINOIS)
    assert get(ILLINOIS).parent == get(US)


def test_paths_and_depths_match_what_save_would_write(tmp_path):
    import_text(
        tmp_path,
        HEADER
        + f"{CHICAGO},Chicago city,\n"
        + "ocd-division/country:us/state:il/county:cook/place:evanston,Evanston,\n"
        + "ocd-division/country:fr/region:if/department:vp,Paris,\n",
    )
    assert_tree_consistent()
    assert get(CHICAGO).depth == 2


def test_ancestors_and_descendants_work_on_imported_rows(tmp_path):
    import_text(
        tmp_path,
        HEADER + f"{CHICAGO},Chicago city,\nocd-division/country:us/state:ny/place:buffalo,B,\n",
    )
    chicago, illinois, us = get(CHICAGO), get(ILLINOIS), get(US)
    assert list(chicago.ancestors()) == [us, illinois]
    assert set(illinois.descendants()) == {chicago}
    assert us.descendants().count() == 4


def test_a_second_run_creates_nothing(tmp_path):
    path = write_csv(tmp_path, HEADER + f"{CHICAGO},Chicago city,\n")
    divisions_import(paths=[path])
    before = Jurisdiction.history.count()

    result = divisions_import(paths=[path])

    assert (result.created, result.existing, result.ancestors_created) == (0, 1, 0)
    assert Jurisdiction.objects.count() == 3
    assert Jurisdiction.history.count() == before


# ---------------------------------------------------------------- rows the importer skips


def test_alias_rows_are_skipped_and_counted(tmp_path):
    result = import_text(
        tmp_path,
        HEADER
        + "ocd-division/country:fr,France,\n"
        + "ocd-division/region:eu/member:fr,France,ocd-division/country:fr\n",
    )
    assert (result.rows_read, result.aliases_skipped, result.created) == (2, 1, 1)
    assert not Jurisdiction.objects.filter(ocd_id__startswith="ocd-division/region:eu").exists()


def test_extra_columns_are_ignored(tmp_path):
    result = import_text(
        tmp_path,
        "id,name,census_geoid,validThrough\n" + f"{CHICAGO},Chicago city,place-1714000,\n",
    )
    assert result.created == 3


def test_a_file_without_a_same_as_column_has_no_aliases(tmp_path):
    result = import_text(tmp_path, f"id,name\n{CHICAGO},Chicago city\n")
    assert (result.created, result.aliases_skipped) == (3, 0)


def test_an_id_repeated_across_files_is_created_once_from_the_first(tmp_path):
    first = write_csv(tmp_path, HEADER + f"{CHICAGO},Chicago city,\n", "a.csv")
    second = write_csv(tmp_path, HEADER + f"{CHICAGO},Chicago,\n", "b.csv")
    result = divisions_import(paths=[first, second])
    assert (result.rows_read, result.created, result.duplicates_skipped) == (2, 3, 1)
    assert get(CHICAGO).name == "Chicago city"


def test_a_byte_order_mark_before_the_header_is_accepted(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(("\ufeff" + HEADER + f"{CHICAGO},Chicago city,\n").encode())
    assert divisions_import(paths=[path]).created == 3


def test_blank_lines_are_skipped(tmp_path):
    result = import_text(tmp_path, HEADER + f"\n{CHICAGO},Chicago city,\n\n")
    assert (result.rows_read, result.created) == (1, 3)


# ---------------------------------------------------------------- existing rows


def test_an_existing_row_is_left_alone(tmp_path, atlas_map):
    """The demo puts Chicago under a metro area; the importer keeps it there, name and slug too."""
    metro = JurisdictionFactory.create(
        kind=Kind.METRO,
        name="Chicagoland",
        slug="chicagoland",
        ocd_id="ocd-division/country:us/metro:chicagoland",
        parent=atlas_map.illinois,
    )
    chicago = atlas_map.chicago
    chicago.parent = metro
    chicago.save()
    history_before = chicago.history.count()

    result = import_text(tmp_path, HEADER + f"{CHICAGO},Chicago city,\n")

    assert (result.created, result.existing) == (0, 1)
    chicago.refresh_from_db()
    assert (chicago.parent, chicago.name, chicago.slug) == (metro, "Chicago", "chicago")
    assert chicago.history.count() == history_before


def test_a_new_child_of_an_existing_row_follows_that_rows_actual_place(tmp_path, atlas_map):
    """A ward of a re-parented Chicago sits under Chicago, so under the metro area too."""
    metro = JurisdictionFactory.create(
        kind=Kind.METRO,
        name="Chicagoland",
        ocd_id="ocd-division/country:us/metro:chicagoland",
        parent=atlas_map.illinois,
    )
    atlas_map.chicago.parent = metro
    atlas_map.chicago.save()

    import_text(tmp_path, HEADER + f"{CHICAGO}/ward:1,Ward 1,\n")

    ward = get(f"{CHICAGO}/ward:1")
    assert ward.parent == atlas_map.chicago
    assert list(ward.ancestors()) == [atlas_map.us, atlas_map.illinois, metro, atlas_map.chicago]
    assert ward in metro.descendants()
    assert_tree_consistent()


def test_existing_ancestors_are_reused_not_duplicated(tmp_path, atlas_map):
    result = import_text(tmp_path, HEADER + "ocd-division/country:us/state:il/place:peoria,P,\n")
    assert (result.created, result.ancestors_created) == (1, 0)
    assert get("ocd-division/country:us/state:il/place:peoria").parent == atlas_map.illinois


# ---------------------------------------------------------------- slugs


def test_slugs_come_from_the_id_values(tmp_path):
    import_text(tmp_path, HEADER + "ocd-division/country:fr/region:if/department:vp,Paris,\n")
    slugs = set(Jurisdiction.objects.values_list("slug", flat=True))
    assert slugs == {"fr", "fr-if", "fr-if-vp"}


def test_ids_that_fold_to_the_same_slug_get_counters(tmp_path):
    """The plain id sorts first, so it keeps the plain slug."""
    import_text(
        tmp_path,
        HEADER + "ocd-division/country:ca/csd:île,Île,\nocd-division/country:ca/csd:ile,Ile,\n",
    )
    assert get("ocd-division/country:ca/csd:ile").slug == "ca-ile"
    assert get("ocd-division/country:ca/csd:île").slug == "ca-ile-2"


def test_a_slug_taken_by_an_existing_row_gets_a_counter(tmp_path):
    JurisdictionFactory.create(slug="us-il-chicago", ocd_id="ocd-division/country:us/place:x")
    import_text(tmp_path, HEADER + f"{CHICAGO},Chicago city,\n")
    assert get(CHICAGO).slug == "us-il-chicago-2"


def test_a_counter_skips_numbered_slugs_already_in_the_database(tmp_path):
    JurisdictionFactory.create(slug="ca-ile-2", ocd_id="ocd-division/country:zz/place:a")
    import_text(
        tmp_path,
        HEADER + "ocd-division/country:ca/csd:ile,Ile,\nocd-division/country:ca/csd:île,Île,\n",
    )
    assert get("ocd-division/country:ca/csd:ile").slug == "ca-ile"
    assert get("ocd-division/country:ca/csd:île").slug == "ca-ile-3"


# ---------------------------------------------------------------- history


def test_every_created_row_gets_one_history_row_naming_the_file_and_actor(tmp_path, staff_user):
    path = write_csv(tmp_path, HEADER + f"{CHICAGO},Chicago city,\n", "places.csv")
    divisions_import(paths=[path], actor=staff_user)

    history = list(Jurisdiction.history.all())
    assert len(history) == 3
    assert {row.ocd_id for row in history} == {US, ILLINOIS, CHICAGO}
    assert {row.history_type for row in history} == {"+"}
    assert {row.history_change_reason for row in history} == {"import_divisions places.csv"}
    assert {row.history_user for row in history} == {staff_user}


def test_history_names_the_file_each_row_came_from(tmp_path):
    first = write_csv(tmp_path, HEADER + f"{CHICAGO},Chicago city,\n", "a.csv")
    second = write_csv(tmp_path, HEADER + "ocd-division/country:fr,France,\n", "b.csv")
    divisions_import(paths=[first, second])
    reasons = dict(Jurisdiction.history.values_list("ocd_id", "history_change_reason"))
    assert reasons == {
        US: "import_divisions a.csv",
        ILLINOIS: "import_divisions a.csv",
        CHICAGO: "import_divisions a.csv",
        "ocd-division/country:fr": "import_divisions b.csv",
    }


def test_the_command_records_the_actor_given_by_username(tmp_path, staff_user):
    path = write_csv(tmp_path, HEADER + f"{CHICAGO},Chicago city,\n")
    call_command("import_divisions", str(path), "--actor", "admin", stdout=StringIO())
    assert set(Jurisdiction.history.values_list("history_user", flat=True)) == {staff_user.pk}


def test_the_command_refuses_an_unknown_actor(tmp_path):
    path = write_csv(tmp_path, HEADER + f"{CHICAGO},Chicago city,\n")
    with pytest.raises(CommandError, match="nobody"):
        call_command("import_divisions", str(path), "--actor", "nobody")
    assert not Jurisdiction.objects.exists()


# ---------------------------------------------------------------- malformed files

MALFORMED = [
    pytest.param(
        HEADER + f"{CHICAGO},Chicago,\nocd-division/country:US/state:il,Illinois,\n",
        3,
        "is not an OCD division id",
        id="uppercase id",
    ),
    pytest.param(
        HEADER + f"{CHICAGO},Chicago,\n{US},US,\nchicago,Chicago,\n",
        4,
        "is not an OCD division id",
        id="bad id",
    ),
    pytest.param(
        HEADER + f"{CHICAGO},Chicago,\n,Nowhere,\n", 3, "has no id", id="missing id value"
    ),
    pytest.param(
        HEADER + f"{CHICAGO},Chicago,\n{US},,\n{ILLINOIS},Illinois,\n",
        3,
        "has no name",
        id="missing name",
    ),
    pytest.param(HEADER + f"{CHICAGO},Chicago,\n{US},  ,\n", 3, "has no name", id="blank name"),
    pytest.param(
        HEADER + f"{CHICAGO},Chicago\n", 2, "has 2 columns where the header has 3", id="too few"
    ),
    pytest.param(
        HEADER + f"{CHICAGO},Chicago,,\n", 2, "has 4 columns where the header has 3", id="too many"
    ),
    pytest.param(
        f"ocd_id,name\n{CHICAGO},Chicago\n", 1, "the header lacks the column(s) id", id="no id"
    ),
    pytest.param(f"id,title\n{CHICAGO},Chicago\n", 1, "lacks the column(s) name", id="no name"),
    pytest.param("", 1, "the file is empty", id="empty file"),
    pytest.param("\n\n", 1, "the file is empty", id="blank file"),
    pytest.param(HEADER + f'{CHICAGO},"Chicago\n', 2, "is not valid CSV", id="unterminated quote"),
    pytest.param(
        HEADER + f"{CHICAGO},Chicago,\nocd-division/region:eu/member:FR,France,{US}\n",
        3,
        "is not an OCD division id",
        id="bad id in an alias row",
    ),
    pytest.param(
        HEADER + f"{CHICAGO},{'x' * 201},\n", 2, "longer than 200 characters", id="long name"
    ),
    pytest.param(
        HEADER + f"ocd-division/country:us/place:{'x' * 240},X,\n",
        2,
        "longer than 255 characters",
        id="long id",
    ),
]


@pytest.mark.parametrize(("text", "line", "problem"), MALFORMED)
def test_a_malformed_file_stops_the_import_at_its_line_and_writes_nothing(
    tmp_path, atlas_map, text, line, problem
):
    path = write_csv(tmp_path, text, "broken.csv")
    count, history = Jurisdiction.objects.count(), Jurisdiction.history.count()

    with pytest.raises(CommandError) as excinfo:
        call_command("import_divisions", str(path))

    message = str(excinfo.value)
    assert f"{path}, line {line}: " in message
    assert problem in message
    assert (Jurisdiction.objects.count(), Jurisdiction.history.count()) == (count, history)


def test_undecodable_text_is_refused_with_its_line(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + f"{CHICAGO},Chicago,\n{US},Am").encode() + b"\xe9rique,\n")
    with pytest.raises(CommandError, match=re.escape(f"{path}, line 3: is not UTF-8 text")):
        call_command("import_divisions", str(path))
    assert not Jurisdiction.objects.exists()


def test_a_missing_file_is_refused_by_name(tmp_path):
    path = tmp_path / "absent.csv"
    with pytest.raises(CommandError, match=re.escape(f"{path}: cannot be read")):
        call_command("import_divisions", str(path))


def test_a_bad_row_in_a_later_file_keeps_the_earlier_file_out_too(tmp_path):
    good = write_csv(tmp_path, HEADER + f"{CHICAGO},Chicago city,\n", "good.csv")
    bad = write_csv(tmp_path, HEADER + f"{US},United States,\n{ILLINOIS},,\n", "bad.csv")
    with pytest.raises(DivisionImportError) as excinfo:
        divisions_import(paths=[good, bad])
    assert (excinfo.value.path, excinfo.value.line) == (bad, 3)
    assert not Jurisdiction.objects.exists()
    assert not Jurisdiction.history.exists()


# ---------------------------------------------------------------- the command


def test_the_command_prints_a_one_line_summary_with_counts_and_speed(tmp_path):
    path = write_csv(
        tmp_path,
        HEADER + f"{CHICAGO},Chicago city,\nocd-division/region:eu/member:us,US,{US}\n",
    )
    out = StringIO()
    call_command("import_divisions", str(path), stdout=out)
    summary = out.getvalue()
    assert summary.count("\n") == 1
    assert summary.startswith("Created 3 jurisdictions (2 ancestors) from 2 rows; ")
    assert "0 already existed, 1 aliases and 0 duplicates skipped" in summary
    assert re.search(r"[\d.]+ s, \d+ rows/s\.$", summary.strip())


def test_the_command_imports_several_files(tmp_path):
    first = write_csv(tmp_path, HEADER + f"{CHICAGO},Chicago city,\n", "a.csv")
    second = write_csv(tmp_path, HEADER + "ocd-division/country:fr,France,\n", "b.csv")
    call_command("import_divisions", str(first), str(second), stdout=StringIO())
    assert Jurisdiction.objects.count() == 4


# ---------------------------------------------------------------- the real files

CENSUS_ROWS = 39_242
CENSUS_STATES = 51  # 50 states and Puerto Rico; the file has no District of Columbia
CENSUS_CREATED = CENSUS_ROWS + CENSUS_STATES + 1


@pytest.fixture(scope="module")
def census_import(django_db_setup: None, django_db_blocker: Any) -> Iterator[DivisionImportResult]:
    """
    Import the census file once per module, in a transaction rolled back at the end.

    Each test's own transaction nests inside it as a savepoint, so the tests share
    the 25-second import without leaking rows into other modules.
    """
    census = OCD_DATA / "us_census_places.csv"
    if not census.exists():
        pytest.skip(f"the shared OCD division files are not beside the checkout ({OCD_DATA})")
    with django_db_blocker.unblock(), transaction.atomic():
        yield divisions_import(paths=[census])
        transaction.set_rollback(True)


@pytest.mark.slow
def test_the_census_file_creates_every_place_and_its_exact_ancestors(census_import, db):
    result = census_import

    assert result.rows_read == CENSUS_ROWS
    assert result.created == CENSUS_CREATED == 39_294
    assert result.ancestors_created == CENSUS_STATES + 1
    assert (result.existing, result.aliases_skipped, result.duplicates_skipped) == (0, 0, 0)
    assert Jurisdiction.objects.count() == CENSUS_CREATED
    assert Jurisdiction.history.count() == CENSUS_CREATED
    kinds = {
        kind: Jurisdiction.objects.filter(kind=kind).count()
        for kind in (Kind.COUNTRY, Kind.STATE, Kind.COUNTY, Kind.PLACE)
    }
    assert kinds == {Kind.COUNTRY: 1, Kind.STATE: 51, Kind.COUNTY: 3_100, Kind.PLACE: 36_142}
    assert not Jurisdiction.objects.filter(path="").exists()


@pytest.mark.slow
def test_the_census_file_a_second_time_creates_nothing(census_import, ocd_data, db):
    result = divisions_import(paths=[ocd_data / "us_census_places.csv"])

    assert (result.created, result.existing, result.ancestors_created) == (0, CENSUS_ROWS, 0)
    assert Jurisdiction.objects.count() == CENSUS_CREATED
    assert Jurisdiction.history.count() == CENSUS_CREATED


@pytest.mark.slow
def test_census_places_sit_under_iso_named_states_under_the_united_states(census_import, db):
    us, illinois, chicago = get(US), get(ILLINOIS), get(CHICAGO)
    assert (us.name, illinois.name) == ("United States", "Illinois")
    assert get("ocd-division/country:us/territory:pr").name == "Puerto Rico"
    assert list(chicago.ancestors()) == [us, illinois]
    assert chicago.slug == "us-il-chicago"
    assert (us.iso_code, illinois.iso_code, chicago.iso_code) == ("US", "US-IL", "")
    # The city keeps the plain slug; the borough of the same name takes the counter.
    assert get("ocd-division/country:us/state:ak/place:anchorage").slug == "us-ak-anchorage"
    assert get("ocd-division/country:us/state:ak/borough:anchorage").slug == "us-ak-anchorage-2"
    assert illinois.descendants().count() == 2_831
    assert us.descendants().count() == CENSUS_CREATED - 1
    assert_tree_consistent()


@pytest.mark.slow
def test_the_french_file_puts_paris_under_ile_de_france(ocd_data):
    result = divisions_import(paths=[ocd_data / "country-fr.csv"])

    paris = get("ocd-division/country:fr/region:if/department:vp")
    ile_de_france = get("ocd-division/country:fr/region:if")
    assert paris.parent == ile_de_france
    assert ile_de_france.name == "Île-de-France"
    assert [j.ocd_id for j in paris.ancestors()] == [
        "ocd-division/country:fr",
        ile_de_france.ocd_id,
    ]
    assert paris.slug == "fr-if-vp"
    assert paris.kind == Kind.COUNTY
    assert (result.rows_read, result.aliases_skipped) == (1_277, 578)
    assert (result.created, result.ancestors_created) == (699, 0)
    assert_tree_consistent()
