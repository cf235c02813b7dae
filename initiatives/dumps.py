"""
Open-data dumps: dated zips of every published record, and the reads that list them.

``dump_write`` is the service; the nightly task and ``manage.py write_dump`` call it.
``dump_list`` and ``dump_get`` are the selectors behind /api/v1/dumps/ and
/catalog.jsonld.

A dump is one file, ``atlas-YYYY-MM-DD.zip``, in ``ATLAS_DUMPS_DIR``. It holds a CSV
and a JSON file per table, GeoJSON for jurisdictions and initiatives, the licence,
a README and a manifest with each file's row count and SHA-256. Beside it,
``atlas-YYYY-MM-DD.zip.json`` keeps the zip's own SHA-256, so listing the dumps
never rereads them.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import json
import os
import re
import tempfile
import textwrap
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Case, F, When
from django.utils import timezone, translation

from cities.models import Jurisdiction
from council.models import Coalition, CoalitionMembership, Organization
from initiatives.models import (
    FocusArea,
    Indicator,
    Initiative,
    InitiativeLink,
    Measurement,
    Milestone,
    Partnership,
    Plan,
    PublicationState,
    Sector,
    Source,
)

# re.ASCII: without it \d also matches other scripts' digits.
DUMP_NAME = re.compile(r"atlas-(\d{4}-\d{2}-\d{2})\.zip", re.ASCII)
CHUNK_SIZE = 2000
PUBLISHED = PublicationState.PUBLISHED
DATASET_TITLE = "Digital Leadership Atlas open data"


# ------------------------------------------------------------------------------
# Licences
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataLicense:
    id: str
    name: str
    url: str
    summary: str


KNOWN_LICENSES: dict[str, DataLicense] = {
    lic.id: lic
    for lic in (
        DataLicense(
            "CC-BY-4.0",
            "Creative Commons Attribution 4.0 International",
            "https://creativecommons.org/licenses/by/4.0/",
            "You may share and adapt the data for any purpose, even commercially, "
            "as long as you give appropriate credit and indicate if changes were made.",
        ),
        DataLicense(
            "CC-BY-SA-4.0",
            "Creative Commons Attribution-ShareAlike 4.0 International",
            "https://creativecommons.org/licenses/by-sa/4.0/",
            "You may share and adapt the data for any purpose, as long as you give "
            "appropriate credit and share your adaptations under the same licence.",
        ),
        DataLicense(
            "CC0-1.0",
            "Creative Commons Zero v1.0 Universal",
            "https://creativecommons.org/publicdomain/zero/1.0/",
            "The data is dedicated to the public domain: you may use it for any purpose "
            "without asking permission. Credit is welcome but not required.",
        ),
        DataLicense(
            "ODbL-1.0",
            "Open Data Commons Open Database License v1.0",
            "https://opendatacommons.org/licenses/odbl/1-0/",
            "You may share, create and adapt the database, as long as you attribute it, "
            "share adapted databases under the same licence and keep them open.",
        ),
        DataLicense(
            "ODC-By-1.0",
            "Open Data Commons Attribution License v1.0",
            "https://opendatacommons.org/licenses/by/1-0/",
            "You may share, create and adapt the database, as long as you attribute it.",
        ),
        DataLicense(
            "PDDL-1.0",
            "Open Data Commons Public Domain Dedication and License v1.0",
            "https://opendatacommons.org/licenses/pddl/1-0/",
            "The database is in the public domain: you may use it for any purpose.",
        ),
    )
}


def data_license() -> DataLicense:
    """The configured data licence; an unknown SPDX id still gets its SPDX page."""
    license_id: str = settings.ATLAS_DATA_LICENSE
    known = KNOWN_LICENSES.get(license_id)
    if known is not None:
        return known
    return DataLicense(
        license_id,
        license_id,
        f"https://spdx.org/licenses/{license_id}.html",
        "See the licence's text for what it allows.",
    )


# ------------------------------------------------------------------------------
# What goes into a dump
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DumpTable:
    """One table of a dump: a CSV and a JSON file with the same rows and columns."""

    name: str
    description: str
    model: type[models.Model]
    rows: Callable[[], models.QuerySet[Any]]
    columns: tuple[str, ...]
    # Columns computed in the query rather than read from a field of the same name.
    computed: Mapping[str, models.Expression | F] = field(default_factory=dict)

    def values(self) -> Iterator[tuple[Any, ...]]:
        """The rows as tuples in column order, streamed in chunks."""
        lookups = [self.computed.get(column, column) for column in self.columns]
        return self.rows().order_by("pk").values_list(*lookups).iterator(chunk_size=CHUNK_SIZE)


def _columns(names: str) -> tuple[str, ...]:
    return tuple(names.split())


def _published_initiatives() -> models.QuerySet[Initiative]:
    return Initiative.objects.filter(publication_state=PUBLISHED)


_TAXON_COLUMNS = _columns("id slug name_en name_fr description_en description_fr position")
_FocusAreaLink = Initiative.focus_areas.through
_SectorLink = Initiative.sectors.through

TABLES: tuple[DumpTable, ...] = (
    DumpTable(
        "jurisdictions",
        "Countries, states, regions, metro areas, counties and places, in one tree "
        "(parent_id). ocd_id is the Open Civic Data division id.",
        Jurisdiction,
        lambda: Jurisdiction.objects.all(),
        _columns(
            "id parent_id kind name slug ocd_id ocd_id_minted iso_code geonames_id "
            "wikidata_qid population latitude longitude website description time_zone "
            "source_url is_illustrative created_at updated_at"
        ),
    ),
    DumpTable(
        "plans",
        "Published digital strategies and road maps.",
        Plan,
        lambda: Plan.objects.filter(publication_state=PUBLISHED),
        _columns(
            "id jurisdiction_id title slug summary description language published_on url "
            "source_url is_illustrative created_at updated_at"
        ),
    ),
    DumpTable(
        "initiatives",
        "Published initiatives. plan_id is empty when the plan is not published.",
        Initiative,
        _published_initiatives,
        _columns(
            "id jurisdiction_id plan_id title slug summary description language status "
            "start_date end_date budget_amount budget_currency lead_organization_id "
            "published_at is_illustrative created_at updated_at"
        ),
        # An unpublished plan's id would reveal that the plan exists.
        {
            "plan_id": Case(
                When(plan__publication_state=PUBLISHED, then=F("plan_id")),
                default=None,
                output_field=models.BigIntegerField(),
            )
        },
    ),
    DumpTable(
        "organizations",
        "Universities, chambers, foundations, agencies and companies.",
        Organization,
        lambda: Organization.objects.all(),
        _columns(
            "id name slug kind jurisdiction_id website description source_url "
            "is_illustrative created_at updated_at"
        ),
    ),
    DumpTable(
        "coalitions",
        "Coalitions, such as a Council for Digital Era Leadership.",
        Coalition,
        lambda: Coalition.objects.all(),
        _columns(
            "id jurisdiction_id name slug description founded_on website source_url "
            "is_illustrative created_at updated_at"
        ),
    ),
    DumpTable(
        "coalition_memberships",
        "Which organization belongs to which coalition, in which role.",
        CoalitionMembership,
        lambda: CoalitionMembership.objects.all(),
        ("id", "coalition_id", "organization_id", "role", "since", "until", "source_url"),
    ),
    DumpTable(
        "focus_areas",
        "The focus-area taxonomy, in English and French.",
        FocusArea,
        lambda: FocusArea.objects.all(),
        _TAXON_COLUMNS,
    ),
    DumpTable(
        "sectors",
        "The sector taxonomy, in English and French.",
        Sector,
        lambda: Sector.objects.all(),
        _TAXON_COLUMNS,
    ),
    DumpTable(
        "initiative_focus_areas",
        "Which focus areas each published initiative serves.",
        _FocusAreaLink,
        lambda: _FocusAreaLink.objects.filter(initiative__publication_state=PUBLISHED),
        ("initiative_id", "focus_area_id"),
        {"focus_area_id": F("focusarea_id")},
    ),
    DumpTable(
        "initiative_sectors",
        "Which sectors each published initiative serves.",
        _SectorLink,
        lambda: _SectorLink.objects.filter(initiative__publication_state=PUBLISHED),
        ("initiative_id", "sector_id"),
    ),
    DumpTable(
        "milestones",
        "Milestones of published initiatives.",
        Milestone,
        lambda: Milestone.objects.filter(initiative__publication_state=PUBLISHED),
        ("id", "initiative_id", "title", "due_date", "completed_on"),
    ),
    DumpTable(
        "indicators",
        "What published initiatives measure, with baseline and target.",
        Indicator,
        lambda: Indicator.objects.filter(initiative__publication_state=PUBLISHED),
        ("id", "initiative_id", "name", "unit", "baseline", "target"),
    ),
    DumpTable(
        "measurements",
        "Measured values of those indicators.",
        Measurement,
        lambda: Measurement.objects.filter(indicator__initiative__publication_state=PUBLISHED),
        ("id", "indicator_id", "measured_on", "value", "source_url"),
    ),
    DumpTable(
        "partnerships",
        "Organizations taking part in published initiatives, with their role.",
        Partnership,
        lambda: Partnership.objects.filter(initiative__publication_state=PUBLISHED),
        ("id", "initiative_id", "organization_id", "role"),
    ),
    DumpTable(
        "sources",
        "Sources and evidence behind published initiatives.",
        Source,
        lambda: Source.objects.filter(initiative__publication_state=PUBLISHED),
        ("id", "initiative_id", "kind", "title", "url", "accessed_on"),
    ),
    DumpTable(
        "initiative_links",
        "Typed lineage between published initiatives (inspired_by, adapted_from, successor_of).",
        InitiativeLink,
        lambda: InitiativeLink.objects.filter(
            from_initiative__publication_state=PUBLISHED,
            to_initiative__publication_state=PUBLISHED,
        ),
        ("id", "from_initiative_id", "to_initiative_id", "kind", "note"),
    ),
)

GEOJSON_FILES = {
    "jurisdictions.geojson": "Every jurisdiction as a Point at its coordinates.",
    "initiatives.geojson": "Every published initiative as a Point at its jurisdiction's "
    "coordinates.",
}


# ------------------------------------------------------------------------------
# Reading dumps
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DumpInfo:
    name: str
    date: dt.date
    path: Path
    size: int
    sha256: str
    # Rows per table; empty when the dump's manifest could not be read.
    rows: Mapping[str, int] = field(default_factory=dict)
    modified: dt.datetime | None = None


def dumps_dir() -> Path:
    return Path(settings.ATLAS_DUMPS_DIR)


def _parse_name(name: str) -> dt.date | None:
    match = DUMP_NAME.fullmatch(name)
    if match is None:
        return None
    try:
        return dt.date.fromisoformat(match.group(1))
    except ValueError:
        return None


def _sidecar(path: Path) -> Path:
    return path.with_name(f"{path.name}.json")


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_info(path: Path, day: dt.date) -> DumpInfo | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    modified = dt.datetime.fromtimestamp(stat.st_mtime, tz=dt.UTC)
    try:
        meta = json.loads(_sidecar(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    # The sidecar counts only if it describes this very file: a same-day rerun
    # replaces the zip, and a reader may come between the two renames.
    if meta.get("size") == stat.st_size and meta.get("mtime_ns") == stat.st_mtime_ns:
        sha256, rows = str(meta["sha256"]), dict(meta.get("rows", {}))
    else:
        try:
            sha256, rows = _digest_and_rows(path, stat.st_size, stat.st_mtime_ns)
        except FileNotFoundError:
            return None
    return DumpInfo(path.name, day, path, stat.st_size, sha256, rows, modified)


@functools.lru_cache(maxsize=64)
def _digest_and_rows(path: Path, size: int, mtime_ns: int) -> tuple[str, dict[str, int]]:
    """Hash a dump that has no sidecar; size and mtime in the key tell a replaced file apart."""
    return _file_sha256(path), _manifest_rows(path)


def _manifest_rows(path: Path) -> dict[str, int]:
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read("manifest.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return {}
    return {
        entry["name"].removesuffix(".csv"): entry["rows"]
        for entry in manifest.get("files", [])
        if entry["name"].endswith(".csv")
    }


def _dump_paths() -> list[tuple[dt.date, Path]]:
    directory = dumps_dir()
    if not directory.is_dir():
        return []
    found = [(day, path) for path in directory.iterdir() if (day := _parse_name(path.name))]
    return sorted(found, reverse=True)


def dump_list() -> list[DumpInfo]:
    """The dumps on disk, newest first."""
    infos = (_read_info(path, day) for day, path in _dump_paths())
    return [info for info in infos if info is not None]


def dump_get(*, name: str) -> DumpInfo | None:
    """The dump called ``name``, or None; only well-formed dump names reach the disk."""
    day = _parse_name(name)
    if day is None:
        return None
    path = dumps_dir() / name
    if not path.is_file():
        return None
    return _read_info(path, day)


# ------------------------------------------------------------------------------
# Writing a dump
# ------------------------------------------------------------------------------


@dataclass
class _Entry:
    name: str
    media_type: str
    size: int
    sha256: str
    rows: int | None = None


class _Member:
    """One file inside the zip, hashed as it is written so the manifest needs no reread."""

    def __init__(self, archive: zipfile.ZipFile, name: str, stamp: dt.datetime) -> None:
        info = zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        self.name = name
        self._handle = archive.open(info, mode="w", force_zip64=True)
        self._digest = hashlib.sha256()
        self._size = 0

    def write(self, text: str) -> None:
        self.write_bytes(text.encode("utf-8"))

    def write_bytes(self, data: bytes) -> None:
        self._handle.write(data)
        self._digest.update(data)
        self._size += len(data)

    def close(self, media_type: str, rows: int | None = None) -> _Entry:
        self._handle.close()
        return _Entry(self.name, media_type, self._size, self._digest.hexdigest(), rows)


def _json_default(value: object) -> str:
    # Decimals stay strings, as in the API, so no precision is lost to floats.
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def _json(value: object) -> bytes:
    return orjson.dumps(value, default=_json_default)


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _write_csv(archive: zipfile.ZipFile, table: DumpTable, stamp: dt.datetime) -> _Entry:
    member = _Member(archive, f"{table.name}.csv", stamp)
    writer = csv.writer(member)
    writer.writerow(table.columns)
    rows = 0
    for row in table.values():
        writer.writerow([_csv_cell(v) for v in row])
        rows += 1
    return member.close("text/csv", rows)


def _write_json(archive: zipfile.ZipFile, table: DumpTable, stamp: dt.datetime) -> _Entry:
    member = _Member(archive, f"{table.name}.json", stamp)
    member.write_bytes(b"[")
    rows = 0
    for row in table.values():
        member.write_bytes(b",\n" if rows else b"\n")
        member.write_bytes(_json(dict(zip(table.columns, row, strict=True))))
        rows += 1
    member.write_bytes(b"\n]\n")
    return member.close("application/json", rows)


def _point(latitude: float | None, longitude: float | None) -> dict[str, Any] | None:
    # RFC 7946 allows a null geometry for an unlocated feature; it keeps the set complete.
    if latitude is None or longitude is None:
        return None
    return {"type": "Point", "coordinates": [longitude, latitude]}


def _write_feature_collection(
    archive: zipfile.ZipFile,
    name: str,
    features: Iterator[dict[str, Any]],
    stamp: dt.datetime,
) -> _Entry:
    member = _Member(archive, name, stamp)
    member.write_bytes(b'{"type":"FeatureCollection","features":[')
    rows = 0
    for feature in features:
        member.write_bytes(b",\n" if rows else b"\n")
        member.write_bytes(_json(feature))
        rows += 1
    member.write_bytes(b"\n]}\n")
    return member.close("application/geo+json", rows)


def _features(rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Features from rows whose ``lat`` and ``lon`` give the point and the rest the properties."""
    for row in rows:
        properties = {k: v for k, v in row.items() if k not in ("lat", "lon")}
        geometry = _point(row["lat"], row["lon"])
        yield {"type": "Feature", "id": row["id"], "geometry": geometry, "properties": properties}


def _jurisdiction_features() -> Iterator[dict[str, Any]]:
    return _features(
        Jurisdiction.objects.order_by("pk")
        .values(
            *_columns("id parent_id kind name slug ocd_id population"),
            lat=F("latitude"),
            lon=F("longitude"),
        )
        .iterator(chunk_size=CHUNK_SIZE)
    )


def _initiative_features() -> Iterator[dict[str, Any]]:
    return _features(
        _published_initiatives()
        .order_by("pk")
        .values(
            *_columns("id slug title status start_date end_date jurisdiction_id updated_at"),
            jurisdiction_slug=F("jurisdiction__slug"),
            jurisdiction_name=F("jurisdiction__name"),
            jurisdiction_ocd_id=F("jurisdiction__ocd_id"),
            lat=F("jurisdiction__latitude"),
            lon=F("jurisdiction__longitude"),
        )
        .iterator(chunk_size=CHUNK_SIZE)
    )


def _license_text(day: dt.date, lic: DataLicense) -> str:
    return (
        f"{DATASET_TITLE}, dump of {day.isoformat()}\n"
        "\n"
        f"Licence: {lic.name} ({lic.id})\n"
        f"{lic.url}\n"
        "\n"
        f"{textwrap.fill(lic.summary, 78)}\n"
        "\n"
        "Attribution: cite the data as\n"
        f'  "{_citation(day, lic)}"\n'
        "\n"
        "The full legal text is at the address above; it governs where this summary\n"
        "is silent.\n"
    )


def _citation(day: dt.date, lic: DataLicense) -> str:
    return f"Digital Leadership Atlas, open-data dump of {day.isoformat()}, {lic.id}"


def _column_doc(model: type[models.Model], column: str) -> str:
    """A column's meaning, from its model field: label, what an id points at, its choices."""
    tables = {table.model: table.name for table in TABLES}
    fields = {f.attname: f for f in model._meta.concrete_fields}
    fields.update({f.name: f for f in model._meta.concrete_fields})
    model_field = fields.get(column) or fields.get(column.removesuffix("_id").replace("_", ""))
    if model_field is None:
        return column.replace("_", " ")
    label = str(model_field.verbose_name)
    if model_field.is_relation and model_field.related_model in tables:
        return f"{label}: an id in {tables[model_field.related_model]}"
    if model_field.choices:
        values = ", ".join(str(value) for value, _label in model_field.flatchoices)
        return f"{label}: one of {values}"
    return label


def _readme_text(day: dt.date, lic: DataLicense, entries: list[_Entry]) -> str:
    rows = {entry.name: entry.rows for entry in entries}
    lines = [
        f"# {DATASET_TITLE}, {day.isoformat()}",
        "",
        "Every published record of the Digital Leadership Atlas on this date: jurisdictions,",
        "plans, initiatives and what belongs to them, organizations and coalitions.",
        "Drafts, records in review and archived records are left out, and so is anything",
        "about the Atlas's users.",
        "",
        f"Licence: {lic.name} ({lic.id}), {lic.url}. See LICENSE.txt.",
        "",
        "## How to cite",
        "",
        f"> {_citation(day, lic)}",
        "",
        "## Files",
        "",
        "Each table comes twice, with the same rows and columns: as CSV (UTF-8, a header",
        "row, empty cell for no value, true/false) and as JSON (an array of objects, null",
        "for no value). Dates and times are ISO 8601, times in UTC. Decimal numbers",
        "(budgets, indicator values) are exact strings in JSON. Ids match across tables.",
        "",
    ]
    with translation.override("en"):
        for table in TABLES:
            count = rows.get(f"{table.name}.csv")
            lines += [
                f"### {table.name}.csv, {table.name}.json ({count} rows)",
                "",
                table.description,
                "",
            ]
            lines += [f"- `{c}`: {_column_doc(table.model, c)}" for c in table.columns]
            lines.append("")
    lines += ["### GeoJSON", ""]
    for name, description in GEOJSON_FILES.items():
        lines.append(f"- `{name}` ({rows.get(name)} features): {description}")
    lines += [
        "",
        "Coordinates are [longitude, latitude] (RFC 7946). A feature without coordinates",
        "has a null geometry.",
        "",
        "### manifest.json",
        "",
        "Every other file's name, media type, size, row count and SHA-256.",
        "",
    ]
    return "\n".join(lines)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; some platforms cannot open a directory.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _replace_atomically(directory: Path, target: Path, data: bytes) -> None:
    fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _write_archive(handle: Any, day: dt.date, stamp: dt.datetime) -> list[_Entry]:
    lic = data_license()
    entries: list[_Entry] = []
    with zipfile.ZipFile(handle, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table in TABLES:
            entries.append(_write_csv(archive, table, stamp))
            entries.append(_write_json(archive, table, stamp))
        entries.append(
            _write_feature_collection(
                archive, "jurisdictions.geojson", _jurisdiction_features(), stamp
            )
        )
        entries.append(
            _write_feature_collection(archive, "initiatives.geojson", _initiative_features(), stamp)
        )
        for name, text, media_type in (
            ("LICENSE.txt", _license_text(day, lic), "text/plain"),
            ("README.md", _readme_text(day, lic, entries), "text/markdown"),
        ):
            member = _Member(archive, name, stamp)
            member.write(text)
            entries.append(member.close(media_type))
        manifest = {
            "title": DATASET_TITLE,
            "date": day.isoformat(),
            "created": stamp.isoformat(),
            "license": {"id": lic.id, "name": lic.name, "url": lic.url},
            "files": [{k: v for k, v in vars(entry).items() if v is not None} for entry in entries],
        }
        member = _Member(archive, "manifest.json", stamp)
        member.write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2) + b"\n")
        member.close("application/json")
    return entries


def dump_write(*, now: dt.datetime | None = None) -> DumpInfo:
    """
    Write today's dump (UTC) into ATLAS_DUMPS_DIR, replacing one from earlier today.

    The zip is written to a temporary file, synced and renamed into place, so a
    reader sees either the old dump or the new one, never half of one. Dumps
    beyond the newest ATLAS_DUMPS_KEEP are then removed.
    """
    now = now or timezone.now()
    if timezone.is_naive(now):
        raise ValueError("dump_write needs an aware datetime.")
    stamp = now.astimezone(dt.UTC)
    day = stamp.date()
    directory = dumps_dir()
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"atlas-{day.isoformat()}.zip"

    fd, temp_name = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "w+b") as handle:
            # One transaction, so every table shows the same moment. On PostgreSQL
            # it must be REPEATABLE READ: under READ COMMITTED a write landing
            # between two tables could leave a child row naming a missing parent.
            # Inside a caller's transaction (a test, say) the caller's level stands.
            fresh = not connection.in_atomic_block
            with transaction.atomic():
                if fresh and connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                entries = _write_archive(handle, day, stamp)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes files only the owner may read; a dump is for everyone.
        temp.chmod(0o644)
        stat = temp.stat()
        sha256 = _file_sha256(temp)
        rows = {
            e.name.removesuffix(".csv"): e.rows or 0 for e in entries if e.name.endswith(".csv")
        }
        sidecar = {
            "sha256": sha256,
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "rows": rows,
        }
        _replace_atomically(directory, _sidecar(target), json.dumps(sidecar).encode())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(directory)
    dump_prune(keep=settings.ATLAS_DUMPS_KEEP)
    modified = dt.datetime.fromtimestamp(stat.st_mtime, tz=dt.UTC)
    return DumpInfo(target.name, day, target, stat.st_size, sha256, rows, modified)


def dump_prune(*, keep: int) -> list[Path]:
    """
    Remove all but the newest ``keep`` dumps (at least one stays); return what went.

    Temporary files a crashed run left behind go too, once a day old, so that a
    run still writing is never disturbed.
    """
    removed = []
    for _day, path in _dump_paths()[max(keep, 1) :]:
        path.unlink(missing_ok=True)
        _sidecar(path).unlink(missing_ok=True)
        removed.append(path)
    directory = dumps_dir()
    cutoff = timezone.now().timestamp() - 24 * 60 * 60
    for temp in directory.glob(".atlas-*.tmp") if directory.is_dir() else ():
        try:
            if temp.stat().st_mtime < cutoff:
                temp.unlink()
                removed.append(temp)
        except FileNotFoundError:
            continue
    return removed
