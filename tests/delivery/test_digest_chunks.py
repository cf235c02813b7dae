"""
What one chunk of a digest run costs: queries that do not grow with the chunk but for
one per message sent, the period's changes read once per run, each digest rendered once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core import mail
from django.db import connection
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
    readers, size, django_assert_max_num_queries
):
    period = daily_period()
    delivery._owed_digests(readers(2), period, Frequency.DAILY, "run-1")
    ids = readers(size)

    with django_assert_max_num_queries(2):
        owed, built = delivery._owed_digests(ids, period, Frequency.DAILY, "run-1")

    assert [s.pk for s in owed] == ids
    assert all(not digest.is_empty for digest in built)


def test_the_first_chunk_of_a_run_in_a_process_also_reads_the_changes(
    readers, django_assert_max_num_queries
):
    ids = readers(5)
    with django_assert_max_num_queries(6):
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


@pytest.mark.parametrize("size", [3, 30])
def test_the_ledger_work_of_a_chunk_costs_three_queries(
    readers, size, django_assert_max_num_queries
):
    period = daily_period()
    owed, built = delivery._owed_digests(readers(size), period, Frequency.DAILY, "run-3")
    tally = delivery.Tally()

    # Three queries, plus the claim's transaction (BEGIN/COMMIT or SAVEPOINT/RELEASE).
    with django_assert_max_num_queries(5), counting() as statements:
        claims = delivery._claim_digest_rows(owed, built, period.key, tally)

    assert len(statements.queries) == 3
    assert len(claims) == size
    assert set(DigestDelivery.objects.values_list("state", "attempts")) == {
        (DeliveryState.PENDING, 1)
    }


def test_the_claim_settles_empty_digests_and_rows_past_the_cap_in_the_same_queries(
    atlas_map, settings, django_assert_max_num_queries
):
    published_in(atlas_map.chicago, title="Chicago Wi-Fi")
    owed_one = subscriber("owed@example.org", atlas_map.chicago)
    quiet = subscriber("quiet@example.org", atlas_map.nyc)
    stuck = subscriber("stuck@example.org", atlas_map.chicago)
    period = daily_period()
    DigestDelivery.objects.create(
        subscription=stuck, period=period.key, attempts=settings.ATLAS_DELIVERY_MAX_ATTEMPTS
    )
    owed, built = delivery._owed_digests(
        [owed_one.pk, quiet.pk, stuck.pk], period, Frequency.DAILY, "run-4"
    )
    tally = delivery.Tally()

    with django_assert_max_num_queries(5), counting() as statements:
        claims = delivery._claim_digest_rows(owed, built, period.key, tally)

    assert len(statements.queries) == 3
    assert list(claims) == [owed_one.pk]
    rows = {row.subscription_id: row for row in DigestDelivery.objects.all()}
    assert rows[quiet.pk].state == DeliveryState.EMPTY
    assert rows[stuck.pk].state == DeliveryState.FAILED
    max_attempts = settings.ATLAS_DELIVERY_MAX_ATTEMPTS
    assert rows[stuck.pk].last_error == f"Gave up after {max_attempts} attempts."
    assert (tally[delivery.EMPTY], tally[delivery.FAILED]) == (1, 1)


@pytest.mark.parametrize("size", [3, 30])
def test_a_whole_chunk_costs_five_queries_and_one_per_message(readers, size):
    period = daily_period()
    delivery._owed_digests(readers(1), period, Frequency.DAILY, "run-5")
    ids = readers(size)

    with counting() as statements:
        tally = delivery.deliver_digests(
            subscription_ids=ids, period_key=period.key, frequency="daily", run="run-5"
        )

    assert tally[delivery.SENT] == size
    assert len(mail.outbox) == size
    ledger = [sql for sql in statements.queries if "digestdelivery" in sql]
    # Building two, the ledger's claim three, then each message's row taken and marked sent.
    assert len(ledger) == 3 + size
    assert len(statements.queries) == 2 + 3 + size


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
