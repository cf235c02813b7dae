"""
``manage.py rebuild_coverage``: recompute the public coverage summary from the catalogue.

Run it after any write that skips model signals: a bulk import, generated data, a
database restore. Safe at any time; readers see the old summary until it commits.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cities.coverage import coverage_rebuild


class Command(BaseCommand):
    help = "Recompute published initiatives per jurisdiction and focus area, and atlas totals."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default="default", help="Database alias.")

    def handle(self, *args: Any, **options: Any) -> None:
        result = coverage_rebuild(using=options["database"])
        self.stdout.write(
            f"{result.coverage_rows} coverage rows, {result.spread_rows} spread rows, "
            f"{result.organizations} organizations."
        )
