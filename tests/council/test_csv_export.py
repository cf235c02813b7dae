"""Exporting a jurisdiction's initiatives as CSV, and importing the export back."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from initiatives.csv_io import (
    COLUMNS,
    escape_cell,
    export_initiatives,
    import_initiatives,
    unescape_cell,
)
from initiatives.models import FocusArea, Initiative, PublicationState, Sector
from initiatives.workflow import open_revision
from tests.conftest import verify_second_factor
from tests.factories import InitiativeFactory, OrganizationFactory, PlanFactory


def export_url(slug: str = "chicago") -> str:
    return reverse("council:csv:export", kwargs={"slug": slug})


def read(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))


@pytest.fixture
def chicago_records(atlas_map):
    plan = PlanFactory.create(jurisdiction=atlas_map.chicago, slug="chicago-digital")
    org = OrganizationFactory.create(slug="uchicago")
    area = FocusArea.objects.order_by("slug")[0]
    sector = Sector.objects.order_by("slug")[0]
    tricky = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        slug="tricky",
        external_id="CHI-1",
        title='=HYPERLINK("http://evil.example","click")',
        summary="-1 is not a budget\nand @mentions are not formulas",
        description="+ a Markdown list\n+ with two items, «accents» and emoji 🚲",
        status=Initiative.Status.ACTIVE,
        start_date=datetime.date(2025, 3, 1),
        end_date=datetime.date(2027, 12, 31),
        budget_amount=Decimal("2500000.50"),
        budget_currency="USD",
        plan=plan,
        lead_organization=org,
        is_illustrative=True,
        focus_areas=[area],
    )
    tricky.sectors.set([sector])
    draft = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        slug="draft-one",
        title="'=already quoted",
        publication_state=PublicationState.DRAFT,
        status=Initiative.Status.IDEA,
    )
    other = InitiativeFactory.create(jurisdiction=atlas_map.springfield, slug="springfield-one")
    return {"tricky": tricky, "draft": draft, "other": other}


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@here", "'@here"),
        ("\tTab", "'\tTab"),
        ("\rReturn", "'\rReturn"),
        ("'=x", "''=x"),
        ("plain", "plain"),
        ("it's", "it's"),
        ("'quoted'", "'quoted'"),
        ("", ""),
    ],
)
def test_cells_a_spreadsheet_would_run_are_escaped_and_unescaped(value, written):
    assert escape_cell(value) == written
    assert unescape_cell(written) == value


def test_export_is_an_attachment_in_the_import_format(client, atlas_map, chicago_editor,
                                                      chicago_records):  # fmt: skip
    client.force_login(chicago_editor)
    response = client.get(export_url())
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="chicago-initiatives.csv"'
    assert response.content.startswith("\ufeff".encode())
    rows = read(response.content)
    assert list(rows[0]) == list(COLUMNS)
    assert [row["slug"] for row in rows] == ["draft-one", "tricky"]
    tricky = rows[1]
    assert tricky["title"] == '\'=HYPERLINK("http://evil.example","click")'
    assert tricky["summary"].startswith("'-1")
    assert tricky["description"].startswith("'+ a Markdown list")
    assert tricky["budget_amount"] == "2500000.50"
    assert tricky["plan"] == "chicago-digital"
    assert tricky["lead_organization"] == "uchicago"
    assert tricky["is_illustrative"] == "true"
    assert tricky["start_date"] == "2025-03-01"
    assert rows[0]["title"] == "''=already quoted"


def test_export_then_import_changes_nothing(atlas_map, chicago_editor, chicago_records):
    out = io.StringIO()
    assert export_initiatives(jurisdiction=atlas_map.chicago, user=chicago_editor, out=out) == 2
    history = Initiative.history.count()
    stored = {
        i.pk: (i.title, i.summary, i.description, i.updated_at) for i in Initiative.objects.all()
    }

    result = import_initiatives(
        jurisdiction=atlas_map.chicago, actor=chicago_editor, file=out.getvalue().encode()
    )

    assert not result.errors
    assert result.plan.unchanged == 2
    assert result.plan.created == result.plan.updated == 0
    assert Initiative.history.count() == history
    assert {
        i.pk: (i.title, i.summary, i.description, i.updated_at) for i in Initiative.objects.all()
    } == stored
    assert Initiative.objects.get(slug="tricky").title.startswith("=HYPERLINK(")
    assert Initiative.objects.get(slug="draft-one").title == "'=already quoted"


def test_an_edited_export_updates_what_changed(atlas_map, chicago_editor, chicago_records):
    out = io.StringIO()
    export_initiatives(jurisdiction=atlas_map.chicago, user=chicago_editor, out=out)
    edited = out.getvalue().replace("2500000.50", "3000000.00")
    result = import_initiatives(
        jurisdiction=atlas_map.chicago, actor=chicago_editor, file=edited.encode()
    )
    assert [(row.slug, row.changed) for row in result.plan.rows if row.action == "update"] == [
        ("tricky", ["budget_amount"])
    ]
    # "tricky" is published: the public keeps the old budget until a reviewer publishes.
    tricky = Initiative.objects.get(slug="tricky")
    assert tricky.budget_amount == Decimal("2500000.50")
    revision = open_revision(tricky)
    assert revision is not None
    assert revision.data["fields"]["budget_amount"] == "3000000.00"


def test_a_reviewer_may_export_drafts_included(client, atlas_map, chicago_reviewer,
                                               chicago_records):  # fmt: skip
    client.force_login(chicago_reviewer)
    verify_second_factor(client, chicago_reviewer)
    response = client.get(export_url())
    assert response.status_code == 200
    assert {row["slug"] for row in read(response.content)} == {"draft-one", "tricky"}


def test_the_export_shows_only_what_the_user_may_see(atlas_map, chicago_records, outsider):
    """Outside the workspace's rules the service still only writes visible rows."""
    out = io.StringIO()
    export_initiatives(jurisdiction=atlas_map.chicago, user=outsider, out=out)
    assert [row["slug"] for row in read(out.getvalue().encode())] == ["tricky"]


def test_another_jurisdictions_export_is_not_found(client, atlas_map, nyc_editor, chicago_records):
    client.force_login(nyc_editor)
    assert client.get(export_url()).status_code == 404
    assert client.get(export_url("new-york-city")).status_code == 200


def test_someone_without_a_council_role_cannot_export(client, atlas_map, outsider):
    client.force_login(outsider)
    assert client.get(export_url()).status_code == 404


def test_the_export_costs_a_fixed_number_of_queries(
    client, atlas_map, chicago_editor, chicago_records, django_assert_max_num_queries
):
    for n in range(30):
        InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug=f"more-{n}")
    client.force_login(chicago_editor)
    with django_assert_max_num_queries(12):
        response = client.get(export_url())
    assert len(read(response.content)) == 32
