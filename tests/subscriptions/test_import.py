"""``manage.py import_subscribers``: checked whole, written whole, and idempotent."""

import csv
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from cities.models import Jurisdiction
from initiatives.models import OutgoingEmail, Subscription, SubscriptionTarget
from tests.factories import JurisdictionFactory
from tests.subscriptions.conftest import Followable

HEADER = ["email", "language", "frequency", "targets", "confirmed"]
GOOD = [
    [
        "ana@example.org",
        "en",
        "weekly",
        "ocd-division/country:us/state:il;initiative:library-wifi",
        "yes",
    ],
    ["bo@example.org", "fr", "daily", "chicago;focus-area:open-government", "false"],
    ["cy@example.org", "en", "weekly", "organization:uchicago", "1"],
]


def _write(tmp_path: Path, rows: list[list[str]], name: str = "list.csv") -> Path:
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _run(path: Path) -> str:
    out = io.StringIO()
    call_command("import_subscribers", str(path), stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_good_file_imports_and_emails_only_the_unconfirmed(
    tmp_path: Path, followable: Followable
) -> None:
    output = _run(_write(tmp_path, GOOD))
    assert "created 2" in output
    assert "awaiting confirmation 1" in output
    ana = Subscription.objects.get(email="ana@example.org")
    assert ana.is_active
    assert ana.frequency == "weekly"
    assert sorted(t.kind for t in ana.targets.all()) == ["initiative", "jurisdiction"]
    assert ana.targets.get(kind="jurisdiction").jurisdiction == followable.map.illinois
    bo = Subscription.objects.get(email="bo@example.org")
    assert not bo.is_active
    assert bo.language == "fr"
    [email] = OutgoingEmail.objects.all()
    assert email.to == "bo@example.org"
    assert email.kind == "subscription_confirm"
    assert "/fr/subscriptions/confirm/" in email.body


def test_importing_again_changes_nothing(tmp_path: Path, followable: Followable) -> None:
    path = _write(tmp_path, GOOD)
    _run(path)
    counts = (Subscription.objects.count(), SubscriptionTarget.objects.count())
    emails = OutgoingEmail.objects.count()
    output = _run(path)
    assert "unchanged 3" in output
    assert (Subscription.objects.count(), SubscriptionTarget.objects.count()) == counts
    assert OutgoingEmail.objects.count() == emails


def test_new_targets_join_the_confirmed_subscription(
    tmp_path: Path, followable: Followable
) -> None:
    _run(_write(tmp_path, GOOD))
    more = [["ANA@example.org", "en", "weekly", "organization:uchicago;chicago", "true"]]
    assert "updated 1" in _run(_write(tmp_path, more, "more.csv"))
    ana = Subscription.objects.get(email="ana@example.org")
    assert ana.targets.count() == 4
    assert Subscription.objects.filter(email="ana@example.org").count() == 1


def test_a_bad_row_at_the_end_writes_nothing_and_names_its_line(
    tmp_path: Path, followable: Followable
) -> None:
    rows = [*GOOD, ["dee@example.org", "de", "monthly", "initiative:nope", "maybe"]]
    path = _write(tmp_path, rows)
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_subscribers", str(path), stdout=io.StringIO(), stderr=err)
    message = err.getvalue()
    assert "line 5:" in message
    assert "language" in message
    assert "frequency" in message
    assert "confirmed" in message
    assert not Subscription.objects.exists()
    assert not OutgoingEmail.objects.exists()


def test_an_unknown_target_is_reported_with_its_line(
    tmp_path: Path, followable: Followable
) -> None:
    rows = [*GOOD, ["dee@example.org", "en", "weekly", "chicago;ocd-division/country:xx", "no"]]
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_subscribers", str(_write(tmp_path, rows)), stdout=io.StringIO(), stderr=err
        )
    assert "line 5:" in err.getvalue()
    assert "ocd-division/country:xx" in err.getvalue()
    assert not Subscription.objects.exists()


def test_a_missing_column_or_file_is_an_error(tmp_path: Path, db: None) -> None:
    path = tmp_path / "short.csv"
    path.write_text("email,language\nana@example.org,en\n", encoding="utf-8")
    with pytest.raises(CommandError, match="line 1: missing column"):
        call_command("import_subscribers", str(path))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_subscribers", str(tmp_path / "absent.csv"))


def test_real_ocd_ids_from_the_shared_division_files(
    tmp_path: Path, db: None, ocd_data: Path
) -> None:
    """Targets written as the OCD ids of real divisions, as an existing list would hold them."""
    with (ocd_data / "us_census_places.csv").open(encoding="utf-8") as file:
        places = [row for _, row in zip(range(3), csv.DictReader(file), strict=False)]
    for place in places:
        JurisdictionFactory.create(ocd_id=place["id"], name=place["name"])
    rows = [
        [f"reader{number}@example.org", "en", "weekly", place["id"], "true"]
        for number, place in enumerate(places)
    ]
    rows.append(["all@example.org", "en", "daily", ";".join(p["id"] for p in places), "yes"])
    output = _run(_write(tmp_path, rows))
    assert f"created {len(places) + 1}" in output
    everything = Subscription.objects.get(email="all@example.org")
    assert {t.jurisdiction.ocd_id for t in everything.targets.all() if t.jurisdiction} == {
        p["id"] for p in places
    }
    assert Jurisdiction.objects.count() == len(places)
