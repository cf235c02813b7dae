"""Writes about jurisdictions. Each leaves a history row for every jurisdiction it creates."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from itertools import batched
from pathlib import Path

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat
from simple_history.utils import bulk_create_with_history

from cities.divisions import (
    NAME_MAX_LENGTH,
    OCD_ID_MAX_LENGTH,
    division_default_name,
    division_iso_code,
    division_kind,
    division_slug,
    parent_division_id,
    unique_slug,
)
from cities.models import PATH_SEPARATOR, Jurisdiction
from cities.validators import validate_ocd_division_id
from config.page_cache import bump_generation

Kind = Jurisdiction.Kind

# Small enough for SQLite's limit on bound parameters, large enough to keep lookups few.
LOOKUP_BATCH_SIZE = 900
# Rows per INSERT. Left unbounded, PostgreSQL gets single statements of a million
# parameters, which psycopg2 assembles slowly; larger batches gain nothing measurable.
INSERT_BATCH_SIZE = 1000


class DivisionImportError(Exception):
    """A division file that cannot be imported, with the 1-based line at fault when known."""

    def __init__(self, *, path: Path, line: int | None, problem: str) -> None:
        self.path = path
        self.line = line
        self.problem = problem
        where = f"{path}, line {line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class DivisionImportResult:
    """
    What an import did.

    ``created`` counts every new jurisdiction, including the ``ancestors_created``
    that no file listed. ``existing`` counts rows whose id was already in the Atlas,
    ``duplicates_skipped`` rows whose id an earlier row of the same import had
    already given.
    """

    rows_read: int
    created: int
    existing: int
    aliases_skipped: int
    ancestors_created: int
    duplicates_skipped: int


@dataclass(frozen=True)
class DivisionRow:
    """A checked row that is not an alias, with the file it came from."""

    ocd_id: str
    name: str
    path: Path


@dataclass(frozen=True)
class DivisionFile:
    """A checked file: its importable rows, and how many rows and aliases it had."""

    rows: list[DivisionRow]
    rows_read: int
    aliases: int


@dataclass(frozen=True)
class _Known:
    pk: int
    depth: int


def division_file_read(*, path: Path) -> DivisionFile:
    """
    Read and check one OCD division-id CSV file without touching the database.

    Every row is checked, aliases included, so that a broken file is refused
    before anything is written. Rows with a ``sameAs`` value are aliases and are
    counted, not returned.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DivisionImportError(
            path=path, line=None, problem=f"cannot be read ({exc.strerror})"
        ) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DivisionImportError(path=path, line=line, problem="is not UTF-8 text") from exc
    if not text.strip():
        raise DivisionImportError(path=path, line=1, problem="the file is empty")

    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[DivisionRow] = []
    rows_read = aliases = 0
    try:
        header = [column.strip() for column in next(reader)]
        missing = [column for column in ("id", "name") if column not in header]
        if missing:
            raise DivisionImportError(
                path=path,
                line=reader.line_num,
                problem=f"the header lacks the column(s) {', '.join(missing)}",
            )
        id_index, name_index = header.index("id"), header.index("name")
        same_as_index = header.index("sameAs") if "sameAs" in header else None
        for record in reader:
            if not record:
                continue  # a blank line, as csv.DictReader would skip it
            line = reader.line_num
            rows_read += 1
            ocd_id, name = _checked_row(record, header, id_index, name_index, path, line)
            if same_as_index is not None and record[same_as_index].strip():
                aliases += 1
            else:
                rows.append(DivisionRow(ocd_id=ocd_id, name=name, path=path))
    except csv.Error as exc:
        raise DivisionImportError(
            path=path, line=reader.line_num, problem=f"is not valid CSV ({exc})"
        ) from exc
    return DivisionFile(rows=rows, rows_read=rows_read, aliases=aliases)


def _checked_row(
    record: list[str], header: list[str], id_index: int, name_index: int, path: Path, line: int
) -> tuple[str, str]:
    def refuse(problem: str) -> DivisionImportError:
        return DivisionImportError(path=path, line=line, problem=problem)

    if len(record) != len(header):
        raise refuse(f"has {len(record)} columns where the header has {len(header)}")
    ocd_id, name = record[id_index].strip(), record[name_index].strip()
    if not ocd_id:
        raise refuse("has no id")
    try:
        validate_ocd_division_id(ocd_id)
    except ValidationError as exc:
        raise refuse(f"{ocd_id!r} is not an OCD division id") from exc
    if len(ocd_id) > OCD_ID_MAX_LENGTH:
        raise refuse(f"the id is longer than {OCD_ID_MAX_LENGTH} characters")
    if not name:
        raise refuse(f"{ocd_id} has no name")
    if len(name) > NAME_MAX_LENGTH:
        raise refuse(f"the name of {ocd_id} is longer than {NAME_MAX_LENGTH} characters")
    return ocd_id, name


@transaction.atomic
def divisions_import(
    *, paths: Sequence[Path], actor: AbstractBaseUser | None = None
) -> DivisionImportResult:
    """
    Create a jurisdiction for every division in the given OCD CSV files.

    Missing ancestors are created too, named from ISO 3166 where possible.
    Jurisdictions that already exist (by ``ocd_id``) are left exactly as they
    are, parent included, and new children hang below them. All files are read
    and checked before the first write, and the whole import is one transaction,
    so a bad row anywhere leaves the database untouched.

    Rows are inserted in bulk one level at a time, parents first; each gets one
    history row naming the file it came from and ``actor``.
    """
    files = [division_file_read(path=path) for path in paths]

    # The first row wins when files overlap; later ones are counted, not compared.
    wanted: dict[str, DivisionRow] = {}
    duplicates = 0
    for file in files:
        for row in file.rows:
            if row.ocd_id in wanted:
                duplicates += 1
            else:
                wanted[row.ocd_id] = row

    parents: dict[str, str | None] = {}
    ancestor_sources: dict[str, Path] = {}
    for ocd_id, row in wanted.items():
        child = ocd_id
        while child not in parents:
            parent_ocd_id = parent_division_id(child)
            parents[child] = parent_ocd_id
            if parent_ocd_id is None:
                break
            if parent_ocd_id not in wanted:
                ancestor_sources.setdefault(parent_ocd_id, row.path)
            child = parent_ocd_id

    # Grows with each level inserted, so the next level finds its parents here.
    known = _existing_jurisdictions(parents.keys())
    existing = sum(1 for ocd_id in wanted if ocd_id in known)
    to_create = sorted(
        (ocd_id for ocd_id in parents if ocd_id not in known),
        key=lambda ocd_id: (ocd_id.count("/"), ocd_id),
    )
    # Places claim plain slugs first: "us-ak-anchorage" is the city people look
    # for, and the borough of the same name takes the counter.
    slugs = _unique_slugs(
        sorted(to_create, key=lambda ocd_id: (division_kind(ocd_id) != Kind.PLACE, ocd_id))
    )

    levels: dict[int, list[str]] = defaultdict(list)
    for ocd_id in to_create:
        levels[ocd_id.count("/")].append(ocd_id)
    for level in sorted(levels):
        objs = []
        for ocd_id in levels[level]:
            parent_ocd_id = parents[ocd_id]
            parent = known[parent_ocd_id] if parent_ocd_id is not None else None
            listed = wanted.get(ocd_id)
            obj = Jurisdiction(
                parent_id=parent.pk if parent else None,
                kind=division_kind(ocd_id),
                name=listed.name if listed else division_default_name(ocd_id),
                slug=slugs[ocd_id],
                ocd_id=ocd_id,
                iso_code=division_iso_code(ocd_id),
                depth=parent.depth + 1 if parent else 0,
            )
            source = listed.path if listed else ancestor_sources[ocd_id]
            obj._change_reason = f"import_divisions {source.name}"  # type: ignore[attr-defined]
            objs.append(obj)
        created = bulk_create_with_history(
            objs, Jurisdiction, batch_size=INSERT_BATCH_SIZE, default_user=actor
        )
        for obj in created:
            known[obj.ocd_id] = _Known(pk=obj.pk, depth=obj.depth)
        _fill_paths(pks=[obj.pk for obj in created])
        # bulk_create sends no post_save, so the page cache is told here.
        transaction.on_commit(bump_generation)

    return DivisionImportResult(
        rows_read=sum(file.rows_read for file in files),
        created=len(to_create),
        existing=existing,
        aliases_skipped=sum(file.aliases for file in files),
        ancestors_created=sum(1 for ocd_id in to_create if ocd_id not in wanted),
        duplicates_skipped=duplicates,
    )


def _existing_jurisdictions(ocd_ids: Collection[str]) -> dict[str, _Known]:
    found: dict[str, _Known] = {}
    for batch in batched(ocd_ids, LOOKUP_BATCH_SIZE):
        for ocd_id, pk, depth in Jurisdiction.objects.filter(ocd_id__in=batch).values_list(
            "ocd_id", "pk", "depth"
        ):
            found[ocd_id] = _Known(pk=pk, depth=depth)
    return found


class _TakenSlugs:
    """
    Slugs in use: those given out by this import, plus those in the database.

    The preferred slugs are looked up in bulk beforehand; a numbered variant is
    only needed after a collision, which is rare enough to check one at a time.
    """

    def __init__(self, preferred: Collection[str]) -> None:
        self.checked = set(preferred)
        self.taken: set[str] = set()
        for batch in batched(self.checked, LOOKUP_BATCH_SIZE):
            self.taken.update(
                Jurisdiction.objects.filter(slug__in=batch).values_list("slug", flat=True)
            )

    def __contains__(self, slug: object) -> bool:
        if slug in self.taken:
            return True
        if slug in self.checked:
            return False
        self.checked.add(str(slug))
        if Jurisdiction.objects.filter(slug=slug).exists():
            self.taken.add(str(slug))
            return True
        return False

    def add(self, slug: str) -> None:
        self.taken.add(slug)


def _unique_slugs(ocd_ids: Sequence[str]) -> dict[str, str]:
    """Slugs in the order given, so the first of two ids that fold alike keeps the plain one."""
    preferred = {ocd_id: division_slug(ocd_id) for ocd_id in ocd_ids}
    taken = _TakenSlugs(preferred.values())
    slugs: dict[str, str] = {}
    for ocd_id in ocd_ids:
        slug = unique_slug(preferred[ocd_id], taken)
        taken.add(slug)
        slugs[ocd_id] = slug
    return slugs


def _fill_paths(*, pks: Sequence[int]) -> None:
    """
    Give freshly bulk-inserted rows the ``path`` that ``Jurisdiction.save()`` would.

    One UPDATE computes each path from the parent's in SQL. It picks the rows by
    pk range plus the empty path every bulk-inserted row starts with: a plain pk
    list would overflow SQLite's parameter limit on a large level, and a row
    saved normally never has an empty path.
    """
    if not pks:
        return
    parent_path = Jurisdiction.objects.filter(pk=OuterRef("parent_id")).values("path")[:1]
    Jurisdiction.objects.filter(pk__range=(min(pks), max(pks)), path="").update(
        path=Concat(
            Coalesce(Subquery(parent_path), Value("")),
            Cast("pk", output_field=CharField()),
            Value(PATH_SEPARATOR),
            output_field=CharField(),
        )
    )
