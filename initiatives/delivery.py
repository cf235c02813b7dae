"""
Sending what the outbox, the digest runs and the reminder runs owe: each message once, or
for a digest whose worker died mid-chunk, at least once (never none).

Every message has a ledger row (``OutgoingEmail``, ``DigestDelivery``,
``ReminderDelivery``) and goes out in three steps:

1. The attempt is counted in a transaction of its own, so the count survives a
   worker that dies mid-send; past ``ATLAS_DELIVERY_MAX_ATTEMPTS`` the row is
   marked failed instead of being tried forever.
2. A second transaction takes the row with ``SELECT … FOR UPDATE SKIP LOCKED``,
   still pending: a row someone else holds, or one already sent, is left alone.
3. The message goes to the SMTP server and the row is marked sent in that same
   transaction. A worker killed before the commit leaves the row pending and the
   server never confirmed the message, so the next try sends it once.

Digests go through the same steps a chunk at a time (see ``deliver_digests``): step 1
counts the attempts of the whole chunk in one statement, step 2 locks the chunk's
pending rows in one, and step 3 sends every message over one connection and then
marks every row in one statement, committed with the lock. The kill window is
therefore the chunk: a worker killed mid-chunk leaves all its rows pending, and the
digests the SMTP server had already accepted go out a second time on the next try
(at least once, never none). A row held by a live worker is still never sent by
another one.

Temporary SMTP failures (4xx, refused or dropped connections, timeouts) leave the
row pending with its error and schedule one retry, after a random wait that
grows exponentially (full jitter). Permanent ones (5xx) mark it failed; the admin
lists those.
"""

from __future__ import annotations

import datetime
import email.policy
import logging
import secrets
import smtplib
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import EmailPolicy, Policy
from functools import partial
from typing import Any, Protocol

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, models, transaction
from django.db.models import Case, Count, F, Value, When
from django.utils import timezone, translation

from council import reminders
from council.models import CouncilMembership, ReminderDelivery, ReminderPreference
from initiatives import digests, subscriptions
from initiatives.models import (
    DeliveryState,
    DigestDelivery,
    Frequency,
    OutgoingEmail,
    Subscription,
)

logger = logging.getLogger(__name__)

# What one delivery did.
SENT = "sent"
EMPTY = "empty"
FAILED = "failed"
RETRY = "retry"
SKIPPED = "skipped"

_random = secrets.SystemRandom()


# ------------------------------------------------------------------------------
# SMTP: one connection per batch, and what a failure means
# ------------------------------------------------------------------------------


def is_temporary(error: BaseException) -> bool:
    """
    True for an SMTP failure worth retrying: a 4xx reply, a refused, dropped or
    timed-out connection. A 5xx reply is permanent.
    """
    # smtplib's errors are OSErrors too, so the replies with a code are sorted out first.
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return not 500 <= error.smtp_code < 600
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return False
    return isinstance(error, OSError)


def is_smtp_failure(error: BaseException) -> bool:
    """True for anything the mail server or the network said, temporary or not."""
    return isinstance(error, OSError)


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


class Mailer:
    """
    The default mailer, kept open across the messages of one batch.

    After any failure the connection is dropped, so the next message starts on a
    fresh one rather than on a conversation left half-way.
    """

    def __init__(self) -> None:
        self.backend = mail.mailers.default
        self._open = False

    def send(self, message: EmailMultiAlternatives) -> None:
        if not self._open:
            self.backend.open()
            self._open = True
        try:
            self.backend.send_messages([message])
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if not self._open:
            return
        self._open = False
        try:
            self.backend.close()
        # Closing a connection the server already dropped must not hide what happened before.
        except Exception as error:
            logger.info("Closing the mail connection failed: %s", error)


class _HeaderFactory(HeaderRegistry):
    """
    The standard header classes, made quicker for batches of alike messages.

    Python's registry builds a new class for every header it parses, and a digest run
    parses the same From, Subject and MIME headers thousands of times: here each class
    is built once per header name, and the parsed headers that repeat from one message
    to the next (never a recipient's own: To, Date, Message-ID, List-Unsubscribe) are
    reused, which is safe since a parsed header is never changed, only replaced. The
    bytes sent are the same; building a digest's MIME message takes about half the CPU.
    """

    _REPEATING = frozenset(
        {"from", "subject", "mime-version", "content-transfer-encoding", "content-type"}
        | {"list-unsubscribe-post"}
    )
    # A worker's runs and languages make a few dozen; the bound only keeps a surprise small.
    _KEPT = 512

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type[BaseHeader]] = {}
        self._parsed: dict[tuple[str, str], BaseHeader] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        header_class = self._classes.get(key)
        if header_class is None:
            header_class = self._classes[key] = super().__getitem__(name)
        return header_class

    def __call__(self, name: str, value: Any) -> BaseHeader:
        key = name.lower()
        # A multipart's Content-Type names its own boundary: it never repeats.
        if key not in self._REPEATING or not isinstance(value, str) or "boundary" in value:
            return super().__call__(name, value)
        header = self._parsed.get((key, value))
        if header is None or header.name != name:
            if len(self._parsed) >= self._KEPT:
                self._parsed.clear()
            header = self._parsed[(key, value)] = super().__call__(name, value)
        return header


_header_factory = _HeaderFactory()
# Each policy a mail backend asks for (SMTP, default), with the quicker header factory.
_quicker_policies: dict[int, tuple[Policy, Policy]] = {}


def _quicker(policy: Policy) -> Policy:
    if not isinstance(policy, EmailPolicy):
        return policy
    known = _quicker_policies.get(id(policy))
    if known is None or known[0] is not policy:
        known = _quicker_policies[id(policy)] = (
            policy,
            # 998, RFC 5322's hard limit, rather than 78: a List-Unsubscribe URL has no
            # space to fold at, and at 78 it went out as RFC 2047 encoded-words, which
            # mail providers do not read as a one-click unsubscribe link.
            policy.clone(header_factory=_header_factory, max_line_length=998),
        )
    return known[1]


class _Email(EmailMultiAlternatives):
    """An email whose MIME form is built with ``_HeaderFactory``."""

    def message(self, *, policy: Policy | None = email.policy.default) -> EmailMessage:
        return super().message(policy=_quicker(policy or email.policy.default))


def _message(
    *, to: str, subject: str, text: str, html: str = "", headers: dict[str, str] | None = None
) -> EmailMultiAlternatives:
    message = _Email(subject=" ".join(subject.split()), body=text, to=[to], headers=headers or {})
    if html:
        message.attach_alternative(html, "text/html")
    return message


def retry_countdown(attempts: int) -> float:
    """
    Seconds to wait before the next try, after ``attempts`` tries: full jitter, a
    uniform draw between 0 and base x 2^(attempts - 1), capped.
    """
    base = float(settings.ATLAS_DELIVERY_RETRY_BASE_SECONDS)
    cap = float(settings.ATLAS_DELIVERY_RETRY_MAX_SECONDS)
    ceiling = min(cap, base * 2 ** max(attempts - 1, 0))
    return _random.uniform(0, ceiling)


# ------------------------------------------------------------------------------
# The ledger step every message goes through
# ------------------------------------------------------------------------------


class LedgerRow(Protocol):
    pk: Any
    state: Any
    attempts: Any
    last_error: Any
    sent_at: Any

    def save(self, *, update_fields: Iterable[str]) -> None: ...


LedgerModel = type[OutgoingEmail] | type[DigestDelivery] | type[ReminderDelivery]


def _count_attempt(model: LedgerModel, pk: int) -> int | None:
    """
    Count one more try on a pending row, committed at once; None when there is
    nothing to try (sent, empty, failed, or being sent by someone else right now).
    """
    with transaction.atomic():
        row = (
            model._default_manager.select_for_update(skip_locked=True)
            .filter(pk=pk, state=DeliveryState.PENDING)
            .only("pk", "attempts")
            .first()
        )
        if row is None:
            return None
        attempts = int(row.attempts) + 1
        model._default_manager.filter(pk=pk).update(attempts=attempts)
    return attempts


def _try(
    model: LedgerModel,
    pk: int,
    *,
    mailer: Mailer,
    compose: Callable[[], EmailMultiAlternatives | None],
) -> str:
    """Lock the pending row, compose, send and record, all in one transaction."""
    outcome = SKIPPED
    with transaction.atomic():
        row: LedgerRow | None = (
            model._default_manager.select_for_update(skip_locked=True)
            .filter(pk=pk, state=DeliveryState.PENDING)
            .first()
        )
        if row is None:
            return SKIPPED
        message = compose()
        if message is None:
            row.state = DeliveryState.EMPTY
            row.save(update_fields=["state"])
            return EMPTY
        try:
            mailer.send(message)
        except Exception as error:
            if not is_smtp_failure(error):
                raise
            row.last_error = describe(error)
            if is_temporary(error):
                outcome = RETRY
                row.save(update_fields=["last_error"])
            else:
                outcome = FAILED
                row.state = DeliveryState.FAILED
                row.save(update_fields=["state", "last_error"])
            logger.warning("%s %s: %s", model.__name__, pk, row.last_error)
        else:
            outcome = SENT
            row.state = DeliveryState.SENT
            row.sent_at = timezone.now()
            row.last_error = ""
            row.save(update_fields=["state", "sent_at", "last_error"])
    return outcome


def _deliver(
    model: LedgerModel,
    pk: int,
    *,
    mailer: Mailer,
    compose: Callable[[], EmailMultiAlternatives | None],
    retry: Callable[[float], object],
) -> str:
    """
    Take ledger row ``pk`` through one try: count it, lock it, compose, send, record.

    ``compose`` returns None when there is nothing to send (an empty digest).
    ``retry(countdown)`` schedules the next try after a temporary failure.
    """
    attempts = _count_attempt(model, pk)
    if attempts is None:
        return SKIPPED
    if attempts > settings.ATLAS_DELIVERY_MAX_ATTEMPTS:
        model._default_manager.filter(pk=pk, state=DeliveryState.PENDING).update(
            state=DeliveryState.FAILED,
            last_error=f"Gave up after {attempts - 1} attempts.",
        )
        return FAILED
    try:
        outcome = _try(model, pk, mailer=mailer, compose=compose)
    except SoftTimeLimitExceeded:
        # The task's time is up: the row stays pending for the next try.
        raise
    # Anything but the mail server's answer (a bug, an address Python cannot encode) would
    # fail the same way again: the row is marked failed for the admin, and the batch goes on.
    except Exception as error:
        logger.exception("%s %s could not be sent", model.__name__, pk)
        model._default_manager.filter(pk=pk, state=DeliveryState.PENDING).update(
            state=DeliveryState.FAILED, last_error=describe(error)
        )
        return FAILED
    if outcome == RETRY:
        countdown = retry_countdown(attempts)
        try:
            retry(countdown)
        # The broker is down: the row stays pending and the sweep hands it over later.
        except Exception as error:
            logger.warning("No retry scheduled for %s %s: %s", model.__name__, pk, error)
    return outcome


@dataclass
class Tally:
    """How many deliveries of a batch ended each way."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: str) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1

    def __getitem__(self, outcome: str) -> int:
        return self.counts.get(outcome, 0)


def _on_commit(callback: Callable[[], Any]) -> None:
    transaction.on_commit(callback, robust=False)


def _later(task: Any, args: tuple[Any, ...], countdown: float) -> None:
    """Enqueue ``task(*args)`` to run in ``countdown`` seconds (a retry)."""
    task.apply_async(args, countdown=countdown)


# ------------------------------------------------------------------------------
# The outbox
# ------------------------------------------------------------------------------


def deliver_outgoing(pk: int, *, mailer: Mailer | None = None) -> str:
    """Send one owed email unless it went already; returns what happened."""
    from initiatives.tasks import send_outgoing_email

    own = mailer is None
    mailer = mailer or Mailer()

    def compose() -> EmailMultiAlternatives:
        email = OutgoingEmail.objects.get(pk=pk)
        return _message(
            to=email.to,
            subject=email.subject,
            text=email.body,
            html=email.html,
            headers=dict(email.headers or {}),
        )

    def retry(countdown: float) -> None:
        send_outgoing_email.apply_async((pk,), countdown=countdown)

    try:
        return _deliver(OutgoingEmail, pk, mailer=mailer, compose=compose, retry=retry)
    finally:
        if own:
            mailer.close()


def sweep_outbox(*, now: datetime.datetime | None = None) -> int:
    """
    Hand to the workers what nobody else will: outbox rows never tried (written
    while the broker was down), and any pending row, outbox or ledger, older than
    the broker's visibility timeout (its task was lost with the broker's data).
    Returns how many were handed over; sending twice is impossible either way.
    """
    from council.tasks import send_reminder
    from initiatives.outbox import dispatch_outgoing
    from initiatives.tasks import send_digest

    now = now or timezone.now()
    fresh = now - datetime.timedelta(seconds=settings.ATLAS_OUTBOX_SWEEP_AFTER_SECONDS)
    stuck = now - datetime.timedelta(
        seconds=settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    )
    pending = OutgoingEmail.objects.filter(state=DeliveryState.PENDING)
    owed = pending.filter(
        models.Q(attempts=0, created_at__lt=fresh) | models.Q(created_at__lt=stuck)
    ).order_by("pk")
    handed = 0
    for pk in owed.values_list("pk", flat=True).iterator():
        if not dispatch_outgoing(pk):
            # The broker is still down: the next sweep tries again.
            return handed
        handed += 1
    # Ledger rows are only looked at for a few days: older periods are past telling.
    recent = now - datetime.timedelta(days=8)
    try:
        for subscription_id, period in DigestDelivery.objects.filter(
            state=DeliveryState.PENDING, created_at__lt=stuck, created_at__gte=recent
        ).values_list("subscription_id", "period"):
            send_digest.apply_async((subscription_id, period))
            handed += 1
        for user_id, period in ReminderDelivery.objects.filter(
            state=DeliveryState.PENDING, created_at__lt=stuck, created_at__gte=recent
        ).values_list("user_id", "period"):
            send_reminder.apply_async((user_id, period))
            handed += 1
        catch_up_digest_runs(now=now)
    # The broker went away mid-sweep: the next sweep goes on.
    except Exception as error:
        logger.warning("The sweep stopped: %s", error)
    return handed


# Beat starts the digest runs at 06:00 UTC, six hours after their period ends. A period
# still without a single ledger row some time after that was never started (Redis was
# down at 06:00): the sweep starts it then.
MISSED_RUN_AFTER = datetime.timedelta(hours=6, minutes=30)


def catch_up_digest_runs(*, now: datetime.datetime | None = None) -> list[str]:
    """
    Start the runs beat could not: the last ended period of each frequency, if it has
    active subscribers, is past ``MISSED_RUN_AFTER`` and has no ledger row yet.
    Returns the keys of the periods started.
    """
    now = now or timezone.now()
    started = []
    for frequency in Frequency:
        period = digests.period_for(frequency, now)
        if now - period.end < MISSED_RUN_AFTER:
            continue
        if DigestDelivery.objects.filter(period=period.key).exists():
            continue
        if not active_subscriptions(frequency).exists():
            continue
        logger.warning("Starting the %s digests of %s, which beat missed.", frequency, period.key)
        digest_run(frequency=frequency, period_key=period.key)
        started.append(period.key)
    return started


# ------------------------------------------------------------------------------
# Digests
# ------------------------------------------------------------------------------


@dataclass
class RunSummary:
    """What a digest or reminder run did, or with ``dry_run`` would do."""

    kind: str
    period: str
    dry_run: bool
    recipients: int = 0
    chunks: int = 0
    would_send: int = 0
    empty: int = 0
    already: int = 0
    ledger: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        if self.dry_run:
            return [
                f"{self.kind} {self.period} (dry run): {self.recipients} recipients, "
                f"{self.would_send} would be sent, {self.empty} empty, "
                f"{self.already} already handled."
            ]
        ledger = ", ".join(f"{state} {self.ledger.get(state, 0)}" for state in DeliveryState)
        return [
            f"{self.kind} {self.period}: {self.recipients} recipients in {self.chunks} "
            f"chunks queued.",
            f"Ledger now: {ledger}.",
        ]


def active_subscriptions(frequency: str) -> models.QuerySet[Subscription]:
    return Subscription.objects.filter(
        frequency=frequency, confirmed_at__isnull=False, cancelled_at__isnull=True
    )


def _keyset(queryset: models.QuerySet[Any], size: int) -> Iterator[list[int]]:
    """Ids of ``queryset`` in chunks, by id: each chunk is one indexed range query."""
    last = 0
    while True:
        ids = list(queryset.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:size])
        if not ids:
            return
        yield ids
        last = ids[-1]


def period_of(key: str, frequency: str | None = None) -> digests.Period:
    """The digest period a ledger key names; weekly keys ("2026-W48") tell themselves apart."""
    if frequency is None:
        frequency = Frequency.WEEKLY if "-W" in key else Frequency.DAILY
    return digests.period_from_key(frequency, key)


def period_counts(
    model: type[DigestDelivery] | type[ReminderDelivery], period: str
) -> dict[str, int]:
    rows = (
        model._default_manager.filter(period=period)
        .values("state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["state"]: row["n"] for row in rows}


def digest_run(
    *,
    frequency: str,
    period_key: str | None = None,
    dry_run: bool = False,
    now: datetime.datetime | None = None,
) -> RunSummary:
    """
    Send one period's digests to every active subscription of ``frequency``.

    Subscriptions are walked by id in chunks of ``ATLAS_DIGEST_CHUNK_SIZE``; each
    chunk becomes one task, enqueued once the current transaction commits. The
    ledger makes a second run of the same period send nothing twice. A dry run
    builds each digest still owed and counts, sending nothing.
    """
    from initiatives.tasks import send_digest_chunk

    # By default the period that ended last: a run at 06:00 sends yesterday's (or last week's).
    period = (
        period_of(period_key, frequency)
        if period_key
        else digests.period_for(frequency, now or timezone.now())
    )
    summary = RunSummary(kind=f"{frequency} digests", period=period.key, dry_run=dry_run)
    # Names this run to the workers, which read the period's changes once per run each.
    run = uuid.uuid4().hex
    subscriptions_ = active_subscriptions(frequency)
    for ids in _keyset(subscriptions_, settings.ATLAS_DIGEST_CHUNK_SIZE):
        summary.recipients += len(ids)
        if dry_run:
            _dry_run_chunk(ids, period, summary, run=run)
            continue
        summary.chunks += 1
        _on_commit(partial(send_digest_chunk.apply_async, (ids, frequency, period.key, run)))
    if not dry_run:
        summary.ledger = period_counts(DigestDelivery, period.key)
    return summary


def _dry_run_chunk(
    ids: list[int], period: digests.Period, summary: RunSummary, *, run: str
) -> None:
    done = set(
        DigestDelivery.objects.filter(subscription_id__in=ids, period=period.key)
        .exclude(state=DeliveryState.PENDING)
        .values_list("subscription_id", flat=True)
    )
    owed = list(Subscription.objects.filter(pk__in=ids).exclude(pk__in=done))
    summary.already += len(done)
    for digest in digests.build_digests_for(owed, period, changes=_changes(period, run)):
        if digest.is_empty:
            summary.empty += 1
        else:
            summary.would_send += 1


# The period's changes as last loaded, for the chunks of the same run that follow in this
# process. Only the latest run is kept, so a process holds one period's changes at most.
_loaded_changes: dict[tuple[str, str], digests.PeriodChanges] = {}


def _changes(period: digests.Period, run: str | None) -> digests.PeriodChanges:
    """
    The period's changes: loaded once per run in each process (four queries), or each
    time for a delivery outside a run (a retry).
    """
    if run is None:
        return digests.load_changes(period)
    key = (period.key, run)
    changes = _loaded_changes.get(key)
    if changes is None:
        _loaded_changes.clear()
        changes = _loaded_changes[key] = digests.load_changes(period)
    return changes


# What a chunk reads of each subscription: enough to build, address and sign its digest.
_SUBSCRIPTION_FIELDS = ("pk", "email", "language", "frequency", "confirmed_at", "cancelled_at")


def deliver_digests(
    *,
    subscription_ids: list[int],
    period_key: str,
    frequency: str | None = None,
    mailer: Mailer | None = None,
    run: str | None = None,
) -> Tally:
    """
    Send ``period_key``'s digest to each of ``subscription_ids`` that is still owed one.

    Cancelled and unconfirmed subscriptions are skipped. A chunk costs a fixed number
    of queries, whatever its size:

    - building: the subscriptions, their targets (the period's changes are read once
      per ``run`` in each process, see ``_changes``);
    - the ledger: the attempt counted on the pending rows (their missing rows created
      when there are any), the pending rows locked, and once every message has had its
      answer from the SMTP server, every row settled in one statement (see
      ``_send_digest_chunk`` for what that means when a worker dies mid-chunk).

    All messages go through one SMTP connection, and each distinct digest is rendered
    once (``digests.DigestRenderer``).
    """
    own = mailer is None
    mailer = mailer or Mailer()
    tally = Tally()
    period = period_of(period_key, frequency)
    owed, built = _owed_digests(subscription_ids, period, frequency or period.frequency, run)
    for _skipped in range(len(set(subscription_ids)) - len(owed)):
        tally.add(SKIPPED)
    if not owed:
        return tally
    try:
        _count_digest_attempts([s.pk for s in owed], period.key)
        _send_digest_chunk(owed, built, period.key, mailer=mailer, tally=tally)
    finally:
        if own:
            mailer.close()
    return tally


def _owed_digests(
    subscription_ids: list[int], period: digests.Period, frequency: str, run: str | None
) -> tuple[list[Subscription], list[digests.Digest]]:
    """
    The active subscriptions among ``subscription_ids``, by id, and their digests: two
    queries once the run's changes are loaded in this process, whatever the chunk's size.
    """
    # A subscription that changed its frequency since the run waits for its new one.
    owed = list(
        active_subscriptions(frequency)
        .filter(pk__in=subscription_ids)
        .order_by("pk")
        .only(*_SUBSCRIPTION_FIELDS)
    )
    if not owed:
        return owed, []
    return owed, digests.build_digests_for(owed, period, changes=_changes(period, run))


def _count_digest_attempts(ids: list[int], period_key: str) -> None:
    """
    Count one more try on each pending ledger row of ``ids`` that no other worker holds,
    committed at once: a worker that dies mid-chunk leaves the count behind, and the cap
    eventually stops a chunk that keeps killing it. One statement, and a second only
    when rows are missing: those are created with this first try counted.
    """
    with transaction.atomic():
        free = DigestDelivery.objects.select_for_update(skip_locked=True).filter(
            subscription_id__in=ids, period=period_key, state=DeliveryState.PENDING
        )
        counted = DigestDelivery.objects.filter(pk__in=free.order_by().values("pk")).update(
            attempts=F("attempts") + 1
        )
    if counted < len(ids):
        # ignore_conflicts: rows settled already, held by another worker, or made by a
        # concurrent run stay as they are.
        DigestDelivery.objects.bulk_create(
            [DigestDelivery(subscription_id=pk, period=period_key, attempts=1) for pk in ids],
            ignore_conflicts=True,
        )


@dataclass
class _Settlement:
    """What became of each locked row of a chunk, to be written in one statement."""

    sent: list[int] = field(default_factory=list)
    empty: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    # Temporary failures: the row stays pending with its error, and a retry is scheduled.
    retry: dict[int, str] = field(default_factory=dict)

    def write(self, *, sent_at: datetime.datetime) -> None:
        settled = [*self.sent, *self.empty, *self.failed, *self.retry]
        if not settled:
            return
        states = [
            When(pk__in=pks, then=Value(state))
            for pks, state in (
                (self.sent, DeliveryState.SENT),
                (self.empty, DeliveryState.EMPTY),
                (list(self.failed), DeliveryState.FAILED),
            )
            if pks
        ]
        errors: dict[str, list[int]] = {}
        for pk, error in (*self.failed.items(), *self.retry.items()):
            errors.setdefault(error, []).append(pk)
        last_errors = [When(pk__in=pks, then=Value(error)) for error, pks in errors.items()]
        if self.sent:
            last_errors.append(When(pk__in=self.sent, then=Value("")))
        changes: dict[str, Any] = {}
        if states:
            changes["state"] = Case(*states, default=F("state"))
        if self.sent:
            changes["sent_at"] = Case(
                When(pk__in=self.sent, then=Value(sent_at)), default=F("sent_at")
            )
        if last_errors:
            changes["last_error"] = Case(
                *last_errors, default=F("last_error"), output_field=models.TextField()
            )
        DigestDelivery.objects.filter(pk__in=settled, state=DeliveryState.PENDING).update(**changes)


def _send_digest_chunk(
    owed: list[Subscription],
    built: list[digests.Digest],
    period_key: str,
    *,
    mailer: Mailer,
    tally: Tally,
) -> None:
    """
    Send the digests of the chunk's rows this worker can lock, then settle them all.

    The pending rows are locked (``SKIP LOCKED``: a row another worker holds is its
    business) for the whole chunk, and each message's outcome is written once the last
    one has had its answer, in one statement committed with the lock: sent rows become
    sent, permanent failures failed, temporary ones keep their error and get a retry,
    scheduled once that commit is done. So a row is only ever sent by the one live
    worker that holds it, and a row another worker settled is not sent again.

    The price of one statement per chunk instead of one per message: a worker killed
    mid-chunk rolls back the whole settlement, so the digests of that chunk the SMTP
    server had already accepted go out once more on the next try (at least once,
    never none; with a transaction per message, that window was one message). A task
    that runs out of time settles what it sent before stopping.
    """
    from initiatives.tasks import send_digest

    cap = settings.ATLAS_DELIVERY_MAX_ATTEMPTS
    by_id = {s.pk: (s, digest) for s, digest in zip(owed, built, strict=True)}
    renderer = digests.DigestRenderer()
    settlement = _Settlement()
    # Ledger row → (subscription id, attempts counted), for the retries.
    claimed: dict[int, tuple[int, int]] = {}
    stopped: SoftTimeLimitExceeded | None = None
    with transaction.atomic():
        rows = list(
            DigestDelivery.objects.select_for_update(skip_locked=True)
            .filter(subscription_id__in=by_id, period=period_key, state=DeliveryState.PENDING)
            .order_by("subscription_id")
            .values_list("pk", "subscription_id", "attempts")
        )
        for _held in range(len(by_id) - len(rows)):
            tally.add(SKIPPED)
        for pk, subscription_id, attempts in rows:
            subscription, digest = by_id[subscription_id]
            claimed[pk] = (subscription_id, attempts)
            if stopped is not None:
                # Left pending and unsettled: the next try of the chunk sends it.
                continue
            if attempts > cap:
                settlement.failed[pk] = f"Gave up after {attempts - 1} attempts."
                tally.add(FAILED)
            elif digest.is_empty:
                settlement.empty.append(pk)
                tally.add(EMPTY)
            else:
                try:
                    tally.add(_send_one(pk, subscription, digest, renderer, mailer, settlement))
                except SoftTimeLimitExceeded as error:
                    stopped = error
        settlement.write(sent_at=timezone.now())
    for pk in settlement.retry:
        subscription_id, attempts = claimed[pk]
        try:
            send_digest.apply_async(
                (subscription_id, period_key), countdown=retry_countdown(attempts)
            )
        # The broker is down: the row stays pending and the sweep hands it over later.
        except Exception as error:
            logger.warning("No retry scheduled for DigestDelivery %s: %s", pk, error)
    if stopped is not None:
        raise stopped


def _send_one(
    pk: int,
    subscription: Subscription,
    digest: digests.Digest,
    renderer: digests.DigestRenderer,
    mailer: Mailer,
    settlement: _Settlement,
) -> str:
    """Compose and send one locked row's digest, noting its outcome in ``settlement``."""
    try:
        message = _compose_digest(subscription, digest, renderer)
    # A bug, or an address Python cannot encode, would fail the same way again: the row
    # is marked failed for the admin, and the chunk goes on.
    except Exception as error:
        logger.exception("Digest delivery %s could not be built", pk)
        settlement.failed[pk] = describe(error)
        return FAILED
    try:
        mailer.send(message)
    except SoftTimeLimitExceeded:
        raise
    except Exception as error:
        if not is_smtp_failure(error):
            logger.error("Digest delivery %s could not be sent", pk, exc_info=error)
            settlement.failed[pk] = describe(error)
            return FAILED
        last_error = describe(error)
        logger.warning("DigestDelivery %s: %s", pk, last_error)
        if is_temporary(error):
            settlement.retry[pk] = last_error
            return RETRY
        settlement.failed[pk] = last_error
        return FAILED
    settlement.sent.append(pk)
    return SENT


def _compose_digest(
    subscription: Subscription, digest: digests.Digest, renderer: digests.DigestRenderer
) -> EmailMultiAlternatives:
    unsubscribe_url = subscriptions.unsubscribe_url(subscription)
    with translation.override(digest.language):
        content = renderer.render(
            digest,
            subscription=subscription,
            unsubscribe_url=unsubscribe_url,
            manage_url=subscriptions.manage_url(subscription.email, subscription.language),
        )
    return _message(
        to=subscription.email,
        subject=content.subject,
        text=content.text,
        html=content.html,
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def deliver_digest(*, subscription_id: int, period_key: str) -> str:
    """Send one subscription's digest for the period if still owed (the retry path)."""
    tally = deliver_digests(subscription_ids=[subscription_id], period_key=period_key)
    return next(iter(tally.counts), SKIPPED)


# ------------------------------------------------------------------------------
# Reminders to council members
# ------------------------------------------------------------------------------


def _reminder_period_key(frequency: str, moment: datetime.datetime) -> str:
    return reminders.reminder_period_for(frequency, moment).key


def reminder_recipients(*, now: datetime.datetime | None = None) -> list[tuple[int, str]]:
    """
    Council members owed a reminder for the period containing ``now``, with that
    period's key: (user id, period key). Members with no preference get weekly ones;
    those who chose "never" get none, and so do accounts without an address.
    """
    now = now or timezone.now()
    user_model = get_user_model()
    members = (
        user_model._default_manager.filter(
            is_active=True,
            pk__in=CouncilMembership.objects.values("user_id"),
        )
        .exclude(email="")
        .order_by("pk")
    )
    preferences = dict(
        ReminderPreference.objects.filter(user__in=members).values_list("user_id", "frequency")
    )
    recipients = []
    for user_id in members.values_list("pk", flat=True):
        frequency = preferences.get(user_id, ReminderPreference.Frequency.WEEKLY)
        if frequency == ReminderPreference.Frequency.NEVER:
            continue
        recipients.append((user_id, _reminder_period_key(frequency, now)))
    return recipients


def reminder_run(*, dry_run: bool = False, now: datetime.datetime | None = None) -> RunSummary:
    """
    Remind each council member whose preference makes this run theirs.

    Runs daily; a weekly member's ledger row for the week makes the later runs of
    that week send nothing more. A dry run builds the reminders and counts.
    """
    from council.tasks import send_reminder_chunk

    now = now or timezone.now()
    owed = reminder_recipients(now=now)
    summary = RunSummary(kind="reminders", period=f"{now:%Y-%m-%d}", dry_run=dry_run)
    summary.recipients = len(owed)
    size = settings.ATLAS_DIGEST_CHUNK_SIZE
    for start in range(0, len(owed), size):
        chunk = owed[start : start + size]
        if dry_run:
            _dry_run_reminders(chunk, now, summary)
            continue
        summary.chunks += 1
        _on_commit(partial(send_reminder_chunk.apply_async, ([list(pair) for pair in chunk],)))
    if not dry_run:
        periods = {period for _user, period in owed}
        ledger: dict[str, int] = {}
        for period in periods:
            for state, n in period_counts(ReminderDelivery, period).items():
                ledger[state] = ledger.get(state, 0) + n
        summary.ledger = ledger
    return summary


def _dry_run_reminders(
    chunk: list[tuple[int, str]], now: datetime.datetime, summary: RunSummary
) -> None:
    user_model = get_user_model()
    users = user_model._default_manager.in_bulk([user_id for user_id, _period in chunk])
    for user_id, period in chunk:
        if (
            ReminderDelivery.objects.filter(user_id=user_id, period=period)
            .exclude(state=DeliveryState.PENDING)
            .exists()
        ):
            summary.already += 1
        elif reminders.build_reminder(user=users[user_id], now=now).is_empty:
            summary.empty += 1
        else:
            summary.would_send += 1


def deliver_reminders(*, pairs: Iterable[tuple[int, str]], mailer: Mailer | None = None) -> Tally:
    """Send each (user id, period key) its reminder if still owed."""
    from council.tasks import send_reminder

    own = mailer is None
    mailer = mailer or Mailer()
    tally = Tally()
    pairs = list(pairs)
    user_model = get_user_model()
    users = user_model._default_manager.in_bulk([user_id for user_id, _period in pairs])
    languages = dict(
        ReminderPreference.objects.filter(user_id__in=users).values_list("user_id", "language")
    )
    try:
        for user_id, period in pairs:
            user = users.get(user_id)
            if user is None or not user.is_active or not getattr(user, "email", ""):
                tally.add(SKIPPED)
                continue
            row = _reminder_row(user_id, period)
            if row.state != DeliveryState.PENDING:
                tally.add(SKIPPED)
                continue
            language = languages.get(user_id, settings.LANGUAGE_CODE)
            tally.add(
                _deliver(
                    ReminderDelivery,
                    row.pk,
                    mailer=mailer,
                    compose=partial(_compose_reminder, user, language),
                    retry=partial(_later, send_reminder, (user_id, period)),
                )
            )
    finally:
        if own:
            mailer.close()
    return tally


def _reminder_row(user_id: int, period: str) -> ReminderDelivery:
    try:
        row, _created = ReminderDelivery.objects.get_or_create(user_id=user_id, period=period)
    except IntegrityError:
        row = ReminderDelivery.objects.get(user_id=user_id, period=period)
    return row


def _compose_reminder(user: AbstractBaseUser, language: str) -> EmailMultiAlternatives | None:
    reminder = reminders.build_reminder(user=user, now=timezone.now())
    if reminder.is_empty:
        return None
    content = reminders.render_reminder(reminder, user=user, language=language)
    return _message(
        to=user.email,  # type: ignore[attr-defined]
        subject=content.subject,
        text=content.text,
        html=content.html,
    )


# ------------------------------------------------------------------------------
# Operators
# ------------------------------------------------------------------------------


def retry_failed(queryset: models.QuerySet[Any]) -> int:
    """
    Put failed deliveries of ``queryset`` back to pending with a fresh attempt count
    and hand them to the workers once the transaction commits; returns how many.
    """
    from council.tasks import send_reminder
    from initiatives.outbox import dispatch_outgoing
    from initiatives.tasks import send_digest

    model = queryset.model
    failed = list(queryset.filter(state=DeliveryState.FAILED).values_list("pk", flat=True))
    model._default_manager.filter(pk__in=failed, state=DeliveryState.FAILED).update(
        state=DeliveryState.PENDING, attempts=0
    )
    rows = model._default_manager.filter(pk__in=failed)
    for row in rows:
        if isinstance(row, OutgoingEmail):
            _on_commit(partial(dispatch_outgoing, row.pk))
        elif isinstance(row, DigestDelivery):
            _on_commit(partial(send_digest.apply_async, (row.subscription_id, row.period)))
        elif isinstance(row, ReminderDelivery):
            _on_commit(partial(send_reminder.apply_async, (row.user_id, row.period)))
    return len(failed)
