"""Signing in and out: hashing, password rules, lockout, CSRF and password reset by email."""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory
from django.urls import reverse

from config.settings import base as base_settings
from council.auth_views import client_address
from council.models import CouncilMembership
from tests.factories import CouncilMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
LOGIN_URL = "/en/accounts/login/"


def sign_in(client: Client, username: str, password: str, *, ip: str = "127.0.0.1"):
    return client.post(LOGIN_URL, {"username": username, "password": password}, REMOTE_ADDR=ip)


def signed_in_as(client: Client) -> str | None:
    user_id = client.session.get(SESSION_KEY)
    return User.objects.get(pk=user_id).username if user_id else None


# ------------------------------------------------------------------------------
# Hashing and password rules
# ------------------------------------------------------------------------------


def test_new_passwords_are_hashed_with_argon2(settings):
    """With the production hasher list, a stored password is an Argon2 hash."""
    settings.PASSWORD_HASHERS = base_settings.PASSWORD_HASHERS
    user = UserFactory.create(username="hashed")
    user.set_password(PASSWORD)
    user.save()
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password(PASSWORD)


def test_an_old_pbkdf2_hash_still_signs_in_and_is_upgraded(client, settings):
    """Hashes made before Argon2 keep working and become Argon2 at the next sign-in."""
    settings.PASSWORD_HASHERS = base_settings.PASSWORD_HASHERS
    user = UserFactory.create(username="old-hash")
    User.objects.filter(pk=user.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))

    response = sign_in(client, "old-hash", PASSWORD)

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$")


@pytest.mark.parametrize("password", ["q1w2e3r4t5y6", "password123"])
def test_common_passwords_are_refused(password):
    with pytest.raises(ValidationError) as refused:
        validate_password(password)
    assert "password_too_common" in {error.code for error in refused.value.error_list}


def test_passwords_shorter_than_twelve_characters_are_refused():
    with pytest.raises(ValidationError) as refused:
        validate_password("Tr7#kq!mZ2x")
    assert {error.code for error in refused.value.error_list} == {"password_too_short"}


@pytest.mark.parametrize("length", [64, 100, 1000])
def test_long_passphrases_are_accepted(length):
    """No maximum: passphrases of 64 characters and far beyond pass every validator."""
    words = "river lantern orchard velvet compass meadow thistle harbour "
    passphrase = (words * (length // len(words) + 1))[:length]
    assert len(passphrase) == length
    validate_password(passphrase, user=User(username="chicago-chair"))


def test_a_long_passphrase_signs_in(client, settings):
    settings.PASSWORD_HASHERS = base_settings.PASSWORD_HASHERS
    passphrase = "a passphrase of one hundred characters, easy to remember and long " * 2
    passphrase = passphrase[:100]
    UserFactory.create(username="long", password=passphrase)

    assert sign_in(client, "long", passphrase).status_code == 302
    assert signed_in_as(client) == "long"


# ------------------------------------------------------------------------------
# The sign-in form
# ------------------------------------------------------------------------------


def test_sign_in_form_labels_every_input_and_names_its_autocomplete(client):
    html = client.get(LOGIN_URL).content.decode()
    assert '<label for="id_username">' in html
    assert '<label for="id_password">' in html
    assert 'autocomplete="username"' in html
    assert 'autocomplete="current-password"' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_an_editor_signs_in_and_lands_on_the_council_page(client, atlas_map, chicago_editor):
    response = sign_in(client, "chicago-editor", PASSWORD)

    assert response.status_code == 302
    assert response.url == "/en/council/"
    landing = client.get(response.url)
    html = landing.content.decode()
    assert "Signed in as chicago-editor." in html
    assert "Chicago" in html
    assert "Editor" in html


def test_a_wrong_password_shows_the_error_summary(client, chicago_editor):
    response = sign_in(client, "chicago-editor", "not the password")

    assert response.status_code == 200
    assert 'class="error-summary"' in response.content.decode()
    assert signed_in_as(client) is None


def test_sign_in_follows_a_next_on_this_site_only(client, chicago_editor):
    here = client.post(
        f"{LOGIN_URL}?next=/en/search/",
        {"username": "chicago-editor", "password": PASSWORD, "next": "/en/search/"},
    )
    assert here.url == "/en/search/"

    client.logout()
    elsewhere = client.post(
        LOGIN_URL,
        {"username": "chicago-editor", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert elsewhere.url == "/en/council/"


def test_the_council_page_asks_anonymous_visitors_to_sign_in(client):
    response = client.get("/en/council/")
    assert response.status_code == 302
    assert response.url == f"{LOGIN_URL}?next=/en/council/"


def test_sign_out_is_a_post(client, chicago_editor):
    client.force_login(chicago_editor)

    assert client.get("/en/accounts/logout/").status_code == 405
    assert signed_in_as(client) == "chicago-editor"
    response = client.post("/en/accounts/logout/")
    assert response.status_code == 302
    assert response.url == reverse("cities:home")
    assert signed_in_as(client) is None


def test_the_council_page_lists_every_membership(client, atlas_map):
    member = UserFactory.create(username="two-councils")
    CouncilMembershipFactory.create(
        user=member, jurisdiction=atlas_map.chicago, role=CouncilMembership.Role.EDITOR
    )
    CouncilMembershipFactory.create(
        user=member, jurisdiction=atlas_map.nyc, role=CouncilMembership.Role.EDITOR
    )
    client.force_login(member)

    html = client.get("/en/council/").content.decode()

    assert html.count("<tr><td>") == 2
    assert atlas_map.chicago.get_absolute_url() in html
    assert atlas_map.nyc.get_absolute_url() in html
    assert 'action="/en/accounts/logout/"' in html
    assert 'href="/en/accounts/two-factor/"' in html


# ------------------------------------------------------------------------------
# Lockout
# ------------------------------------------------------------------------------


def fail_five_times(client: Client, username: str, ip: str) -> None:
    for _ in range(5):
        sign_in(client, username, "wrong password", ip=ip)


def test_five_wrong_passwords_lock_that_user_out_from_that_address(client):
    UserFactory.create(username="target")
    fail_five_times(client, "target", "203.0.113.7")

    response = sign_in(client, "target", PASSWORD, ip="203.0.113.7")

    assert response.status_code == 429
    assert "council/lockout.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert "Signing in is paused" in html
    assert "Try again in 30 minutes." in html
    assert signed_in_as(client) is None


def test_four_wrong_passwords_do_not_lock_anyone_out(client):
    UserFactory.create(username="target")
    for _ in range(4):
        sign_in(client, "target", "wrong password", ip="203.0.113.7")

    assert sign_in(client, "target", PASSWORD, ip="203.0.113.7").status_code == 302


def test_the_locked_out_user_still_signs_in_from_another_address():
    UserFactory.create(username="target")
    fail_five_times(Client(), "target", "203.0.113.7")

    owner = Client()
    response = sign_in(owner, "target", PASSWORD, ip="198.51.100.20")

    assert response.status_code == 302
    assert signed_in_as(owner) == "target"


def test_another_user_still_signs_in_from_the_locked_address():
    UserFactory.create(username="target")
    UserFactory.create(username="colleague")
    fail_five_times(Client(), "target", "203.0.113.7")

    colleague = Client()
    response = sign_in(colleague, "colleague", PASSWORD, ip="203.0.113.7")

    assert response.status_code == 302
    assert signed_in_as(colleague) == "colleague"


def test_the_admin_sign_in_shares_the_lockout(client):
    """The admin authenticates through the same backends, so the same failures count."""
    UserFactory.create(username="target", is_staff=True)
    admin_login = reverse("admin:login")
    for _ in range(5):
        client.post(
            admin_login, {"username": "target", "password": "wrong"}, REMOTE_ADDR="203.0.113.7"
        )

    response = client.post(
        admin_login, {"username": "target", "password": PASSWORD}, REMOTE_ADDR="203.0.113.7"
    )

    assert response.status_code == 429
    assert signed_in_as(client) is None
    assert sign_in(Client(), "target", PASSWORD, ip="203.0.113.7").status_code == 429


def test_behind_a_proxy_the_lockout_keys_on_the_forwarded_client_address(settings):
    """The proxy's own address is shared by everyone; the address it forwards is not."""
    settings.ATLAS_TRUSTED_PROXY_COUNT = 1
    UserFactory.create(username="target")
    proxy = "10.0.0.2"
    stranger = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.7")
    for _ in range(5):
        stranger.post(LOGIN_URL, {"username": "target", "password": "wrong"})

    owner = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert owner.post(LOGIN_URL, {"username": "target", "password": PASSWORD}).status_code == 302
    # A forged entry on the left does not let the stranger out of their own lockout.
    forged = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.7")
    assert forged.post(LOGIN_URL, {"username": "target", "password": PASSWORD}).status_code == 429


@pytest.mark.parametrize(
    ("hops", "forwarded", "expected"),
    [
        (0, "192.0.2.1", "10.0.0.2"),
        (1, "192.0.2.1, 203.0.113.7", "203.0.113.7"),
        (2, "192.0.2.1, 203.0.113.7, 10.0.0.1", "203.0.113.7"),
        (2, "203.0.113.7", "10.0.0.2"),
        (1, "", "10.0.0.2"),
    ],
)
def test_client_address_counts_trusted_proxies_from_the_right(settings, hops, forwarded, expected):
    settings.ATLAS_TRUSTED_PROXY_COUNT = hops
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


# ------------------------------------------------------------------------------
# CSRF
# ------------------------------------------------------------------------------


def test_a_sign_in_post_without_its_token_gets_the_friendly_403():
    client = Client(enforce_csrf_checks=True)
    UserFactory.create(username="target")

    response = sign_in(client, "target", PASSWORD)

    assert response.status_code == 403
    assert response.templates[0].name == "403_csrf.html"
    assert "Your form could not be sent" in response.content.decode()
    assert signed_in_as(client) is None


def test_the_csrf_page_speaks_the_language_of_the_url():
    client = Client(enforce_csrf_checks=True)

    response = client.post("/fr/accounts/login/", {"username": "x", "password": "y"})

    assert response.status_code == 403
    assert '<html lang="fr">' in response.content.decode()


def test_a_sign_in_post_with_its_token_passes_the_check():
    client = Client(enforce_csrf_checks=True)
    UserFactory.create(username="target")
    client.get(LOGIN_URL)
    token = client.cookies["csrftoken"].value

    response = client.post(
        LOGIN_URL, {"username": "target", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )

    assert response.status_code == 302


# ------------------------------------------------------------------------------
# Password reset by email
# ------------------------------------------------------------------------------

LINK = re.compile(r"https?://testserver(/en/accounts/reset/[^\s]+/)")


def reset_link() -> str:
    """The path of the reset link in the one mail sent."""
    assert len(mail.outbox) == 1
    match = LINK.search(str(mail.outbox[0].body))
    assert match, mail.outbox[0].body
    return match.group(1)


def test_password_reset_sends_a_working_link_and_sets_the_new_password(client):
    UserFactory.create(username="forgetful", email="forgetful@example.org")

    asked = client.post("/en/accounts/password-reset/", {"email": "forgetful@example.org"})

    assert asked.status_code == 302
    assert asked.url == "/en/accounts/password-reset/sent/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["forgetful@example.org"]
    assert message.subject == "Reset your Digital Leadership Atlas password"

    form_page = client.get(reset_link(), follow=True)
    assert form_page.status_code == 200
    html = form_page.content.decode()
    assert 'autocomplete="new-password"' in html
    new_password = "a brand new passphrase for the atlas"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302
    assert done.url == "/en/accounts/reset/done/"

    assert sign_in(Client(), "forgetful", new_password).status_code == 302
    assert sign_in(Client(), "forgetful", PASSWORD).status_code == 200


def test_a_reset_link_works_once(client):
    UserFactory.create(username="forgetful", email="forgetful@example.org")
    client.post("/en/accounts/password-reset/", {"email": "forgetful@example.org"})
    link = reset_link()
    form_page = client.get(link, follow=True)
    new_password = "a brand new passphrase for the atlas"
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )

    again = Client().get(link, follow=True)

    assert "This link no longer works" in again.content.decode()


def test_a_reset_refuses_a_common_password(client):
    UserFactory.create(username="forgetful", email="forgetful@example.org")
    client.post("/en/accounts/password-reset/", {"email": "forgetful@example.org"})
    link = reset_link()
    form_page = client.get(link, follow=True)

    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "q1w2e3r4t5y6", "new_password2": "q1w2e3r4t5y6"},
    )

    assert response.status_code == 200
    assert 'class="error-summary"' in response.content.decode()


def test_a_reset_lifts_the_lockout_from_the_owners_address_only(client):
    UserFactory.create(username="forgetful", email="forgetful@example.org")
    fail_five_times(Client(), "forgetful", "127.0.0.1")
    fail_five_times(Client(), "forgetful", "203.0.113.7")
    client.post("/en/accounts/password-reset/", {"email": "forgetful@example.org"})
    form_page = client.get(reset_link(), follow=True)
    new_password = "a brand new passphrase for the atlas"
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )

    assert sign_in(Client(), "forgetful", new_password).status_code == 302
    assert sign_in(Client(), "forgetful", new_password, ip="203.0.113.7").status_code == 429


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client):
    response = client.post("/en/accounts/password-reset/", {"email": "nobody@example.org"})

    assert response.status_code == 302
    assert response.url == "/en/accounts/password-reset/sent/"
    assert mail.outbox == []


def test_the_reset_mail_links_to_the_language_it_was_asked_in(client):
    UserFactory.create(username="forgetful", email="forgetful@example.org")

    client.post("/fr/accounts/password-reset/", {"email": "forgetful@example.org"})

    assert "/fr/accounts/reset/" in mail.outbox[0].body
