"""Digest periods: which day or ISO week a run reports, and their ledger keys."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest

from initiatives.digests import period_containing, period_for, period_from_key

UTC = datetime.UTC


def test_daily_period_is_the_previous_utc_day() -> None:
    period = period_for("daily", datetime.datetime(2026, 11, 27, 15, 30, tzinfo=UTC))
    assert period.key == "2026-11-26"
    assert period.start == datetime.datetime(2026, 11, 26, tzinfo=UTC)
    assert period.end == datetime.datetime(2026, 11, 27, tzinfo=UTC)


def test_a_run_at_midnight_reports_the_day_that_just_ended() -> None:
    assert period_for("daily", datetime.datetime(2026, 11, 27, tzinfo=UTC)).key == "2026-11-26"


def test_the_moment_is_read_in_utc() -> None:
    """01:00 in Paris on the 27th is still the 26th in UTC: the day before that is reported."""
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    period = period_for("daily", datetime.datetime(2026, 11, 27, 0, 30, tzinfo=paris))
    assert period.key == "2026-11-25"


def test_weekly_period_is_the_previous_iso_week_monday_to_monday() -> None:
    period = period_for("weekly", datetime.datetime(2026, 11, 27, 9, tzinfo=UTC))
    assert period.key == "2026-W47"
    assert period.start == datetime.datetime(2026, 11, 16, tzinfo=UTC)
    assert period.end == datetime.datetime(2026, 11, 23, tzinfo=UTC)
    assert period.first_day == datetime.date(2026, 11, 16)
    assert period.last_day == datetime.date(2026, 11, 22)


def test_weekly_keys_use_the_iso_year() -> None:
    """The week from 28 December 2026 is 2026's week 53, though it ends in 2027."""
    period = period_for("weekly", datetime.datetime(2027, 1, 5, tzinfo=UTC))
    assert period.key == "2026-W53"
    assert period.end == datetime.datetime(2027, 1, 4, tzinfo=UTC)
    assert period_for("weekly", datetime.datetime(2027, 1, 1, tzinfo=UTC)).key == "2026-W52"


def test_period_containing_is_the_one_still_running() -> None:
    moment = datetime.datetime(2026, 11, 27, 15, tzinfo=UTC)
    running = period_containing("weekly", moment)
    assert running.key == "2026-W48"
    assert moment in running
    assert running.previous() == period_for("weekly", moment)


def test_end_is_excluded_and_start_included() -> None:
    period = period_from_key("daily", "2026-11-26")
    assert period.start in period
    assert period.end not in period
    assert period.end in period_from_key("daily", "2026-11-27")


@pytest.mark.parametrize(
    ("frequency", "key"),
    [("daily", "2026-11-26"), ("weekly", "2026-W47"), ("weekly", "2026-W53")],
)
def test_keys_round_trip(frequency: str, key: str) -> None:
    period = period_from_key(frequency, key)
    assert period.key == key
    assert period_for(frequency, period.end) == period


@pytest.mark.parametrize(
    ("frequency", "key"),
    [
        ("daily", "2026-13-01"),
        ("daily", "2026-02-30"),
        ("daily", "2026-1-1"),
        ("daily", "2026-W47"),
        ("daily", ""),
        ("weekly", "2026-11-26"),
        ("weekly", "2027-W53"),
        ("weekly", "2026-W00"),
        ("weekly", "2026-W5"),
        ("weekly", "2026-w47"),
        ("weekly", "2026-W47 "),
        ("monthly", "2026-11"),
    ],
)
def test_bad_keys_are_refused(frequency: str, key: str) -> None:
    with pytest.raises(
        ValueError, match=r"Not a (daily|weekly) period key|Unknown digest frequency"
    ):
        period_from_key(frequency, key)


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        period_for("daily", datetime.datetime(2026, 11, 27, 12))  # noqa: DTZ001


def test_an_unknown_frequency_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown digest frequency"):
        period_for("hourly", datetime.datetime(2026, 11, 27, tzinfo=UTC))
