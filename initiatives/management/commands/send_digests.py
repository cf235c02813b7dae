"""``manage.py send_digests --frequency daily|weekly``: run a digest period now, as beat does."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from initiatives import delivery
from initiatives.models import Frequency


class Command(BaseCommand):
    help = (
        "Queue the digests of one period (by default the one that ended last) for every "
        "confirmed subscription of that frequency. A period already sent is not sent again. "
        "--dry-run builds the digests and counts them, sending nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--frequency", required=True, choices=list(Frequency.values))
        parser.add_argument(
            "--period", default=None, help='A period key: "2026-11-26" (daily) or "2026-W48".'
        )
        parser.add_argument("--dry-run", action="store_true", help="Count; send nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            summary = delivery.digest_run(
                frequency=options["frequency"],
                period_key=options["period"],
                dry_run=options["dry_run"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        for line in summary.lines():
            self.stdout.write(line)
