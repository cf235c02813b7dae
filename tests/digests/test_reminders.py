"""Reminders to council members: stale records, milestones due and reviews left waiting."""

from __future__ import annotations

import datetime

import pytest

from council.reminders import build_reminder, reminder_period_for, render_reminder
from initiatives.models import Initiative, Plan, PublicationState
from tests.conftest import AtlasMap
from tests.factories import InitiativeFactory, MilestoneFactory, PlanFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 27, 7, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()


def set_updated_at(record: Initiative | Plan, when: datetime.datetime) -> None:
    # auto_now would overwrite a saved value; update() writes it as given.
    type(record).objects.filter(pk=record.pk).update(updated_at=when)


@pytest.fixture
def chicago_work(atlas_map: AtlasMap) -> dict:
    stale = InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Old Wi-Fi")
    set_updated_at(stale, NOW - datetime.timedelta(days=200))
    fresh = InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Fresh")
    set_updated_at(fresh, NOW - datetime.timedelta(days=10))
    stale_plan = PlanFactory.create(jurisdiction=atlas_map.springfield, title="Springfield plan")
    set_updated_at(stale_plan, NOW - datetime.timedelta(days=400))
    MilestoneFactory.create(
        initiative=fresh, title="Overdue step", due_date=TODAY - datetime.timedelta(days=2)
    )
    MilestoneFactory.create(
        initiative=fresh, title="Soon step", due_date=TODAY + datetime.timedelta(days=5)
    )
    MilestoneFactory.create(
        initiative=fresh, title="Far step", due_date=TODAY + datetime.timedelta(days=40)
    )
    MilestoneFactory.create(
        initiative=fresh,
        title="Done step",
        due_date=TODAY - datetime.timedelta(days=2),
        completed_on=TODAY - datetime.timedelta(days=3),
    )
    waiting = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        title="Waiting long",
        publication_state=PublicationState.REVIEW,
    )
    set_updated_at(waiting, NOW - datetime.timedelta(days=5))
    recent = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        title="Just submitted",
        publication_state=PublicationState.REVIEW,
    )
    set_updated_at(recent, NOW - datetime.timedelta(days=1))
    elsewhere = InitiativeFactory.create(jurisdiction=atlas_map.nyc, title="NYC stale")
    set_updated_at(elsewhere, NOW - datetime.timedelta(days=300))
    return {"stale": stale, "waiting": waiting}


def test_a_chicago_editor_hears_of_stale_records_and_milestones_not_reviews(
    chicago_editor, chicago_work
) -> None:
    reminder = build_reminder(user=chicago_editor, now=NOW)

    assert [row.record.title for row in reminder.stale.rows] == ["Old Wi-Fi"]
    assert [m.title for m in reminder.milestones.rows] == ["Overdue step", "Soon step"]
    assert reminder.review.total == 0
    assert not reminder.is_empty
    assert (reminder.stale_after_days, reminder.milestone_days, reminder.review_after_days) == (
        180,
        14,
        3,
    )


def test_a_chicago_reviewer_also_hears_of_reviews_waiting_over_three_days(
    chicago_reviewer, chicago_work
) -> None:
    reminder = build_reminder(user=chicago_reviewer, now=NOW)
    assert [row.record.title for row in reminder.review.rows] == ["Waiting long"]
    assert reminder.review.total == 1
    assert reminder.review.rows[0].waiting_days == 5


def test_the_review_delay_is_a_setting(chicago_reviewer, chicago_work, settings) -> None:
    settings.ATLAS_REVIEW_REMINDER_DAYS = 0
    reminder = build_reminder(user=chicago_reviewer, now=NOW)
    assert [row.record.title for row in reminder.review.rows] == ["Waiting long", "Just submitted"]
    assert reminder.review_after_days == 0


def test_an_illinois_editor_hears_of_the_whole_state(illinois_editor, chicago_work) -> None:
    reminder = build_reminder(user=illinois_editor, now=NOW)
    assert [row.record.title for row in reminder.stale.rows] == ["Springfield plan", "Old Wi-Fi"]


def test_nothing_to_do_is_an_empty_reminder(nyc_editor, atlas_map: AtlasMap) -> None:
    reminder = build_reminder(user=nyc_editor, now=NOW)
    assert reminder.is_empty
    assert reminder.item_count == 0


def test_the_reminder_email_in_english(chicago_reviewer, chicago_work) -> None:
    reminder = build_reminder(user=chicago_reviewer, now=NOW)
    email = render_reminder(reminder, user=chicago_reviewer, language="en")

    assert email.subject == "Council reminder: 4 things to look at"
    text = email.text
    assert "Hello chicago-reviewer," in text
    assert text.index("Waiting for review (1)") < text.index("Milestones due or overdue (2)")
    assert "Stale records (1)" in text
    assert "Submitted more than 3 days ago." in text
    assert "Overdue: due on Nov. 25, 2026." in text
    assert "Due on Dec. 2, 2026." in text
    assert "New record waiting for 5 days." in text
    assert "/en/council/" in text
    html = email.html
    assert '<html lang="en">' in html
    assert "Waiting long" in html
    assert "Old Wi-Fi" in html
    assert "http" in html
    assert 'href="/' not in html


def test_the_reminder_email_in_french(chicago_editor, chicago_work) -> None:
    reminder = build_reminder(user=chicago_editor, now=NOW)
    email = render_reminder(reminder, user=chicago_editor, language="fr")
    assert '<html lang="fr">' in email.html
    for content in (email.text, email.html):
        assert "Atlas du leadership numérique" in content
        assert "2 décembre 2026" in content
        assert "/fr/council/" in content


def test_reminder_periods() -> None:
    assert reminder_period_for("weekly", NOW).key == "2026-W47"
    assert reminder_period_for("daily", NOW).key == "2026-11-26"
    with pytest.raises(ValueError, match="no reminders"):
        reminder_period_for("never", NOW)
