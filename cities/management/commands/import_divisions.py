"""Import Open Civic Data division-id CSV files into the jurisdiction tree."""

import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from cities.services import DivisionImportError, divisions_import


class Command(BaseCommand):
    help = (
        "Create jurisdictions from Open Civic Data division-id CSV files (id,name,…), "
        "with any missing ancestors. Existing jurisdictions are left alone."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE.csv")
        parser.add_argument(
            "--actor",
            metavar="USERNAME",
            help="The user recorded in the history of every jurisdiction created.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = None
        if username := options["actor"]:
            user_model = get_user_model()
            try:
                actor = user_model._default_manager.get_by_natural_key(username)
            except user_model.DoesNotExist as exc:
                raise CommandError(f"No user is called {username!r}.") from exc

        started = time.perf_counter()
        try:
            result = divisions_import(paths=options["files"], actor=actor)
        except DivisionImportError as exc:
            raise CommandError(f"Nothing imported. {exc}") from exc
        elapsed = time.perf_counter() - started

        rate = result.rows_read / elapsed if elapsed else 0.0
        self.stdout.write(
            f"Created {result.created} jurisdictions ({result.ancestors_created} ancestors) "
            f"from {result.rows_read} rows; {result.existing} already existed, "
            f"{result.aliases_skipped} aliases and {result.duplicates_skipped} duplicates "
            f"skipped; {elapsed:.1f} s, {rate:.0f} rows/s."
        )
