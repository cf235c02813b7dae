"""
Emails the review workflow sends: submitted, returned, published.

Each goes through the outbox (``initiatives.outbox.outbox_email``) inside the
workflow step's transaction, so it is owed exactly when the step commits, and a
request made while Redis is down still succeeds: the sweep sends it later.
Nobody is told about their own step.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from council.models import CouncilMembership, ReminderPreference
from initiatives.models import Initiative, OutgoingEmail, Revision
from initiatives.outbox import outbox_email, site_url
from initiatives.snapshots import Record

REVIEW_ROLES = (CouncilMembership.Role.REVIEWER, CouncilMembership.Role.CHAIR)


def _record(item: Record | Revision) -> Record:
    return item.record if isinstance(item, Revision) else item


def _kind(record: Record) -> str:
    return "initiatives" if isinstance(record, Initiative) else "plans"


def _language(user: AbstractBaseUser) -> str:
    preference = ReminderPreference.objects.filter(user_id=user.pk).only("language").first()
    return preference.language if preference else settings.LANGUAGE_CODE


def _email(
    *, kind: str, template: str, user: AbstractBaseUser, context: dict[str, Any]
) -> OutgoingEmail:
    with translation.override(_language(user)):
        context = {**context, "user": user, "link": site_url(context["path"]())}
        subject = render_to_string(f"emails/{template}_subject.txt", context)
        return outbox_email(
            kind=kind,
            to=user.email,  # type: ignore[attr-defined]
            subject=subject,
            body=render_to_string(f"emails/{template}.txt", context),
            html=render_to_string(f"emails/{template}.html", context),
        )


def _addressable(users: Iterable[AbstractBaseUser | None], actor: AbstractBaseUser) -> list[Any]:
    seen: dict[int, AbstractBaseUser] = {}
    for user in users:
        if (
            user is not None
            and user.is_active
            and getattr(user, "email", None)
            and user.pk != actor.pk
        ):
            seen.setdefault(user.pk, user)
    return list(seen.values())


def reviewers_of(record: Record) -> list[Any]:
    """Active reviewers and chairs of the record's jurisdiction or of a place above it."""
    memberships = CouncilMembership.objects.filter(
        jurisdiction__in=record.jurisdiction.ancestors(include_self=True),
        role__in=REVIEW_ROLES,
    ).select_related("user")
    return [m.user for m in memberships.order_by("user_id")]


def notify_submitted(*, item: Record | Revision, actor: AbstractBaseUser) -> list[OutgoingEmail]:
    """Tell the jurisdiction's reviewers that ``item`` waits for their review."""
    record = _record(item)
    kind = _kind(record)
    return [
        _email(
            kind="workflow_submitted",
            template="workflow_submitted",
            user=reviewer,
            context={
                "record": record,
                "actor": actor,
                "is_revision": isinstance(item, Revision),
                "path": lambda: reverse(
                    "council:workspace:review-detail", args=[kind, record.slug]
                ),
            },
        )
        for reviewer in _addressable(reviewers_of(record), actor)
    ]


def _last_editor(item: Record | Revision, actor: AbstractBaseUser) -> AbstractBaseUser | None:
    """Whoever last changed ``item`` before the reviewer, from its history."""
    row = (
        item.history.exclude(history_user=None)
        .exclude(history_user_id=actor.pk)
        .select_related("history_user")
        .order_by("-history_date")
        .first()
    )
    if row is not None:
        user: AbstractBaseUser = row.history_user
        return user
    if isinstance(item, Revision):
        return item.author
    return item.created_by


def notify_returned(
    *, item: Record | Revision, actor: AbstractBaseUser, note: str
) -> list[OutgoingEmail]:
    """Tell the last editor that ``item`` came back from review, and why."""
    record = _record(item)
    name = "initiative-edit" if isinstance(record, Initiative) else "plan-edit"
    return [
        _email(
            kind="workflow_returned",
            template="workflow_returned",
            user=editor,
            context={
                "record": record,
                "actor": actor,
                "note": note.strip(),
                "path": lambda: reverse(f"council:editing:{name}", args=[record.slug]),
            },
        )
        for editor in _addressable([_last_editor(item, actor)], actor)
    ]


def notify_published(*, record: Record, actor: AbstractBaseUser) -> list[OutgoingEmail]:
    """Tell the record's creator that it (or its latest changes) went public."""
    return [
        _email(
            kind="workflow_published",
            template="workflow_published",
            user=creator,
            context={"record": record, "actor": actor, "path": record.get_absolute_url},
        )
        for creator in _addressable([record.created_by], actor)
    ]
