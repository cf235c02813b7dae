"""
What one chunk of a digest run costs: a fixed number of queries whatever its size (the
ledger settled in one statement), the period's changes read once per run, each digest
rendered once.
"""

from __future__ import annotations

import email.policy
import re
import smtplib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from initiatives import delivery, digests
from initiatives.models import DeliveryState, DigestDelivery, Frequency
from tests.delivery.builders import daily_period, published_in, subscriber

pytestmark = pytest.mark.django_db

# Transaction control is not a query of the chunk's: it is BEGIN/COMMIT or SAVEPOINT/RELEASE
# depending on whether the test runs in a transaction, and SET/RESET only on PostgreSQL.
_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET ", "RESET ")


class Statements:
    def __init__(self, captured: CaptureQueriesContext) -> None:
        self._captured = captured

    @property
    def all(self) -> list[str]:
        return [q["sql"] for q in self._captured.captured_queries]

    @property
    def queries(self) -> list[str]:
        return [sql for sql in self.all if not sql.lstrip().upper().startswith(_CONTROL)]


@contextmanager
def counting() -> Iterator[Statements]:
    with CaptureQueriesContext(connection) as captured:
        yield Statements(captured)


@pytest.fixture(autouse=True)
def _forget_loaded_changes() -> Iterator[None]:
    """Runs here have fixed names, and each test has its own rows: no run's changes carry over."""
    delivery._loaded_changes.clear()
    yield
    delivery._loaded_changes.clear()


@pytest.fixture
def readers(atlas_map: Any) -> Callable[[int], list[int]]:
    """``n`` more active daily subscribers of Chicago, where an initiative was published."""
    published_in(atlas_map.chicago, title="Chicago Wi-Fi")
    made = 0

    def make(n: int) -> list[int]:
        nonlocal made
        ids = [
            subscriber(
                f"r{made + i}@example.org", atlas_map.chicago, language="fr" if i % 2 else "en"
            ).pk
            for i in range(n)
        ]
        made += n
        return ids

    return make


@pytest.mark.parametrize("size", [3, 30])
def test_building_a_chunk_costs_two_queries_once_the_runs_changes_are_loaded(
    readers, size, django_assert_num_queries
):
    period = daily_period()
    delivery._owed_digests(readers(2), period, Frequency.DAILY, "run-1")
    ids = readers(size)

    with django_assert_num_queries(2):
        owed, built = delivery._owed_digests(ids, period, Frequency.DAILY, "run-1")

    assert [s.pk for s in owed] == ids
    assert all(not digest.is_empty for digest in built)


def test_the_first_chunk_of_a_run_in_a_process_also_reads_the_changes(
    readers, django_assert_num_queries
):
    ids = readers(5)
    with django_assert_num_queries(6):
        delivery._owed_digests(ids, daily_period(), Frequency.DAILY, "run-2")


def test_the_changes_are_read_once_per_run(readers, monkeypatch):
    loads: list[str] = []
    real = digests.load_changes

    def load(period: digests.Period, **kwargs: Any) -> digests.PeriodChanges:
        loads.append(period.key)
        return real(period, **kwargs)

    monkeypatch.setattr(digests, "load_changes", load)
    period = daily_period()
    for run in ("run-a", "run-a", "run-b", "run-b"):
        delivery._owed_digests(readers(2), period, Frequency.DAILY, run)
    delivery._owed_digests(readers(2), period, Frequency.DAILY, None)

    # One per run, and one for the delivery outside any run (a retry reads afresh).
    assert loads == [period.key] * 3


def _ledger(statements: Statements) -> list[str]:
    return [sql for sql in statements.queries if "digestdelivery" in sql]


@pytest.mark.parametrize("size", [3, 30])
def test_a_whole_chunk_costs_six_queries_whatever_its_size(readers, size):
    period = daily_period()
    delivery._owed_digests(readers(1), period, Frequency.DAILY, "run-3")
    ids = readers(size)

    with counting() as statements:
        tally = delivery.deliver_digests(
            subscription_ids=ids, period_key=period.key, frequency="daily", run="run-3"
        )

    assert tally[delivery.SENT] == size
    assert len(mail.outbox) == size
    # Building two; the ledger four: attempts counted, missing rows made, rows locked,
    # rows settled.
    assert len(_ledger(statements)) == 4
    assert len(statements.queries) == 6
    assert set(DigestDelivery.objects.values_list("state", "attempts")) == {(DeliveryState.SENT, 1)}


def test_a_chunk_whose_rows_exist_already_makes_none(readers):
    """A second try of a chunk (its task handed out again) finds its rows: three ledger queries."""
    period = daily_period()
    ids = readers(4)
    DigestDelivery.objects.bulk_create(
        [DigestDelivery(subscription_id=pk, period=period.key, attempts=1) for pk in ids]
    )

    with counting() as statements:
        tally = delivery.deliver_digests(
            subscription_ids=ids, period_key=period.key, frequency="daily", run="run-6"
        )

    assert tally[delivery.SENT] == 4
    assert len(_ledger(statements)) == 3
    assert set(DigestDelivery.objects.values_list("state", "attempts")) == {(DeliveryState.SENT, 2)}


def test_the_settlement_marks_empty_digests_and_rows_past_the_cap_with_the_sent_ones(
    atlas_map, settings
):
    published_in(atlas_map.chicago, title="Chicago Wi-Fi")
    owed_one = subscriber("owed@example.org", atlas_map.chicago)
    quiet = subscriber("quiet@example.org", atlas_map.nyc)
    stuck = subscriber("stuck@example.org", atlas_map.chicago)
    period = daily_period()
    DigestDelivery.objects.create(
        subscription=stuck, period=period.key, attempts=settings.ATLAS_DELIVERY_MAX_ATTEMPTS
    )

    with counting() as statements:
        tally = delivery.deliver_digests(
            subscription_ids=[owed_one.pk, quiet.pk, stuck.pk],
            period_key=period.key,
            frequency="daily",
            run="run-4",
        )

    assert len(_ledger(statements)) == 4
    assert [message.to for message in mail.outbox] == [["owed@example.org"]]
    rows = {row.subscription_id: row for row in DigestDelivery.objects.all()}
    assert rows[owed_one.pk].state == DeliveryState.SENT
    assert rows[owed_one.pk].sent_at is not None
    assert rows[quiet.pk].state == DeliveryState.EMPTY
    assert rows[stuck.pk].state == DeliveryState.FAILED
    max_attempts = settings.ATLAS_DELIVERY_MAX_ATTEMPTS
    assert rows[stuck.pk].last_error == f"Gave up after {max_attempts} attempts."
    assert (tally[delivery.SENT], tally[delivery.EMPTY], tally[delivery.FAILED]) == (1, 1, 1)


def test_each_outcome_of_a_chunk_is_settled_in_the_one_statement(readers, monkeypatch):
    """Sent, refused for good and refused for now: three rows, three fates, one UPDATE."""
    period = daily_period()
    ids = readers(3)
    sent, refused, later = ids
    retries: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        "initiatives.tasks.send_digest.apply_async",
        lambda args, countdown: retries.append(tuple(args)),
    )
    real_send = delivery.Mailer.send

    def send(mailer: delivery.Mailer, message: Any) -> None:
        to = message.to[0]
        if to == "r1@example.org":
            raise smtplib.SMTPRecipientsRefused({to: (550, b"No such mailbox")})
        if to == "r2@example.org":
            raise smtplib.SMTPDataError(451, b"Try again later")
        real_send(mailer, message)

    monkeypatch.setattr(delivery.Mailer, "send", send)

    with counting() as statements:
        tally = delivery.deliver_digests(
            subscription_ids=ids, period_key=period.key, frequency="daily", run="run-7"
        )

    assert len(_ledger(statements)) == 4
    assert (tally[delivery.SENT], tally[delivery.FAILED], tally[delivery.RETRY]) == (1, 1, 1)
    rows = {row.subscription_id: row for row in DigestDelivery.objects.all()}
    assert (rows[sent].state, rows[sent].last_error) == (DeliveryState.SENT, "")
    assert rows[refused].state == DeliveryState.FAILED
    assert "No such mailbox" in rows[refused].last_error
    assert rows[later].state == DeliveryState.PENDING
    assert "Try again later" in rows[later].last_error
    assert retries == [(later, period.key)]


def test_a_chunk_out_of_time_settles_what_it_sent_and_leaves_the_rest_pending(readers, monkeypatch):
    period = daily_period()
    ids = readers(3)
    real_send = delivery.Mailer.send

    def send(mailer: delivery.Mailer, message: Any) -> None:
        if message.to[0] == "r1@example.org":
            raise SoftTimeLimitExceeded
        real_send(mailer, message)

    monkeypatch.setattr(delivery.Mailer, "send", send)

    with pytest.raises(SoftTimeLimitExceeded):
        delivery.deliver_digests(
            subscription_ids=ids, period_key=period.key, frequency="daily", run="run-8"
        )

    states = dict(DigestDelivery.objects.values_list("subscription_id", "state"))
    assert states == {
        ids[0]: DeliveryState.SENT,
        ids[1]: DeliveryState.PENDING,
        ids[2]: DeliveryState.PENDING,
    }
    assert [message.to for message in mail.outbox] == [["r0@example.org"]]


def test_each_digest_is_rendered_once_and_each_copy_is_what_rendering_it_would_give(
    atlas_map, monkeypatch
):
    published_in(atlas_map.chicago, title="Chicago Wi-Fi & <Open> data")
    people = [
        subscriber(f"{language}{n}@example.org", atlas_map.chicago, language=language)
        for language in ("en", "fr")
        for n in range(3)
    ]
    period = daily_period()
    built = digests.build_digests_for(people, period)
    renders: list[str] = []
    real = digests.render_digest

    def render(digest: digests.Digest, **kwargs: Any) -> digests.EmailContent:
        renders.append(digest.language)
        return real(digest, **kwargs)

    monkeypatch.setattr(digests, "render_digest", render)
    renderer = digests.DigestRenderer()
    for person, digest in zip(people, built, strict=True):
        links = {
            "unsubscribe_url": f'https://atlas.example/{person.pk}/stop?a=1&b="2"',
            "manage_url": f"https://atlas.example/manage/{person.email}",
        }
        copy = renderer.render(digest, subscription=person, **links)
        assert copy == real(digest, subscription=person, **links)

    assert sorted(renders) == ["en", "fr"]


def test_a_digest_without_personal_links_is_rendered_in_full(atlas_map):
    published_in(atlas_map.chicago, title="Chicago Wi-Fi")
    person = subscriber("en@example.org", atlas_map.chicago)
    (digest,) = digests.build_digests_for([person], daily_period())

    content = digests.DigestRenderer().render(
        digest, subscription=person, unsubscribe_url="", manage_url=""
    )

    assert content == digests.render_digest(
        digest, subscription=person, unsubscribe_url="", manage_url=""
    )
    assert "Stop this digest" not in content.text


def _mime(message: EmailMultiAlternatives, policy: Any = email.policy.SMTP) -> bytes:
    # The multipart boundary is drawn at random for each message.
    raw = message.message(policy=policy).as_bytes()
    return re.sub(rb"={15}\d+==", b"BOUNDARY", raw)


def test_the_quicker_headers_give_the_bytes_the_standard_ones_give():
    """Headers parsed once and reused across messages change nothing in what is sent."""
    made = []
    for n in range(3):
        fields: dict[str, Any] = {
            "subject": "Atlas du leadership numérique, 26 novembre 2026 : 2 changements",
            "body": f"Bonjour {n},\n\nhttps://atlas.example/fr/{'x' * 120}\n",
            "to": [f"r{n}@example.org"],
            "headers": {
                "Date": "Fri, 27 Nov 2026 06:00:00 +0000",
                "Message-ID": f"<{n}@atlas.example>",
                "List-Unsubscribe": f"<https://atlas.example/fr/stop/{'y' * 90}{n}/>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        }
        quick = delivery._message(
            to=fields["to"][0],
            subject=fields["subject"],
            text=fields["body"],
            html=f"<p>Bonjour {n}</p>",
            headers=fields["headers"],
        )
        standard = EmailMultiAlternatives(**fields)
        standard.attach_alternative(f"<p>Bonjour {n}</p>", "text/html")
        # Headers are folded at 998 characters rather than 78 (see the next test).
        made.append((_mime(quick), _mime(standard, email.policy.SMTP.clone(max_line_length=998))))

    for quick_bytes, standard_bytes in made:
        assert quick_bytes == standard_bytes
    assert b"Subject: Atlas du leadership =?utf-8?" in made[2][0]
    # The Subject the later messages carried was the one parsed for the first.
    assert ("subject", fields["subject"]) in delivery._header_factory._parsed


def test_a_long_unsubscribe_link_goes_out_as_it_is():
    """Not as RFC 2047 encoded-words, which no mail provider reads as a one-click link."""
    link = f"<https://atlas.example/fr/subscriptions/stop/{'y' * 120}/>"
    message = delivery._message(
        to="r@example.org",
        subject="Digest",
        text="Bonjour",
        headers={"List-Unsubscribe": link, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    raw = message.message(policy=email.policy.SMTP).as_bytes()
    assert f"\r\nList-Unsubscribe: {link}\r\n".encode() in raw
    assert b"=?utf-8?" not in raw


@pytest.mark.django_db(transaction=True)
def test_a_row_another_worker_holds_is_neither_counted_nor_sent(readers):
    """The lock another worker holds on a row (it is sending it) keeps this chunk off it."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite runs one writer at a time")
    period = daily_period()
    ids = readers(2)
    DigestDelivery.objects.bulk_create(
        [DigestDelivery(subscription_id=pk, period=period.key) for pk in ids]
    )
    held = DigestDelivery.objects.get(subscription_id=ids[0])
    locked, release = threading.Event(), threading.Event()

    def other_worker() -> None:
        try:
            with transaction.atomic():
                DigestDelivery.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(30)
        tally = delivery.deliver_digests(
            subscription_ids=ids, period_key=period.key, frequency="daily", run="run-9"
        )
    finally:
        release.set()
        thread.join()

    assert (tally[delivery.SENT], tally[delivery.SKIPPED]) == (1, 1)
    assert [message.to for message in mail.outbox] == [["r1@example.org"]]
    rows = {row.subscription_id: row for row in DigestDelivery.objects.all()}
    assert (rows[ids[0]].state, rows[ids[0]].attempts) == (DeliveryState.PENDING, 0)
    assert (rows[ids[1]].state, rows[ids[1]].attempts) == (DeliveryState.SENT, 1)
