"""``manage.py sweep_outbox``: hand over what waited for the broker, as beat does each minute."""

from typing import Any

from django.core.management.base import BaseCommand

from initiatives import delivery


class Command(BaseCommand):
    help = (
        "Hand to the workers the outbox emails written while the broker was down, and any "
        "delivery left pending longer than the broker's visibility timeout."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        handed = delivery.sweep_outbox()
        self.stdout.write(f"{handed} handed to the workers.")
