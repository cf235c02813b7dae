"""``manage.py import_initiatives``: import a CSV file of initiatives, as the workspace does."""

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cities.models import Jurisdiction
from initiatives.csv_io import format_waiting, import_initiatives


class Command(BaseCommand):
    help = (
        "Import initiatives from a CSV file (docs/csv-import.md) into a jurisdiction, "
        "as the given user. The file is checked whole first; any error writes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The CSV file, UTF-8.")
        parser.add_argument("--jurisdiction", required=True, help="The jurisdiction's slug.")
        parser.add_argument(
            "--actor", required=True, help="The username the history names; needs edit rights."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file and report; write nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            jurisdiction = Jurisdiction.objects.get(slug=options["jurisdiction"])
        except Jurisdiction.DoesNotExist:
            raise CommandError(
                f"No jurisdiction has the slug {options['jurisdiction']!r}."
            ) from None
        try:
            actor = get_user_model().objects.get(username=options["actor"], is_active=True)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No active user is called {options['actor']!r}.") from None
        path: Path = options["file"]
        try:
            with path.open("rb") as file:
                result = import_initiatives(
                    jurisdiction=jurisdiction,
                    actor=actor,
                    file=file,
                    dry_run=options["dry_run"],
                )
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from error
        except PermissionDenied as error:
            raise CommandError(str(error)) from error

        plan = result.plan
        for problem in result.errors:
            self.stderr.write(str(problem))
        counts = (
            f"created {plan.created}, updated {plan.updated}, unchanged {plan.unchanged}"
            if result.written
            else f"to create {plan.created}, to update {plan.updated}, unchanged {plan.unchanged}"
        )
        self.stdout.write(
            f"{result.rows} rows: {counts}, in {result.seconds:.2f} s "
            f"({result.rows_per_second:.0f} rows/s)."
        )
        if plan.waiting_for_review:
            self.stdout.write(format_waiting(plan))
        if result.errors:
            raise CommandError(f"{len(result.errors)} errors; nothing was written.")
        if result.written:
            self.stdout.write(self.style.SUCCESS("Import done."))
        else:
            self.stdout.write("Dry run: nothing was written.")
