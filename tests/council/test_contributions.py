"""Suggestions and comments from the public: confirmed by email, rate-limited, honeypotted."""

import datetime
import hashlib
import hmac
import re

import pytest
import time_machine
from django.conf import settings
from django.core import signing
from django.utils import timezone

from council.contributions import confirmation_token
from council.models import Contribution
from initiatives.models import PublicationState
from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db

SUGGEST_URL = "/en/suggest/chicago/"


def suggestion(**overrides: str) -> dict[str, str]:
    data = {
        "title": "Open data portal",
        "body": "Publish **all** budgets as open data.",
        "url": "https://example.org/portal",
        "name": "Ana Lopez",
        "email": "ana@example.org",
        "website": "",
    }
    data.update(overrides)
    return data


def confirm_link(message) -> str:
    match = re.search(r"https?://testserver(/\S+/contributions/confirm/[^/\s]+/)", message.body)
    assert match, message.body
    return match[1]


@pytest.fixture
def initiative(atlas_map):
    return InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, title="Broadband for all", slug="broadband-for-all"
    )


# ------------------------------------------------------------------ submitting


def test_the_jurisdiction_page_links_to_the_suggestion_form(client, atlas_map):
    html = client.get(atlas_map.chicago.get_absolute_url()).content.decode()
    assert 'href="/en/suggest/chicago/"' in html
    assert client.get(SUGGEST_URL).status_code == 200


def test_a_suggestion_is_stored_unconfirmed_and_mails_a_link(
    client, atlas_map, mailoutbox, django_capture_on_commit_callbacks
):
    """The author gets a plain-text and an HTML email with the signed link, after commit."""
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SUGGEST_URL, suggestion())

    assert response.status_code == 302
    assert response["Location"] == "/en/contributions/sent/"
    contribution = Contribution.objects.get()
    assert contribution.state == Contribution.State.UNCONFIRMED
    assert contribution.kind == Contribution.Kind.SUGGESTION
    assert contribution.jurisdiction == atlas_map.chicago
    assert (contribution.title, contribution.url) == (
        "Open data portal",
        "https://example.org/portal",
    )
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["ana@example.org"]
    assert confirm_link(message).startswith("/en/contributions/confirm/")
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert confirm_link(message) in html


def test_the_client_address_is_kept_only_as_a_keyed_digest(client, atlas_map):
    client.post(SUGGEST_URL, suggestion(), REMOTE_ADDR="203.0.113.7")
    contribution = Contribution.objects.get()
    expected = hmac.new(
        settings.SECRET_KEY.encode(), b"203.0.113.7", digestmod=hashlib.sha256
    ).hexdigest()
    assert contribution.client_digest == expected
    assert "203.0.113.7" not in str(Contribution.objects.filter(pk=contribution.pk).values().get())


def test_the_email_link_follows_the_language_of_the_page(
    client, atlas_map, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/fr/suggest/chicago/", suggestion())
    assert Contribution.objects.get().language == "fr"
    assert confirm_link(mailoutbox[0]).startswith("/fr/contributions/confirm/")


def test_a_filled_honeypot_stores_and_sends_nothing(
    client, atlas_map, mailoutbox, django_capture_on_commit_callbacks
):
    """A bot gets the same 'check your email' answer as a person, and nothing happens."""
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SUGGEST_URL, suggestion(website="https://spam.example"), follow=True)
    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    assert Contribution.objects.count() == 0
    assert mailoutbox == []


def test_the_honeypot_is_hidden_from_people(client, atlas_map):
    html = client.get(SUGGEST_URL).content.decode()
    field = re.search(r'<div class="field-honeypot" aria-hidden="true">.*?</div>', html, re.S)
    assert field
    assert 'tabindex="-1"' in field[0]
    assert 'autocomplete="off"' in field[0]
    assert "Leave this field blank" in field[0]


def test_an_invalid_suggestion_keeps_what_was_typed(client, atlas_map):
    response = client.post(
        SUGGEST_URL, suggestion(email="not-an-address", title="My <idea> for Chicago")
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in html
    assert 'value="My &lt;idea&gt; for Chicago"' in html
    assert "Publish **all** budgets as open data." in html
    assert Contribution.objects.count() == 0


def test_an_unknown_jurisdiction_is_404(client, atlas_map):
    assert client.get("/en/suggest/atlantis/").status_code == 404


# ------------------------------------------------------------------ rate limit


@pytest.mark.parametrize("limit", [1, 3])
def test_the_rate_limit_refuses_the_next_contribution_with_a_429(
    client, atlas_map, settings, mailoutbox, django_capture_on_commit_callbacks, limit
):
    """N contributions an hour pass; the (N+1)th is a 429 that keeps and sends nothing."""
    settings.ATLAS_CONTRIBUTIONS_PER_HOUR = limit
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(limit):
            assert client.post(SUGGEST_URL, suggestion()).status_code == 302
        response = client.post(SUGGEST_URL, suggestion(title="One too many"))

    assert response.status_code == 429
    assert "Try again in" in response.content.decode()
    assert 0 < int(response["Retry-After"]) <= 3600
    assert Contribution.objects.count() == limit
    assert not Contribution.objects.filter(title="One too many").exists()
    assert len(mailoutbox) == limit


def test_the_rate_limit_is_per_address_and_per_hour(client, atlas_map, settings):
    settings.ATLAS_CONTRIBUTIONS_PER_HOUR = 1
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert client.post(SUGGEST_URL, suggestion(), REMOTE_ADDR="198.51.100.1").status_code == 302
        assert client.post(SUGGEST_URL, suggestion(), REMOTE_ADDR="198.51.100.1").status_code == 429
        assert client.post(SUGGEST_URL, suggestion(), REMOTE_ADDR="198.51.100.2").status_code == 302
    with time_machine.travel(start + datetime.timedelta(minutes=61), tick=False):
        assert client.post(SUGGEST_URL, suggestion(), REMOTE_ADDR="198.51.100.1").status_code == 302


# ------------------------------------------------------------------ comments


def test_a_comment_on_a_published_initiative_is_stored(client, initiative):
    response = client.post(
        "/en/initiatives/broadband-for-all/comment/",
        {"body": "Great work.", "name": "Ben", "email": "ben@example.org", "website": ""},
    )
    assert response.status_code == 302
    comment = Contribution.objects.get()
    assert comment.kind == Contribution.Kind.COMMENT
    assert comment.initiative == initiative
    assert comment.jurisdiction == initiative.jurisdiction


def test_the_initiative_page_links_to_the_comment_form(client, initiative):
    html = client.get(initiative.get_absolute_url()).content.decode()
    assert 'href="/en/initiatives/broadband-for-all/comment/"' in html


@pytest.mark.parametrize("state", [PublicationState.DRAFT, PublicationState.REVIEW])
def test_unpublished_and_unknown_initiatives_cannot_be_commented_on(client, initiative, state):
    initiative.publication_state = state
    initiative.save()
    url = "/en/initiatives/broadband-for-all/comment/"
    assert client.get(url).status_code == 404
    data = {"body": "Hi", "name": "Ben", "email": "ben@example.org"}
    assert client.post(url, data).status_code == 404
    assert client.get("/en/initiatives/no-such-thing/comment/").status_code == 404
    assert Contribution.objects.count() == 0


# ------------------------------------------------------------------ confirming


@pytest.fixture
def unconfirmed(client, atlas_map, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(SUGGEST_URL, suggestion())
    return Contribution.objects.get(), confirm_link(mailoutbox[0])


def test_opening_the_link_changes_nothing(client, unconfirmed):
    """Mail scanners follow links: a GET shows a button and leaves the contribution as it is."""
    contribution, link = unconfirmed
    response = client.get(link)
    assert response.status_code == 200
    assert "Confirm and send" in response.content.decode()
    contribution.refresh_from_db()
    assert contribution.state == Contribution.State.UNCONFIRMED
    assert contribution.confirmed_at is None


def test_pressing_the_button_confirms_once(client, unconfirmed):
    contribution, link = unconfirmed
    assert client.post(link).status_code == 200
    contribution.refresh_from_db()
    assert contribution.state == Contribution.State.PENDING
    confirmed_at = contribution.confirmed_at
    assert confirmed_at is not None

    assert client.post(link).status_code == 200
    contribution.refresh_from_db()
    assert contribution.confirmed_at == confirmed_at
    assert "already confirmed" in client.get(link).content.decode()


def test_a_tampered_link_is_refused(client, unconfirmed):
    contribution, link = unconfirmed
    token = link.rstrip("/").rsplit("/", 1)[1]
    forged = signing.dumps({"contribution": contribution.pk}, salt="another-salt")
    for bad in (token[:-2] + "xx", forged, "nonsense"):
        for method in (client.get, client.post):
            response = method(f"/en/contributions/confirm/{bad}/")
            assert response.status_code == 400
            assert "not valid" in response.content.decode()
    contribution.refresh_from_db()
    assert contribution.state == Contribution.State.UNCONFIRMED


def test_an_expired_link_is_refused(client, unconfirmed, settings):
    contribution, link = unconfirmed
    later = timezone.now() + datetime.timedelta(
        days=settings.ATLAS_CONTRIBUTION_CONFIRM_DAYS, hours=1
    )
    with time_machine.travel(later, tick=False):
        response = client.post(link)
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    contribution.refresh_from_db()
    assert contribution.state == Contribution.State.UNCONFIRMED


def test_a_link_for_a_contribution_that_is_gone_is_refused(client, atlas_map):
    contribution = Contribution.objects.create(
        kind="suggestion", jurisdiction=atlas_map.chicago, name="A", email="a@example.org", body="x"
    )
    token = confirmation_token(contribution)
    contribution.delete()
    assert client.get(f"/en/contributions/confirm/{token}/").status_code == 400


def test_ipv6_clients_are_counted_by_their_64_network(atlas_map):
    """Rotating addresses inside one /64 does not escape the rate limit."""
    from council.contributions import client_digest

    first = client_digest("2001:db8:1:2:aaaa::1")
    assert client_digest("2001:db8:1:2:ffff:1234:5678:9abc") == first
    assert client_digest("2001:db8:1:3::1") != first
    expected = hmac.new(
        settings.SECRET_KEY.encode(), b"2001:db8:1:2::/64", digestmod=hashlib.sha256
    ).hexdigest()
    assert first == expected


def test_ipv4_clients_are_counted_per_address(atlas_map):
    from council.contributions import client_digest

    assert client_digest("203.0.113.7") != client_digest("203.0.113.8")
    assert client_digest("::ffff:203.0.113.7") == client_digest("203.0.113.7")


def test_the_rate_limit_covers_a_rotating_ipv6_client(client, atlas_map, settings):
    settings.ATLAS_CONTRIBUTIONS_PER_HOUR = 2
    for n in range(3):
        response = client.post(SUGGEST_URL, suggestion(), REMOTE_ADDR=f"2001:db8:1:2::{n + 1}")
    assert response.status_code == 429
    assert Contribution.objects.count() == 2
