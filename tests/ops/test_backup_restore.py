"""
A backup restores whole: the seeded demo database is dumped with ``backup_database``,
restored with ``restore_database`` into a fresh database, and every table is compared
(row count and a checksum of its content in primary-key order), as are the sequences.
The restored database then passes ``migrate --check`` and ``check``, and serves a page.
"""

import importlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg2
import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.management.color import no_style
from django.db import connection
from psycopg2 import sql

REPO_ROOT = Path(__file__).resolve().parent.parent.parent

# Rows are compared as their text form in primary-key order: equal checksums mean equal
# content, row for row, not only equal counts.
TABLES = """
    SELECT t.table_schema, t.table_name,
           coalesce(array_agg(k.column_name::text ORDER BY k.ordinal_position)
                    FILTER (WHERE k.column_name IS NOT NULL), '{}')
    FROM information_schema.tables t
    LEFT JOIN information_schema.table_constraints c
           ON c.table_schema = t.table_schema AND c.table_name = t.table_name
          AND c.constraint_type = 'PRIMARY KEY'
    LEFT JOIN information_schema.key_column_usage k
           ON k.constraint_schema = c.constraint_schema AND k.constraint_name = c.constraint_name
          AND k.table_name = t.table_name
    WHERE t.table_type = 'BASE TABLE'
      AND t.table_schema NOT IN ('pg_catalog', 'information_schema')
    GROUP BY t.table_schema, t.table_name
    ORDER BY t.table_schema, t.table_name
"""


def fingerprints(params: dict[str, Any]) -> tuple[dict[str, tuple[int, str]], dict[str, Any]]:
    """(table -> (row count, md5 of its rows in key order), sequence -> last_value)."""
    conn = psycopg2.connect(**params)
    try:
        with conn.cursor() as cursor:
            cursor.execute(TABLES)
            tables: dict[str, tuple[int, str]] = {}
            for schema, table, key in cursor.fetchall():
                name = sql.Identifier(schema, table)
                order = (
                    sql.SQL(", ").join(sql.SQL("t.") + sql.Identifier(col) for col in key)
                    if key
                    else sql.SQL("t::text")
                )
                cursor.execute(
                    sql.SQL(
                        "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY {}),"
                        " '')) FROM {} AS t"
                    ).format(order, name)
                )
                count, digest = cursor.fetchone()
                tables[f"{schema}.{table}"] = (count, digest)
            # pg_sequences, not information_schema.sequences, which leaves out the sequences
            # behind identity columns (every Django primary key). last_value is NULL until
            # a sequence is first used.
            cursor.execute(
                "SELECT schemaname || '.' || sequencename, last_value FROM pg_sequences "
                "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
            )
            sequences: dict[str, Any] = dict(cursor.fetchall())
    finally:
        conn.close()
    return tables, sequences


def connection_params(name: str) -> dict[str, Any]:
    settings_dict = connection.settings_dict
    params = {
        "dbname": name,
        "user": settings_dict.get("USER") or None,
        "password": settings_dict.get("PASSWORD") or None,
        "host": settings_dict.get("HOST") or None,
        "port": settings_dict.get("PORT") or None,
    }
    return {k: v for k, v in params.items() if v is not None}


def database_url(name: str) -> str:
    settings_dict = connection.settings_dict
    user = quote(settings_dict.get("USER") or "", safe="")
    password = settings_dict.get("PASSWORD") or ""
    credentials = f"{user}:{quote(password, safe='')}" if password else user
    host = settings_dict.get("HOST") or ""
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{credentials}@{host}{port}/{name}"


def manage(*args: str, database: str) -> subprocess.CompletedProcess[str]:
    """manage.py in a fresh process whose only database is ``database``."""
    env = dict(os.environ, DATABASE_URL=database_url(database))
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    return subprocess.run(  # noqa: S603 - this interpreter and manage.py, no shell.
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def require_postgres_with_client_programs() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("backup and restore use pg_dump and pg_restore: PostgreSQL only")
    missing = [tool for tool in ("pg_dump", "pg_restore") if shutil.which(tool) is None]
    if missing:
        message = f"PostgreSQL client programs missing: {', '.join(missing)}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@dataclass(frozen=True)
class SeededBackup:
    archive: Path
    tables: dict[str, tuple[int, str]]
    sequences: dict[str, Any]


def restore_migration_data() -> None:
    """
    Put back the rows a data migration wrote (the taxonomies seed_demo needs), should an
    earlier transactional test have flushed them. Idempotent: rows are matched by slug.
    """
    migration = importlib.import_module("initiatives.migrations.0002_seed_taxonomies")
    migration.seed(apps, None)


@pytest.fixture(scope="module")
def seeded_backup(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SeededBackup]:
    """
    The demo data committed to the test database (pg_dump reads it from another connection)
    and dumped once for the module, with the fingerprints of what was dumped. Afterwards the
    database is put back as it was found, through Django's serialized rollback.
    """
    require_postgres_with_client_programs()
    with django_db_blocker.unblock():
        name = str(connection.settings_dict["NAME"])
        assert name.startswith("test_"), f"refusing to seed {name}"
        restore_migration_data()
        snapshot = connection.creation.serialize_db_to_string()
        try:
            call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
            archive = tmp_path_factory.mktemp("backup") / "atlas.dump"
            call_command("backup_database", output=str(archive), stdout=open(os.devnull, "w"))  # noqa: SIM115
            tables, sequences = fingerprints(connection_params(name))
            yield SeededBackup(archive=archive, tables=tables, sequences=sequences)
        finally:
            call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0)
            connection.creation.deserialize_db_from_string(snapshot)
            # Restored rows keep their ids: the sequences must move past them.
            statements = connection.ops.sequence_reset_sql(no_style(), apps.get_models())
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)


@pytest.fixture
def fresh_database(seeded_backup: SeededBackup) -> Iterator[str]:
    """An empty database beside the test database, dropped afterwards whatever happens."""
    name = f"{connection.settings_dict['NAME']}_restored"
    admin = psycopg2.connect(**connection_params(connection.settings_dict["NAME"]))
    admin.autocommit = True
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    try:
        with admin.cursor() as cursor:
            cursor.execute(drop)
            # template0: nothing a local template1 carries may hide a missing object.
            cursor.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name))
            )
        yield name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(drop)
        admin.close()


def test_a_backup_of_the_seeded_database_restores_identically(
    seeded_backup, fresh_database, capsys
):
    archive = seeded_backup.archive
    source_tables, source_sequences = seeded_backup.tables, seeded_backup.sequences
    assert source_tables["public.initiatives_initiative"][0] > 0, "the demo seeded nothing"

    call_command(
        "restore_database",
        str(archive),
        database_url=database_url(fresh_database),
        stdout=open(os.devnull, "w"),  # noqa: SIM115
    )
    restored_tables, restored_sequences = fingerprints(connection_params(fresh_database))
    different = sorted(
        table
        for table in source_tables.keys() | restored_tables.keys()
        if source_tables.get(table) != restored_tables.get(table)
    )
    different_sequences = sorted(
        seq
        for seq in source_sequences.keys() | restored_sequences.keys()
        if source_sequences.get(seq) != restored_sequences.get(seq)
    )
    rows = sum(count for count, _ in source_tables.values())
    with capsys.disabled():
        print(
            f"\nbackup/restore: {len(source_tables)} tables ({rows} rows) and "
            f"{len(source_sequences)} sequences compared; {len(different)} tables different, "
            f"{len(different_sequences)} sequences different; archive "
            f"{archive.stat().st_size} bytes"
        )
    assert different == []
    assert different_sequences == []

    migrate = manage("migrate", "--check", database=fresh_database)
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    check = manage("check", "--database", "default", database=fresh_database)
    assert check.returncode == 0, check.stdout + check.stderr

    smoke = manage(
        "shell",
        "-c",
        "import json; from django.test import Client; "
        "from initiatives.models import Initiative; "
        "c = Client(); home = c.get('/en/'); api = c.get('/api/v1/initiatives/'); "
        "print(json.dumps({'initiatives': Initiative.objects.count(), "
        "'home': home.status_code, 'api': api.status_code, "
        "'api_items': len(api.json()['results'])}))",
        database=fresh_database,
    )
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    answer = json.loads(smoke.stdout.strip().splitlines()[-1])
    assert answer["initiatives"] == source_tables["public.initiatives_initiative"][0]
    assert answer["home"] == 200
    assert answer["api"] == 200
    assert answer["api_items"] > 0

    # A second restore into the now non-empty database is refused, leaving it as it was.
    with pytest.raises(CommandError, match="already holds"):
        call_command("restore_database", str(archive), database_url=database_url(fresh_database))
    assert fingerprints(connection_params(fresh_database))[0] == restored_tables


def test_a_failed_restore_leaves_the_target_untouched(seeded_backup, fresh_database, tmp_path):
    """--exit-on-error in one transaction: a truncated archive restores nothing at all."""
    data = seeded_backup.archive.read_bytes()
    truncated = tmp_path / "truncated.dump"
    truncated.write_bytes(data[: len(data) * 2 // 3])

    with pytest.raises(CommandError, match="pg_restore failed"):
        call_command("restore_database", str(truncated), database_url=database_url(fresh_database))
    tables, _ = fingerprints(connection_params(fresh_database))
    assert tables == {}


def test_backup_refuses_sqlite_clearly(db):
    if connection.vendor != "sqlite":
        pytest.skip("the configured database is not SQLite")
    with pytest.raises(CommandError, match=r"PostgreSQL only.*SQLite"):
        call_command("backup_database")


def test_restore_refuses_sqlite_clearly(tmp_path):
    archive = tmp_path / "atlas.dump"
    archive.write_bytes(b"PGDMP")
    with pytest.raises(CommandError, match=r"PostgreSQL only.*SQLite"):
        call_command(
            "restore_database", str(archive), database_url=f"sqlite:///{tmp_path / 'x.db'}"
        )


def test_restore_names_a_missing_archive(tmp_path):
    with pytest.raises(CommandError, match="No archive at"):
        call_command("restore_database", str(tmp_path / "missing.dump"))
