"""Builders for digest tests: subscriptions, their targets and change events at set times."""

from __future__ import annotations

import datetime
from typing import Any

from cities.models import Jurisdiction
from council.models import Organization
from initiatives.models import (
    ChangeEvent,
    FocusArea,
    Initiative,
    Plan,
    Subscription,
    SubscriptionTarget,
)

UTC = datetime.UTC


def at(day: int, hour: int = 12, minute: int = 0, *, month: int = 11) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=UTC)


def subscribe(
    *targets: Jurisdiction | Initiative | FocusArea | Organization | tuple[Jurisdiction, bool],
    email: str = "reader@example.org",
    language: str = "en",
    frequency: str = "daily",
) -> Subscription:
    """An active subscription following ``targets`` in that order.

    A (jurisdiction, False) pair follows the jurisdiction without the places within it.
    """
    subscription = Subscription.objects.create(
        email=email, language=language, frequency=frequency, confirmed_at=at(1)
    )
    for target in targets:
        values: dict[str, Any] = {}
        match target:
            case (Jurisdiction() as jurisdiction, bool() as descendants):
                values = {
                    "kind": "jurisdiction",
                    "jurisdiction": jurisdiction,
                    "include_descendants": descendants,
                }
            case Jurisdiction():
                values = {"kind": "jurisdiction", "jurisdiction": target}
            case Initiative():
                values = {"kind": "initiative", "initiative": target}
            case FocusArea():
                values = {"kind": "focus_area", "focus_area": target}
            case Organization():
                values = {"kind": "organization", "organization": target}
        SubscriptionTarget.objects.create(subscription=subscription, **values)
    return subscription


def event(
    kind: str,
    when: datetime.datetime,
    *,
    initiative: Initiative | None = None,
    plan: Plan | None = None,
    jurisdiction: Jurisdiction | None = None,
    organization: Organization | None = None,
    **details: Any,
) -> ChangeEvent:
    """A change event; ``details`` as the code that records it writes them."""
    record = initiative or plan
    if jurisdiction is None:
        assert record is not None
        jurisdiction = record.jurisdiction
    if record is not None:
        details.setdefault("title", record.title)
    return ChangeEvent.objects.create(
        kind=kind,
        jurisdiction=jurisdiction,
        initiative=initiative,
        plan=plan,
        organization=organization,
        details=details.pop("details", details),
        occurred_at=when,
    )


def titles(digest: Any) -> list[list[str]]:
    """Each group's item titles, in order."""
    return [[item.title for item in group.items] for group in digest.groups]


def labels(digest: Any) -> list[str]:
    return [group.label for group in digest.groups]
