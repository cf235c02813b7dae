"""Subscription pages: subscribe, confirm, unsubscribe (RFC 8058), manage, and the account list."""

import datetime
from typing import cast

import pytest
import time_machine
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import reverse

from initiatives import subscriptions
from initiatives.models import OutgoingEmail, Subscription
from tests.subscriptions.conftest import Followable, link_in

SUBSCRIBE = "/en/subscriptions/"


def _post(client: Client, **extra: object) -> HttpResponse:
    data: dict[str, object] = {
        "email": "ana@example.org",
        "frequency": "weekly",
        "language": "en",
        "target": ["jurisdiction:chicago"],
        "website": "",
    }
    data.update(extra)
    return cast(HttpResponse, client.post(SUBSCRIBE, data))


def _subscribed(
    f: Followable,
    *,
    email: str = "ana@example.org",
    frequency: str = "weekly",
    user: User | None = None,
) -> Subscription:
    subscription = subscriptions.subscription_request(
        email=email,
        language="en",
        frequency=frequency,
        targets=subscriptions.targets_from_refs(
            ["jurisdiction:chicago", "initiative:library-wifi"]
        ),
        user=user,
    )
    return subscriptions.subscription_confirm(token=subscriptions.confirmation_token(subscription))


# ------------------------------------------------------------------------------
# Subscribing and confirming
# ------------------------------------------------------------------------------


def test_subscribing_needs_the_emailed_link_and_a_post(
    client: Client, followable: Followable
) -> None:
    """Double opt-in: nothing is active until the button behind the emailed link is pressed."""
    response = _post(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("subscriptions:sent")
    subscription = Subscription.objects.get()
    assert not subscription.is_active
    email = OutgoingEmail.objects.get(kind="subscription_confirm")
    link = link_in(email)

    page = client.get(link)
    assert page.status_code == 200
    assert "Confirm my subscription" in page.content.decode()
    subscription.refresh_from_db()
    assert subscription.confirmed_at is None, "a GET (a mail scanner) must not confirm"

    done = client.post(link)
    assert done.status_code == 200
    subscription.refresh_from_db()
    assert subscription.is_active
    assert "Manage your subscriptions" in done.content.decode()


def test_subscribe_page_shows_the_targets_and_the_page_language(
    client: Client, followable: Followable
) -> None:
    response = client.get("/fr/subscriptions/", {"target": ["initiative:library-wifi"]})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Library Wi-Fi" in body
    assert 'value="initiative:library-wifi"' in body
    assert '<option value="fr" selected>' in body


def test_subscribe_page_refuses_unknown_targets(client: Client, followable: Followable) -> None:
    response = client.get(SUBSCRIBE, {"target": ["initiative:nope"]})
    assert response.status_code == 400
    assert "initiative:nope" in response.content.decode()
    posted = _post(client, target=["sector:education"])
    assert posted.status_code == 400
    assert not Subscription.objects.exists()


def test_a_bad_address_keeps_what_was_typed(client: Client, followable: Followable) -> None:
    response = _post(client, email="not an address", frequency="daily")
    assert response.status_code == 400
    body = response.content.decode()
    assert 'value="not an address"' in body
    assert '<option value="daily" selected>' in body
    assert 'value="jurisdiction:chicago"' in body
    assert not Subscription.objects.exists()


def test_honeypot_stores_nothing_and_says_nothing(client: Client, followable: Followable) -> None:
    response = _post(client, website="http://spam.example")
    assert response.status_code == 302
    assert response["Location"] == reverse("subscriptions:sent")
    assert not Subscription.objects.exists()
    assert not OutgoingEmail.objects.exists()


@override_settings(ATLAS_SUBSCRIPTIONS_PER_HOUR=2)
def test_rate_limit_per_client(client: Client, followable: Followable) -> None:
    for number in range(2):
        assert _post(client, email=f"p{number}@example.org").status_code == 302
    refused = _post(client, email="p3@example.org")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert Subscription.objects.count() == 2
    other = Client(REMOTE_ADDR="192.0.2.99")
    assert _post(other, email="p4@example.org").status_code == 302
    later = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(hours=1, minutes=1)
    with time_machine.travel(later, tick=False):
        # The locmem cache reads the clock for expiry too.
        assert _post(client, email="p5@example.org").status_code == 302


@pytest.mark.parametrize("name", ["confirm", "unsubscribe", "manage"])
def test_tampered_links_are_a_clear_400(client: Client, followable: Followable, name: str) -> None:
    subscription = _subscribed(followable)
    token = {
        "confirm": subscriptions.confirmation_token(subscription),
        "unsubscribe": subscriptions.unsubscribe_token(subscription),
        "manage": subscriptions.manage_token(subscription.email),
    }[name]
    url = reverse(f"subscriptions:{name}", kwargs={"token": token[:-3] + "abc"})
    response = client.get(url)
    assert response.status_code == 400
    assert "This link does not work" in response.content.decode()
    if name != "manage":
        assert client.post(url).status_code == 400
    subscription.refresh_from_db()
    assert subscription.is_active


def test_an_expired_confirmation_link_is_a_400(client: Client, followable: Followable) -> None:
    _post(client)
    link = link_in(OutgoingEmail.objects.get())
    later = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(days=8)
    with time_machine.travel(later, tick=False):
        response = client.post(link)
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert Subscription.objects.get().confirmed_at is None


# ------------------------------------------------------------------------------
# Unsubscribing
# ------------------------------------------------------------------------------


def test_unsubscribe_get_changes_nothing(client: Client, followable: Followable) -> None:
    subscription = _subscribed(followable)
    response = client.get(subscriptions.unsubscribe_url(subscription))
    assert response.status_code == 200
    assert '<form method="post"' in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.is_active


def test_one_click_unsubscribe_posts_without_csrf(followable: Followable) -> None:
    """RFC 8058: a mail client POSTs List-Unsubscribe=One-Click with no cookie and no token."""
    keep = _subscribed(followable, frequency="daily")
    subscription = _subscribed(followable)
    mail_client = Client(enforce_csrf_checks=True)
    response = mail_client.post(
        subscriptions.unsubscribe_url(subscription),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    subscription.refresh_from_db()
    keep.refresh_from_db()
    assert subscription.cancelled_at is not None
    assert keep.is_active, "each subscription is cancelled on its own"
    # Again: still a page, still cancelled once.
    when = subscription.cancelled_at
    assert mail_client.post(subscriptions.unsubscribe_url(subscription)).status_code == 200
    subscription.refresh_from_db()
    assert subscription.cancelled_at == when


# ------------------------------------------------------------------------------
# Managing
# ------------------------------------------------------------------------------


def test_manage_page_lists_and_changes_each_subscription(
    client: Client, followable: Followable
) -> None:
    weekly = _subscribed(followable)
    daily = _subscribed(followable, frequency="daily")
    stranger = _subscribed(followable, email="bo@example.org")
    token = subscriptions.manage_token("ana@example.org")
    page = client.get(reverse("subscriptions:manage", kwargs={"token": token}))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Library Wi-Fi" in body
    assert "Chicago" in body
    assert "bo@example.org" not in body
    assert body.count("Cancel this subscription") == 2

    # Someone else's subscription is not found through this link.
    foreign = reverse("subscriptions:manage-cancel", kwargs={"token": token, "pk": stranger.pk})
    assert client.post(foreign).status_code == 404
    assert (
        client.get(
            reverse("subscriptions:manage-cancel", kwargs={"token": token, "pk": daily.pk})
        ).status_code
        == 405
    )

    cancel = reverse("subscriptions:manage-cancel", kwargs={"token": token, "pk": daily.pk})
    assert client.post(cancel).status_code == 302
    daily.refresh_from_db()
    weekly.refresh_from_db()
    assert daily.cancelled_at is not None
    assert weekly.is_active

    target = weekly.targets.get(kind="initiative")
    remove = reverse("subscriptions:manage-remove-target", kwargs={"token": token, "pk": target.pk})
    assert client.post(remove).status_code == 302
    assert list(weekly.targets.values_list("kind", flat=True)) == ["jurisdiction"]

    update = reverse("subscriptions:manage-update", kwargs={"token": token, "pk": weekly.pk})
    bad = client.post(update, {f"s{weekly.pk}-frequency": "hourly", f"s{weekly.pk}-language": "en"})
    assert bad.status_code == 400
    good = client.post(update, {f"s{weekly.pk}-frequency": "daily", f"s{weekly.pk}-language": "fr"})
    assert good.status_code == 302
    weekly.refresh_from_db()
    assert (weekly.frequency, weekly.language) == ("daily", "fr")


def test_account_page_lists_the_users_subscriptions(
    client: Client, followable: Followable, outsider: User
) -> None:
    assert client.get(reverse("subscriptions:mine")).status_code == 302
    by_account = _subscribed(followable, email="elsewhere@example.org", user=outsider)
    by_address = _subscribed(followable, email=outsider.email.upper(), frequency="daily")
    other = _subscribed(followable, email="bo@example.org")
    client.force_login(outsider)
    page = client.get(reverse("subscriptions:mine"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "elsewhere@example.org" in body
    assert outsider.email in body
    assert "bo@example.org" not in body
    assert (
        client.post(reverse("subscriptions:mine-cancel", kwargs={"pk": other.pk})).status_code
        == 404
    )
    assert (
        client.post(reverse("subscriptions:mine-cancel", kwargs={"pk": by_address.pk})).status_code
        == 302
    )
    by_address.refresh_from_db()
    by_account.refresh_from_db()
    assert by_address.cancelled_at is not None
    assert by_account.is_active
