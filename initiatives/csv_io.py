"""
A jurisdiction's initiatives as CSV: parse, plan, import and export.

One format serves both directions (docs/csv-import.md), so a file exported here
imports back with no change. An import runs in two steps: ``plan_import`` says
what each row would do without writing, and ``import_initiatives`` plans again
and applies the plan in one transaction, so any error writes nothing. Updates
to a draft go through ``initiatives.services.initiative_update``; updates to a
record in review or published go through ``initiatives.workflow``, like a
form's, so a published record keeps its public face and the changes wait in its
revision for a reviewer. New drafts are inserted in batches
(``_create_drafts``) with the history initiative_create would leave.

Everything the plan needs is read up front in a fixed number of queries (the
jurisdiction's initiatives, the plans, organizations and terms the file names),
so a preview costs the same for ten rows as for ten thousand.
"""

from __future__ import annotations

import copy
import csv
import datetime
import io
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, TYPE_CHECKING, Any, Literal

from django.apps import apps
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, models, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cities.models import Jurisdiction
from council import permissions
from council.models import Organization
from initiatives import services, workflow
from initiatives.models import (
    ContentLanguage,
    FocusArea,
    Initiative,
    Plan,
    PublicationState,
    Revision,
    Sector,
)
from initiatives.selectors import visible_initiatives
from initiatives.snapshots import Snapshot, encode

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

# ------------------------------------------------------------------------------
# The format
# ------------------------------------------------------------------------------

COLUMNS: tuple[str, ...] = (
    "external_id",
    "slug",
    "title",
    "summary",
    "description",
    "status",
    "language",
    "start_date",
    "end_date",
    "budget_amount",
    "budget_currency",
    "plan",
    "lead_organization",
    "focus_areas",
    "sectors",
    "is_illustrative",
)
REQUIRED_COLUMNS: frozenset[str] = frozenset({"title"})
LIST_SEPARATOR = ";"

# Plain text columns keep their spaces as typed: trimming them would turn a
# stored value with a trailing space into a change on every re-import.
TEXT_COLUMNS = frozenset({"title", "summary", "description"})

# A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# The export's escape: one apostrophe before a trigger, or before apostrophes
# that precede one, so "'=x" itself survives the round trip as well.
_ESCAPED = re.compile(r"'+[=+\-@\t\r]")

TRUE_WORDS = frozenset({"true", "yes", "1", "y"})
FALSE_WORDS = frozenset({"false", "no", "0", "n", ""})

# Initiative fields a row may set, with the column that sets each.
FIELD_COLUMNS: dict[str, str] = {
    "external_id": "external_id",
    "slug": "slug",
    "title": "title",
    "summary": "summary",
    "description": "description",
    "status": "status",
    "language": "language",
    "start_date": "start_date",
    "end_date": "end_date",
    "budget_amount": "budget_amount",
    "budget_currency": "budget_currency",
    "plan": "plan",
    "lead_organization": "lead_organization",
    "is_illustrative": "is_illustrative",
}

# The numbers tried on a slug made from a title that is taken already.
SLUG_NUMBERS = range(2, 21)

# Rows per INSERT when creating initiatives in bulk.
WRITE_BATCH = 500
# The term's foreign key on each many-to-many table.
_TERM_FIELDS = {"focus_areas": "focusarea", "sectors": "sector"}

# Large ``IN (...)`` lists are split: SQLite caps the parameters of one statement.
_IN_CHUNK = 2000


def escape_cell(value: str) -> str:
    """The cell as written to a file: a value a spreadsheet would run gets an apostrophe."""
    if value.startswith(FORMULA_TRIGGERS) or _ESCAPED.match(value):
        return "'" + value
    return value


def unescape_cell(value: str) -> str:
    """Undo ``escape_cell``: drop exactly one leading apostrophe before a formula trigger."""
    if _ESCAPED.match(value):
        return value[1:]
    return value


# ------------------------------------------------------------------------------
# Results
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """A problem with the file; ``line`` is the CSV line (the header is line 1)."""

    line: int
    message: str
    column: str = ""

    def __str__(self) -> str:
        if self.column:
            return _("Line %(line)s, %(column)s: %(message)s") % {
                "line": self.line,
                "column": self.column,
                "message": self.message,
            }
        return _("Line %(line)s: %(message)s") % {"line": self.line, "message": self.message}


@dataclass
class CsvRow:
    """One record of the file: its first line and its cells by column name."""

    line: int
    cells: dict[str, str]


@dataclass
class ParsedCsv:
    columns: list[str] = field(default_factory=list)
    rows: list[CsvRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


Action = Literal["create", "update", "unchanged"]


@dataclass
class RowOutcome:
    """What one row does: its action, the fields it changes, and what it writes."""

    line: int
    action: Action
    title: str
    slug: str
    initiative: Initiative | None = None
    changed: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    focus_areas: list[FocusArea] | None = None
    sectors: list[Sector] | None = None
    # A published initiative keeps its public face: the row's changes wait in
    # its revision until a reviewer publishes them.
    waits_for_review: bool = False


@dataclass
class ImportPlan:
    """The outcome of every valid row, and the errors of the others."""

    rows: list[RowOutcome] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def count(self, action: Action) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def created(self) -> int:
        return self.count("create")

    @property
    def updated(self) -> int:
        return self.count("update")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")

    @property
    def waiting_for_review(self) -> int:
        """Updates to published initiatives, which wait in their revisions."""
        return sum(1 for row in self.rows if row.action == "update" and row.waits_for_review)


@dataclass
class ImportResult:
    """What an import did. With errors, or on a dry run, nothing was written."""

    plan: ImportPlan
    written: bool
    seconds: float

    @property
    def errors(self) -> list[RowError]:
        return self.plan.errors

    @property
    def rows(self) -> int:
        return len(self.plan.rows)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float(self.rows)


# ------------------------------------------------------------------------------
# Parsing
# ------------------------------------------------------------------------------


def _read_bytes(file: bytes | IO[bytes], limit: int) -> bytes:
    """At most ``limit + 1`` bytes, enough to tell an oversized file without reading it all."""
    if isinstance(file, bytes):
        return file[: limit + 1]
    if hasattr(file, "seek"):
        file.seek(0)
    return file.read(limit + 1)


def _line_of_offset(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


class _CsvSyntaxError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each record with the line it starts on; a quoted cell may span lines."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    last_line = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise _CsvSyntaxError(reader.line_num or last_line + 1, str(error)) from error
        yield last_line + 1, record
        last_line = reader.line_num


def parse_initiatives_csv(
    file: bytes | IO[bytes],
    *,
    max_bytes: int | None = None,
    max_rows: int | None = None,
) -> ParsedCsv:
    """
    Read a CSV file of initiatives into rows of cells by column name.

    The limits (by default ATLAS_IMPORT_MAX_BYTES and ATLAS_IMPORT_MAX_ROWS) are
    checked before any row is read, and the file is refused whole when it breaks
    one. Problems are returned as errors with their line numbers, never raised.
    """
    max_bytes = settings.ATLAS_IMPORT_MAX_BYTES if max_bytes is None else max_bytes
    max_rows = settings.ATLAS_IMPORT_MAX_ROWS if max_rows is None else max_rows
    parsed = ParsedCsv()

    data = _read_bytes(file, max_bytes)
    if len(data) > max_bytes:
        parsed.errors.append(
            RowError(
                1,
                _("The file is larger than the limit of %(limit)s bytes.") % {"limit": max_bytes},
            )
        )
        return parsed
    if not data.strip():
        parsed.errors.append(RowError(1, _("The file is empty.")))
        return parsed
    if b"\x00" in data:
        parsed.errors.append(
            RowError(
                _line_of_offset(data, data.index(b"\x00")),
                _("This is not a text file. Save the spreadsheet as CSV (UTF-8)."),
            )
        )
        return parsed
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        parsed.errors.append(
            RowError(
                _line_of_offset(data, error.start),
                _("The file is not UTF-8 text. Save the spreadsheet as CSV (UTF-8)."),
            )
        )
        return parsed

    try:
        # Count the records first, reading nothing in them, so an oversized
        # file is refused before any row is looked at.
        count = sum(1 for _line, record in _records(text) if any(c.strip() for c in record))
    except _CsvSyntaxError as error:
        parsed.errors.append(
            RowError(
                error.line,
                _("This line is not valid CSV (%(error)s). Check its quotation marks.")
                % {"error": error.message},
            )
        )
        return parsed
    if count - 1 > max_rows:
        parsed.errors.append(
            RowError(
                1,
                _("The file has %(count)s rows; the limit is %(limit)s.")
                % {"count": count - 1, "limit": max_rows},
            )
        )
        return parsed

    records = _records(text)
    header: list[str] | None = None
    header_line = 1
    for first_line, record in records:
        if any(cell.strip() for cell in record):
            header, header_line = [cell.strip().lower() for cell in record], first_line
            break
    if header is None:
        parsed.errors.append(RowError(1, _("The file is empty.")))
        return parsed
    parsed.errors.extend(_header_errors(header, header_line))
    if parsed.errors:
        return parsed
    parsed.columns = header

    for line, record in records:
        if not any(cell.strip() for cell in record):
            continue  # Spreadsheets leave blank rows behind; they mean nothing.
        if len(record) != len(header):
            parsed.errors.append(
                RowError(
                    line,
                    _("This row has %(cells)s cells but the header has %(columns)s.")
                    % {"cells": len(record), "columns": len(header)},
                )
            )
            continue
        cells = {name: unescape_cell(cell) for name, cell in zip(header, record, strict=True)}
        parsed.rows.append(CsvRow(line=line, cells=cells))
    return parsed


def _header_errors(header: Sequence[str], line: int) -> list[RowError]:
    errors = []
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        errors.append(
            RowError(
                line,
                _("Unknown columns: %(unknown)s. The columns are: %(columns)s.")
                % {
                    "unknown": ", ".join(name or _("(blank)") for name in unknown),
                    "columns": ", ".join(COLUMNS),
                },
            )
        )
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        errors.append(
            RowError(
                line,
                _("Columns given twice: %(columns)s.") % {"columns": ", ".join(repeated)},
            )
        )
    missing = sorted(REQUIRED_COLUMNS - set(header))
    if missing:
        errors.append(
            RowError(
                line,
                _("The header lacks the required column %(columns)s.")
                % {"columns": ", ".join(missing)},
            )
        )
    return errors


# ------------------------------------------------------------------------------
# Planning
# ------------------------------------------------------------------------------


def _chunks[T](items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start : start + _IN_CHUNK]


def _in_chunks[M: models.Model](
    queryset: models.QuerySet[M], lookup: str, values: Iterable[str]
) -> list[M]:
    wanted = sorted(set(values))
    found: list[M] = []
    for chunk in _chunks(wanted):
        found.extend(queryset.filter(**{f"{lookup}__in": chunk}))
    return found


def _split_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]


@dataclass
class _Lookups:
    """Everything a plan reads from the database, read once."""

    by_external_id: dict[str, Initiative]
    by_slug: dict[str, Initiative]
    focus_areas: dict[str, FocusArea]
    sectors: dict[str, Sector]
    current_focus_areas: dict[int, set[int]]
    current_sectors: dict[int, set[int]]
    # The open revision's snapshot of each published initiative that has one:
    # a row is compared with what an editor would start from, not the public face.
    revisions: dict[int, Snapshot]
    plans: dict[str, Plan]
    organizations: dict[str, Organization]
    # Initiative slugs held by other jurisdictions.
    foreign_slugs: set[str]
    # Every stored slug that a generated slug might collide with.
    taken_slugs: set[str]


def _load(jurisdiction: Jurisdiction, rows: Sequence[CsvRow]) -> _Lookups:
    existing = list(
        Initiative.objects.filter(jurisdiction=jurisdiction)
        .select_related("plan", "lead_organization")
        .prefetch_related(
            models.Prefetch("focus_areas", queryset=FocusArea.objects.only("pk")),
            models.Prefetch("sectors", queryset=Sector.objects.only("pk")),
        )
    )
    plan_slugs = {row.cells.get("plan", "").strip() for row in rows} - {""}
    org_slugs = {row.cells.get("lead_organization", "").strip() for row in rows} - {""}
    row_slugs = {row.cells.get("slug", "").strip() for row in rows} - {""}
    stored_external_ids = {i.external_id for i in existing if i.external_id}
    # Rows with neither slug nor a known external id create records with a slug
    # made from the title; the slugs that could clash are read in advance.
    base_slugs = {
        _slug_base(row.cells.get("title", ""))
        for row in rows
        if not row.cells.get("slug", "").strip()
        and row.cells.get("external_id", "").strip() not in stored_external_ids
    }
    foreign = Initiative.objects.exclude(jurisdiction=jurisdiction).only("slug")
    stored = _in_chunks(foreign, "slug", row_slugs | base_slugs)
    taken = {initiative.slug for initiative in stored} | {i.slug for i in existing}
    # Only a taken title slug needs numbers; read those that are taken as well.
    numbered = {_numbered(base, number) for base in base_slugs & taken for number in SLUG_NUMBERS}
    stored += _in_chunks(foreign, "slug", numbered)
    foreign_slugs = {initiative.slug for initiative in stored}

    return _Lookups(
        by_external_id={i.external_id: i for i in existing if i.external_id},
        by_slug={i.slug: i for i in existing},
        focus_areas={term.slug: term for term in FocusArea.objects.all()},
        sectors={term.slug: term for term in Sector.objects.all()},
        current_focus_areas={i.pk: {term.pk for term in i.focus_areas.all()} for i in existing},
        current_sectors={i.pk: {term.pk for term in i.sectors.all()} for i in existing},
        revisions=dict(
            Revision.objects.filter(
                initiative__jurisdiction=jurisdiction, state__in=Revision.OPEN_STATES
            ).values_list("initiative_id", "data")
        ),
        plans={plan.slug: plan for plan in _in_chunks(Plan.objects.all(), "slug", plan_slugs)},
        organizations={
            org.slug: org for org in _in_chunks(Organization.objects.all(), "slug", org_slugs)
        },
        foreign_slugs=foreign_slugs,
        taken_slugs=foreign_slugs | {i.slug for i in existing},
    )


class _RowReader:
    """Turns one row's cells into field values, collecting every error on the way."""

    def __init__(self, row: CsvRow, lookups: _Lookups) -> None:
        self.row = row
        self.lookups = lookups
        self.errors: list[RowError] = []

    def error(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.row.line, message, column))

    def has(self, column: str) -> bool:
        return column in self.row.cells

    def text(self, column: str) -> str:
        value = self.row.cells.get(column, "")
        return value if column in TEXT_COLUMNS else value.strip()

    def date(self, column: str) -> datetime.date | None:
        value = self.text(column)
        if not value:
            return None
        try:
            # fromisoformat alone would also take 20260131 and week dates.
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                return datetime.date.fromisoformat(value)
        except ValueError:
            pass
        self.error(column, _("“%(value)s” is not a date written as YYYY-MM-DD.") % {"value": value})
        return None

    def decimal(self, column: str) -> Decimal | None:
        value = self.text(column)
        if not value:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or not re.fullmatch(r"\d+(\.\d+)?", value):
            self.error(
                column,
                _("“%(value)s” is not an amount such as 250000 or 1250.50.") % {"value": value},
            )
            return None
        return number

    def boolean(self, column: str) -> bool:
        value = self.text(column).lower()
        if value in TRUE_WORDS:
            return True
        if value not in FALSE_WORDS:
            self.error(column, _("“%(value)s” is neither true nor false.") % {"value": value})
        return False

    def choice(self, column: str, choices: Iterable[str]) -> str:
        value = self.text(column).lower()
        allowed = list(choices)
        if value not in allowed:
            self.error(
                column,
                _("“%(value)s” is not one of: %(choices)s.")
                % {"value": value, "choices": ", ".join(allowed)},
            )
        return value

    def terms[T: (FocusArea, Sector)](self, column: str, known: Mapping[str, T]) -> list[T]:
        slugs = _split_list(self.text(column))
        unknown = [slug for slug in slugs if slug not in known]
        if unknown:
            self.error(
                column,
                _("Unknown slugs: %(slugs)s.") % {"slugs": ", ".join(unknown)},
            )
        return [known[slug] for slug in dict.fromkeys(slugs) if slug in known]


def _snapshot(initiative: Initiative) -> dict[str, Any]:
    """The stored values the format covers, for comparing with a row."""
    return {name: getattr(initiative, name) for name in FIELD_COLUMNS}


# Columns a revision's snapshot holds: all but the slug, fixed once a record exists.
SNAPSHOT_COLUMNS = tuple(name for name in FIELD_COLUMNS if name != "slug")
_RELATIONS = frozenset({"plan", "lead_organization"})


def _encoded(name: str, value: Any) -> Any:
    """A field's value as a snapshot spells it (foreign keys as ids)."""
    if isinstance(value, models.Model):
        value = value.pk
    return encode(Initiative._meta.get_field(name), value)  # type: ignore[arg-type]


def _working_fields(current: Initiative, lookups: _Lookups) -> dict[str, Any]:
    """What an editor starts from, in snapshot spelling: the open revision, else the record."""
    revision = lookups.revisions.get(current.pk)
    if revision is not None:
        fields = revision.get("fields", {})
        return {name: fields.get(name) for name in SNAPSHOT_COLUMNS}
    return {
        name: _encoded(name, getattr(current, Initiative._meta.get_field(name).attname))  # type: ignore[union-attr]
        for name in SNAPSHOT_COLUMNS
    }


def _working_terms(current: Initiative, lookups: _Lookups, name: str) -> set[int]:
    revision = lookups.revisions.get(current.pk)
    if revision is not None:
        return set(revision.get(name, []))
    stored = lookups.current_focus_areas if name == "focus_areas" else lookups.current_sectors
    return stored[current.pk]


def _base_values(current: Initiative, lookups: _Lookups) -> dict[str, Any]:
    """The stored values, with an open revision's pending ones over them, for the checks."""
    values = _snapshot(current)
    revision = lookups.revisions.get(current.pk)
    if revision is not None:
        fields = revision.get("fields", {})
        for name in SNAPSHOT_COLUMNS:
            # The checks leave relations alone (they were resolved while reading).
            if name in fields and name not in _RELATIONS:
                field = Initiative._meta.get_field(name)
                values[name] = field.to_python(fields[name])  # type: ignore[union-attr]
    return values


def _row_values(
    reader: _RowReader,
    *,
    jurisdiction: Jurisdiction,
    current: Initiative | None,
) -> dict[str, Any]:
    """The fields the row sets: those of its columns, with plans and organizations resolved."""
    lookups = reader.lookups
    values: dict[str, Any] = {}
    # A blank external id keeps the stored one: it is the key re-imports match on.
    if reader.text("external_id"):
        values["external_id"] = reader.text("external_id")
    if reader.has("title"):
        values["title"] = reader.text("title")
        if not values["title"].strip():
            reader.error("title", _("A title is required."))
    for column in ("summary", "description"):
        if reader.has(column):
            values[column] = reader.text(column)
    if reader.has("status") and reader.text("status"):
        values["status"] = reader.choice("status", Initiative.Status.values)
    if reader.has("language") and reader.text("language"):
        values["language"] = reader.choice("language", ContentLanguage.values)
    for column in ("start_date", "end_date"):
        if reader.has(column):
            values[column] = reader.date(column)
    if reader.has("budget_amount"):
        values["budget_amount"] = reader.decimal("budget_amount")
    if reader.has("budget_currency"):
        values["budget_currency"] = reader.text("budget_currency").upper()
    if reader.has("is_illustrative"):
        values["is_illustrative"] = reader.boolean("is_illustrative")
    if reader.has("plan"):
        slug = reader.text("plan")
        plan = lookups.plans.get(slug) if slug else None
        if slug and plan is None:
            reader.error("plan", _("No plan has the slug “%(slug)s”.") % {"slug": slug})
        elif (
            plan is not None
            and plan.jurisdiction_id != jurisdiction.pk
            and (current is None or current.plan_id != plan.pk)
        ):
            reader.error(
                "plan",
                _("The plan “%(slug)s” belongs to another jurisdiction.") % {"slug": slug},
            )
        values["plan"] = plan
    if reader.has("lead_organization"):
        slug = reader.text("lead_organization")
        organization = lookups.organizations.get(slug) if slug else None
        if slug and organization is None:
            reader.error(
                "lead_organization",
                _("No organization has the slug “%(slug)s”.") % {"slug": slug},
            )
        values["lead_organization"] = organization
    return values


def _check_record(
    reader: _RowReader, values: Mapping[str, Any], current: Initiative | None
) -> None:
    """The model's own field checks and constraints, run without touching the database."""
    merged = {**(_base_values(current, reader.lookups) if current else {}), **values}
    # A column already refused says it once; the checks below would repeat it.
    refused = {error.column for error in reader.errors}
    candidate = Initiative(**merged)
    try:
        # Relations were resolved from loaded rows; checking them again would query.
        candidate.clean_fields(
            exclude=["jurisdiction", "plan", "lead_organization", "created_by", "updated_by"]
        )
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            column = FIELD_COLUMNS.get(name, name)
            if column not in refused:
                reader.error(column, messages[0])
    if refused & {"start_date", "end_date", "budget_amount", "budget_currency", "status"}:
        return
    start, end = merged.get("start_date"), merged.get("end_date")
    if start and end and end < start:
        reader.error("end_date", _("The end date cannot come before the start date."))
    amount, currency = merged.get("budget_amount"), merged.get("budget_currency")
    if (amount is None) != (not currency):
        reader.error("budget_currency", _("Give a budget together with its currency."))
    new_status = values.get("status")
    if current is not None and new_status and not current.can_transition_to(new_status):
        refusal = Initiative.illegal_transition_error(current.status, new_status)
        reader.error("status", refusal.messages[0])


def _slug_base(title: str) -> str:
    return slugify(title)[:120].strip("-") or "initiative"


def _numbered(base: str, number: int) -> str:
    suffix = f"-{number}"
    return f"{base[: 120 - len(suffix)]}{suffix}"


def _generate_slug(title: str, taken: set[str]) -> str | None:
    """The title's slug, numbered when taken; None when even the numbers run out."""
    base = _slug_base(title)
    if base not in taken:
        return base
    for number in SLUG_NUMBERS:
        candidate = _numbered(base, number)
        if candidate not in taken:
            return candidate
    return None


def plan_import(
    *, jurisdiction: Jurisdiction, actor: AbstractBaseUser, rows: Sequence[CsvRow]
) -> ImportPlan:
    """
    What importing ``rows`` into ``jurisdiction`` would do, row by row; writes nothing.

    A row with an external id updates the jurisdiction's initiative with that id;
    one without updates the initiative with its slug; anything else is created.
    """
    if not permissions.can_edit(actor, jurisdiction):
        raise PermissionDenied(_("You may not edit records of this jurisdiction."))
    plan = ImportPlan()
    lookups = _load(jurisdiction, rows)
    seen_external: dict[str, int] = {}
    seen_slugs: dict[str, int] = {}
    seen_matches: dict[int, int] = {}
    # Slugs other rows ask for, so a generated one never takes them.
    reserved = lookups.taken_slugs | {row.cells.get("slug", "").strip() for row in rows}

    for row in rows:
        reader = _RowReader(row, lookups)
        external_id = reader.text("external_id")
        slug = reader.text("slug")

        if external_id:
            if external_id in seen_external:
                reader.error(
                    "external_id",
                    _("The external id “%(id)s” is also on line %(line)s.")
                    % {"id": external_id, "line": seen_external[external_id]},
                )
            seen_external.setdefault(external_id, row.line)
        if slug:
            if slug in seen_slugs:
                reader.error(
                    "slug",
                    _("The slug “%(slug)s” is also on line %(line)s.")
                    % {"slug": slug, "line": seen_slugs[slug]},
                )
            seen_slugs.setdefault(slug, row.line)

        current = _match(reader, external_id=external_id, slug=slug)
        if current is not None:
            if current.pk in seen_matches:
                reader.error(
                    "",
                    _("This row updates the same initiative as line %(line)s.")
                    % {"line": seen_matches[current.pk]},
                )
            seen_matches.setdefault(current.pk, row.line)
        if current is not None and slug and slug != current.slug:
            # Links and bookmarks point at the slug; it never changes once a record exists.
            reader.error(
                "slug",
                _("The slug of this initiative is “%(stored)s”; it cannot change to “%(slug)s”.")
                % {"stored": current.slug, "slug": slug},
            )
        elif slug:
            _check_slug(reader, slug=slug, current=current)

        values = _row_values(reader, jurisdiction=jurisdiction, current=current)
        focus_areas = (
            reader.terms("focus_areas", lookups.focus_areas) if reader.has("focus_areas") else None
        )
        sectors = reader.terms("sectors", lookups.sectors) if reader.has("sectors") else None
        if current is None:
            values["slug"] = slug or _generate_slug(values.get("title", ""), reserved)
            if values["slug"] is None:
                reader.error("slug", _("Give this row a slug: its title's slug is taken."))
            reserved.add(values["slug"])
        else:
            values.pop("slug", None)  # A blank slug, or the same one, keeps the stored one.
        _check_record(reader, values, current)

        if reader.errors:
            plan.errors.extend(reader.errors)
            continue
        outcome = _outcome(
            row,
            values=values,
            current=current,
            focus_areas=focus_areas,
            sectors=sectors,
            lookups=lookups,
            jurisdiction=jurisdiction,
        )
        if (
            outcome.action == "update"
            and current is not None
            and current.publication_state == PublicationState.ARCHIVED
        ):
            # A row equal to the archived record (an export read back) writes nothing
            # and may stay; one that changes it would bring it back unseen.
            reader.error("", _("This initiative is archived: unarchive it first."))
            plan.errors.extend(reader.errors)
            continue
        plan.rows.append(outcome)
    return plan


def _match(reader: _RowReader, *, external_id: str, slug: str) -> Initiative | None:
    lookups = reader.lookups
    if external_id:
        found = lookups.by_external_id.get(external_id)
        if found is not None:
            return found
        # A record first made by hand takes on its external id at the first import.
        by_slug = lookups.by_slug.get(slug) if slug else None
        if by_slug is not None and by_slug.external_id:
            reader.error(
                "slug",
                _("The slug “%(slug)s” belongs to the initiative with external id “%(id)s”.")
                % {"slug": slug, "id": by_slug.external_id},
            )
            return None
        return by_slug
    return lookups.by_slug.get(slug) if slug else None


def _check_slug(reader: _RowReader, *, slug: str, current: Initiative | None) -> None:
    lookups = reader.lookups
    if slug in lookups.foreign_slugs:
        reader.error(
            "slug",
            _("The slug “%(slug)s” is taken by an initiative of another jurisdiction.")
            % {"slug": slug},
        )
        return
    holder = lookups.by_slug.get(slug)
    if holder is not None and current is not None and holder.pk != current.pk:
        reader.error(
            "slug",
            _("The slug “%(slug)s” is taken by another initiative, “%(title)s”.")
            % {"slug": slug, "title": holder.title},
        )


def _outcome(
    row: CsvRow,
    *,
    values: dict[str, Any],
    current: Initiative | None,
    focus_areas: list[FocusArea] | None,
    sectors: list[Sector] | None,
    lookups: _Lookups,
    jurisdiction: Jurisdiction,
) -> RowOutcome:
    if current is None:
        return RowOutcome(
            line=row.line,
            action="create",
            title=values.get("title", ""),
            slug=values["slug"],
            values={**values, "jurisdiction": jurisdiction},
            focus_areas=focus_areas or [],
            sectors=sectors or [],
        )
    working = _working_fields(current, lookups)
    changes = {
        name: value for name, value in values.items() if working[name] != _encoded(name, value)
    }
    changed = [FIELD_COLUMNS[name] for name in changes]
    if focus_areas is not None and {t.pk for t in focus_areas} != _working_terms(
        current, lookups, "focus_areas"
    ):
        changed.append("focus_areas")
    else:
        focus_areas = None
    if sectors is not None and {t.pk for t in sectors} != _working_terms(
        current, lookups, "sectors"
    ):
        changed.append("sectors")
    else:
        sectors = None
    return RowOutcome(
        line=row.line,
        action="update" if changed else "unchanged",
        title=values.get("title", current.title),
        slug=values.get("slug", current.slug),
        initiative=current,
        changed=changed,
        values=changes,
        focus_areas=focus_areas,
        sectors=sectors,
        waits_for_review=current.publication_state == PublicationState.PUBLISHED,
    )


# ------------------------------------------------------------------------------
# Importing
# ------------------------------------------------------------------------------


class _Rollback(Exception):
    """Leaves the import's transaction so that nothing it wrote stays."""


def _write_error(line: int, error: Exception) -> list[RowError]:
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            return [
                RowError(line, message, FIELD_COLUMNS.get(name, "" if name == "__all__" else name))
                for name, messages in error.message_dict.items()
                for message in messages
            ]
        return [RowError(line, message) for message in error.messages]
    return [RowError(line, _("The row could not be saved; the data may have changed meanwhile."))]


def import_initiatives(
    *,
    jurisdiction: Jurisdiction,
    actor: AbstractBaseUser,
    file: bytes | IO[bytes],
    dry_run: bool = False,
) -> ImportResult:
    """
    Import a CSV file of initiatives into ``jurisdiction`` as ``actor``.

    The file is parsed and planned afresh, then every row that changes
    something is written in one transaction; rows equal to the stored record
    write nothing. Any error, found while planning or while writing, leaves the
    database as it was and comes back in the result with its line number.
    """
    started = time.perf_counter()
    parsed = parse_initiatives_csv(file)
    if parsed.errors:
        return ImportResult(ImportPlan(errors=parsed.errors), written=False, seconds=0.0)
    try:
        with transaction.atomic():
            plan = plan_import(jurisdiction=jurisdiction, actor=actor, rows=parsed.rows)
            if not plan.is_valid or dry_run:
                raise _Rollback
            _apply(plan, jurisdiction=jurisdiction, actor=actor)
    except _Rollback:
        return ImportResult(plan, written=False, seconds=time.perf_counter() - started)
    return ImportResult(plan, written=True, seconds=time.perf_counter() - started)


def _locked_states(outcomes: Sequence[RowOutcome]) -> dict[int, str]:
    """The publication state of each initiative to update, locked until the import ends."""
    ids = [outcome.initiative.pk for outcome in outcomes if outcome.initiative is not None]
    states: dict[int, str] = {}
    for chunk in _chunks(ids):
        states.update(
            Initiative.objects.select_for_update()
            .filter(pk__in=chunk)
            .values_list("pk", "publication_state")
        )
    return states


def _save_changes(record: Initiative, outcome: RowOutcome, *, actor: AbstractBaseUser) -> None:
    """A row's changes to a record in review or published, the way an editor's form saves them."""
    data = copy.deepcopy(workflow.working_snapshot(record))
    for name, value in outcome.values.items():
        data["fields"][name] = _encoded(name, value)
    if outcome.focus_areas is not None:
        data["focus_areas"] = sorted(term.pk for term in outcome.focus_areas)
    if outcome.sectors is not None:
        data["sectors"] = sorted(term.pk for term in outcome.sectors)
    workflow.record_save_changes(record=record, data=data, actor=actor)


def _apply(plan: ImportPlan, *, jurisdiction: Jurisdiction, actor: AbstractBaseUser) -> None:
    updates = [
        (row, row.initiative)
        for row in plan.rows
        if row.action == "update" and row.initiative is not None
    ]
    states = _locked_states([row for row, _record in updates])
    for outcome, record in updates:
        # Both paths lock the row and check what is stored now; being atomic
        # themselves, a refused row rolls back to its own savepoint and the
        # transaction stays usable to stop cleanly.
        try:
            if states.get(record.pk) == PublicationState.DRAFT:
                # Nobody but editors sees a draft: it changes in place, the fast way.
                services.initiative_update(
                    initiative=record,
                    actor=actor,
                    values=outcome.values,
                    focus_areas=outcome.focus_areas,
                    sectors=outcome.sectors,
                )
            else:
                _save_changes(record, outcome, actor=actor)
        except (ValidationError, PermissionDenied, DatabaseError) as error:
            plan.errors.extend(_write_error(outcome.line, error))
            raise _Rollback from error
    created = [outcome for outcome in plan.rows if outcome.action == "create"]
    if not created:
        return
    try:
        with transaction.atomic():
            _create_drafts(created, jurisdiction=jurisdiction, actor=actor)
    except (PermissionDenied, DatabaseError) as error:
        plan.errors.extend(_write_error(created[0].line, error))
        raise _Rollback from error


def _create_drafts(
    outcomes: Sequence[RowOutcome], *, jurisdiction: Jurisdiction, actor: AbstractBaseUser
) -> list[Initiative]:
    """
    Create the new initiatives as drafts, with the history initiative_create leaves.

    This is initiative_create for many rows at once. One row at a time costs
    a dozen queries each (model validation alone runs eight), which puts ten
    thousand rows past a minute; here the rows were validated while planning,
    without queries, against everything read up front, and the inserts go in
    batches. Each initiative gets one history row naming ``actor``, holding its
    focus areas and sectors, and the database's constraints still guard the
    rare row that changed between planning and writing.
    """
    services.require_edit(actor, jurisdiction)
    initiatives = []
    for outcome in outcomes:
        initiative = Initiative(**outcome.values)
        initiative.publication_state = PublicationState.DRAFT
        initiative.published_at = None
        initiative.created_by = actor  # type: ignore[assignment]
        initiative.updated_by = actor  # type: ignore[assignment]
        initiatives.append(initiative)
    Initiative.objects.bulk_create(initiatives, batch_size=WRITE_BATCH)

    links: dict[str, list[models.Model]] = {"focus_areas": [], "sectors": []}
    for initiative, outcome in zip(initiatives, outcomes, strict=True):
        for name, terms in (("focus_areas", outcome.focus_areas), ("sectors", outcome.sectors)):
            through = getattr(Initiative, name).through
            term_field = through._meta.get_field(_TERM_FIELDS[name]).attname
            links[name].extend(
                through(initiative_id=initiative.pk, **{term_field: term.pk})
                for term in terms or []
            )
    for name, rows in links.items():
        getattr(Initiative, name).through.objects.bulk_create(rows, batch_size=WRITE_BATCH)

    history = Initiative.history.bulk_history_create(
        initiatives, batch_size=WRITE_BATCH, default_user=actor
    )
    history_of = {record.id: record for record in history}
    for name, rows in links.items():
        m2m_history = apps.get_model("initiatives", f"HistoricalInitiative_{name}")
        term_field = _TERM_FIELDS[name]
        m2m_history.objects.bulk_create(
            [
                m2m_history(
                    id=row.pk,
                    history=history_of[row.initiative_id],  # type: ignore[attr-defined]
                    initiative_id=row.initiative_id,  # type: ignore[attr-defined]
                    **{f"{term_field}_id": getattr(row, f"{term_field}_id")},
                )
                for row in rows
            ],
            batch_size=WRITE_BATCH,
        )
    return initiatives


def format_counts(plan: ImportPlan) -> str:
    counts = ngettext(
        "%(rows)s row: %(created)s to create, %(updated)s to update, %(unchanged)s unchanged.",
        "%(rows)s rows: %(created)s to create, %(updated)s to update, %(unchanged)s unchanged.",
        len(plan.rows),
    ) % {
        "rows": len(plan.rows),
        "created": plan.created,
        "updated": plan.updated,
        "unchanged": plan.unchanged,
    }
    if plan.waiting_for_review:
        counts += " " + format_waiting(plan)
    return counts


def format_waiting(plan: ImportPlan) -> str:
    """The updates to published initiatives, which do not show until reviewed."""
    return _(
        "Updates to published initiatives: %(count)s. They will be kept as changes "
        "waiting for review."
    ) % {"count": plan.waiting_for_review}


# ------------------------------------------------------------------------------
# Exporting
# ------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    match value:
        case None:
            return ""
        case bool():
            return "true" if value else "false"
        case datetime.date():
            return value.isoformat()
        case _:
            return str(value)


def export_initiatives(
    *, jurisdiction: Jurisdiction, user: AbstractBaseUser, out: SupportsWrite[str]
) -> int:
    """
    Write ``jurisdiction``'s initiatives that ``user`` may read to ``out`` as CSV.

    The columns are those the import reads, in their documented order; returns
    the number of rows written.
    """
    initiatives = (
        visible_initiatives(user=user)
        .filter(jurisdiction=jurisdiction)
        .select_related("plan", "lead_organization")
        .prefetch_related(
            models.Prefetch("focus_areas", queryset=FocusArea.objects.only("slug")),
            models.Prefetch("sectors", queryset=Sector.objects.only("slug")),
        )
        .order_by("slug")
    )
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    count = 0
    for initiative in initiatives:
        values: dict[str, Any] = _snapshot(initiative)
        values["plan"] = initiative.plan.slug if initiative.plan else ""
        values["lead_organization"] = (
            initiative.lead_organization.slug if initiative.lead_organization else ""
        )
        values["focus_areas"] = LIST_SEPARATOR.join(
            sorted(term.slug for term in initiative.focus_areas.all())
        )
        values["sectors"] = LIST_SEPARATOR.join(
            sorted(term.slug for term in initiative.sectors.all())
        )
        writer.writerow([escape_cell(_cell(values[column])) for column in COLUMNS])
        count += 1
    return count
