"""``manage.py generate_data``: a reproducible load-test data set (``initiatives.generate``)."""

import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from initiatives.generate import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_DIVISIONS,
    GenerationError,
    generate_data,
)


class Command(BaseCommand):
    help = (
        "Generate realistic, reproducible initiatives and subscribers over the real Open Civic "
        "Data jurisdictions and the demo, with bulk inserts (COPY on PostgreSQL). Refuses to run "
        "twice on one database unless --replace is given, and refuses to run in production."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--initiatives", type=int, default=10_000, metavar="N")
        parser.add_argument("--subscribers", type=int, default=1_000, metavar="M")
        parser.add_argument(
            "--seed", type=int, default=1, help="The same seed gives the same data."
        )
        parser.add_argument(
            "--divisions",
            type=Path,
            default=DEFAULT_DIVISIONS,
            metavar="DIR",
            help="The folder of Open Civic Data division-id CSV files (ocd-division-ids).",
        )
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, metavar="ROWS")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Delete a previously generated set first.",
        )
        parser.add_argument(
            "--keep-indexes",
            action="store_true",
            help="On PostgreSQL, load with indexes and foreign keys in place (slower; to compare).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.ATLAS_ENVIRONMENT == "production":
            raise CommandError(
                "generate_data refuses to run under production settings: it would mix invented "
                "records into live data."
            )
        started = time.perf_counter()
        try:
            result = generate_data(
                initiatives=options["initiatives"],
                subscribers=options["subscribers"],
                seed=options["seed"],
                divisions=options["divisions"],
                batch_size=options["batch_size"],
                replace=options["replace"],
                keep_indexes=options["keep_indexes"],
                progress=self.stdout.write,
            )
        except GenerationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write("Generated:")
        for label, count in result.counts.items():
            self.stdout.write(f"  {label:<22} {count:>10,}")
        self.stdout.write(
            f"City page: {result.city_url} ({result.city_slug}, "
            f"{result.city_published:,} published initiatives)"
        )
        elapsed = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(f"Done in {elapsed:.1f} s."))
