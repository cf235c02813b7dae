"""The digest run and the delivery ledger, with tasks run eagerly and mail kept in memory."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command

from initiatives import delivery, tasks
from initiatives.models import DeliveryState, DigestDelivery, Frequency
from tests.delivery.builders import RUN_AT, daily_period, published_in, subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(django_capture_on_commit_callbacks: Any) -> Callable[..., delivery.RunSummary]:
    """Run a daily digest run for the fixed period and its chunk tasks, eagerly."""

    def go(**options: Any) -> delivery.RunSummary:
        with django_capture_on_commit_callbacks(execute=True):
            summary = delivery.digest_run(frequency=Frequency.DAILY, now=RUN_AT, **options)
        return summary

    return go


@pytest.fixture
def scheduled(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, dict[str, Any]]]:
    """Retries scheduled by the delivery code, recorded instead of run."""
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(
        tasks.send_digest, "apply_async", lambda args, **kw: calls.append((args, kw))
    )
    return calls


def failing_with(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    def send(self: delivery.Mailer, message: Any) -> None:
        raise error

    monkeypatch.setattr(delivery.Mailer, "send", send)


def test_a_run_sends_each_active_subscriber_their_digest_in_their_language(atlas_map, run):
    published_in(atlas_map.chicago, title="Chicago Wi-Fi")
    published_in(atlas_map.nyc, title="NYC broadband")
    subscriber("en@example.org", atlas_map.chicago)
    subscriber("fr@example.org", atlas_map.nyc, language="fr")

    summary = run()

    assert summary.period == "2026-11-26"
    assert summary.recipients == 2
    by_address: dict[str, Any] = {message.to[0]: message for message in mail.outbox}
    assert set(by_address) == {"en@example.org", "fr@example.org"}
    assert "Chicago Wi-Fi" in by_address["en@example.org"].body
    assert "NYC broadband" not in by_address["en@example.org"].body
    assert "Bonjour" in by_address["fr@example.org"].body
    html, mimetype = by_address["fr@example.org"].alternatives[0]
    assert mimetype == "text/html"
    assert "NYC broadband" in html
    headers = by_address["en@example.org"].extra_headers
    assert headers["List-Unsubscribe"].startswith("<http")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert set(DigestDelivery.objects.values_list("state", "attempts")) == {("sent", 1)}


def test_a_second_run_of_the_same_period_sends_nothing(atlas_map, run):
    published_in(atlas_map.chicago, title="Chicago Wi-Fi")
    subscriber("en@example.org", atlas_map.chicago)
    run()
    run()
    assert len(mail.outbox) == 1
    assert DigestDelivery.objects.get().attempts == 1


def test_unconfirmed_cancelled_and_other_frequency_subscriptions_get_nothing(atlas_map, run):
    published_in(atlas_map.chicago, title="Chicago Wi-Fi")
    subscriber("unconfirmed@example.org", atlas_map.chicago, confirmed=False)
    subscriber("cancelled@example.org", atlas_map.chicago, cancelled=True)
    subscriber("weekly@example.org", atlas_map.chicago, frequency=Frequency.WEEKLY)

    assert run().recipients == 0
    assert mail.outbox == []
    assert not DigestDelivery.objects.exists()


def test_an_empty_digest_is_recorded_and_not_sent(atlas_map, run):
    published_in(atlas_map.chicago, title="Chicago Wi-Fi")
    quiet = subscriber("quiet@example.org", atlas_map.nyc)
    run()
    assert mail.outbox == []
    assert DigestDelivery.objects.get(subscription=quiet).state == DeliveryState.EMPTY


def test_a_dry_run_counts_and_sends_nothing(atlas_map, run):
    published_in(atlas_map.chicago, title="Chicago Wi-Fi")
    subscriber("a@example.org", atlas_map.chicago)
    subscriber("b@example.org", atlas_map.illinois)
    subscriber("quiet@example.org", atlas_map.nyc)

    summary = run(dry_run=True)

    assert (summary.recipients, summary.would_send, summary.empty) == (3, 2, 1)
    assert summary.chunks == 0
    assert mail.outbox == []
    assert not DigestDelivery.objects.exists()


def test_subscribers_are_handed_out_in_chunks_after_commit(
    atlas_map, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.ATLAS_DIGEST_CHUNK_SIZE = 2
    published_in(atlas_map.chicago, title="Chicago Wi-Fi")
    ids = [subscriber(f"s{n}@example.org", atlas_map.chicago).pk for n in range(5)]
    chunks: list[Any] = []
    monkeypatch.setattr(
        tasks.send_digest_chunk, "apply_async", lambda args, **kw: chunks.append(args)
    )
    with django_capture_on_commit_callbacks() as callbacks:
        summary = delivery.digest_run(frequency=Frequency.DAILY, now=RUN_AT)
        # Inside the transaction: nothing is enqueued before it commits.
        assert chunks == []
    assert summary.chunks == len(callbacks) == 3
    for callback in callbacks:
        callback()
    assert [list(chunk[0]) for chunk in chunks] == [ids[0:2], ids[2:4], ids[4:5]]
    assert {(chunk[1], chunk[2]) for chunk in chunks} == {("daily", "2026-11-26")}
    # One run: its chunks share the name under which workers keep the period's changes.
    assert len({chunk[3] for chunk in chunks}) == 1


def test_a_temporary_failure_keeps_the_row_pending_and_schedules_one_retry(
    atlas_map, run, monkeypatch, scheduled
):
    published_in(atlas_map.chicago, title="Chicago Wi-Fi")
    one = subscriber("a@example.org", atlas_map.chicago)
    failing_with(monkeypatch, smtplib.SMTPDataError(451, b"4.3.0 Try again later"))

    run()

    row = DigestDelivery.objects.get(subscription=one)
    assert (row.state, row.attempts) == (DeliveryState.PENDING, 1)
    assert "451" in row.last_error
    assert len(scheduled) == 1
    args, options = scheduled[0]
    assert args == (one.pk, "2026-11-26")
    assert 0 <= options["countdown"] <= 30


@pytest.mark.parametrize(
    "error",
    [
        smtplib.SMTPRecipientsRefused({"a@example.org": (450, b"4.2.1 Mailbox busy")}),
        smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError("timed out"),
        smtplib.SMTPSenderRefused(421, b"4.7.0 Too many", "atlas@localhost"),
    ],
    ids=["450 recipient", "disconnected", "refused", "timeout", "421"],
)
def test_temporary_failures_are_retried(error):
    assert delivery.is_temporary(error)


@pytest.mark.parametrize(
    "error",
    [
        smtplib.SMTPRecipientsRefused({"a@example.org": (550, b"5.1.1 No such user")}),
        smtplib.SMTPDataError(554, b"5.7.1 Rejected"),
        smtplib.SMTPSenderRefused(553, b"5.1.8 Bad sender", "atlas@localhost"),
    ],
    ids=["550 recipient", "554 data", "553 sender"],
)
def test_permanent_failures_are_not(error):
    assert not delivery.is_temporary(error)


def test_a_permanent_failure_marks_the_row_failed_without_retry(
    atlas_map, run, monkeypatch, scheduled
):
    published_in(atlas_map.chicago, title="Chicago Wi-Fi")
    one = subscriber("a@example.org", atlas_map.chicago)
    failing_with(
        monkeypatch,
        smtplib.SMTPRecipientsRefused({"a@example.org": (550, b"5.1.1 No such user")}),
    )

    run()
    run()

    row = DigestDelivery.objects.get(subscription=one)
    assert (row.state, row.attempts) == (DeliveryState.FAILED, 1)
    assert "550" in row.last_error
    assert scheduled == []


def test_the_attempt_cap_stops_a_delivery_that_keeps_dying(atlas_map, run, settings):
    """Attempts count before sending: a row whose workers died each time gives up."""
    published_in(atlas_map.chicago, title="Chicago Wi-Fi")
    one = subscriber("a@example.org", atlas_map.chicago)
    DigestDelivery.objects.create(
        subscription=one, period="2026-11-26", attempts=settings.ATLAS_DELIVERY_MAX_ATTEMPTS
    )

    run()

    row = DigestDelivery.objects.get(subscription=one)
    assert row.state == DeliveryState.FAILED
    assert "Gave up" in row.last_error
    assert mail.outbox == []


def test_a_row_left_pending_by_a_dead_worker_is_sent_on_the_next_try(atlas_map, run):
    published_in(atlas_map.chicago, title="Chicago Wi-Fi")
    one = subscriber("a@example.org", atlas_map.chicago)
    DigestDelivery.objects.create(subscription=one, period="2026-11-26", attempts=1)
    run()
    row = DigestDelivery.objects.get(subscription=one)
    assert (row.state, row.attempts) == (DeliveryState.SENT, 2)
    assert len(mail.outbox) == 1


def test_a_subscription_cancelled_after_the_run_started_gets_nothing(atlas_map):
    published_in(atlas_map.chicago, title="Chicago Wi-Fi")
    one = subscriber("a@example.org", atlas_map.chicago, cancelled=True)
    tally = delivery.deliver_digests(subscription_ids=[one.pk], period_key="2026-11-26")
    assert tally[delivery.SKIPPED] == 1
    assert mail.outbox == []


def test_the_retry_task_sends_one_subscriptions_digest(atlas_map):
    published_in(atlas_map.chicago, title="Chicago Wi-Fi")
    one = subscriber("a@example.org", atlas_map.chicago)
    assert tasks.send_digest.delay(one.pk, daily_period().key).get() == delivery.SENT
    assert tasks.send_digest.delay(one.pk, daily_period().key).get() == delivery.SKIPPED
    assert len(mail.outbox) == 1


def test_send_digests_command_prints_counts(atlas_map):
    published_in(atlas_map.chicago, title="Chicago Wi-Fi")
    subscriber("a@example.org", atlas_map.chicago)
    subscriber("quiet@example.org", atlas_map.nyc)
    out = StringIO()
    call_command(
        "send_digests", "--frequency", "daily", "--period", "2026-11-26", "--dry-run", stdout=out
    )
    assert "2 recipients, 1 would be sent, 1 empty, 0 already handled" in out.getvalue()
    assert mail.outbox == []


def test_send_digests_command_refuses_a_bad_period(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="weekly period key"):
        call_command("send_digests", "--frequency", "weekly", "--period", "2026-11-26")


def test_a_message_that_cannot_be_built_fails_alone_and_the_batch_goes_on(
    atlas_map, run, monkeypatch
):
    published_in(atlas_map.chicago, title="Chicago Wi-Fi")
    broken = subscriber("broken@example.org", atlas_map.chicago)
    subscriber("fine@example.org", atlas_map.chicago)
    real = delivery._compose_digest

    def compose(subscription: Any, digest: Any, renderer: Any) -> Any:
        if subscription.pk == broken.pk:
            raise ValueError("Invalid address")
        return real(subscription, digest, renderer)

    monkeypatch.setattr(delivery, "_compose_digest", compose)
    run()

    row = DigestDelivery.objects.get(subscription=broken)
    assert row.state == DeliveryState.FAILED
    assert "Invalid address" in row.last_error
    assert [message.to for message in mail.outbox] == [["fine@example.org"]]
