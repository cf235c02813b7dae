"""Subscribers and changes to send digests about, shared by the unit and integration tests."""

from __future__ import annotations

import datetime

from cities.models import Jurisdiction
from initiatives.digests import Period, period_for
from initiatives.models import (
    ChangeEvent,
    Frequency,
    Initiative,
    Subscription,
    SubscriptionTarget,
)
from tests.factories import InitiativeFactory

# A fixed Friday morning: the daily period is Thursday 2026-11-26, the weekly one 2026-W47.
RUN_AT = datetime.datetime(2026, 11, 27, 6, 0, tzinfo=datetime.UTC)


def daily_period() -> Period:
    return period_for(Frequency.DAILY, RUN_AT)


def published_in(
    jurisdiction: Jurisdiction, *, title: str, period: Period | None = None
) -> Initiative:
    """A published initiative with its publication event inside ``period``."""
    period = period or daily_period()
    initiative = InitiativeFactory.create(jurisdiction=jurisdiction, title=title)
    ChangeEvent.objects.create(
        kind=ChangeEvent.Kind.INITIATIVE_PUBLISHED,
        jurisdiction=jurisdiction,
        initiative=initiative,
        details={"title": title, "status": initiative.status},
        occurred_at=period.start + datetime.timedelta(hours=10),
    )
    return initiative


def subscriber(
    email: str,
    jurisdiction: Jurisdiction,
    *,
    language: str = "en",
    frequency: str = Frequency.DAILY,
    confirmed: bool = True,
    cancelled: bool = False,
) -> Subscription:
    subscription = Subscription.objects.create(
        email=email,
        language=language,
        frequency=frequency,
        confirmed_at=RUN_AT - datetime.timedelta(days=30) if confirmed else None,
        cancelled_at=RUN_AT - datetime.timedelta(days=1) if cancelled else None,
    )
    SubscriptionTarget.objects.create(
        subscription=subscription,
        kind=SubscriptionTarget.Kind.JURISDICTION,
        jurisdiction=jurisdiction,
    )
    return subscription


def many_subscribers(
    count: int, jurisdictions: list[Jurisdiction], *, prefix: str = "reader"
) -> list[Subscription]:
    """``count`` confirmed daily subscribers, alternately English and French, in bulk."""
    subscriptions = Subscription.objects.bulk_create(
        [
            Subscription(
                email=f"{prefix}-{n:05d}@example.org",
                language="fr" if n % 2 else "en",
                frequency=Frequency.DAILY,
                confirmed_at=RUN_AT - datetime.timedelta(days=30),
            )
            for n in range(count)
        ]
    )
    if subscriptions[0].pk is None:  # SQLite before returning ids: read them back.
        subscriptions = list(
            Subscription.objects.filter(email__startswith=f"{prefix}-").order_by("email")
        )
    SubscriptionTarget.objects.bulk_create(
        [
            SubscriptionTarget(
                subscription=s,
                kind=SubscriptionTarget.Kind.JURISDICTION,
                jurisdiction=jurisdictions[n % len(jurisdictions)],
            )
            for n, s in enumerate(subscriptions)
        ]
    )
    return subscriptions
