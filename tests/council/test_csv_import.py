"""Importing a jurisdiction's initiatives from CSV: the service, the command and the pages."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from council.csv_forms import SIGNING_SALT, staging_storage
from initiatives.csv_io import import_initiatives, parse_initiatives_csv, plan_import
from initiatives.models import FocusArea, Initiative, PublicationState, Revision, Sector
from initiatives.workflow import open_revision
from tests.conftest import verify_second_factor
from tests.factories import InitiativeFactory, OrganizationFactory, PlanFactory

HEADER = ["external_id", "slug", "title", "status", "start_date", "end_date", "focus_areas"]


def make_csv(rows: list[list[str]], header: list[str] = HEADER, *, bom: bool = False) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode("utf-8")


def history_rows() -> int:
    """Every history row about initiatives, their focus areas and sectors included."""
    return sum(
        model._default_manager.count()
        for model in apps.get_app_config("initiatives").get_models()
        if model.__name__.lower().startswith("historicalinitiative")
    )


@pytest.fixture
def terms(db):
    return {
        "mobility": FocusArea.objects.create(
            slug="mobility", name_en="Mobility", name_fr="Mobilité"
        ),
        "libraries": FocusArea.objects.create(
            slug="libraries", name_en="Libraries", name_fr="Bibliothèques"
        ),
        "health": Sector.objects.create(
            slug="health", name_en="Public health", name_fr="Santé publique"
        ),
    }


def run(atlas_map, actor, data: bytes, **kwargs):
    return import_initiatives(jurisdiction=atlas_map.chicago, actor=actor, file=data, **kwargs)


def messages_of(result) -> list[str]:
    return [str(error) for error in result.errors]


# ------------------------------------------------------------------------------
# The service
# ------------------------------------------------------------------------------


def test_new_rows_become_drafts_whose_history_names_the_importer(atlas_map, chicago_editor, terms):
    data = make_csv(
        [["CHI-1", "", "Free Wi-Fi", "planned", "2026-01-01", "", "mobility;libraries"]]
    )
    result = run(atlas_map, chicago_editor, data)
    assert result.written
    assert not result.errors
    initiative = Initiative.objects.get(external_id="CHI-1")
    assert initiative.jurisdiction == atlas_map.chicago
    assert initiative.slug == "free-wi-fi"
    assert initiative.publication_state == PublicationState.DRAFT
    assert initiative.status == "planned"
    assert {t.slug for t in initiative.focus_areas.all()} == {"mobility", "libraries"}
    assert {h.history_user for h in initiative.history.all()} == {chicago_editor}
    record = initiative.history.get()
    assert record.history_type == "+"
    assert {row.focusarea.slug for row in record.focus_areas.all()} == {"mobility", "libraries"}


def test_a_bad_row_at_the_end_writes_nothing_and_names_its_line(atlas_map, chicago_editor):
    rows = [[f"CHI-{n}", "", f"Initiative {n}", "idea", "", "", ""] for n in range(5)]
    rows.append(["CHI-99", "", "Bad dates", "idea", "2026-02-30", "", ""])
    before = history_rows()
    result = run(atlas_map, chicago_editor, make_csv(rows))
    assert not result.written
    assert messages_of(result) == [
        "Line 7, start_date: “2026-02-30” is not a date written as YYYY-MM-DD."
    ]
    assert not Initiative.objects.exists()
    assert history_rows() == before


def test_an_update_refused_while_writing_rolls_back_everything(
    atlas_map, chicago_editor, monkeypatch
):
    """Errors only the write sees still leave nothing behind, and name the row's line."""
    from django.core.exceptions import ValidationError

    from initiatives import services

    for n in range(3):
        InitiativeFactory.create(
            jurisdiction=atlas_map.chicago,
            slug=f"i-{n}",
            external_id=f"E{n}",
            status="idea",
            publication_state=PublicationState.DRAFT,
        )
    real_update = services.initiative_update

    def update(*, initiative, **kwargs):
        if initiative.slug == "i-2":
            raise ValidationError({"status": ValidationError("Changed meanwhile.")})
        return real_update(initiative=initiative, **kwargs)

    monkeypatch.setattr(services, "initiative_update", update)
    rows = [["", "", "New", "", "", "", ""]]
    rows += [[f"E{n}", "", f"Renamed {n}", "", "", "", ""] for n in range(3)]
    before = history_rows()
    result = run(atlas_map, chicago_editor, make_csv(rows))
    assert messages_of(result) == ["Line 5, status: Changed meanwhile."]
    assert not result.written
    assert Initiative.objects.count() == 3
    assert not Initiative.objects.filter(title__startswith="Renamed").exists()
    assert history_rows() == before


def test_a_create_refused_by_the_database_rolls_back_everything(
    atlas_map, chicago_editor, monkeypatch
):
    """A clash that appears between planning and writing is caught by the database."""
    from django.db import IntegrityError

    from initiatives import csv_io

    real_create = csv_io._create_drafts

    def create(outcomes, **kwargs):
        real_create(outcomes, **kwargs)
        raise IntegrityError("UNIQUE constraint failed: initiatives_initiative.slug")

    monkeypatch.setattr(csv_io, "_create_drafts", create)
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug="old", status="idea")
    rows = [["", "old", "Renamed", "", "", "", ""], ["", "", "New", "", "", "", ""]]
    result = run(atlas_map, chicago_editor, make_csv(rows))
    assert messages_of(result) == [
        "Line 3: The row could not be saved; the data may have changed meanwhile."
    ]
    assert Initiative.objects.count() == 1
    assert Initiative.objects.get().title != "Renamed"


def test_reimporting_the_same_file_changes_nothing(atlas_map, chicago_editor, terms):
    plan = PlanFactory.create(jurisdiction=atlas_map.chicago, slug="chicago-digital")
    org = OrganizationFactory.create(slug="uchicago")
    header = [*HEADER, "budget_amount", "budget_currency", "plan", "lead_organization", "sectors"]
    rows = [
        ["CHI-1", "wifi", "Wi-Fi", "active", "2025-01-01", "2027-12-31", "mobility",
         "250000", "USD", plan.slug, org.slug, "health"],
        ["", "portal", "Open data portal", "", "", "", "", "", "", "", "", ""],
    ]  # fmt: skip
    data = make_csv(rows, header)
    assert run(atlas_map, chicago_editor, data).plan.created == 2
    before = history_rows()
    stamps = dict(Initiative.objects.values_list("pk", "updated_at"))

    again = run(atlas_map, chicago_editor, data)

    assert again.plan.unchanged == 2
    assert again.plan.created == again.plan.updated == 0
    assert history_rows() == before
    assert dict(Initiative.objects.values_list("pk", "updated_at")) == stamps


def test_an_external_id_updates_rather_than_duplicates(atlas_map, chicago_editor, terms):
    run(atlas_map, chicago_editor, make_csv([["CHI-1", "wifi", "Wi-Fi", "idea", "", "", ""]]))
    result = run(
        atlas_map,
        chicago_editor,
        make_csv([["CHI-1", "", "Wi-Fi for all", "planned", "", "", "mobility"]]),
    )
    assert result.plan.updated == 1
    assert result.plan.rows[0].changed == ["title", "status", "focus_areas"]
    initiative = Initiative.objects.get()
    assert (initiative.title, initiative.slug, initiative.status) == (
        "Wi-Fi for all",
        "wifi",
        "planned",
    )
    assert initiative.history.first().history_user == chicago_editor


def test_a_row_without_external_id_matches_by_slug(atlas_map, chicago_editor):
    existing = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        slug="wifi",
        status="idea",
        external_id="",
        publication_state=PublicationState.DRAFT,
    )
    result = run(atlas_map, chicago_editor, make_csv([["", "wifi", "New title", "", "", "", ""]]))
    assert result.plan.updated == 1
    existing.refresh_from_db()
    assert existing.title == "New title"
    assert Initiative.objects.count() == 1


def test_an_external_id_is_taken_on_by_the_initiative_with_the_slug(atlas_map, chicago_editor):
    existing = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        slug="wifi",
        status="idea",
        publication_state=PublicationState.DRAFT,
    )
    run(atlas_map, chicago_editor, make_csv([["CHI-7", "wifi", "Wi-Fi", "", "", "", ""]]))
    existing.refresh_from_db()
    assert existing.external_id == "CHI-7"
    assert Initiative.objects.count() == 1


def test_the_file_size_limit_refuses_before_reading_rows(atlas_map, chicago_editor, settings):
    data = make_csv([["", "", f"Initiative {n}", "", "", "", ""] for n in range(50)])
    settings.ATLAS_IMPORT_MAX_BYTES = len(data) - 1
    result = run(atlas_map, chicago_editor, data)
    assert messages_of(result) == [
        f"Line 1: The file is larger than the limit of {len(data) - 1} bytes."
    ]
    assert not Initiative.objects.exists()


def test_the_row_limit_refuses_the_whole_file(atlas_map, chicago_editor, settings):
    settings.ATLAS_IMPORT_MAX_ROWS = 3
    rows = [["", "", f"Initiative {n}", "", "", "", ""] for n in range(4)]
    # The last row is broken too: the limit is reported, not the row.
    rows.append(["", "", "Broken", "", "not a date", "", ""])
    result = run(atlas_map, chicago_editor, make_csv(rows))
    assert messages_of(result) == ["Line 1: The file has 5 rows; the limit is 3."]
    assert not Initiative.objects.exists()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(b"", "Line 1: The file is empty.", id="empty"),
        pytest.param(
            b"title\nCaf\xe9\n",
            "Line 2: The file is not UTF-8 text. Save the spreadsheet as CSV (UTF-8).",
            id="latin-1",
        ),
        pytest.param(
            b"title\n\x89PNG\x00\x01\n",
            "Line 2: This is not a text file. Save the spreadsheet as CSV (UTF-8).",
            id="binary",
        ),
        pytest.param(
            b"slug,status\nwifi,idea\n",
            "Line 1: The header lacks the required column title.",
            id="no-title",
        ),
        pytest.param(
            b"title,colour\nWi-Fi,blue\n",
            "Line 1: Unknown columns: colour. The columns are: external_id, slug, title, "
            "summary, description, status, language, start_date, end_date, budget_amount, "
            "budget_currency, plan, lead_organization, focus_areas, sectors, is_illustrative.",
            id="unknown-column",
        ),
        pytest.param(
            b'title\nWi-Fi\n"Open "data" portal"\n',
            "Line 3: This line is not valid CSV",
            id="bad-quotes",
        ),
        pytest.param(
            b"title,slug\nWi-Fi,wifi,extra\n",
            "Line 2: This row has 3 cells but the header has 2.",
            id="extra-cell",
        ),
    ],
)
def test_broken_files_are_refused_with_a_line_number(atlas_map, chicago_editor, data, expected):
    result = run(atlas_map, chicago_editor, data)
    assert len(result.errors) == 1
    assert messages_of(result)[0].startswith(expected)
    assert not Initiative.objects.exists()


def test_a_byte_order_mark_is_accepted(atlas_map, chicago_editor):
    result = run(atlas_map, chicago_editor, make_csv([["", "", "Wi-Fi", "", "", "", ""]], bom=True))
    assert result.written
    assert Initiative.objects.get().title == "Wi-Fi"


@pytest.mark.parametrize(
    ("header", "row", "expected"),
    [
        (["title", "budget_amount", "budget_currency"], ["A", "12,5", "USD"],
         "Line 2, budget_amount: “12,5” is not an amount such as 250000 or 1250.50."),
        (["title", "budget_amount", "budget_currency"], ["A", "NaN", "USD"],
         "Line 2, budget_amount: “NaN” is not an amount such as 250000 or 1250.50."),
        (["title", "budget_amount", "budget_currency"], ["A", "100", ""],
         "Line 2, budget_currency: Give a budget together with its currency."),
        (["title", "budget_amount", "budget_currency"], ["A", "100", "XYZ"],
         "Line 2, budget_currency: XYZ is not an ISO 4217 currency code such as USD or EUR."),
        (["title", "start_date", "end_date"], ["A", "2026-05-01", "2026-04-01"],
         "Line 2, end_date: The end date cannot come before the start date."),
        (["title", "end_date"], ["A", "31/12/2026"],
         "Line 2, end_date: “31/12/2026” is not a date written as YYYY-MM-DD."),
        (["title", "end_date"], ["A", "20261231"],
         "Line 2, end_date: “20261231” is not a date written as YYYY-MM-DD."),
        (["title", "status"], ["A", "finished"],
         "Line 2, status: “finished” is not one of: idea, planned, active, completed, "
         "paused, cancelled."),
        (["title", "plan"], ["A", "no-such-plan"],
         "Line 2, plan: No plan has the slug “no-such-plan”."),
        (["title", "lead_organization"], ["A", "nobody"],
         "Line 2, lead_organization: No organization has the slug “nobody”."),
        (["title", "focus_areas"], ["A", "mobility;space-travel"],
         "Line 2, focus_areas: Unknown slugs: space-travel."),
        (["title", "sectors"], ["A", "farming"], "Line 2, sectors: Unknown slugs: farming."),
        (["title", "is_illustrative"], ["A", "maybe"],
         "Line 2, is_illustrative: “maybe” is neither true nor false."),
        (["title", "slug"], ["A", "not a slug"],
         "Line 2, slug: Enter a valid “slug” consisting of letters, numbers, underscores "
         "or hyphens."),
        (["title", "slug"], ["   ", "blank"], "Line 2, title: A title is required."),
    ],
)  # fmt: skip
def test_bad_values_are_row_errors(atlas_map, chicago_editor, terms, header, row, expected):
    result = run(atlas_map, chicago_editor, make_csv([row], header))
    assert messages_of(result) == [expected]
    assert not Initiative.objects.exists()


def test_duplicates_inside_the_file_name_both_lines(atlas_map, chicago_editor):
    rows = [
        ["CHI-1", "wifi", "Wi-Fi", "", "", "", ""],
        ["CHI-2", "portal", "Portal", "", "", "", ""],
        ["CHI-1", "other", "Other", "", "", "", ""],
        ["CHI-3", "portal", "Portal again", "", "", "", ""],
    ]
    result = run(atlas_map, chicago_editor, make_csv(rows))
    assert messages_of(result) == [
        "Line 4, external_id: The external id “CHI-1” is also on line 2.",
        "Line 5, slug: The slug “portal” is also on line 3.",
    ]
    assert not Initiative.objects.exists()


def test_a_slug_of_another_jurisdiction_is_refused(atlas_map, chicago_editor):
    InitiativeFactory.create(jurisdiction=atlas_map.nyc, slug="wifi")
    result = run(atlas_map, chicago_editor, make_csv([["", "wifi", "Wi-Fi", "", "", "", ""]]))
    assert messages_of(result) == [
        "Line 2, slug: The slug “wifi” is taken by an initiative of another jurisdiction."
    ]
    assert Initiative.objects.count() == 1


def test_a_title_slug_taken_elsewhere_gets_a_number(atlas_map, chicago_editor):
    InitiativeFactory.create(jurisdiction=atlas_map.nyc, slug="wi-fi")
    InitiativeFactory.create(jurisdiction=atlas_map.nyc, slug="wi-fi-2")
    run(atlas_map, chicago_editor, make_csv([["", "", "Wi-Fi", "", "", "", ""]]))
    assert Initiative.objects.get(jurisdiction=atlas_map.chicago).slug == "wi-fi-3"


def test_a_plan_of_another_jurisdiction_is_refused(atlas_map, chicago_editor):
    PlanFactory.create(jurisdiction=atlas_map.nyc, slug="nyc-plan")
    result = run(atlas_map, chicago_editor, make_csv([["A", "nyc-plan"]], ["title", "plan"]))
    assert messages_of(result) == [
        "Line 2, plan: The plan “nyc-plan” belongs to another jurisdiction."
    ]


def test_the_status_lifecycle_holds(atlas_map, chicago_editor):
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, slug="wifi", external_id="CHI-1", status="completed"
    )
    result = run(
        atlas_map, chicago_editor, make_csv([["CHI-1", "", "Wi-Fi", "active", "", "", ""]])
    )
    assert messages_of(result) == [
        "Line 2, status: An initiative cannot go from Completed to Active."
    ]
    assert Initiative.objects.get().status == "completed"


def test_an_illinois_initiative_is_not_reached_from_chicago(atlas_map, chicago_editor):
    """Matching stays within the jurisdiction: a Springfield slug is another jurisdiction's."""
    InitiativeFactory.create(jurisdiction=atlas_map.springfield, slug="wifi", external_id="X")
    result = run(atlas_map, chicago_editor, make_csv([["X", "", "Wi-Fi", "", "", "", ""]]))
    assert result.plan.created == 1
    assert Initiative.objects.filter(external_id="X").count() == 2


def test_planning_needs_edit_rights(atlas_map, chicago_reviewer):
    from django.core.exceptions import PermissionDenied

    parsed = parse_initiatives_csv(make_csv([["", "", "Wi-Fi", "", "", "", ""]]))
    with pytest.raises(PermissionDenied):
        plan_import(jurisdiction=atlas_map.chicago, actor=chicago_reviewer, rows=parsed.rows)


def test_multiline_cells_report_the_line_they_start_on(atlas_map, chicago_editor):
    data = b'title,description,start_date\nA,"one\ntwo\nthree",\nB,,tomorrow\n'
    result = run(atlas_map, chicago_editor, data)
    assert messages_of(result) == [
        "Line 5, start_date: “tomorrow” is not a date written as YYYY-MM-DD."
    ]


# ------------------------------------------------------------------------------
# The command
# ------------------------------------------------------------------------------


def write_big_file(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["external_id", "title", "status", "start_date", "focus_areas",
                         "budget_amount", "budget_currency"])  # fmt: skip
        for n in range(rows):
            writer.writerow(
                [f"CHI-{n}", f"Initiative {n}", "planned", "2026-01-01",
                 "mobility" if n % 3 == 0 else "", f"{n}.50", "USD"]
            )  # fmt: skip


def test_the_command_imports_ten_thousand_rows_and_reports_the_rate(
    atlas_map, chicago_editor, terms, tmp_path, capsys
):
    path = tmp_path / "initiatives.csv"
    write_big_file(path, 10_000)
    call_command(
        "import_initiatives", str(path), "--jurisdiction", "chicago", "--actor", "chicago-editor"
    )
    out = capsys.readouterr().out
    print(out)  # The figure the documentation quotes.
    assert re.search(
        r"10000 rows: created 10000, updated 0, unchanged 0, in [\d.]+ s \(\d+ rows/s\)", out
    )
    assert Initiative.objects.filter(jurisdiction=atlas_map.chicago).count() == 10_000
    assert Initiative.objects.filter(focus_areas__slug="mobility").count() == 3334


def test_the_command_dry_run_writes_nothing(atlas_map, chicago_editor, terms, tmp_path, capsys):
    path = tmp_path / "initiatives.csv"
    write_big_file(path, 20)
    call_command(
        "import_initiatives", str(path), "--jurisdiction", "chicago",
        "--actor", "chicago-editor", "--dry-run",
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "20 rows: to create 20, to update 0, unchanged 0" in out
    assert "rows/s" in out
    assert not Initiative.objects.exists()


def test_the_command_fails_on_errors_and_lists_them(atlas_map, chicago_editor, tmp_path, capsys):
    path = tmp_path / "initiatives.csv"
    path.write_bytes(make_csv([["", "", "A", "idea", "soon", "", ""]]))
    with pytest.raises(CommandError, match="1 errors; nothing was written"):
        call_command(
            "import_initiatives",
            str(path),
            "--jurisdiction",
            "chicago",
            "--actor",
            "chicago-editor",
        )
    assert "Line 2, start_date" in capsys.readouterr().err
    assert not Initiative.objects.exists()


def test_the_command_refuses_an_actor_without_edit_rights(atlas_map, nyc_editor, tmp_path):
    path = tmp_path / "initiatives.csv"
    path.write_bytes(make_csv([["", "", "A", "", "", "", ""]]))
    with pytest.raises(CommandError, match="You may not edit"):
        call_command(
            "import_initiatives", str(path), "--jurisdiction", "chicago", "--actor", "nyc-editor"
        )
    assert not Initiative.objects.exists()


# ------------------------------------------------------------------------------
# The pages
# ------------------------------------------------------------------------------


def import_url(atlas_map) -> str:
    return reverse("council:csv:import", kwargs={"slug": atlas_map.chicago.slug})


def confirm_url(atlas_map) -> str:
    return reverse("council:csv:import-confirm", kwargs={"slug": atlas_map.chicago.slug})


def upload(client, atlas_map, data: bytes, name: str = "initiatives.csv"):
    return client.post(import_url(atlas_map), {"file": SimpleUploadedFile(name, data, "text/csv")})


def token_of(response) -> str:
    return response.context["confirm_form"].initial["token"]


def test_the_upload_page_shows_the_form(client, atlas_map, chicago_editor):
    client.force_login(chicago_editor)
    response = client.get(import_url(atlas_map))
    assert response.status_code == 200
    assert b'enctype="multipart/form-data"' in response.content
    assert reverse("council:csv:export", kwargs={"slug": "chicago"}).encode() in response.content


def test_upload_previews_then_confirm_imports(client, atlas_map, chicago_editor):
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        slug="wifi",
        status="idea",
        publication_state=PublicationState.DRAFT,
    )
    client.force_login(chicago_editor)
    data = make_csv(
        [["", "wifi", "Wi-Fi everywhere", "planned", "", "", ""],
         ["", "", "Open data portal", "", "", "", ""]]
    )  # fmt: skip

    preview = upload(client, atlas_map, data)

    assert preview.status_code == 200
    assert b"1 to create, 1 to update, 0 unchanged" in preview.content
    assert b"title, status" in preview.content
    assert b"Line 3: Open data portal" not in preview.content
    assert Initiative.objects.count() == 1  # The preview writes nothing.
    response = client.post(confirm_url(atlas_map), {"token": token_of(preview)})
    assert response.status_code == 302
    assert Initiative.objects.get(slug="wifi").title == "Wi-Fi everywhere"
    assert Initiative.objects.get(slug="open-data-portal").publication_state == "draft"
    page = client.get(response["Location"])
    assert b"Import done. Created as drafts: 1. Updated: 1. Unchanged: 0." in page.content


def test_the_preview_lists_unchanged_rows_and_offers_nothing_to_confirm(
    client, atlas_map, chicago_editor
):
    client.force_login(chicago_editor)
    data = make_csv([["CHI-1", "wifi", "Wi-Fi", "idea", "", "", ""]])
    run(atlas_map, chicago_editor, data)
    preview = upload(client, atlas_map, data)
    assert preview.status_code == 200
    assert b"0 to create, 0 to update, 1 unchanged" in preview.content
    assert b"Line 2: Wi-Fi <code>wifi</code>" in preview.content
    assert b"there is nothing to import" in preview.content
    assert b"import/confirm/" not in preview.content


def test_the_preview_shows_row_errors_with_their_lines(client, atlas_map, chicago_editor):
    client.force_login(chicago_editor)
    data = make_csv([["", "", "Fine", "", "", "", ""], ["", "", "Broken", "", "", "", "warp"]])
    response = upload(client, atlas_map, data)
    assert response.status_code == 400
    assert "Line 3, focus_areas: Unknown slugs: warp." in response.content.decode()
    assert response.context["confirm_form"] is None
    assert b"import/confirm/" not in response.content
    assert not Initiative.objects.exists()


def test_an_oversized_upload_is_refused_on_the_form(client, atlas_map, chicago_editor, settings):
    settings.ATLAS_IMPORT_MAX_BYTES = 100
    client.force_login(chicago_editor)
    data = make_csv([["", "", f"Initiative {n}", "", "", "", ""] for n in range(10)])
    response = upload(client, atlas_map, data)
    assert response.status_code == 400
    assert "the largest file accepted is 100" in response.content.decode()
    assert not Initiative.objects.exists()
    assert not response.context.get("plan")


def test_too_many_rows_are_refused_on_the_page(client, atlas_map, chicago_editor, settings):
    settings.ATLAS_IMPORT_MAX_ROWS = 2
    client.force_login(chicago_editor)
    data = make_csv([["", "", f"Initiative {n}", "", "", "", ""] for n in range(3)])
    response = upload(client, atlas_map, data)
    assert response.status_code == 400
    assert "The file has 3 rows; the limit is 2." in response.content.decode()
    assert not Initiative.objects.exists()


def test_an_empty_upload_is_a_form_error(client, atlas_map, chicago_editor):
    client.force_login(chicago_editor)
    response = upload(client, atlas_map, b"")
    assert response.status_code == 400
    assert b"The submitted file is empty." in response.content


def test_a_tampered_token_is_refused(client, atlas_map, chicago_editor):
    client.force_login(chicago_editor)
    preview = upload(client, atlas_map, make_csv([["", "", "Wi-Fi", "", "", "", ""]]))
    token = token_of(preview)
    payload = signing.loads(token, salt=SIGNING_SALT)
    forged = [
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        signing.dumps({**payload, "file": "../../etc/passwd"}, salt="another salt"),
        "not a token",
    ]
    for value in forged:
        response = client.post(confirm_url(atlas_map), {"token": value})
        assert response.status_code == 400
        assert b"Upload the file again" in response.content
    assert not Initiative.objects.exists()


def test_a_token_is_bound_to_its_user(client, atlas_map, chicago_editor, illinois_editor):
    client.force_login(chicago_editor)
    preview = upload(client, atlas_map, make_csv([["", "", "Wi-Fi", "", "", "", ""]]))
    client.force_login(illinois_editor)
    response = client.post(confirm_url(atlas_map), {"token": token_of(preview)})
    assert response.status_code == 400
    assert not Initiative.objects.exists()


def test_a_token_is_bound_to_its_jurisdiction(client, atlas_map, illinois_editor):
    client.force_login(illinois_editor)
    preview = upload(client, atlas_map, make_csv([["", "", "Wi-Fi", "", "", "", ""]]))
    springfield = reverse("council:csv:import-confirm", kwargs={"slug": "springfield"})
    response = client.post(springfield, {"token": token_of(preview)})
    assert response.status_code == 400
    assert not Initiative.objects.exists()


def test_confirm_checks_the_file_again(client, atlas_map, chicago_editor):
    """Data that changed between preview and confirmation is caught, and nothing is written."""
    client.force_login(chicago_editor)
    preview = upload(client, atlas_map, make_csv([["", "wifi", "Wi-Fi", "", "", "", ""]]))
    InitiativeFactory.create(jurisdiction=atlas_map.nyc, slug="wifi")
    response = client.post(confirm_url(atlas_map), {"token": token_of(preview)})
    assert response.status_code == 400
    assert "Line 2, slug: The slug “wifi” is taken" in response.content.decode()
    assert not Initiative.objects.filter(jurisdiction=atlas_map.chicago).exists()


def test_a_confirmed_upload_is_not_kept(client, atlas_map, chicago_editor):
    client.force_login(chicago_editor)
    preview = upload(client, atlas_map, make_csv([["", "", "Wi-Fi", "", "", "", ""]]))
    token = token_of(preview)
    name = signing.loads(token, salt=SIGNING_SALT)["file"]
    assert staging_storage().exists(name)
    client.post(confirm_url(atlas_map), {"token": token})
    assert not staging_storage().exists(name)
    response = client.post(confirm_url(atlas_map), {"token": token})
    assert response.status_code == 400
    assert Initiative.objects.count() == 1


def test_an_nyc_editor_cannot_import_into_chicago(client, atlas_map, nyc_editor):
    client.force_login(nyc_editor)
    assert client.get(import_url(atlas_map)).status_code == 404
    response = upload(client, atlas_map, make_csv([["", "", "Wi-Fi", "", "", "", ""]]))
    assert response.status_code == 404
    assert client.post(confirm_url(atlas_map), {"token": "x"}).status_code == 404
    assert not Initiative.objects.exists()


def test_a_chicago_reviewer_may_not_import(client, atlas_map, chicago_reviewer):
    client.force_login(chicago_reviewer)
    verify_second_factor(client, chicago_reviewer)
    assert client.get(import_url(atlas_map)).status_code == 403
    response = upload(client, atlas_map, make_csv([["", "", "Wi-Fi", "", "", "", ""]]))
    assert response.status_code == 403
    assert not Initiative.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, atlas_map):
    response = client.get(import_url(atlas_map))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_preview_costs_the_same_queries_for_10_and_100_rows(
    client, atlas_map, chicago_editor, terms, django_assert_max_num_queries
):
    """Everything the plan needs is read up front, not per row."""
    plan = PlanFactory.create(jurisdiction=atlas_map.chicago, slug="road-map")
    OrganizationFactory.create(slug="uchicago")
    for n in range(0, 100, 2):
        InitiativeFactory.create(
            jurisdiction=atlas_map.chicago, slug=f"i-{n}", external_id=f"CHI-{n}", status="idea"
        )
    header = [*HEADER, "plan", "lead_organization", "sectors", "budget_amount", "budget_currency"]

    def rows(count: int) -> bytes:
        return make_csv(
            [[f"CHI-{n}", f"i-{n}", f"Initiative {n}", "planned", "2026-01-01", "",
              "mobility;libraries", plan.slug, "uchicago", "health", "100", "EUR"]
             for n in range(count)],
            header,
        )  # fmt: skip

    client.force_login(chicago_editor)
    upload(client, atlas_map, rows(1))  # Warm up sessions and the like.
    counts = []
    for count in (10, 100):
        with django_assert_max_num_queries(20) as captured:
            response = upload(client, atlas_map, rows(count))
        assert response.status_code == 200
        assert f"{count} rows: ".encode() in response.content
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_the_result_keeps_the_numbers(atlas_map, chicago_editor):
    header = ["title", "budget_amount", "budget_currency", "is_illustrative"]
    run(atlas_map, chicago_editor, make_csv([["A", "1250.5", "EUR", "yes"]], header))
    initiative = Initiative.objects.get()
    assert initiative.budget_amount == Decimal("1250.50")
    assert initiative.is_illustrative is True


# ------------------------------------------------------------------------------
# Records in review, published and archived
# ------------------------------------------------------------------------------


def revision_rows() -> int:
    """Revisions and their history rows: a write of any kind adds one."""
    return Revision.objects.count() + Revision.history.count()


def published(atlas_map, **kwargs) -> Initiative:
    return InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        publication_state=PublicationState.PUBLISHED,
        status="idea",
        **kwargs,
    )


def test_a_published_initiative_keeps_its_public_face(atlas_map, chicago_editor, terms):
    """The row's changes wait in the initiative's revision for a reviewer."""
    initiative = published(atlas_map, slug="wifi", external_id="CHI-1", title="Wi-Fi")
    data = make_csv([["CHI-1", "wifi", "Wi-Fi for all", "planned", "", "", "mobility"]])
    history_before = history_rows()

    result = run(atlas_map, chicago_editor, data)

    assert result.written
    assert not result.errors
    assert result.plan.waiting_for_review == 1
    initiative.refresh_from_db()
    assert (initiative.title, initiative.status) == ("Wi-Fi", "idea")
    assert not initiative.focus_areas.exists()
    assert history_rows() == history_before
    revision = open_revision(initiative)
    assert revision is not None
    assert revision.author == chicago_editor
    assert revision.data["fields"]["title"] == "Wi-Fi for all"
    assert revision.data["fields"]["status"] == "planned"
    assert revision.data["focus_areas"] == [terms["mobility"].pk]


def test_reimporting_onto_a_published_initiative_writes_no_new_revision(
    atlas_map, chicago_editor, terms
):
    published(atlas_map, slug="wifi", external_id="CHI-1", title="Wi-Fi")
    data = make_csv([["CHI-1", "wifi", "Wi-Fi for all", "planned", "2026-01-01", "", "mobility"]])
    run(atlas_map, chicago_editor, data)
    before = (history_rows(), revision_rows())
    stamp = Revision.objects.get().updated_at

    again = run(atlas_map, chicago_editor, data)

    assert again.plan.unchanged == 1
    assert again.plan.updated == 0
    assert (history_rows(), revision_rows()) == before
    assert Revision.objects.get().updated_at == stamp


def test_a_published_initiative_equal_to_the_row_gets_no_revision(atlas_map, chicago_editor):
    published(atlas_map, slug="wifi", external_id="CHI-1", title="Wi-Fi")
    result = run(
        atlas_map, chicago_editor, make_csv([["CHI-1", "wifi", "Wi-Fi", "idea", "", "", ""]])
    )
    assert result.plan.unchanged == 1
    assert not Revision.objects.exists()


def test_an_initiative_in_review_is_saved_through_the_workflow(
    atlas_map, chicago_editor, monkeypatch
):
    from initiatives import services, workflow

    initiative = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        slug="wifi",
        status="idea",
        title="Wi-Fi",
        publication_state=PublicationState.REVIEW,
    )
    saved = []
    real_save = workflow.record_save_changes

    def save_changes(*, record, data, actor):
        saved.append((record.pk, data["fields"]["title"], actor))
        return real_save(record=record, data=data, actor=actor)

    def no_fast_path(**kwargs):
        raise AssertionError("a record in review was written around the workflow")

    monkeypatch.setattr(workflow, "record_save_changes", save_changes)
    monkeypatch.setattr(services, "initiative_update", no_fast_path)
    result = run(atlas_map, chicago_editor, make_csv([["", "wifi", "Wi-Fi 2", "", "", "", ""]]))
    assert result.written
    assert not result.errors
    assert saved == [(initiative.pk, "Wi-Fi 2", chicago_editor)]
    initiative.refresh_from_db()
    assert initiative.title == "Wi-Fi 2"


def test_a_refused_revision_rolls_back_the_others(atlas_map, chicago_editor, monkeypatch):
    from django.core.exceptions import ValidationError

    from initiatives import workflow

    for n in range(2):
        published(atlas_map, slug=f"i-{n}", external_id=f"E{n}")
    real_save = workflow.record_save_changes

    def save_changes(*, record, **kwargs):
        if record.slug == "i-1":
            raise ValidationError({"publication_state": ValidationError("Changed meanwhile.")})
        return real_save(record=record, **kwargs)

    monkeypatch.setattr(workflow, "record_save_changes", save_changes)
    rows = [[f"E{n}", "", f"Renamed {n}", "", "", "", ""] for n in range(2)]
    result = run(atlas_map, chicago_editor, make_csv(rows))
    assert messages_of(result) == ["Line 3, publication_state: Changed meanwhile."]
    assert not result.written
    assert revision_rows() == 0


def test_an_archived_initiative_is_a_row_error(atlas_map, chicago_editor):
    initiative = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        slug="wifi",
        external_id="CHI-1",
        title="Wi-Fi",
        status="idea",
        publication_state=PublicationState.ARCHIVED,
    )
    result = run(atlas_map, chicago_editor, make_csv([["CHI-1", "", "Renamed", "", "", "", ""]]))
    assert messages_of(result) == ["Line 2: This initiative is archived: unarchive it first."]
    initiative.refresh_from_db()
    assert initiative.title == "Wi-Fi"
    assert not Revision.objects.exists()
    # A row equal to it (an export read back) writes nothing and is no error.
    same = run(atlas_map, chicago_editor, make_csv([["CHI-1", "", "Wi-Fi", "", "", "", ""]]))
    assert not same.errors
    assert same.plan.unchanged == 1


def test_the_slug_of_an_existing_initiative_cannot_change(atlas_map, chicago_editor):
    initiative = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        slug="wifi",
        external_id="CHI-1",
        publication_state=PublicationState.DRAFT,
    )
    result = run(atlas_map, chicago_editor, make_csv([["CHI-1", "wi-fi", "Wi-Fi", "", "", "", ""]]))
    assert messages_of(result) == [
        "Line 2, slug: The slug of this initiative is “wifi”; it cannot change to “wi-fi”."
    ]
    initiative.refresh_from_db()
    assert initiative.slug == "wifi"


def test_the_preview_and_the_result_say_which_changes_wait_for_review(
    client, atlas_map, chicago_editor
):
    published(atlas_map, slug="wifi", external_id="CHI-1", title="Wi-Fi")
    client.force_login(chicago_editor)
    preview = upload(client, atlas_map, make_csv([["CHI-1", "", "Wi-Fi 2", "", "", "", ""]]))
    assert preview.status_code == 200
    assert b"Update: will be kept as changes waiting for review" in preview.content
    assert b"They will be kept as changes waiting for review." in preview.content
    response = client.post(confirm_url(atlas_map), {"token": token_of(preview)}, follow=True)
    assert b"Import done. Created as drafts: 0. Updated: 1. Unchanged: 0." in response.content
    assert b"Updates to published initiatives: 1." in response.content
    assert Initiative.objects.get().title == "Wi-Fi"


def test_a_second_confirm_racing_the_first_is_a_form_error(
    client, atlas_map, chicago_editor, monkeypatch
):
    """The staged file goes between the token's check and its opening: 400, not 500."""
    from council import csv_views

    client.force_login(chicago_editor)
    preview = upload(client, atlas_map, make_csv([["", "", "Wi-Fi", "", "", "", ""]]))

    class Gone:
        def open(self, name, mode="rb"):
            raise FileNotFoundError(name)

    monkeypatch.setattr(csv_views, "staging_storage", Gone)
    response = client.post(confirm_url(atlas_map), {"token": token_of(preview)})
    assert response.status_code == 400
    assert b"Upload the file again" in response.content
    assert not Initiative.objects.exists()


def test_the_unchanged_rows_heading_reads_well(client, atlas_map, chicago_editor):
    client.force_login(chicago_editor)
    data = make_csv([["CHI-1", "wifi", "Wi-Fi", "idea", "", "", ""]])
    run(atlas_map, chicago_editor, data)
    preview = upload(client, atlas_map, data)
    assert b"Rows identical to the stored records (nothing to write)" in preview.content
