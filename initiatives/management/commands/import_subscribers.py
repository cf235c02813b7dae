"""
``manage.py import_subscribers FILE.csv``: move an existing mailing list in.

Columns: ``email``, ``language``, ``frequency`` (daily or weekly), ``targets``
(separated by ``;``: OCD division ids or bare slugs for jurisdictions,
``initiative:<slug>``, ``focus-area:<slug>``, ``organization:<slug>``) and
``confirmed`` (true/false, yes/no, 1/0). The whole file is checked before
anything is written, and written in one transaction: an error anywhere writes
nothing. Unconfirmed addresses are emailed a confirmation link; confirmed ones
are not. Importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import transaction

from initiatives import subscriptions
from initiatives.models import Frequency

COLUMNS = ("email", "language", "frequency", "targets", "confirmed")
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


@dataclass(frozen=True)
class _Row:
    line: int
    email: str
    language: str
    frequency: str
    refs: list[str]
    confirmed: bool


def _read(path: Path) -> tuple[list[_Row], list[str]]:
    """Every row of the file, and every problem found, each with its line number."""
    rows: list[_Row] = []
    errors: list[str] = []
    languages = {code for code, _name in settings.LANGUAGES}
    max_rows = settings.ATLAS_IMPORT_MAX_ROWS
    with path.open(encoding="utf-8-sig", newline="") as file:
        reader = csv.DictReader(file)
        header = [name.strip().lower() for name in reader.fieldnames or []]
        missing = [name for name in COLUMNS if name not in header]
        if missing:
            raise CommandError(f"line 1: missing column(s): {', '.join(missing)}.")
        reader.fieldnames = header
        for record in reader:
            line = reader.line_num
            if len(rows) + len(errors) >= max_rows:
                raise CommandError(f"line {line}: the file holds more than {max_rows} rows.")
            values = {name: str(record.get(name) or "").strip() for name in COLUMNS}
            if not any(values.values()):
                continue
            problems: list[str] = []
            email = values["email"]
            try:
                validate_email(email)
            except ValidationError:
                problems.append(f"“{email}” is not an email address")
            language = values["language"].lower()
            if language not in languages:
                problems.append(
                    f"language “{values['language']}” is not one of {', '.join(sorted(languages))}"
                )
            frequency = values["frequency"].lower()
            if frequency not in Frequency.values:
                problems.append(f"frequency “{values['frequency']}” is not daily or weekly")
            refs = [ref.strip() for ref in values["targets"].split(";") if ref.strip()]
            if not refs:
                problems.append("no targets")
            confirmed = values["confirmed"].lower()
            if confirmed not in _TRUE | _FALSE:
                problems.append(f"confirmed “{values['confirmed']}” is not true or false")
            if problems:
                errors.append(f"line {line}: {'; '.join(problems)}.")
                continue
            rows.append(
                _Row(
                    line=line,
                    email=email,
                    language=language,
                    frequency=frequency,
                    refs=refs,
                    confirmed=confirmed in _TRUE,
                )
            )
    return rows, errors


class Command(BaseCommand):
    help = (
        "Import subscribers from a CSV file with the columns email, language, frequency, "
        "targets and confirmed. The file is checked whole first; any error writes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The CSV file, UTF-8.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            rows, errors = _read(path)
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from error
        except (UnicodeDecodeError, csv.Error) as error:
            raise CommandError(f"{path} is not a UTF-8 CSV file: {error}") from error

        # One lookup for all the file's targets, so every unknown one is reported with its line.
        resolution = subscriptions.resolve_target_refs(ref for row in rows for ref in row.refs)
        for row in rows:
            unknown = [resolution.errors[ref] for ref in row.refs if ref in resolution.errors]
            if unknown:
                errors.append(f"line {row.line}: {' '.join(unknown)}")
        if errors:
            for problem in sorted(errors, key=_line_of):
                self.stderr.write(problem)
            raise CommandError(
                f"{len(errors)} row(s) with errors; nothing was imported. Correct them and "
                "run the command again."
            )

        counts: Counter[str] = Counter()
        with transaction.atomic():
            for row in rows:
                outcome = subscriptions.subscription_import(
                    email=row.email,
                    language=row.language,
                    frequency=row.frequency,
                    targets=[resolution.found[ref] for ref in row.refs],
                    confirmed=row.confirmed,
                )
                counts[outcome] += 1
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(rows)} row(s): created {counts['created']}, "
                f"awaiting confirmation {counts['awaiting_confirmation']} "
                f"(confirmation emails sent), updated {counts['updated']}, "
                f"unchanged {counts['unchanged']}."
            )
        )


def _line_of(problem: str) -> int:
    number = problem.removeprefix("line ").split(":", 1)[0]
    return int(number) if number.isdigit() else 0
