"""``manage.py send_reminders``: run the council members' reminders now, as beat does daily."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from initiatives import delivery


class Command(BaseCommand):
    help = (
        "Queue a reminder for each council member whose preference (weekly by default) makes "
        "this run theirs; a period already sent is not sent again. --dry-run builds the "
        "reminders and counts them, sending nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count; send nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        summary = delivery.reminder_run(dry_run=options["dry_run"])
        for line in summary.lines():
            self.stdout.write(line)
