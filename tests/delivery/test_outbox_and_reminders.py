"""The outbox, its sweep, the reminders, the workflow's notifications and the ledgers' admin."""

from __future__ import annotations

import datetime
import smtplib
from io import StringIO
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from council.models import ReminderDelivery, ReminderPreference
from initiatives import delivery, outbox, tasks, workflow
from initiatives.models import (
    DeliveryState,
    DigestDelivery,
    Initiative,
    OutgoingEmail,
    PublicationState,
)
from tests.conftest import verify_second_factor
from tests.delivery.builders import subscriber
from tests.factories import InitiativeFactory, MilestoneFactory, UserFactory

pytestmark = pytest.mark.django_db


def owed(**fields: Any) -> OutgoingEmail:
    values = {"kind": "test", "to": "someone@example.org", "subject": "Hello", "body": "Text"}
    return OutgoingEmail.objects.create(**(values | fields))


# ------------------------------------------------------------------------------ outbox


def test_an_owed_email_is_sent_once(db):
    email = owed(html="<p>Text</p>", headers={"X-Atlas": "1"})
    assert delivery.deliver_outgoing(email.pk) == delivery.SENT
    assert delivery.deliver_outgoing(email.pk) == delivery.SKIPPED
    message: Any = mail.outbox[0]
    assert len(mail.outbox) == 1
    assert message.to == ["someone@example.org"]
    assert message.alternatives[0][0] == "<p>Text</p>"
    assert message.extra_headers["X-Atlas"] == "1"
    email.refresh_from_db()
    assert (email.state, email.attempts) == (DeliveryState.SENT, 1)


def test_outbox_email_is_handed_over_only_after_commit(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        outbox.outbox_email(kind="test", to="a@example.org", subject="Hi\nthere", body="Text")
        assert mail.outbox == []
    assert len(callbacks) == 1
    assert mail.outbox[0].subject == "Hi there"


def test_a_temporary_failure_of_an_owed_email_is_retried_later(db, monkeypatch):
    email = owed()
    calls: list[Any] = []
    monkeypatch.setattr(
        tasks.send_outgoing_email, "apply_async", lambda args, **kw: calls.append((args, kw))
    )

    def refuse(self: delivery.Mailer, message: Any) -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(delivery.Mailer, "send", refuse)

    assert delivery.deliver_outgoing(email.pk) == delivery.RETRY
    email.refresh_from_db()
    assert (email.state, email.attempts) == (DeliveryState.PENDING, 1)
    assert "Connection refused" in email.last_error
    assert [args for args, _options in calls] == [(email.pk,)]


def test_a_permanent_failure_of_an_owed_email_is_recorded(db, monkeypatch):
    email = owed()

    def reject(self: delivery.Mailer, message: Any) -> None:
        raise smtplib.SMTPDataError(554, b"5.7.1 Message rejected")

    monkeypatch.setattr(delivery.Mailer, "send", reject)
    assert delivery.deliver_outgoing(email.pk) == delivery.FAILED
    email.refresh_from_db()
    assert email.state == DeliveryState.FAILED


def test_the_sweep_hands_over_what_waited_for_the_broker(db, monkeypatch):
    now = timezone.now()
    old = owed()
    fresh = owed()
    sent = owed(state=DeliveryState.SENT)
    retrying = owed(attempts=1)
    OutgoingEmail.objects.filter(pk__in=[old.pk, sent.pk, retrying.pk]).update(
        created_at=now - datetime.timedelta(minutes=5)
    )
    handed: list[int] = []

    def dispatch(pk: int) -> bool:
        handed.append(pk)
        return True

    monkeypatch.setattr("initiatives.outbox.dispatch_outgoing", dispatch)

    assert delivery.sweep_outbox(now=now) == 1
    assert handed == [old.pk]
    assert fresh.pk not in handed


def test_the_sweep_stops_while_the_broker_is_still_down(db, monkeypatch):
    now = timezone.now()
    for _ in range(3):
        owed()
    OutgoingEmail.objects.update(created_at=now - datetime.timedelta(minutes=5))
    monkeypatch.setattr("initiatives.outbox.dispatch_outgoing", lambda pk: False)
    assert delivery.sweep_outbox(now=now) == 0


def test_the_sweep_sends_eagerly_and_nothing_twice(db):
    email = owed()
    OutgoingEmail.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=5))
    call_command("sweep_outbox", stdout=StringIO())
    call_command("sweep_outbox", stdout=StringIO())
    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert email.state == DeliveryState.SENT


def test_a_ledger_row_stuck_past_the_visibility_timeout_is_handed_over(atlas_map, monkeypatch):
    one = subscriber("a@example.org", atlas_map.chicago)
    row = DigestDelivery.objects.create(subscription=one, period="2026-11-26", attempts=1)
    DigestDelivery.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=3)
    )
    calls: list[Any] = []
    monkeypatch.setattr(tasks.send_digest, "apply_async", lambda args, **kw: calls.append(args))
    assert delivery.sweep_outbox() == 1
    assert calls == [(one.pk, "2026-11-26")]


# ------------------------------------------------------------------------------ reminders


@pytest.fixture
def due_milestone(atlas_map: Any) -> Any:
    initiative = InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Wi-Fi")
    return MilestoneFactory.create(
        initiative=initiative,
        title="Pilot in ten branches",
        due_date=timezone.localdate() + datetime.timedelta(days=3),
    )


def run_reminders(capture: Any, **options: Any) -> delivery.RunSummary:
    with capture(execute=True):
        summary = delivery.reminder_run(**options)
    return summary


def test_members_get_one_reminder_per_period(
    chicago_editor, due_milestone, django_capture_on_commit_callbacks
):
    run_reminders(django_capture_on_commit_callbacks)
    run_reminders(django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    assert message.to == [chicago_editor.email]
    assert "Pilot in ten branches" in message.body
    row = ReminderDelivery.objects.get(user=chicago_editor)
    assert row.state == DeliveryState.SENT
    assert "-W" in row.period  # weekly by default


def test_each_members_preference_decides(
    chicago_editor, chicago_reviewer, due_milestone, django_capture_on_commit_callbacks
):
    ReminderPreference.objects.create(user=chicago_editor, frequency="daily", language="fr")
    ReminderPreference.objects.create(user=chicago_reviewer, frequency="never")
    run_reminders(django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    assert message.to == [chicago_editor.email]
    assert "-W" not in ReminderDelivery.objects.get().period
    assert message.extra_headers == {}
    assert message.body.startswith("Bonjour")
    assert "Pilot in ten branches" in message.body


def test_a_member_with_nothing_to_do_gets_no_reminder(
    chicago_editor, django_capture_on_commit_callbacks
):
    run_reminders(django_capture_on_commit_callbacks)
    assert mail.outbox == []
    assert ReminderDelivery.objects.get(user=chicago_editor).state == DeliveryState.EMPTY


def test_send_reminders_dry_run_counts_and_sends_nothing(
    chicago_editor, chicago_reviewer, due_milestone
):
    ReminderPreference.objects.create(user=chicago_reviewer, frequency="never")
    out = StringIO()
    call_command("send_reminders", "--dry-run", stdout=out)
    assert "1 recipients, 1 would be sent, 0 empty" in out.getvalue()
    assert mail.outbox == []
    assert not ReminderDelivery.objects.exists()


# ------------------------------------------------------------------------------ workflow


def _draft(atlas_map: Any, editor: Any) -> Initiative:
    return InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        title="Open data portal",
        publication_state=PublicationState.DRAFT,
        created_by=editor,
    )


def test_submitting_owes_the_reviewers_an_email(
    atlas_map, chicago_editor, chicago_reviewer, chicago_chair, nyc_editor
):
    UserFactory.create(username="illinois-reviewer")
    draft = _draft(atlas_map, chicago_editor)
    workflow.record_submit(record=draft, actor=chicago_editor)
    emails = OutgoingEmail.objects.filter(kind="workflow_submitted")
    assert sorted(emails.values_list("to", flat=True)) == sorted(
        [chicago_reviewer.email, chicago_chair.email]
    )
    email = emails.get(to=chicago_reviewer.email)
    assert "Open data portal" in email.subject
    assert reverse("council:workspace:review-detail", args=["initiatives", draft.slug]) in (
        email.body
    )


def test_returning_owes_the_last_editor_an_email(atlas_map, chicago_editor, chicago_reviewer):
    draft = _draft(atlas_map, chicago_editor)
    workflow.record_submit(record=draft, actor=chicago_editor)
    workflow.record_return(record=draft, actor=chicago_reviewer, note="Add a source.")
    (email,) = OutgoingEmail.objects.filter(kind="workflow_returned")
    assert email.to == chicago_editor.email
    assert "Add a source." in email.body


def test_publishing_owes_the_creator_an_email(atlas_map, chicago_editor, chicago_reviewer):
    draft = _draft(atlas_map, chicago_editor)
    workflow.record_submit(record=draft, actor=chicago_editor)
    workflow.record_publish(record=draft, actor=chicago_reviewer)
    (email,) = OutgoingEmail.objects.filter(kind="workflow_published")
    assert email.to == chicago_editor.email
    assert draft.get_absolute_url() in email.body


def test_nobody_is_told_about_their_own_step(atlas_map, chicago_chair):
    draft = _draft(atlas_map, chicago_chair)
    workflow.record_submit(record=draft, actor=chicago_chair)
    workflow.record_publish(record=draft, actor=chicago_chair)
    assert not OutgoingEmail.objects.exists()


# ------------------------------------------------------------------------------ admin


def test_staff_see_failed_deliveries_with_counts_and_can_retry(
    client, atlas_map, staff_user, django_capture_on_commit_callbacks
):
    one = subscriber("a@example.org", atlas_map.chicago)
    two = subscriber("b@example.org", atlas_map.chicago)
    failed = DigestDelivery.objects.create(
        subscription=one, period="2026-11-26", state="failed", attempts=1, last_error="550 No"
    )
    DigestDelivery.objects.create(subscription=two, period="2026-11-26", state="sent")
    client.force_login(staff_user)
    verify_second_factor(client, staff_user)
    url = reverse("admin:initiatives_digestdelivery_changelist")

    page = client.get(url, {"state__exact": "failed"})
    assert page.status_code == 200
    assert page.context["cl"].result_count == 1
    assert "550 No" in page.text
    assert "Failed (1)" in page.text  # the facet count beside the filter

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "retry", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    # Handed to the (eager) worker again with a fresh count: tried once, nothing to report.
    assert (failed.state, failed.attempts) == (DeliveryState.EMPTY, 1)


def test_council_members_see_no_delivery_rows(client, atlas_map, chicago_chair):
    one = subscriber("a@example.org", atlas_map.chicago)
    DigestDelivery.objects.create(subscription=one, period="2026-11-26", state="failed")
    owed(state="failed")
    client.force_login(chicago_chair)
    verify_second_factor(client, chicago_chair)
    for name in ("initiatives_digestdelivery", "initiatives_outgoingemail"):
        page = client.get(reverse(f"admin:{name}_changelist"))
        assert page.status_code == 200
        assert page.context["cl"].result_count == 0
    page = client.get(reverse("admin:council_reminderdelivery_changelist"))
    assert page.context["cl"].result_count == 0


def test_existing_ledger_rows_cannot_be_changed_in_the_admin(client, staff_user):
    email = owed(state="failed")
    client.force_login(staff_user)
    verify_second_factor(client, staff_user)
    url = reverse("admin:initiatives_outgoingemail_change", args=[email.pk])
    assert client.get(url).status_code == 200
    client.post(url, {"to": "other@example.org"})
    email.refresh_from_db()
    assert email.to == "someone@example.org"


def test_changes_to_a_published_record_notify_like_a_new_one(
    atlas_map, chicago_editor, chicago_reviewer
):
    published = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, title="Wi-Fi", created_by=chicago_editor
    )
    data = workflow.working_snapshot(published)
    data["fields"]["summary"] = "Free Wi-Fi in every park too."
    revision = workflow.record_save_changes(record=published, data=data, actor=chicago_editor)
    workflow.record_submit(record=published, actor=chicago_editor)
    workflow.record_return(record=published, actor=chicago_reviewer, note="Which parks?")

    submitted = OutgoingEmail.objects.get(kind="workflow_submitted")
    assert submitted.to == chicago_reviewer.email
    assert "sent changes to" in submitted.body
    returned = OutgoingEmail.objects.get(kind="workflow_returned")
    assert returned.to == chicago_editor.email
    assert "Which parks?" in returned.body
    assert revision is not None


def test_every_ledger_admin_page_renders_for_staff(client, staff_user, chicago_editor, atlas_map):
    rows = [
        ReminderDelivery.objects.create(user=chicago_editor, period="2026-W47"),
        DigestDelivery.objects.create(
            subscription=subscriber("a@example.org", atlas_map.chicago), period="2026-11-26"
        ),
        owed(),
    ]
    client.force_login(staff_user)
    verify_second_factor(client, staff_user)
    for row in rows:
        prefix = f"admin:{row._meta.app_label}_{row._meta.model_name}"
        for url in (
            reverse(f"{prefix}_changelist"),
            reverse(f"{prefix}_add"),
            reverse(f"{prefix}_change", args=[row.pk]),
            reverse(f"{prefix}_history", args=[row.pk]),
        ):
            assert client.get(url).status_code == 200, url


def test_the_sweep_starts_a_digest_run_that_beat_missed(
    atlas_map, monkeypatch, django_capture_on_commit_callbacks
):
    from tests.delivery.builders import RUN_AT

    one = subscriber("a@example.org", atlas_map.chicago)
    chunks: list[Any] = []
    monkeypatch.setattr(
        tasks.send_digest_chunk, "apply_async", lambda args, **kw: chunks.append(args)
    )
    # 05:00: the 06:00 run has not been due yet.
    assert delivery.catch_up_digest_runs(now=RUN_AT - datetime.timedelta(hours=1)) == []
    # 07:00 and not a single ledger row for yesterday: beat could not start it.
    later = RUN_AT + datetime.timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery.catch_up_digest_runs(now=later) == ["2026-11-26"]
    assert [list(chunk[0]) for chunk in chunks] == [[one.pk]]
    DigestDelivery.objects.create(subscription=one, period="2026-11-26")
    assert delivery.catch_up_digest_runs(now=later) == []


def test_missed_runs_wait_for_beats_own_hour():
    from django.conf import settings

    schedule: dict[str, Any] = settings.CELERY_BEAT_SCHEDULE
    hours = [
        entry["schedule"].hour for name, entry in schedule.items() if name.endswith("-digests")
    ]
    assert all(datetime.timedelta(hours=max(h)) < delivery.MISSED_RUN_AFTER for h in hours)
