"""
What a council member's reminder says: stale records, milestones falling due and
review-queue items left waiting.

The reminder is a view of the workspace dashboard's panels at one moment, so it
reads through the same selectors (``council.workspace``) and sees exactly what the
dashboard shows. Sending is the delivery code's business.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from council import workspace
from council.models import ReminderPreference
from council.workspace import Panel, QueueRow, StaleRow
from initiatives.digests import EmailContent, Period, period_for
from initiatives.models import Initiative, Milestone
from initiatives.outbox import site_url
from initiatives.snapshots import Record

# Rows listed per section; the rest are counted and a link leads to them.
REMINDER_LIMIT = 10
# The review queue is read page by page until the first item that has not waited long
# enough; the cap keeps a pathological queue from costing more than a few queries.
_QUEUE_PAGES = 10


def review_reminder_days() -> int:
    """Days an item waits in the review queue before reviewers are reminded of it."""
    return settings.ATLAS_REVIEW_REMINDER_DAYS


@dataclass(frozen=True)
class Reminder:
    user: AbstractBaseUser
    now: datetime.datetime
    stale: Panel[StaleRow]
    milestones: Panel[Milestone]
    review: Panel[QueueRow]
    stale_after_days: int
    milestone_days: int
    review_after_days: int

    @property
    def today(self) -> datetime.date:
        return timezone.localdate(self.now)

    @property
    def is_empty(self) -> bool:
        return not (self.stale.total or self.milestones.total or self.review.total)

    @property
    def item_count(self) -> int:
        return self.stale.total + self.milestones.total + self.review.total


def _waiting_reviews(
    *, user: AbstractBaseUser, now: datetime.datetime, days: int
) -> Panel[QueueRow]:
    """Queue items waiting more than ``days`` days, oldest first."""
    cutoff = now - datetime.timedelta(days=days)
    size = workspace.QUEUE_PAGE_SIZE
    waiting: list[QueueRow] = []
    for page in range(_QUEUE_PAGES):
        queue = workspace.review_queue(user=user, now=now, limit=size, offset=page * size)
        # Oldest first: the first item submitted after the cutoff ends the list.
        old = [row for row in queue.rows if row.submitted_at < cutoff]
        waiting += old
        if len(old) < len(queue.rows) or (page + 1) * size >= queue.total:
            break
    return Panel(waiting[:REMINDER_LIMIT], len(waiting))


def build_reminder(*, user: AbstractBaseUser, now: datetime.datetime) -> Reminder:
    """What ``user`` should look at, as of ``now``: the dashboard's panels that need action."""
    days = review_reminder_days()
    return Reminder(
        user=user,
        now=now,
        stale=workspace.stale_records(user=user, now=now, limit=REMINDER_LIMIT),
        milestones=workspace.milestones_due(
            user=user, today=timezone.localdate(now), limit=REMINDER_LIMIT
        ),
        review=_waiting_reviews(user=user, now=now, days=days),
        stale_after_days=settings.ATLAS_STALE_AFTER_DAYS,
        milestone_days=settings.ATLAS_MILESTONE_DUE_WITHIN_DAYS,
        review_after_days=days,
    )


def reminder_period_for(frequency: str, moment: datetime.datetime) -> Period:
    """
    The reminders' ledger period for a run at ``moment``: like a digest's, the day or
    ISO week that ended last, so a second run in the same day or week sends nothing.
    """
    if frequency == ReminderPreference.Frequency.NEVER:
        raise ValueError("A member who wants no reminders has no reminder period.")
    return period_for(frequency, moment)


# ------------------------------------------------------------------------------
# The email
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderLine:
    title: str
    url: str
    place: str
    note: str
    overdue: bool = False


def _url(name: str, *args: Any) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _record_url(record: Record) -> str:
    """The record's edit page; its review page, then its public page, where that is missing."""
    kind = workspace.kind_of(record)
    edit = "initiative-edit" if isinstance(record, Initiative) else "plan-edit"
    path = (
        _url(f"council:editing:{edit}", record.slug)
        or _url("council:workspace:review-detail", kind, record.slug)
        or record.get_absolute_url()
    )
    return site_url(path)


def _lines(reminder: Reminder) -> dict[str, list[ReminderLine]]:
    today = reminder.today
    stale = [
        ReminderLine(
            title=row.record.title,
            url=_record_url(row.record),
            place=row.record.jurisdiction.name,
            note=_("Last changed on %(date)s.")
            % {"date": date_format(timezone.localdate(row.record.updated_at), "DATE_FORMAT")},
        )
        for row in reminder.stale.rows
    ]
    milestones = []
    for milestone in reminder.milestones.rows:
        due = date_format(milestone.due_date, "DATE_FORMAT") if milestone.due_date else ""
        overdue = milestone.is_overdue(today)
        milestones.append(
            ReminderLine(
                title=f"{milestone.title} ({milestone.initiative.title})",
                url=_record_url(milestone.initiative),
                place=milestone.initiative.jurisdiction.name,
                note=(_("Overdue: due on %(date)s.") if overdue else _("Due on %(date)s."))
                % {"date": due},
                overdue=overdue,
            )
        )
    review = [
        ReminderLine(
            title=row.record.title,
            url=site_url(
                _url("council:workspace:review-detail", row.kind, row.record.slug)
                or row.record.get_absolute_url()
            ),
            place=row.jurisdiction.name,
            note=(
                _("Changes waiting for %(days)d days.")
                if row.revision is not None
                else _("New record waiting for %(days)d days.")
            )
            % {"days": row.waiting_days},
        )
        for row in reminder.review.rows
    ]
    return {"stale": stale, "milestones": milestones, "review": review}


def render_reminder(reminder: Reminder, *, user: AbstractBaseUser, language: str) -> EmailContent:
    """The reminder as an email in ``language``: subject, plain text and HTML."""
    languages = {code for code, _name in settings.LANGUAGES}
    language = language if language in languages else settings.LANGUAGE_CODE
    with translation.override(language):
        get_full_name = getattr(user, "get_full_name", None)
        context = {
            "reminder": reminder,
            "user": user,
            "name": (get_full_name() if get_full_name else "") or user.get_username(),
            "language": language,
            "lines": _lines(reminder),
            "workspace_url": site_url(_url("council:landing") or f"/{language}/"),
            "queue_url": site_url(
                _url("council:workspace:review-queue") or _url("council:landing") or "/"
            ),
            "home_url": site_url(f"/{language}/"),
        }
        subject = render_to_string("emails/reminder_subject.txt", context)
        return EmailContent(
            subject=" ".join(subject.split()),
            text=render_to_string("emails/reminder.txt", context),
            html=render_to_string("emails/reminder.html", context),
        )
