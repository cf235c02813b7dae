"""The TOTP second factor: required for chairs and reviewers, optional for editors."""

import re

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from council import permissions
from tests.conftest import app_for, code_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
LANDING = "/en/council/"
SETUP = "/en/accounts/two-factor/"
VERIFY = "/en/accounts/two-factor/verify/"


def sign_in(client: Client, username: str):
    return client.post("/en/accounts/login/", {"username": username, "password": PASSWORD})


def found(pattern: str, text: str) -> str:
    match = re.search(pattern, text, re.DOTALL)
    assert match, pattern
    return match.group(1)


def next_to(url: str) -> str:
    return f"?next={url.replace('/', '%2F')}"


# ------------------------------------------------------------------------------
# The rule
# ------------------------------------------------------------------------------


def test_chairs_and_reviewers_require_a_second_factor(
    chicago_chair, chicago_reviewer, chicago_editor, outsider, staff_user
):
    assert permissions.requires_second_factor(chicago_chair)
    assert permissions.requires_second_factor(chicago_reviewer)
    assert not permissions.requires_second_factor(chicago_editor)
    assert not permissions.requires_second_factor(outsider)
    assert not permissions.requires_second_factor(staff_user)


def test_an_editor_with_an_app_set_up_must_use_it(chicago_editor):
    app_for(chicago_editor)
    assert permissions.second_factor_missing(chicago_editor)


def test_nobody_anonymous_misses_a_second_factor():
    assert not permissions.second_factor_missing(AnonymousUser())


# ------------------------------------------------------------------------------
# Reaching the council page
# ------------------------------------------------------------------------------


def test_a_chair_without_an_app_is_sent_to_set_one_up(client, chicago_chair):
    response = sign_in(client, "chicago-chair")

    assert response.status_code == 302
    assert response.url == SETUP + next_to(LANDING)
    blocked = client.get(LANDING)
    assert blocked.status_code == 302
    assert blocked.url == SETUP + next_to(LANDING)


def test_a_reviewer_with_an_app_must_give_a_code_before_the_council_page(client, chicago_reviewer):
    device = app_for(chicago_reviewer)

    response = sign_in(client, "chicago-reviewer")

    assert response.url == VERIFY + next_to(LANDING)
    assert client.get(LANDING).url == VERIFY + next_to(LANDING)

    verified = client.post(VERIFY, {"token": code_for(device), "next": LANDING})
    assert verified.status_code == 302
    assert verified.url == LANDING
    landing = client.get(LANDING)
    assert landing.status_code == 200
    assert "Signed in as chicago-reviewer." in landing.content.decode()
    assert "Reviewer" in landing.content.decode()


def test_a_password_alone_never_reaches_the_council_page_of_a_chair(client, chicago_chair):
    """force_login is a password sign-in without the code: the page still refuses."""
    app_for(chicago_chair)
    client.force_login(chicago_chair)

    response = client.get(LANDING)

    assert response.status_code == 302
    assert response.url.startswith(VERIFY)


def test_an_editor_without_an_app_reaches_the_council_page(client, chicago_editor):
    response = sign_in(client, "chicago-editor")

    assert response.url == LANDING
    assert client.get(LANDING).status_code == 200


def test_an_editor_with_an_app_is_asked_for_the_code(client, chicago_editor):
    device = app_for(chicago_editor)

    assert sign_in(client, "chicago-editor").url == VERIFY + next_to(LANDING)
    client.post(VERIFY, {"token": code_for(device)})
    assert client.get(LANDING).status_code == 200


def test_a_wrong_code_is_refused_with_the_error_summary(client, chicago_reviewer):
    app_for(chicago_reviewer)
    sign_in(client, "chicago-reviewer")

    response = client.post(VERIFY, {"token": "12345x"})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert "Enter the digits only." in html
    assert DEVICE_ID_SESSION_KEY not in client.session


def test_wrong_codes_slow_down_the_next_try(client, chicago_reviewer):
    """After a wrong code the device makes the next try wait, even with the right code."""
    device = app_for(chicago_reviewer)
    sign_in(client, "chicago-reviewer")
    right = code_for(device)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    first = client.post(VERIFY, {"token": wrong})
    assert "That code is wrong or has expired." in first.content.decode()
    second = client.post(VERIFY, {"token": right})

    assert second.status_code == 200
    assert "Too many wrong codes in a row." in second.content.decode()
    assert client.get(LANDING).status_code == 302


def test_a_code_works_only_once(chicago_reviewer):
    device = app_for(chicago_reviewer)
    code = code_for(device)
    first, second = Client(), Client()
    sign_in(first, "chicago-reviewer")
    sign_in(second, "chicago-reviewer")

    assert first.post(VERIFY, {"token": code}).status_code == 302
    replay = second.post(VERIFY, {"token": code})

    assert replay.status_code == 200
    assert second.get(LANDING).status_code == 302


def test_verifying_gives_the_session_a_new_key(client, chicago_reviewer):
    device = app_for(chicago_reviewer)
    sign_in(client, "chicago-reviewer")
    before = client.session.session_key

    client.post(VERIFY, {"token": code_for(device)})

    assert client.session.session_key != before
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id


def test_the_code_form_names_its_autocomplete_and_label(client, chicago_reviewer):
    app_for(chicago_reviewer)
    sign_in(client, "chicago-reviewer")

    html = client.get(VERIFY).content.decode()

    assert '<label for="id_token">' in html
    assert 'autocomplete="one-time-code"' in html
    assert 'inputmode="numeric"' in html


# ------------------------------------------------------------------------------
# Setting up an app
# ------------------------------------------------------------------------------


def test_setting_up_an_app_lets_the_chair_in(client, chicago_chair):
    sign_in(client, "chicago-chair")

    page = client.get(SETUP + next_to(LANDING))

    assert page.status_code == 200
    html = page.content.decode()
    device = TOTPDevice.objects.get(user=chicago_chair)
    assert not device.confirmed
    qr_code = found(r'class="panel qr-code"[^>]*>(.*?)</div>', html)
    assert qr_code.startswith("<svg")
    assert "<script" not in qr_code
    assert "<image" not in qr_code
    secret = found(r"<code>([A-Z2-7 ]+)</code>", html)
    assert secret.replace(" ", "") in device.config_url
    assert "otpauth://totp/Digital%20Leadership%20Atlas%3Achicago-chair?" in html

    confirmed = client.post(SETUP, {"token": code_for(device), "next": LANDING})

    assert confirmed.url == LANDING
    device.refresh_from_db()
    assert device.confirmed
    landing = client.get(LANDING)
    assert landing.status_code == 200
    assert "Your authenticator app is set up." in landing.content.decode()


def test_reloading_the_setup_page_keeps_the_same_key(client, chicago_chair):
    client.force_login(chicago_chair)
    client.get(SETUP)
    client.get(SETUP)

    assert TOTPDevice.objects.filter(user=chicago_chair).count() == 1


def test_a_wrong_code_leaves_the_new_app_unconfirmed(client, chicago_chair):
    client.force_login(chicago_chair)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=chicago_chair)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"

    response = client.post(SETUP, {"token": wrong})

    assert response.status_code == 200
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get(LANDING).status_code == 302


def test_replacing_an_app_first_asks_for_the_current_code(client, chicago_reviewer):
    """Otherwise a stolen password alone could swap in the thief's app."""
    app_for(chicago_reviewer)
    client.force_login(chicago_reviewer)

    response = client.get(SETUP)

    assert response.status_code == 302
    assert response.url == VERIFY + next_to(SETUP)
    assert TOTPDevice.objects.filter(user=chicago_reviewer, confirmed=False).count() == 0


def test_a_confirmed_replacement_removes_the_old_app(client, chicago_reviewer):
    old = app_for(chicago_reviewer)
    sign_in(client, "chicago-reviewer")
    client.post(VERIFY, {"token": code_for(old)})
    client.get(SETUP)
    new = TOTPDevice.objects.get(user=chicago_reviewer, confirmed=False)

    client.post(SETUP, {"token": code_for(new)})

    assert list(TOTPDevice.objects.filter(user=chicago_reviewer)) == [new]
    new.refresh_from_db()
    assert new.confirmed


def test_the_setup_page_needs_a_signed_in_user(client):
    response = client.get(SETUP)
    assert response.status_code == 302
    assert response.url.startswith("/en/accounts/login/")


def test_a_verified_user_skips_the_code_prompt(client, chicago_reviewer):
    device = app_for(chicago_reviewer)
    sign_in(client, "chicago-reviewer")
    client.post(VERIFY, {"token": code_for(device)})

    response = client.get(VERIFY + next_to(LANDING))

    assert response.status_code == 302
    assert response.url == LANDING


def test_staff_and_outsiders_without_an_app_see_the_council_page(client, staff_user, outsider):
    for user in (staff_user, outsider):
        client.force_login(user)
        response = client.get(LANDING)
        assert response.status_code == 200
        assert "You are not a member of any council yet." in response.content.decode()


def test_other_users_codes_do_not_count(client, chicago_reviewer):
    UserFactory.create(username="someone")
    others = app_for(User.objects.get(username="someone"))
    app_for(chicago_reviewer)
    sign_in(client, "chicago-reviewer")

    response = client.post(VERIFY, {"token": code_for(others)})

    assert response.status_code == 200
    assert client.get(LANDING).status_code == 302
