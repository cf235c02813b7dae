"""Rate limits: per IP when anonymous, per key with a key, per user with a session."""

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from council.services import api_key_create
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.api.keys_urls")]

ECHO = "/api/test/echo/"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Throttle counts live in the cache; each test starts with none and leaves none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def tiny_rates(settings):
    """Rates small enough to reach in a test; they are read per request, so this takes effect."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/min", "key": "4/min", "user": "3/min"},
    }


def make_key(user: User, *, read_only: bool = True) -> str:
    _, plain = api_key_create(user=user, read_only=read_only, actor=None)
    return plain


def bearer(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def hits(client, count: int, **extra) -> list[int]:
    return [client.get(ECHO, **extra).status_code for _ in range(count)]


def test_anonymous_requests_over_the_rate_get_429_with_retry_after(client, tiny_rates):
    """The third anonymous request in a minute, at 2/min, is refused with Retry-After."""
    assert hits(client, 2) == [200, 200]

    response = client.get(ECHO)

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "/api/v1/problems/throttled"
    assert body["status"] == 429
    assert body["instance"] == ECHO


def test_anonymous_requests_are_counted_per_ip(client, tiny_rates):
    """Another address has its own allowance."""
    hits(client, 3)

    assert client.get(ECHO, REMOTE_ADDR="203.0.113.9").status_code == 200


def test_a_read_key_passes_where_anonymous_requests_are_blocked(client, outsider, tiny_rates):
    """A key raises the limit: from the same IP, the key still gets through."""
    key = make_key(outsider)
    hits(client, 3)
    assert client.get(ECHO).status_code == 429

    assert hits(client, 4, **bearer(key)) == [200] * 4
    assert client.get(ECHO, **bearer(key)).status_code == 429


def test_each_key_has_its_own_allowance(client, outsider, tiny_rates):
    """Two keys, even of one owner, do not share a count."""
    first, second = make_key(outsider), make_key(outsider)
    hits(client, 5, **bearer(first))
    assert client.get(ECHO, **bearer(first)).status_code == 429

    assert client.get(ECHO, **bearer(second)).status_code == 200


def test_signed_in_users_are_counted_per_user(outsider, tiny_rates):
    """A session user has the user rate, apart from other users on the same IP."""
    client, other = APIClient(), APIClient()
    client.force_login(outsider)
    other.force_login(UserFactory.create(username="other"))

    assert hits(client, 4) == [200, 200, 200, 429]
    assert other.get(ECHO).status_code == 200


def test_default_rates_leave_room_for_busy_tests():
    """Without overrides, hundreds of requests a minute pass, and a key beats anonymity."""
    rates = api_settings.DEFAULT_THROTTLE_RATES

    def per_minute(rate: object) -> float:
        number, period = str(rate).split("/")
        seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]
        return int(number) * 60 / seconds

    assert per_minute(rates["anon"]) >= 1000
    assert per_minute(rates["key"]) > per_minute(rates["anon"])
