"""python manage.py create_api_key --user USERNAME [--read-only] [--expires DAYS] [--name NAME]"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from council.services import api_key_create


class Command(BaseCommand):
    help = (
        "Create an API key and print it once. Anyone may hold a read-only key; a write "
        "key needs Atlas staff or a council member, and acts with that user's rights."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="Username of the key's owner.")
        parser.add_argument(
            "--read-only", action="store_true", help="A key that can only read (GET, HEAD)."
        )
        parser.add_argument(
            "--expires", type=int, metavar="DAYS", help="Days until the key expires."
        )
        parser.add_argument("--name", default="", help="What the key is for.")

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["user"]
        user = get_user_model()._default_manager.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user is called {username!r}.")
        try:
            key, plain = api_key_create(
                user=user,
                read_only=options["read_only"],
                expires_in_days=options["expires"],
                name=options["name"],
                actor=None,
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error

        kind = "read-only" if key.read_only else "write"
        until = f"expires {key.expires_at:%Y-%m-%d %H:%M} UTC" if key.expires_at else "no expiry"
        # The key alone on stdout, so a script can capture it; the rest on stderr.
        self.stderr.write(f"Created a {kind} API key {key.prefix} for {username} ({until}).")
        self.stdout.write(plain)
        self.stderr.write(
            self.style.WARNING(
                "Store this key now: it will not be shown again (only its hash is kept)."
            )
        )
