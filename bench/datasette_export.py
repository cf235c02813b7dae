"""
A SQLite copy of the published initiatives, for Datasette, and the ASGI app that serves it.

One denormalised table, ``initiatives``, holds the fields the API gives an initiative
(the compact jurisdiction flattened into ``jurisdiction_*`` columns, focus areas and sectors
as JSON arrays of slugs), with the same text for dates, timestamps and budgets. An FTS5
table over title, summary and description (``content="initiatives"``, so Datasette finds it)
serves ``_search=``.

This module is imported by two interpreters: the project's, which exports (psycopg2 and
Django's formatting helpers, imported where used), and Datasette's own virtualenv, which only
calls ``asgi_app()``. Its top level therefore imports the standard library only.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

TABLE = "initiatives"
FTS_TABLE = "initiatives_fts"
STAMP_TABLE = "_bench_export"
BATCH = 5_000

# Each column and its SQLite type, in the API's field order.
COLUMN_TYPES = (
    ("id", "INTEGER PRIMARY KEY"),
    ("slug", "TEXT NOT NULL UNIQUE"),
    ("title", "TEXT NOT NULL"),
    ("summary", "TEXT NOT NULL"),
    ("description", "TEXT NOT NULL"),
    ("language", "TEXT NOT NULL"),
    ("status", "TEXT NOT NULL"),
    ("jurisdiction_slug", "TEXT NOT NULL"),
    ("jurisdiction_name", "TEXT NOT NULL"),
    ("jurisdiction_ocd_id", "TEXT NOT NULL"),
    ("latitude", "REAL"),
    ("longitude", "REAL"),
    ("plan", "TEXT"),
    ("focus_areas", "TEXT NOT NULL"),
    ("sectors", "TEXT NOT NULL"),
    ("lead_organization", "TEXT"),
    ("start_date", "TEXT"),
    ("end_date", "TEXT"),
    ("budget_amount", "TEXT"),
    ("budget_currency", "TEXT NOT NULL"),
    ("publication_state", "TEXT NOT NULL"),
    ("published_at", "TEXT"),
    ("is_illustrative", "INTEGER NOT NULL"),
    ("created_at", "TEXT NOT NULL"),
    ("updated_at", "TEXT NOT NULL"),
)
COLUMNS = tuple(name for name, _type in COLUMN_TYPES)

_COLUMN_LIST = ",\n    ".join(f"{name} {kind}" for name, kind in COLUMN_TYPES)
SCHEMA = f"""
CREATE TABLE {TABLE} (
    {_COLUMN_LIST}
);
CREATE TABLE {STAMP_TABLE} (source TEXT NOT NULL);
"""

# Built after the rows are in: one sort per index instead of a page split per insert.
# Datasette orders ``_sort_desc=updated_at`` by updated_at descending then id ascending,
# and a city's rows by the same; these indexes serve both orders without a sort step.
INDEXES = f"""
CREATE INDEX {TABLE}_updated ON {TABLE} (updated_at DESC, id ASC);
CREATE INDEX {TABLE}_jurisdiction ON {TABLE} (jurisdiction_slug, updated_at DESC, id ASC);
CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(
    title, summary, description, content="{TABLE}", content_rowid="id"
);
INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild');
ANALYZE;
"""  # noqa: S608 - module constants only


def source_signature(database_url: str) -> str:
    """What the copy was made from: rows, newest change and highest id of the published set."""
    import psycopg2

    with psycopg2.connect(database_url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), max(updated_at), max(id) FROM initiatives_initiative "
            "WHERE publication_state = 'published'"
        )
        row = cursor.fetchone()
    return json.dumps([str(value) for value in row or ()])


def export_is_current(path: Path, signature: str) -> bool:
    if not path.is_file():
        return False
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as copy:
            row = copy.execute(f"SELECT source FROM {STAMP_TABLE}").fetchone()  # noqa: S608
    except sqlite3.Error:
        return False
    return row is not None and row[0] == signature


def export(*, database_url: str, path: Path) -> bool:
    """
    Write the SQLite copy of ``database_url``'s published initiatives to ``path``.

    Does nothing when ``path`` already holds a copy of the same rows (the export of a
    million rows takes minutes); answers whether it wrote one.
    """
    import psycopg2

    from bench.views import date_sql, taxa_sql, timestamp_sql

    signature = source_signature(database_url)
    if export_is_current(path, signature):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    select = f"""
        SELECT i.id, i.slug, i.title, i.summary, i.description, i.language, i.status,
               j.slug, j.name, j.ocd_id, j.latitude, j.longitude, p.slug,
               {taxa_sql("focus_areas", "focusarea")}::text,
               {taxa_sql("sectors", "sector")}::text,
               o.slug, {date_sql("i.start_date")}, {date_sql("i.end_date")},
               i.budget_amount::text, i.budget_currency, i.publication_state,
               {timestamp_sql("i.published_at")}, i.is_illustrative::int,
               {timestamp_sql("i.created_at")}, {timestamp_sql("i.updated_at")}
        FROM initiatives_initiative i
        JOIN cities_jurisdiction j ON j.id = i.jurisdiction_id
        LEFT JOIN initiatives_plan p ON p.id = i.plan_id
        LEFT JOIN council_organization o ON o.id = i.lead_organization_id
        WHERE i.publication_state = 'published'
    """  # noqa: S608 - no outside input: column helpers only
    placeholders = ", ".join("?" for _ in COLUMNS)
    insert = f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({placeholders})"  # noqa: S608
    with sqlite3.connect(partial) as copy:
        copy.execute("PRAGMA journal_mode = OFF")
        copy.execute("PRAGMA synchronous = OFF")
        copy.executescript(SCHEMA)
        # A named (server-side) cursor streams the rows instead of loading them all.
        with (
            psycopg2.connect(database_url) as connection,
            connection.cursor(name="bench_export") as rows,
        ):
            rows.itersize = BATCH
            rows.execute(select)
            while batch := rows.fetchmany(BATCH):
                copy.executemany(insert, batch)
        copy.executescript(INDEXES)
        copy.execute(f"INSERT INTO {STAMP_TABLE} (source) VALUES (?)", (signature,))  # noqa: S608
    partial.replace(path)
    return True


def asgi_app() -> Any:
    """
    Datasette serving the copy named by BENCH_DATASETTE_FILE, read-only, as an ASGI app.

    Immutable mode is Datasette's own advice for a file that does not change: it opens it
    read-only and skips the per-request change checks. ``sql_time_limit_ms`` is raised
    from its 1 s default so that a slow query shows up as latency, not as a 500.
    """
    from datasette.app import Datasette  # type: ignore[import-not-found]  # its own virtualenv

    path = os.environ["BENCH_DATASETTE_FILE"]
    datasette = Datasette(
        immutables=[path],
        settings={"sql_time_limit_ms": 10_000, "default_page_size": 50},
    )
    return datasette.app()


def tilde_encode(value: str) -> str:
    """Datasette's tilde encoding, for building a ``_next`` token from a row's position."""
    safe = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    encoded = []
    for byte in value.encode("utf-8"):
        if byte in safe:
            encoded.append(chr(byte))
        elif byte == ord(" "):
            encoded.append("+")
        else:
            encoded.append(f"~{byte:02X}")
    return "".join(encoded)
