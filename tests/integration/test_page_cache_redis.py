"""
The page cache on a real Redis (a private redis-server), stopped and started again.

Public pages and the API keep answering 200 from the database while Redis is gone, signing
in still works, the health checks name the cache, caching resumes once Redis is back, and a
generation bump that could not reach Redis is applied by the sweep.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import translation

from config import page_cache
from config.settings.base import redis_caches
from initiatives import subscriptions
from initiatives.cache_tasks import sweep_page_cache
from initiatives.models import Initiative
from tests.conftest import AtlasMap
from tests.factories import InitiativeFactory, UserFactory
from tests.integration.conftest import RedisServer, free_port

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def on_redis(redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[RedisServer]:
    """Both caches on the private Redis, as production configures them, the page cache on."""
    if not redis_server.ping():
        redis_server.start()
    redis_server.client().flushdb()
    # No pause after an error: each request here tries Redis again.
    monkeypatch.setattr(page_cache, "RETRY_AFTER_SECONDS", 0.0)
    page_cache._unavailable_until = 0.0
    with override_settings(
        CACHES=redis_caches(redis_server.url), REDIS_URL=redis_server.url, ATLAS_PAGE_CACHE=True
    ):
        yield redis_server
    if not redis_server.ping():
        redis_server.start()


@pytest.fixture
def wifi(atlas_map: AtlasMap) -> Initiative:
    return InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, slug="chicago-wifi", title="Chicago Wi-Fi"
    )


def page_of(initiative: Initiative) -> str:
    with translation.override("en"):
        return initiative.get_absolute_url()


def test_pages_are_stored_in_redis(on_redis, wifi, django_assert_num_queries):
    url = page_of(wifi)
    assert Client().get(url)["X-Cache"] == "miss"
    with django_assert_num_queries(0):
        hit = Client().get(url)
    assert hit["X-Cache"] == "hit"
    assert "Chicago Wi-Fi" in hit.content.decode()
    assert any(key.startswith(b":1:page-cache:entry:") for key in on_redis.client().scan_iter())


def test_with_redis_stopped_everything_public_answers_from_the_database(on_redis, wifi):
    url = page_of(wifi)
    Client().get(url)
    Client().get("/api/v1/initiatives/")
    UserFactory.create(username="member")

    on_redis.stop()

    page = Client().get(url)
    assert page.status_code == 200
    assert "Chicago Wi-Fi" in page.content.decode()
    assert "X-Cache" not in page
    # The API still throttles through the cache, which now answers misses.
    api = Client().get("/api/v1/initiatives/")
    assert api.status_code == 200
    assert [item["slug"] for item in api.json()["results"]] == ["chicago-wifi"]
    assert Client().get("/en/accounts/login/").status_code == 200
    member = Client()
    signed_in = member.post("/en/accounts/login/", {"username": "member", "password": PASSWORD})
    assert signed_in.status_code == 302
    assert member.get(url).status_code == 200
    # The subscription rate limit counts in the cache too: it lets the request through.
    assert subscriptions.subscription_retry_at(client_address="192.0.2.1") is None
    subscriptions._count_request("192.0.2.1")
    cache.set("anything", 1)
    assert cache.get("anything") is None

    ready = Client().get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["cache"] == "error"
    assert "cache" in ready.json()["failed"]
    health = Client().get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    assert health.json()["checks"]["cache"] == "error"

    on_redis.start()

    assert Client().get(url)["X-Cache"] == "miss"
    assert Client().get(url)["X-Cache"] == "hit"
    assert Client().get("/readyz").json()["checks"]["cache"] == "ok"


def test_a_bump_that_failed_while_redis_was_unreachable_is_applied_by_the_sweep(
    on_redis, wifi, django_capture_on_commit_callbacks
):
    """Redis out of reach, not restarted: its stale entries come back with it, until the sweep."""
    url = page_of(wifi)
    assert sweep_page_cache.apply().get() is True  # Covers what the fixtures wrote.
    Client().get(url)
    assert Client().get(url)["X-Cache"] == "hit"

    # A partition: this process cannot reach Redis, which keeps its data. (Freezing Redis
    # would not do: the INCR waits in its socket and runs once it thaws.)
    unreachable = f"redis://127.0.0.1:{free_port()}/0"
    with override_settings(CACHES=redis_caches(unreachable)):
        with django_capture_on_commit_callbacks(execute=True):
            wifi.title = "Chicago Wi-Fi for all"
            wifi.save()
        assert "Chicago Wi-Fi for all" in Client().get(url).content.decode()

    stale = Client().get(url)
    assert stale["X-Cache"] == "hit"
    assert "Chicago Wi-Fi for all" not in stale.content.decode()

    assert sweep_page_cache.apply().get() is True

    fresh = Client().get(url)
    assert fresh["X-Cache"] == "miss"
    assert "Chicago Wi-Fi for all" in fresh.content.decode()
