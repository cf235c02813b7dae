"""
Draft → review → published, for initiatives and plans.

- A new record is a draft. Its editor changes it in place, then submits it;
  a reviewer publishes it, or returns it to draft with a comment.
- A published record stays as the public sees it while it is being changed:
  the changes wait in its one open Revision (a snapshot, see
  ``initiatives.snapshots``), which goes through the same steps. Publishing
  the revision applies it to the record.
- Archiving hides a record from the public and deletes nothing; unarchiving
  brings it back as a draft, to be reviewed again.
- Restoring puts back the record as it was at an earlier moment, as a new
  version: nothing is deleted from its history.

Publishing records a ChangeEvent for each thing subscribers' digests report.
Every write takes the acting user, checks ``council.permissions`` and leaves
history rows naming that user.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from council import permissions
from initiatives import notifications
from initiatives.models import ChangeEvent, Initiative, Plan, PublicationState, Revision
from initiatives.services import initiative_create, plan_create
from initiatives.snapshots import (
    Record,
    Snapshot,
    apply_snapshot,
    diff,
    snapshot,
    snapshot_at,
)

State = PublicationState


def _lock(record: Record) -> Record:
    return type(record)._default_manager.select_for_update().get(pk=record.pk)


def _revision_filter(record: Record) -> dict[str, Record]:
    return {"initiative": record} if isinstance(record, Initiative) else {"plan": record}


def open_revision(record: Record) -> Revision | None:
    """The record's revision in draft or in review, if any."""
    return (
        Revision.objects.filter(**_revision_filter(record), state__in=Revision.OPEN_STATES)
        .select_related("author")
        .first()
    )


def working_snapshot(record: Record) -> Snapshot:
    """What an editor starts from: the open revision's changes, else the record as stored."""
    revision = open_revision(record)
    return revision.data if revision is not None else snapshot(record)


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError({"publication_state": ValidationError(message, code=code)})


def edit_version(record: Record) -> str:
    """
    What a page showed, as a token it sends back: the open revision's last change, else
    the record's. Pages that save, publish or return post it, and a step taken on a
    page older than the record is refused, so nobody overwrites or publishes what
    they have not seen.
    """
    revision = open_revision(record)
    changed = revision.updated_at if revision is not None else record.updated_at
    return changed.isoformat()


def _require_version(record: Record, expected: str | None) -> None:
    """Refuse when ``expected`` (None: no page involved) is not the record's current version."""
    if expected is not None and expected != edit_version(record):
        raise ValidationError(
            _(
                "This record changed after you opened it. Check the current version "
                "below, then try again."
            ),
            code="stale",
        )


# ------------------------------------------------------------------------------
# Creating and editing
# ------------------------------------------------------------------------------


@transaction.atomic
def record_create(
    *, model: type[Record], values: Mapping[str, Any], data: Snapshot, actor: AbstractBaseUser
) -> Record:
    """
    Create a draft from ``values`` (jurisdiction, slug and the other fields), then
    give it the focus areas, sectors and child rows of ``data``.
    """
    if model is Initiative:
        record: Record = initiative_create(actor=actor, values=values)
    else:
        record = plan_create(actor=actor, values=values)
    return apply_snapshot(record, data, actor=actor, reason="created")


@transaction.atomic
def record_save_changes(
    *, record: Record, data: Snapshot, actor: AbstractBaseUser, version: str | None = None
) -> Record | Revision:
    """
    Save an editor's changes.

    A record the public does not see is changed in place. A published one keeps
    its public face: the changes go into its open revision (made if needed),
    which must then be submitted and published like a new record.

    Whatever was waiting for review and is changed goes back to draft, to be
    submitted again: a reviewer publishes only what was there when they looked.
    ``version`` is the ``edit_version`` the editor's page showed.
    """
    if not permissions.can_edit(actor, record):
        raise PermissionDenied(_("You may not edit records of this jurisdiction."))
    locked = _lock(record)
    _require_version(locked, version)
    if locked.publication_state == State.ARCHIVED:
        raise _refuse(_("Unarchive this record before changing it."), "archived")
    if locked.publication_state != State.PUBLISHED:
        was_in_review = locked.publication_state == State.REVIEW
        before = snapshot(locked)
        saved = apply_snapshot(locked, data, actor=actor, reason="edited")
        if was_in_review and diff(before, snapshot(saved), model=type(saved)):
            _save_state(
                saved,
                actor=actor,
                reason="edited in review; back to draft",
                publication_state=State.DRAFT,
            )
        return saved
    revision = open_revision(locked)
    if revision is None:
        if not diff(snapshot(locked), data, model=type(locked)):
            # Nothing differs from what the public sees: no revision to review.
            return locked
        revision = Revision(**_revision_filter(locked), author=actor)  # type: ignore[misc]
    if revision.pk is not None and revision.data == data:
        return revision
    revision.data = data
    if revision.state == Revision.State.REVIEW:
        revision.state = Revision.State.DRAFT
        revision.submitted_at = None
    revision._history_user = actor
    revision.save()
    return revision


@transaction.atomic
def revision_discard(*, revision: Revision, actor: AbstractBaseUser) -> Revision:
    """Drop the changes waiting in ``revision``; the published record is untouched."""
    if not permissions.can_edit(actor, revision.record):
        raise PermissionDenied(_("You may not edit records of this jurisdiction."))
    locked = Revision.objects.select_for_update().get(pk=revision.pk)
    if locked.state not in Revision.OPEN_STATES:
        raise _refuse(_("These changes are no longer open."), "revision_closed")
    locked.decide(state=Revision.State.DISCARDED, actor=actor)
    return locked


# ------------------------------------------------------------------------------
# Review
# ------------------------------------------------------------------------------


def _save_state(record: Record, *, actor: AbstractBaseUser, reason: str, **values: Any) -> None:
    for name, value in values.items():
        setattr(record, name, value)
    record.updated_by = actor  # type: ignore[assignment]
    record._history_user = actor  # type: ignore[union-attr]
    record._change_reason = reason  # type: ignore[union-attr]
    record.save(update_fields=[*values, "updated_by", "updated_at"])


@transaction.atomic
def record_submit(*, record: Record, actor: AbstractBaseUser) -> Record | Revision:
    """Send a draft, or a published record's waiting changes, to the reviewers."""
    if not permissions.can_submit(actor, record):
        raise PermissionDenied(_("You may not edit records of this jurisdiction."))
    locked = _lock(record)
    if locked.publication_state == State.DRAFT:
        _save_state(locked, actor=actor, reason="submitted", publication_state=State.REVIEW)
        notifications.notify_submitted(item=locked, actor=actor)
        return locked
    revision = open_revision(locked)
    if locked.publication_state == State.PUBLISHED and revision is not None:
        if revision.state == Revision.State.REVIEW:
            return revision
        revision.state = Revision.State.REVIEW
        revision.submitted_at = timezone.now()
        revision._history_user = actor
        revision.save(update_fields=["state", "submitted_at", "updated_at"])
        notifications.notify_submitted(item=revision, actor=actor)
        return revision
    if locked.publication_state == State.REVIEW:
        return locked
    raise _refuse(_("There is nothing to submit for review."), "nothing_to_submit")


@transaction.atomic
def record_publish(
    *, record: Record, actor: AbstractBaseUser, version: str | None = None
) -> Record:
    """
    Publish a record in review, or apply a published record's reviewed changes.

    ``version`` is the ``edit_version`` the reviewer's page showed.
    """
    if not permissions.can_publish(actor, record):
        raise PermissionDenied(_("You may not review records of this jurisdiction."))
    locked = _lock(record)
    _require_version(locked, version)
    if locked.publication_state == State.REVIEW:
        now = timezone.now()
        values: dict[str, Any] = {"publication_state": State.PUBLISHED, "review_note": ""}
        if isinstance(locked, Initiative):
            values["published_at"] = locked.published_at or now
        _save_state(locked, actor=actor, reason="published", **values)
        _record_publication(locked, actor=actor)
        notifications.notify_published(record=locked, actor=actor)
        return locked
    revision = open_revision(locked)
    if revision is None or revision.state != Revision.State.REVIEW:
        raise _refuse(_("Nothing about this record is waiting for review."), "nothing_to_publish")
    before = snapshot(locked)
    author = revision.author
    reason = f"published changes by {author}" if author else "published changes"
    updated = apply_snapshot(locked, revision.data, actor=actor, reason=reason)
    revision.decide(state=Revision.State.PUBLISHED, actor=actor, review_note="")
    _record_changes(updated, before=before, after=snapshot(updated), actor=actor)
    notifications.notify_published(record=updated, actor=actor)
    return updated


@transaction.atomic
def record_return(
    *, record: Record, actor: AbstractBaseUser, note: str, version: str | None = None
) -> Record | Revision:
    """Send what is in review back to its editors, with a comment saying why."""
    if not permissions.can_publish(actor, record):
        raise PermissionDenied(_("You may not review records of this jurisdiction."))
    if not note.strip():
        raise ValidationError(
            {"note": ValidationError(_("Say what needs to change."), code="required")}
        )
    locked = _lock(record)
    _require_version(locked, version)
    if locked.publication_state == State.REVIEW:
        _save_state(
            locked,
            actor=actor,
            reason="returned",
            publication_state=State.DRAFT,
            review_note=note.strip(),
        )
        notifications.notify_returned(item=locked, actor=actor, note=note)
        return locked
    revision = open_revision(locked)
    if revision is None or revision.state != Revision.State.REVIEW:
        raise _refuse(_("Nothing about this record is waiting for review."), "nothing_to_return")
    revision.decide(state=Revision.State.DRAFT, actor=actor, review_note=note.strip())
    notifications.notify_returned(item=revision, actor=actor, note=note)
    return revision


# ------------------------------------------------------------------------------
# Archive and restore
# ------------------------------------------------------------------------------


@transaction.atomic
def record_unarchive(*, record: Record, actor: AbstractBaseUser) -> Record:
    """Bring an archived record back as a draft; it is public again once reviewed."""
    if not permissions.can_edit(actor, record):
        raise PermissionDenied(_("You may not edit records of this jurisdiction."))
    locked = _lock(record)
    if locked.publication_state != State.ARCHIVED:
        raise _refuse(_("This record is not archived."), "not_archived")
    _save_state(locked, actor=actor, reason="unarchived", publication_state=State.DRAFT)
    return locked


@transaction.atomic
def record_restore(*, record: Record, when: datetime.datetime, actor: AbstractBaseUser) -> Record:
    """
    Put the record back as it was at ``when``, children included, as a new version.

    The publication state stays as it is: restoring the text of an earlier version
    does not unpublish or publish anything. A published record follows at once,
    which is why ``permissions.can_restore`` asks a reviewer for it.
    """
    locked = _lock(record)
    # Checked on the locked row: a draft submitted or published a moment ago needs a reviewer.
    if not permissions.can_restore(actor, locked):
        raise PermissionDenied(_("You may not restore this record."))
    if open_revision(locked) is not None:
        # Publishing those changes later would silently undo the restore.
        raise _refuse(
            _(
                "Changes to this record are waiting for review. Publish or discard them "
                "before restoring an earlier version."
            ),
            "open_revision",
        )
    earlier = snapshot_at(locked, when)
    before = snapshot(locked)
    restored = apply_snapshot(
        locked,
        earlier,
        actor=actor,
        reason=f"restored the version of {when:%Y-%m-%d %H:%M:%S}",
        check_lifecycle=False,
    )
    if restored.publication_state == State.PUBLISHED:
        _record_changes(restored, before=before, after=snapshot(restored), actor=actor)
    return restored


# ------------------------------------------------------------------------------
# What digests report
# ------------------------------------------------------------------------------


def _event(record: Record, kind: str, *, actor: AbstractBaseUser, **details: Any) -> ChangeEvent:
    return ChangeEvent(
        kind=kind,
        jurisdiction_id=record.jurisdiction_id,
        initiative=record if isinstance(record, Initiative) else None,
        plan=record if isinstance(record, Plan) else None,
        actor=actor,  # type: ignore[misc]
        details={"title": record.title, **details},
    )


def _record_publication(record: Record, *, actor: AbstractBaseUser) -> None:
    kind = (
        ChangeEvent.Kind.INITIATIVE_PUBLISHED
        if isinstance(record, Initiative)
        else ChangeEvent.Kind.PLAN_PUBLISHED
    )
    extra = {"status": record.status} if isinstance(record, Initiative) else {}
    _event(record, kind, actor=actor, **extra).save()


def _record_changes(
    record: Record, *, before: Snapshot, after: Snapshot, actor: AbstractBaseUser
) -> None:
    """Events for a published record that changed: an update, plus what digests single out."""
    if before == after:
        return
    updated = (
        ChangeEvent.Kind.INITIATIVE_UPDATED
        if isinstance(record, Initiative)
        else ChangeEvent.Kind.PLAN_UPDATED
    )
    events = [_event(record, updated, actor=actor)]
    if isinstance(record, Initiative):
        old_status, new_status = before["fields"]["status"], after["fields"]["status"]
        if old_status != new_status:
            events.append(
                _event(
                    record,
                    ChangeEvent.Kind.STATUS_CHANGED,
                    actor=actor,
                    old_status=old_status,
                    new_status=new_status,
                )
            )
        done_before = {m["id"] for m in before["milestones"] if m["completed_on"]}
        for milestone in after["milestones"]:
            if milestone["completed_on"] and milestone["id"] not in done_before:
                events.append(
                    _event(
                        record,
                        ChangeEvent.Kind.MILESTONE_COMPLETED,
                        actor=actor,
                        milestone=milestone["title"],
                        completed_on=milestone["completed_on"],
                    )
                )
    ChangeEvent.objects.bulk_create(events)
