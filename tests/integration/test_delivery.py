"""
Digests and notifications through a real Redis, a real Celery worker and a real SMTP server.

Each test prints its figures (``-s`` shows them); the assertions hold them to
"every message once, none lost".
"""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
from django.test import Client
from django.urls import reverse

from cities.models import Jurisdiction
from initiatives import delivery
from initiatives.models import DeliveryState, DigestDelivery, OutgoingEmail, PublicationState
from tests.delivery.builders import daily_period, many_subscribers, published_in, subscriber
from tests.factories import CouncilMembershipFactory, InitiativeFactory, UserFactory
from tests.integration.conftest import RETRY_MAX_SECONDS, Live, wait_for

pytestmark = pytest.mark.integration

SUBSCRIBERS = 500


def trigger_run() -> None:
    """What beat does at 06:00: start the daily run (outside any transaction: enqueued now)."""
    summary = delivery.digest_run(frequency="daily", period_key=daily_period().key)
    assert summary.chunks == -(-summary.recipients // 200)


def ledger() -> Counter[str]:
    return Counter(
        DigestDelivery.objects.filter(period=daily_period().key).values_list("state", flat=True)
    )


def three_cities() -> tuple[list[Jurisdiction], dict[int, str]]:
    """Three places with one published initiative each in the period: place id → title."""
    us = Jurisdiction.objects.create(
        kind=Jurisdiction.Kind.COUNTRY,
        name="United States",
        slug="us",
        ocd_id="ocd-division/country:us",
    )
    places = [
        Jurisdiction.objects.create(
            kind=Jurisdiction.Kind.PLACE,
            name=name,
            slug=slug,
            ocd_id=f"ocd-division/country:us/place:{slug}",
            parent=us,
        )
        for name, slug in (("Chicago", "chicago"), ("Boston", "boston"), ("Denver", "denver"))
    ]
    titles = {place.pk: f"Open data portal of {place.name}" for place in places}
    for place in places:
        published_in(place, title=titles[place.pk])
    return places, titles


def check_digests(
    live: Live, expected: dict[str, tuple[str, str]], *, resent_at_most: int = 0
) -> None:
    """
    Each address got its digest, in its language, about its own city: exactly once, or
    again for at most ``resent_at_most`` of them (a chunk cut short by a killed worker).
    """
    received = live.smtp.messages
    recipients = Counter(to for message in received for to in message.envelope_to)
    duplicates = {to: n for to, n in recipients.items() if n > 1}
    assert sum(n - 1 for n in duplicates.values()) <= resent_at_most, (
        f"sent twice: {list(duplicates)[:5]}"
    )
    assert set(recipients) == set(expected)
    for message in received:
        (to,) = message.envelope_to
        language, title = expected[to]
        assert message.to == to
        assert title in message.text
        assert title in message.html
        assert message.message["List-Unsubscribe"].startswith("<http")
        assert message.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        if language == "fr":
            assert "Bonjour" in message.text, message.text[:200]
            assert "novembre" in message.subject
        else:
            assert "Bonjour" not in message.text
            assert "Nov" in message.subject
            assert "novembre" not in message.subject


def population() -> dict[str, tuple[str, str]]:
    places, titles = three_cities()
    subscriptions = many_subscribers(SUBSCRIBERS, places)
    # many_subscribers gives the nth subscription the nth place, round the list.
    return {
        s.email: (s.language, titles[places[n % len(places)].pk])
        for n, s in enumerate(subscriptions)
    }


def test_500_subscribers_get_exactly_500_digests_however_often_the_run_starts(live: Live) -> None:
    expected = population()

    started = time.monotonic()
    # Twice at once: both worker processes race for the same subscriptions' ledger rows.
    trigger_run()
    trigger_run()
    wait_for(lambda: live.smtp.count() >= SUBSCRIBERS, timeout=120, what="500 digests")
    first_run = time.monotonic() - started
    wait_for(live.redis.idle, timeout=60, what="the first runs to finish")

    # And once more after they are done, as beat would the next time.
    trigger_run()
    wait_for(live.redis.idle, timeout=60, what="the last run to finish")
    time.sleep(1)

    check_digests(live, expected)
    assert live.smtp.count() == SUBSCRIBERS
    assert ledger() == {DeliveryState.SENT: SUBSCRIBERS}
    print(
        "\n[500 subscribers, run twice at once and once more] "
        f"accepted by SMTP: {live.smtp.count()}, "
        f"distinct recipients: {len(set(live.smtp.recipients()))}, "
        f"first run {first_run:.1f}s, ledger {dict(ledger())}"
    )


def restore_unacked(live: Live) -> int:
    """Put the dead worker's unacknowledged messages back, as Redis does after the timeout."""
    client = live.redis.client()
    restored = 0
    for raw in client.hvals("unacked"):
        payload, _exchange, routing_key = json.loads(raw)
        client.lpush(routing_key or "celery", json.dumps(payload))
        restored += 1
    client.delete("unacked", "unacked_index")
    return restored


def test_worker_killed_mid_batch_loses_nothing_and_resends_at_most_what_was_accepted(
    live: Live,
) -> None:
    """
    A chunk's ledger rows are settled once all its messages are sent, so a worker killed
    mid-chunk leaves them pending: the next run sends them again, those the SMTP server had
    already accepted included. Nothing is lost, and only those are sent twice.
    """
    expected = population()
    live.smtp.hold_from = 150

    trigger_run()
    # Both worker processes end up waiting on the SMTP server's answer, mid-send.
    wait_for(lambda: live.smtp.held >= 2, timeout=60, what="two messages held")
    before_kill = live.smtp.count()
    live.worker.kill()
    time.sleep(0.5)
    live.smtp.release()
    wait_for(lambda: live.smtp.dropped_after_hold >= 2, timeout=10, what="held messages dropped")
    pending_after_kill = ledger()[DeliveryState.PENDING]

    live.worker.start()
    restored = restore_unacked(live)
    trigger_run()
    wait_for(lambda: len(set(live.smtp.recipients())) >= SUBSCRIBERS, timeout=120, what="the rest")
    wait_for(live.redis.idle, timeout=60, what="the runs to finish")
    time.sleep(1)

    check_digests(live, expected, resent_at_most=before_kill)
    assert live.smtp.count() - SUBSCRIBERS <= before_kill
    assert ledger() == {DeliveryState.SENT: SUBSCRIBERS}
    print(
        f"\n[SIGKILL mid-batch] accepted before the kill: {before_kill}, held and dropped: "
        f"{live.smtp.dropped_after_hold}, ledger rows pending after the kill: "
        f"{pending_after_kill}, messages handed back: {restored}; after the restart: "
        f"{live.smtp.count()} messages, {len(set(live.smtp.recipients()))} distinct "
        f"recipients, lost {SUBSCRIBERS - len(set(live.smtp.recipients()))}, duplicates "
        f"{live.smtp.count() - len(set(live.smtp.recipients()))}"
    )


def test_451_three_times_then_250_is_delivered_once(live: Live) -> None:
    places, titles = three_cities()
    one = subscriber("retry@example.org", places[0])
    live.smtp.temporary_failures = 3

    trigger_run()
    wait_for(lambda: live.smtp.count() >= 1, timeout=30, what="the digest")
    wait_for(live.redis.idle, timeout=30, what="the retries to finish")
    time.sleep(2 * RETRY_MAX_SECONDS)

    row = DigestDelivery.objects.get(subscription=one)
    assert live.smtp.answered_451 == 3
    assert live.smtp.recipients() == ["retry@example.org"]
    assert titles[places[0].pk] in live.smtp.messages[0].text
    assert row.state == DeliveryState.SENT
    assert row.attempts == 4
    print(
        f"\n[451 x3 then 250] 451 answers: {live.smtp.answered_451}, delivered: "
        f"{live.smtp.count()}, attempts: {row.attempts}, state: {row.state}"
    )


def test_550_is_marked_failed_and_not_retried(live: Live) -> None:
    places, _titles = three_cities()
    refused = subscriber("nobody@example.org", places[0])
    accepted = subscriber("somebody@example.org", places[1])
    live.smtp.refused = {"nobody@example.org"}

    trigger_run()
    wait_for(
        lambda: DigestDelivery.objects.filter(state=DeliveryState.FAILED).exists(),
        timeout=30,
        what="the failure",
    )
    # Several retry periods: a retry would have come by now.
    time.sleep(3 * RETRY_MAX_SECONDS)
    wait_for(live.redis.idle, timeout=30, what="the run to finish")

    row = DigestDelivery.objects.get(subscription=refused)
    assert row.state == DeliveryState.FAILED
    assert row.attempts == 1
    assert "550" in row.last_error
    assert DigestDelivery.objects.get(subscription=accepted).state == DeliveryState.SENT
    assert live.smtp.recipients() == ["somebody@example.org"]
    print(
        f"\n[550] state: {row.state}, attempts after {3 * RETRY_MAX_SECONDS:.1f}s: "
        f"{row.attempts}, error: {row.last_error!r}"
    )


def test_edits_while_redis_is_down_succeed_and_notify_once_when_it_is_back(
    live: Live, settings: object
) -> None:
    places, _titles = three_cities()
    chicago = places[0]
    editor = UserFactory.create(username="chicago-editor", email="editor@example.org")
    reviewer = UserFactory.create(username="chicago-reviewer", email="reviewer@example.org")
    CouncilMembershipFactory.create(user=editor, jurisdiction=chicago, role="editor")
    CouncilMembershipFactory.create(user=reviewer, jurisdiction=chicago, role="reviewer")
    drafts = [
        InitiativeFactory.create(
            jurisdiction=chicago,
            title=f"Draft {n:02d}",
            slug=f"draft-{n:02d}",
            publication_state=PublicationState.DRAFT,
            created_by=editor,
        )
        for n in range(20)
    ]
    client = Client()
    client.force_login(editor)

    live.redis.stop()
    timings = []
    for draft in drafts:
        started = time.monotonic()
        response = client.post(
            reverse("council:workspace:submit", args=["initiatives", draft.slug])
        )
        timings.append(time.monotonic() - started)
        assert response.status_code in {200, 302}, response.status_code
    waiting = OutgoingEmail.objects.filter(to="reviewer@example.org", state="pending")
    assert waiting.count() == 20
    submitted = type(drafts[0]).objects.filter(pk__in=[draft.pk for draft in drafts])
    assert set(submitted.values_list("publication_state", flat=True)) == {PublicationState.REVIEW}
    # Publishing fails at once instead of waiting for Redis.
    assert max(timings) < 1.5, timings

    live.redis.start()
    settings.ATLAS_OUTBOX_SWEEP_AFTER_SECONDS = 0  # type: ignore[attr-defined]
    handed = delivery.sweep_outbox()
    # A second sweep before the worker is done hands the same rows over again: harmless.
    handed_again = delivery.sweep_outbox()
    wait_for(lambda: live.smtp.count() >= 20, timeout=90, what="20 notifications")
    wait_for(live.redis.idle, timeout=60, what="the worker to finish")
    time.sleep(1)

    subjects = Counter(message.subject for message in live.smtp.messages)
    assert live.smtp.recipients() == ["reviewer@example.org"] * 20
    assert len(subjects) == 20, subjects
    assert all(count == 1 for count in subjects.values())
    assert not OutgoingEmail.objects.exclude(state=DeliveryState.SENT).exists()
    print(
        f"\n[Redis down] 20 requests, all answered in {max(timings):.2f}s at most "
        f"(mean {sum(timings) / 20:.2f}s); swept {handed} then {handed_again}; delivered "
        f"{live.smtp.count()}, distinct {len(subjects)}"
    )
