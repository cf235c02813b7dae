"""
How long 10,000 digests take to build and send through the real worker and SMTP server.

A measurement, not a check run every time: set ATLAS_DIGEST_BENCH=10000 (or another
count) to run it, e.g.

    ATLAS_DIGEST_BENCH=10000 DATABASE_URL=postgres://... pytest tests/integration -m slow -s
"""

from __future__ import annotations

import os
import time

import pytest

from initiatives import delivery
from initiatives.models import DeliveryState, DigestDelivery, Frequency
from tests.delivery.builders import daily_period, many_subscribers
from tests.integration.conftest import Live, wait_for
from tests.integration.test_delivery import three_cities

pytestmark = [pytest.mark.integration, pytest.mark.slow]

COUNT = int(os.environ.get("ATLAS_DIGEST_BENCH", "0"))


@pytest.mark.skipif(not COUNT, reason="a measurement: set ATLAS_DIGEST_BENCH=10000 to run it")
def test_time_to_build_and_send_many_digests(live: Live) -> None:
    places, _titles = three_cities()
    many_subscribers(COUNT, places)
    period = daily_period()

    started = time.monotonic()
    dry = delivery.digest_run(frequency=Frequency.DAILY, period_key=period.key, dry_run=True)
    built = time.monotonic() - started
    assert dry.would_send == COUNT

    started = time.monotonic()
    summary = delivery.digest_run(frequency=Frequency.DAILY, period_key=period.key)
    wait_for(lambda: live.smtp.count() >= COUNT, timeout=1800, interval=1, what="every digest")
    sent = time.monotonic() - started
    wait_for(live.redis.idle, timeout=120, what="the worker to finish")

    assert live.smtp.count() == COUNT
    assert len(set(live.smtp.recipients())) == COUNT
    assert DigestDelivery.objects.filter(state=DeliveryState.SENT).count() == COUNT
    print(
        f"\n[{COUNT} digests] building all of them in one process (dry run): {built:.1f}s; "
        f"building and sending through the worker (2 processes) to SMTP: {sent:.1f}s "
        f"({COUNT / sent:.0f}/s), {summary.chunks} chunks"
    )
