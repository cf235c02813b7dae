"""Subscription services: double opt-in, merging, cancelling, tokens and mail headers."""

import datetime

import pytest
import time_machine
from django.core import signing
from django.core.exceptions import ValidationError
from django.test import override_settings

from initiatives import subscriptions
from initiatives.models import OutgoingEmail, Subscription, SubscriptionTarget
from tests.subscriptions.conftest import Followable, link_in


def _spec(record: object, kind: str) -> subscriptions.TargetSpec:
    return subscriptions.TargetSpec(kind=kind, record=record)  # type: ignore[arg-type]


def _active() -> list[Subscription]:
    """What a digest run walks: confirmed and not cancelled (the model's partial index)."""
    return list(Subscription.objects.filter(confirmed_at__isnull=False, cancelled_at__isnull=True))


def _request(f: Followable, *, email: str = "ana@example.org", **extra: object) -> Subscription:
    values: dict[str, object] = {
        "email": email,
        "language": "en",
        "frequency": "weekly",
        "targets": [_spec(f.map.chicago, "jurisdiction")],
    }
    values.update(extra)
    return subscriptions.subscription_request(**values)  # type: ignore[arg-type]


def test_request_is_unconfirmed_and_owes_one_confirmation_email(followable: Followable) -> None:
    """A request stores an unconfirmed subscription that no digest reaches, and one email."""
    subscription = _request(followable, email=" Ana@Example.ORG ")
    assert subscription.email == "ana@example.org"
    assert not subscription.is_active
    assert _active() == []
    [email] = OutgoingEmail.objects.all()
    assert email.kind == "subscription_confirm"
    assert email.to == "ana@example.org"
    path = link_in(email)
    assert path.startswith("/en/subscriptions/confirm/")
    token = path.rstrip("/").rsplit("/", 1)[1]
    assert subscriptions.subscription_from_confirmation_token(token=token) == subscription
    assert path in email.html
    assert "Chicago" in email.body
    assert "Chicago" in email.html


def test_request_refuses_no_targets_and_unknown_frequency(followable: Followable) -> None:
    with pytest.raises(ValidationError):
        _request(followable, targets=[])
    with pytest.raises(ValidationError):
        _request(followable, frequency="hourly")
    assert not Subscription.objects.exists()
    assert not OutgoingEmail.objects.exists()


def test_confirmation_email_is_written_in_the_subscription_language(
    followable: Followable,
) -> None:
    subscription = _request(followable, language="fr")
    email = OutgoingEmail.objects.get()
    assert "/fr/subscriptions/confirm/" in email.body
    assert '<html lang="fr">' in email.html
    assert subscriptions.confirm_url(subscription).startswith("http")


def test_confirm_activates_and_is_idempotent(followable: Followable) -> None:
    subscription = _request(followable)
    token = subscriptions.confirmation_token(subscription)
    first = subscriptions.subscription_confirm(token=token)
    confirmed_at = first.confirmed_at
    assert first.pk == subscription.pk
    assert first.is_active
    again = subscriptions.subscription_confirm(token=token)
    assert again.pk == subscription.pk
    assert again.confirmed_at == confirmed_at
    assert _active() == [first]


def test_confirm_merges_into_the_active_subscription_of_the_same_settings(
    followable: Followable,
) -> None:
    """One person, one weekly digest: new targets join it, and no target appears twice."""
    f = followable
    first = _request(f)
    subscriptions.subscription_confirm(token=subscriptions.confirmation_token(first))
    second = _request(
        f,
        email="ANA@example.org",
        targets=[_spec(f.map.chicago, "jurisdiction"), _spec(f.initiative, "initiative")],
    )
    survivor = subscriptions.subscription_confirm(token=subscriptions.confirmation_token(second))
    assert survivor.pk == first.pk
    assert _active() == [first]
    kinds = sorted(first.targets.values_list("kind", flat=True))
    assert kinds == ["initiative", "jurisdiction"]
    second.refresh_from_db()
    assert second.cancelled_at is not None
    # The merged link pressed again names what the person has now.
    again = subscriptions.subscription_confirm(token=subscriptions.confirmation_token(second))
    assert again.pk == first.pk
    assert first.targets.count() == 2


def test_confirm_keeps_a_daily_and_a_weekly_subscription_apart(followable: Followable) -> None:
    weekly = _request(followable)
    daily = _request(followable, frequency="daily")
    subscriptions.subscription_confirm(token=subscriptions.confirmation_token(weekly))
    subscriptions.subscription_confirm(token=subscriptions.confirmation_token(daily))
    assert {s.frequency for s in _active()} == {"weekly", "daily"}


def test_cancel_stops_one_subscription_only_and_twice_changes_nothing(
    followable: Followable,
) -> None:
    weekly = _request(followable)
    daily = _request(followable, frequency="daily")
    for subscription in (weekly, daily):
        subscriptions.subscription_confirm(token=subscriptions.confirmation_token(subscription))
    cancelled = subscriptions.subscription_cancel(subscription=weekly)
    when = cancelled.cancelled_at
    assert when is not None
    assert subscriptions.subscription_cancel(subscription=weekly).cancelled_at == when
    assert _active() == [daily]


def test_a_cancelled_subscription_is_not_revived_by_its_confirmation_link(
    followable: Followable,
) -> None:
    subscription = _request(followable)
    subscriptions.subscription_cancel(subscription=subscription)
    result = subscriptions.subscription_confirm(
        token=subscriptions.confirmation_token(subscription)
    )
    assert result.confirmed_at is None
    assert result.cancelled_at is not None
    assert _active() == []


def test_removing_the_last_target_cancels_the_subscription(followable: Followable) -> None:
    f = followable
    subscription = _request(
        f, targets=[_spec(f.map.chicago, "jurisdiction"), _spec(f.focus_area, "focus_area")]
    )
    subscriptions.subscription_confirm(token=subscriptions.confirmation_token(subscription))
    first, second = subscription.targets.all()
    assert subscriptions.subscription_target_remove(target=first).is_active
    assert not subscriptions.subscription_target_remove(target=second).is_active
    assert not SubscriptionTarget.objects.exists()


def test_update_into_existing_settings_merges(followable: Followable) -> None:
    f = followable
    weekly = _request(f)
    daily = _request(f, frequency="daily", targets=[_spec(f.organization, "organization")])
    for subscription in (weekly, daily):
        subscriptions.subscription_confirm(token=subscriptions.confirmation_token(subscription))
    survivor = subscriptions.subscription_update(
        subscription=daily, frequency="weekly", language="en"
    )
    assert survivor.pk == weekly.pk
    assert _active() == [weekly]
    assert weekly.targets.count() == 2


def test_targets_are_read_from_refs(followable: Followable) -> None:
    f = followable
    specs = subscriptions.targets_from_refs(
        [
            "ocd-division/country:us/state:il",
            "chicago",
            "jurisdiction:chicago",
            "initiative:library-wifi",
            "focus-area:open-government",
            "organization:uchicago",
        ]
    )
    assert [s.record for s in specs] == [
        f.map.illinois,
        f.map.chicago,
        f.initiative,
        f.focus_area,
        f.organization,
    ]
    with pytest.raises(ValidationError):
        subscriptions.targets_from_refs(["sector:education"])
    with pytest.raises(ValidationError):
        subscriptions.targets_from_refs(["initiative:no-such-thing"])


def test_unpublished_initiatives_cannot_be_followed(followable: Followable) -> None:
    followable.initiative.publication_state = "draft"
    followable.initiative.save(update_fields=["publication_state"])
    with pytest.raises(ValidationError):
        subscriptions.targets_from_refs(["initiative:library-wifi"])


@override_settings(ATLAS_SITE_URL="https://atlas.example/")
def test_list_unsubscribe_headers_follow_rfc_8058(followable: Followable) -> None:
    subscription = _request(followable, language="fr")
    headers = subscriptions.list_unsubscribe_headers(subscription)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = headers["List-Unsubscribe"]
    assert url.startswith("<https://atlas.example/fr/subscriptions/unsubscribe/")
    assert url.endswith("/>")
    assert subscriptions.manage_url("ana@example.org", "en").startswith(
        "https://atlas.example/en/subscriptions/manage/"
    )


def test_tokens_are_refused_when_tampered_expired_or_of_another_kind(
    followable: Followable,
) -> None:
    subscription = _request(followable)
    confirm = subscriptions.confirmation_token(subscription)
    unsubscribe = subscriptions.unsubscribe_token(subscription)
    for bad in (confirm[:-2] + "xx", unsubscribe):
        with pytest.raises(subscriptions.TokenInvalid):
            subscriptions.subscription_from_confirmation_token(token=bad)
    for bad in (unsubscribe[:-2] + "xx", confirm, subscriptions.manage_token("ana@example.org")):
        with pytest.raises(subscriptions.TokenInvalid):
            subscriptions.subscription_from_unsubscribe_token(token=bad)
    with pytest.raises(subscriptions.TokenInvalid):
        subscriptions.email_from_manage_token(token=unsubscribe)
    forged = signing.Signer(salt="something else").sign_object({"e": "ana@example.org"})
    with pytest.raises(subscriptions.TokenInvalid):
        subscriptions.email_from_manage_token(token=forged)
    later = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(days=8)
    with time_machine.travel(later, tick=False):
        with pytest.raises(subscriptions.TokenInvalid) as caught:
            subscriptions.subscription_from_confirmation_token(token=confirm)
        assert caught.value.expired
        # Unsubscribe links printed in old digests never expire.
        assert subscriptions.subscription_from_unsubscribe_token(token=unsubscribe) == subscription


def test_an_unsubscribe_link_is_bound_to_the_address(followable: Followable) -> None:
    subscription = _request(followable)
    token = subscriptions.unsubscribe_token(subscription)
    Subscription.objects.filter(pk=subscription.pk).update(email="someone@example.org")
    with pytest.raises(subscriptions.TokenInvalid):
        subscriptions.subscription_from_unsubscribe_token(token=token)
