"""API keys at the door: ``Authorization: Bearer <key>`` authenticates as the key's owner."""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from council.models import ApiKey
from council.services import api_key_create, api_key_revoke
from initiatives.models import Initiative
from tests.factories import InitiativeFactory, UserFactory

pytestmark = pytest.mark.django_db

# The door itself is tested on small views of a test URLconf; the last tests go
# through the real resource endpoints.
door = pytest.mark.urls("tests.api.keys_urls")

WHOAMI = "/api/test/whoami/"
PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Throttle counts live in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


def make_key(user: User, *, read_only: bool = True, **options) -> str:
    _, plain = api_key_create(user=user, read_only=read_only, actor=None, **options)
    return plain


def bearer(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


@door
def test_a_bearer_key_authenticates_as_its_owner(client, outsider):
    """A read key on a protected endpoint acts as the user who owns it."""
    key = make_key(outsider)

    response = client.get(WHOAMI, **bearer(key))

    assert response.status_code == 200
    assert response.json() == {"user": "outsider", "key": key[:12]}


@door
def test_the_scheme_name_is_case_insensitive(client, outsider):
    """``bearer`` works as well as ``Bearer``, as RFC 7235 says schemes are case-insensitive."""
    key = make_key(outsider)

    response = client.get(WHOAMI, HTTP_AUTHORIZATION=f"bearer {key}")

    assert response.status_code == 200


@door
def test_without_a_key_a_protected_endpoint_answers_401_naming_the_bearer_scheme(client, db):
    """An anonymous request is told, with WWW-Authenticate, how to authenticate."""
    response = client.get(WHOAMI)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"] == "/api/v1/problems/not-authenticated"


@door
def test_an_expired_key_is_refused_with_401(client, outsider):
    """Once its expiry passes, a key no longer authenticates."""
    key = make_key(outsider, expires_in_days=1)

    with time_machine.travel(timezone.now() + datetime.timedelta(days=1, seconds=1)):
        response = client.get(WHOAMI, **bearer(key))

    assert response.status_code == 401
    assert response.json()["detail"] == "This API key has expired."


@door
def test_a_key_works_until_it_expires(client, outsider):
    """A key with an expiry still authenticates the moment before it."""
    key = make_key(outsider, expires_in_days=1)

    with time_machine.travel(timezone.now() + datetime.timedelta(hours=23)):
        response = client.get(WHOAMI, **bearer(key))

    assert response.status_code == 200


@door
def test_a_revoked_key_is_refused_with_401(client, outsider):
    """A revoked key stops working at once."""
    key = make_key(outsider)
    api_key_revoke(key=ApiKey.objects.get(prefix=key[:12]), actor=outsider)

    response = client.get(WHOAMI, **bearer(key))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["detail"] == "This API key has been revoked."


@door
@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer two words",
        "Bearer not-a-key",
        "Bearer atl_ABCDEFGH_" + "x" * 43,
        "Bearer atl_abcdefgh" + "x" * 43,
        "Bearer atl_abcdefgh_short",
    ],
)
def test_a_malformed_bearer_header_is_refused_with_401(client, db, header):
    """A Bearer header that cannot hold a key is refused, never served as anonymous."""
    response = client.get("/api/test/echo/", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"] == "/api/v1/problems/authentication-failed"


@door
def test_a_well_formed_but_unknown_key_is_refused_with_401(client, db):
    """A key that was never made is refused."""
    response = client.get(WHOAMI, **bearer("atl_abcdefgh_" + "x" * 43))

    assert response.status_code == 401
    assert response.json()["detail"] == "Unknown API key."


@door
def test_a_known_prefix_with_the_wrong_secret_is_refused_with_401(client, outsider):
    """The prefix finds the row, but only the secret authenticates."""
    key = make_key(outsider)
    forged = key[:13] + ("A" if key[13] != "A" else "B") + key[14:]

    response = client.get(WHOAMI, **bearer(forged))

    assert response.status_code == 401
    assert response.json()["detail"] == "Unknown API key."


@door
def test_the_key_of_an_inactive_owner_is_refused_with_401(client, outsider):
    """Deactivating a user silences their keys."""
    key = make_key(outsider)
    User.objects.filter(pk=outsider.pk).update(is_active=False)

    response = client.get(WHOAMI, **bearer(key))

    assert response.status_code == 401


@door
def test_a_read_only_key_may_read(client, outsider):
    """GET, HEAD and OPTIONS are what a read-only key is for."""
    key = make_key(outsider)

    assert client.get(WHOAMI, **bearer(key)).status_code == 200
    assert client.head(WHOAMI, **bearer(key)).status_code == 200
    assert client.options(WHOAMI, **bearer(key)).status_code == 200


@door
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_read_only_key_is_refused_for_unsafe_methods_with_403(client, chicago_editor, method):
    """Even a council member's read-only key cannot write: 403 "This key is read-only"."""
    key = make_key(chicago_editor, read_only=True)

    response = getattr(client, method)(
        WHOAMI, data={}, content_type="application/json", **bearer(key)
    )

    assert response.status_code == 403
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"] == "/api/v1/problems/read-only-key"
    assert body["detail"] == "This key is read-only."


@door
def test_a_write_key_writes_as_its_owner(client, chicago_editor):
    """A council member's write key may use unsafe methods, acting as that member."""
    key = make_key(chicago_editor, read_only=False)

    response = client.post(WHOAMI, data={}, content_type="application/json", **bearer(key))

    assert response.status_code == 201
    assert response.json()["user"] == "chicago-editor"


@door
def test_a_key_needs_no_csrf_token(outsider):
    """A key is not a cookie, so a key request is not open to CSRF and needs no token."""
    staff_key = make_key(UserFactory.create(username="root", is_superuser=True), read_only=False)
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        WHOAMI, data={}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {staff_key}"
    )

    assert response.status_code == 201


@door
def test_a_session_still_authenticates_for_the_browsable_api(outsider):
    """Signing in works as before: the session user is the request's user."""
    client = APIClient()
    client.force_login(outsider)

    response = client.get(WHOAMI)

    assert response.json() == {"user": "outsider", "key": None}


@door
def test_a_session_write_without_a_csrf_token_is_refused(outsider):
    """Session writes keep DRF's CSRF check."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(outsider)

    response = client.post(WHOAMI, data={}, content_type="application/json")

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


@door
def test_a_use_records_when_the_key_was_last_used(client, outsider):
    """The first request with a key stamps last_used_at."""
    key = make_key(outsider)

    client.get(WHOAMI, **bearer(key))

    assert ApiKey.objects.get(prefix=key[:12]).last_used_at is not None


@door
def test_reads_within_a_minute_write_last_used_once(client, outsider, django_assert_num_queries):
    """After the first stamp, further requests within a minute cost one query, the key's read."""
    key = make_key(outsider)
    client.get(WHOAMI, **bearer(key))

    with django_assert_num_queries(1):
        client.get(WHOAMI, **bearer(key))


# ------------------------------------------------------------------ through the resources


def test_a_write_key_creates_an_initiative_recorded_under_its_owner(client, chicago_editor):
    """Every write through a key lands in the history with the key's owner as the actor."""
    key = make_key(chicago_editor, read_only=False)

    response = client.post(
        "/api/v1/initiatives/",
        data={"title": "Library hotspots", "slug": "library-hotspots", "jurisdiction": "chicago"},
        content_type="application/json",
        **bearer(key),
    )

    assert response.status_code == 201, response.content
    initiative = Initiative.objects.get(slug="library-hotspots")
    assert initiative.history.first().history_user == chicago_editor


def test_a_write_key_change_is_recorded_under_its_owner(client, atlas_map, chicago_editor):
    initiative = InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    key = make_key(chicago_editor, read_only=False)

    response = client.patch(
        f"/api/v1/initiatives/{initiative.slug}/",
        data={"title": "Renamed by a council tool"},
        content_type="application/json",
        **bearer(key),
    )

    assert response.status_code == 200, response.content
    latest = initiative.history.first()
    assert latest.title == "Renamed by a council tool"
    assert latest.history_user == chicago_editor


def test_a_read_key_cannot_create_an_initiative(client, chicago_editor):
    key = make_key(chicago_editor, read_only=True)

    response = client.post(
        "/api/v1/initiatives/",
        data={"title": "Library hotspots", "slug": "library-hotspots", "jurisdiction": "chicago"},
        content_type="application/json",
        **bearer(key),
    )

    assert response.status_code == 403
    assert not Initiative.objects.exists()


def test_a_read_key_reads_the_published_initiatives(client, atlas_map, outsider):
    InitiativeFactory.create(jurisdiction=atlas_map.chicago)

    response = client.get("/api/v1/initiatives/", **bearer(make_key(outsider)))

    assert response.status_code == 200
    assert len(response.json()["results"]) == 1
