"""``manage.py write_dump``: write today's open-data dump now, as the nightly task does."""

from typing import Any

from django.core.management.base import BaseCommand

from initiatives.dumps import dump_write


class Command(BaseCommand):
    help = (
        "Write today's open-data dump (a zip of CSV, JSON and GeoJSON with its licence and "
        "README) into ATLAS_DUMPS_DIR, replacing one from earlier today, and prune old dumps."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        info = dump_write()
        self.stdout.write(f"Wrote {info.path}")
        self.stdout.write(f"  {info.size} bytes, sha256 {info.sha256}")
        for table, rows in info.rows.items():
            self.stdout.write(f"  {table:<24} {rows:>7}")
        self.stdout.write(self.style.SUCCESS("Dump written."))
