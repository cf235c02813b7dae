"""``manage.py seed_demo``: load or refresh the demo data set (see ``initiatives.demo``)."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from initiatives.demo import demo_seed


class Command(BaseCommand):
    help = (
        "Load or refresh the demo data: jurisdictions, plans, initiatives, organizations, "
        "coalitions and demo accounts. Safe to run again; refuses to run in production."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.ATLAS_ENVIRONMENT == "production":
            raise CommandError(
                "seed_demo refuses to run under production settings "
                "(ATLAS_ENVIRONMENT is 'production'): it would mix demo records into live "
                "data and reset the demo accounts' passwords."
            )
        summary = demo_seed(password=settings.DEMO_PASSWORD)
        self.stdout.write("Demo data:")
        for label, count in summary.counts():
            self.stdout.write(f"  {label:<22} {count:>4}")
        self.stdout.write(f"Rows created by this run: {summary.created}")
        self.stdout.write("Demo accounts (password from DEMO_PASSWORD):")
        for account in summary.accounts:
            self.stdout.write(f"  {account}")
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
