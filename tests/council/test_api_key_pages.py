"""The member's API key page: create a key (shown once), list keys, revoke one."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from council.models import ApiKey
from council.services import api_key_create

pytestmark = pytest.mark.django_db

KEYS = reverse("council:workspace:api-keys")
PLAIN_KEY = re.compile(r"atl_[a-z0-9]{8}_[A-Za-z0-9_-]{32,128}")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def revoke_url(key: ApiKey) -> str:
    return reverse("council:workspace:api-key-revoke", args=[key.pk])


def test_a_new_key_is_shown_once_and_works(chicago_editor):
    client = signed_in(chicago_editor)

    response = client.post(KEYS, {"name": "Dashboard sync", "read_only": "on"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    plain = PLAIN_KEY.search(html)
    assert plain is not None
    assert "shown only this once" in html
    key = ApiKey.objects.get(user=chicago_editor)
    assert key.name == "Dashboard sync"
    assert key.read_only
    prefix, secret = ApiKey.split(plain[0]) or ("", "")
    assert prefix == key.prefix
    assert key.matches(secret)
    # Never kept anywhere the next page could read it again.
    assert secret not in str(dict(client.session.items()))
    later = client.get(KEYS).content.decode()
    assert key.prefix in later
    assert secret not in later


def test_a_council_member_may_make_a_write_key_that_expires(chicago_editor, time_machine):
    time_machine.move_to("2031-01-01 12:00:00+00:00", tick=False)

    response = signed_in(chicago_editor).post(KEYS, {"name": "Importer", "expires_in_days": "30"})

    assert response.status_code == 200
    key = ApiKey.objects.get(user=chicago_editor)
    assert not key.read_only
    assert key.expires_at is not None
    assert key.expires_at.date().isoformat() == "2031-01-31"


def test_someone_without_a_council_role_is_offered_read_only_keys_only(outsider):
    client = signed_in(outsider)

    page = client.get(KEYS).content.decode()
    assert 'name="read_only"' not in page
    assert "Your keys are read-only" in page

    # Leaving out the box, which for a member means a write key, still makes a read-only one.
    assert client.post(KEYS, {"name": "Reader"}).status_code == 200
    assert ApiKey.objects.get(user=outsider).read_only


def test_a_bad_expiry_keeps_what_was_typed(chicago_editor):
    response = signed_in(chicago_editor).post(
        KEYS, {"name": "Typed name", "expires_in_days": "0", "read_only": "on"}
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert 'value="Typed name"' in html
    assert PLAIN_KEY.search(html) is None
    assert not ApiKey.objects.exists()


def test_the_page_lists_only_my_keys(chicago_editor, nyc_editor):
    mine, _ = api_key_create(user=chicago_editor, read_only=True, name="Mine", actor=None)
    theirs, _ = api_key_create(user=nyc_editor, read_only=True, name="Theirs", actor=None)

    html = signed_in(chicago_editor).get(KEYS).content.decode()

    assert mine.prefix in html
    assert theirs.prefix not in html


def test_revoking_a_key(chicago_editor):
    key, _ = api_key_create(user=chicago_editor, read_only=True, name="Old", actor=None)
    client = signed_in(chicago_editor)

    response = client.post(revoke_url(key), follow=True)

    assert response.status_code == 200
    assert f"Key {key.prefix} revoked." in response.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert revoke_url(key) not in response.content.decode()


def test_another_users_key_cannot_be_revoked(chicago_editor, nyc_editor):
    theirs, _ = api_key_create(user=nyc_editor, read_only=True, actor=None)

    assert signed_in(chicago_editor).post(revoke_url(theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_revoking_is_post_only_and_needs_the_csrf_token(chicago_editor):
    key, _ = api_key_create(user=chicago_editor, read_only=True, actor=None)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(chicago_editor)

    assert signed_in(chicago_editor).get(revoke_url(key)).status_code == 405
    assert strict.post(revoke_url(key)).status_code == 403
    assert strict.post(KEYS, {"name": "x", "read_only": "on"}).status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None
    assert ApiKey.objects.count() == 1


def test_the_key_page_needs_sign_in():
    response = Client().get(KEYS)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("council:login"))
