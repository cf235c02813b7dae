"""
``manage.py restore_database FILE``: load a ``backup_database`` archive into PostgreSQL.

pg_restore runs in one transaction and stops at the first error, so a restore either lands
whole or leaves the target exactly as it was.
"""

import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

import environ
import psycopg2
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from cities.management.commands.backup_database import (
    libpq_environment,
    postgres_tool,
    require_postgresql,
    run_tool,
)
from config.page_cache import bump_generation


def user_table_count(settings_dict: dict[str, Any]) -> int:
    """How many tables the target already holds outside PostgreSQL's own schemas."""
    options = settings_dict.get("OPTIONS") or {}
    params = {
        "dbname": settings_dict["NAME"],
        "user": settings_dict.get("USER") or None,
        "password": settings_dict.get("PASSWORD") or None,
        "host": settings_dict.get("HOST") or None,
        "port": settings_dict.get("PORT") or None,
        "sslmode": options.get("sslmode"),
    }
    try:
        conn = psycopg2.connect(**{k: v for k, v in params.items() if v is not None})
    except psycopg2.Error as exc:
        raise CommandError(f"Cannot connect to {settings_dict['NAME']}: {exc}".strip()) from exc
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
            )
            row = cursor.fetchone()
    finally:
        conn.close()
    return int(row[0]) if row else 0


class Command(BaseCommand):
    help = (
        "Restore a backup_database archive into PostgreSQL with pg_restore "
        "--single-transaction --exit-on-error --no-owner. The target must be empty "
        "unless --clean is given."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path, metavar="FILE", help="A backup_database archive.")
        parser.add_argument(
            "--database-url",
            metavar="URL",
            help=(
                "postgres://user:password@host:port/name of the database to restore into. "
                "Default: the configured database (DATABASE_URL)."
            ),
        )
        parser.add_argument(
            "--clean",
            action="store_true",
            help=(
                "Drop the archive's objects from the target before recreating them, in the "
                "same transaction: replaces the data of a database that is not empty."
            ),
        )
        parser.add_argument(
            "--no-input",
            "--noinput",
            action="store_false",
            dest="interactive",
            help="Do not ask before --clean replaces existing data.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        archive: Path = options["file"]
        if not archive.is_file():
            raise CommandError(f"No archive at {archive}.")
        if options["database_url"]:
            try:
                settings_dict = environ.Env.db_url_config(options["database_url"])
            except Exception as exc:  # environ raises bare errors on a URL it cannot read.
                raise CommandError(f"Cannot read --database-url: {exc}") from exc
        else:
            settings_dict = connections[DEFAULT_DB_ALIAS].settings_dict
        require_postgresql(settings_dict, action="restore_database")
        pg_restore = postgres_tool("pg_restore")
        env = libpq_environment(settings_dict)
        name = str(settings_dict["NAME"])

        # Checked before pg_restore so the answer names the way out, not "relation exists".
        existing = user_table_count(settings_dict)
        if existing and not options["clean"]:
            raise CommandError(
                f"Database {name} already holds {existing} tables. Restore into a new, empty "
                "database (createdb NAME, then --database-url), or pass --clean to replace "
                "its contents."
            )
        if existing and options["interactive"]:
            answer = input(
                f"This replaces the contents of database {name} ({existing} tables) with "
                f"{archive}. Type 'yes' to continue: "
            )
            if answer.strip().lower() != "yes":
                raise CommandError("Restore cancelled; nothing was changed.")

        command = [
            pg_restore,
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            "--dbname",
            name,
        ]
        if options["clean"]:
            command += ["--clean", "--if-exists"]
        started = time.perf_counter()
        run_tool([*command, str(archive)], env=env)
        # Pages cached from the database as it was before are no longer true.
        bump_generation()
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {archive} into database {name} in "
                f"{time.perf_counter() - started:.1f} s. Run `manage.py migrate --check` "
                "against it before serving traffic."
            )
        )
