"""
``manage.py backup_database``: a pg_dump custom-format archive of the Atlas's PostgreSQL database.

The archive holds schema and data together and is what ``restore_database`` reads. The
connection comes from the Django settings (DATABASE_URL), handed to pg_dump through libpq's
environment variables so the password never shows in a process list.
"""

import datetime
import os
import shutil
import subprocess
import sys
import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

# libpq's environment variables for the parts of a Django database setting that pg_dump and
# pg_restore need; OPTIONS keys map the TLS settings a managed PostgreSQL usually asks for.
_LIBPQ_KEYS = {"HOST": "PGHOST", "PORT": "PGPORT", "USER": "PGUSER", "PASSWORD": "PGPASSWORD"}
_LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
}


def require_postgresql(settings_dict: dict[str, Any], *, action: str) -> None:
    """Refuse clearly unless ``settings_dict`` names a PostgreSQL database."""
    engine = str(settings_dict.get("ENGINE", ""))
    if "postgresql" not in engine:
        kind = "SQLite" if "sqlite" in engine else engine or "no database engine"
        raise CommandError(
            f"{action} works with PostgreSQL only (pg_dump / pg_restore), and this database "
            f"is {kind}. Set DATABASE_URL=postgres://... to a PostgreSQL database. "
            "A SQLite file is backed up by copying it while nothing writes to it."
        )


def libpq_environment(settings_dict: dict[str, Any]) -> dict[str, str]:
    """The process environment plus PG* variables that point libpq at ``settings_dict``."""
    env = dict(os.environ)
    for key, variable in _LIBPQ_KEYS.items():
        value = settings_dict.get(key)
        if value not in (None, ""):
            env[variable] = str(value)
    options = settings_dict.get("OPTIONS") or {}
    for key, variable in _LIBPQ_OPTIONS.items():
        if options.get(key):
            env[variable] = str(options[key])
    return env


def postgres_tool(name: str) -> str:
    """The path of a PostgreSQL client program, or a clear error naming the package to install."""
    path = shutil.which(name)
    if path is None:
        raise CommandError(
            f"{name} is not installed or not on PATH. Install the PostgreSQL client programs "
            "(Debian: apt-get install postgresql-client) of the server's major version or newer."
        )
    return path


def run_tool(args: list[str], *, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    """Run a PostgreSQL client program; its own error message becomes the CommandError."""
    result = subprocess.run(args, env=env, capture_output=True, check=False)  # noqa: S603
    if result.returncode != 0:
        detail = result.stderr.decode(errors="replace").strip()
        raise CommandError(f"{Path(args[0]).name} failed (exit {result.returncode}): {detail}")
    return result


class Command(BaseCommand):
    help = (
        "Dump the PostgreSQL database to a pg_dump custom-format archive (pg_dump -Fc), "
        "which restore_database reads back."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--output",
            "-o",
            metavar="FILE",
            help=(
                "Where to write the archive; '-' writes it to standard output. "
                "Default: atlas-<database>-<UTC time>.dump in the current directory."
            ),
        )
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help="The Django database alias to dump (default: %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        settings_dict = connections[options["database"]].settings_dict
        require_postgresql(settings_dict, action="backup_database")
        pg_dump = postgres_tool("pg_dump")
        env = libpq_environment(settings_dict)
        name = str(settings_dict["NAME"])
        command = [pg_dump, "--format=custom", "--dbname", name]

        if options["output"] == "-":
            # Straight to stdout, for `docker compose exec -T web ... > atlas.dump`.
            result = run_tool(command, env=env)
            sys.stdout.buffer.write(result.stdout)
            sys.stdout.buffer.flush()
            return

        stamp = datetime.datetime.now(tz=datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
        output = Path(options["output"] or f"atlas-{name}-{stamp}.dump")
        if output.is_dir():
            output = output / f"atlas-{name}-{stamp}.dump"
        # Written beside the target and renamed once complete and readable, so a failed or
        # interrupted dump never leaves a file that looks like a good backup.
        partial = output.with_name(output.name + ".partial")
        started = time.perf_counter()
        try:
            run_tool([*command, "--file", str(partial)], env=env)
            listing = run_tool([postgres_tool("pg_restore"), "--list", str(partial)], env=env)
            partial.replace(output)
        finally:
            partial.unlink(missing_ok=True)
        entries = sum(1 for line in listing.stdout.decode().splitlines() if line and line[0] != ";")
        self.stdout.write(
            self.style.SUCCESS(
                f"Backed up database {name} to {output}: {output.stat().st_size:,} bytes, "
                f"{entries} archive entries, {time.perf_counter() - started:.1f} s."
            )
        )
