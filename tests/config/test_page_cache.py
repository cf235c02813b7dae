"""
The anonymous page cache (config.page_cache) and its invalidation on every public write.

The suite runs with the cache off; these tests turn it on over the in-memory cache. The
real Redis, stopped and started again, is in tests/integration/test_page_cache_redis.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from config import page_cache
from config.security import content_security_policy, production_middleware, production_templates
from council.models import CouncilMembership
from council.services import api_key_create
from initiatives import cache_invalidation, workflow
from initiatives.csv_io import import_initiatives
from initiatives.models import FocusArea, Initiative, PublicationState, Sector
from tests.config.test_production import check_page, nonce_of, public_urls
from tests.conftest import AtlasMap
from tests.council.test_admin import change_url, form_data, logged_in
from tests.factories import (
    CouncilMembershipFactory,
    InitiativeFactory,
    MilestoneFactory,
    OrganizationFactory,
    PlanFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def cache_on() -> Iterator[None]:
    """The page cache on, empty, and reachable, for every test here."""
    page_cache.page_cache().clear()
    cache.clear()
    page_cache._unavailable_until = 0.0
    with override_settings(ATLAS_PAGE_CACHE=True):
        yield
    page_cache.page_cache().clear()


@pytest.fixture
def production_like() -> Iterator[None]:
    """Production's middleware and CSP, as tests/config/test_production.py applies them."""
    with override_settings(
        MIDDLEWARE=production_middleware(list(settings.MIDDLEWARE)),
        TEMPLATES=production_templates(settings.TEMPLATES),
        SECURE_CSP=content_security_policy(),
    ):
        yield


@pytest.fixture
def wifi(atlas_map: AtlasMap) -> Initiative:
    return InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, slug="chicago-wifi", title="Chicago Wi-Fi"
    )


def initiative_url(initiative: Initiative, language: str = "en") -> str:
    with translation.override(language):
        return initiative.get_absolute_url()


def jurisdiction_url(atlas_map: AtlasMap) -> str:
    with translation.override("en"):
        return atlas_map.chicago.get_absolute_url()


# ------------------------------------------------------------------------------ hits and misses


def test_a_second_anonymous_request_is_a_hit_without_queries(
    client, wifi, django_assert_num_queries
):
    url = initiative_url(wifi)
    first = client.get(url)
    assert first.status_code == 200
    assert first["X-Cache"] == "miss"
    with django_assert_num_queries(0):
        second = Client().get(url)
    assert second.status_code == 200
    assert second["X-Cache"] == "hit"
    assert "Chicago Wi-Fi" in second.content.decode()
    assert second["Content-Length"] == str(len(second.content))


def test_the_api_is_served_from_the_cache_without_queries(client, wifi, django_assert_num_queries):
    assert client.get("/api/v1/initiatives/")["X-Cache"] == "miss"
    with django_assert_num_queries(0):
        hit = client.get("/api/v1/initiatives/")
    assert hit["X-Cache"] == "hit"
    assert [item["slug"] for item in hit.json()["results"]] == ["chicago-wifi"]


def test_a_signed_in_visitor_is_never_served_nor_stored(client, wifi, chicago_editor):
    url = initiative_url(wifi)
    client.force_login(chicago_editor)
    first, second = client.get(url), client.get(url)
    assert first.status_code == second.status_code == 200
    assert "X-Cache" not in first
    assert "X-Cache" not in second
    # Nor did the signed-in pages fill the cache for anonymous visitors.
    assert Client().get(url)["X-Cache"] == "miss"


def test_an_api_key_is_never_served_from_the_cache(client, wifi, outsider):
    _key, plain = api_key_create(user=outsider, read_only=True, actor=None)
    client.get("/api/v1/initiatives/")
    response = client.get("/api/v1/initiatives/", HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert response.status_code == 200
    assert "X-Cache" not in response


def test_a_session_cookie_bypasses_the_cache(client, wifi):
    url = initiative_url(wifi)
    client.get(url)
    client.cookies[settings.SESSION_COOKIE_NAME] = "not-a-real-session"
    assert "X-Cache" not in client.get(url)


def test_languages_are_stored_apart(client, wifi):
    english, french = initiative_url(wifi, "en"), initiative_url(wifi, "fr")
    assert client.get(english)["X-Cache"] == "miss"
    response = client.get(french)
    assert response["X-Cache"] == "miss"
    assert response["Content-Language"] == "fr"
    assert client.get(french)["Content-Language"] == "fr"
    assert client.get(english)["Content-Language"] == "en"


def test_the_api_language_comes_from_accept_language(client, wifi):
    client.get("/api/v1/initiatives/", HTTP_ACCEPT_LANGUAGE="en")
    french = client.get("/api/v1/initiatives/", HTTP_ACCEPT_LANGUAGE="fr")
    assert french["X-Cache"] == "miss"
    assert french["Content-Language"] == "fr"


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        ("text/csv", "text/csv"),
        ("application/geo+json", "application/geo+json"),
        ("application/ld+json", "application/ld+json"),
    ],
)
def test_each_representation_has_its_own_entry(client, wifi, accept, content_type):
    json_body = client.get("/api/v1/initiatives/", HTTP_ACCEPT="application/json")
    assert json_body["Content-Type"].startswith("application/json")
    first = client.get("/api/v1/initiatives/", HTTP_ACCEPT=accept)
    second = client.get("/api/v1/initiatives/", HTTP_ACCEPT=accept)
    assert first["X-Cache"] == "miss"
    assert second["X-Cache"] == "hit"
    assert second["Content-Type"].startswith(content_type)
    assert second.content == first.content
    json_again = client.get("/api/v1/initiatives/", HTTP_ACCEPT="application/json")
    assert json_again["X-Cache"] == "hit"
    assert json_again["Content-Type"].startswith("application/json")


def test_the_query_string_is_part_of_the_key(client, wifi):
    client.get("/api/v1/initiatives/?format=json")
    csv = client.get("/api/v1/initiatives/?format=csv")
    assert csv["X-Cache"] == "miss"
    assert csv["Content-Type"].startswith("text/csv")


@pytest.mark.parametrize(
    "name", ["council:login", "council:landing", "subscriptions:subscribe", "admin:index"]
)
def test_private_pages_are_never_cached(client, atlas_map, name):
    with translation.override("en"):
        url = reverse(name)
    client.get(url)
    assert "X-Cache" not in client.get(url)


@pytest.mark.parametrize("url", ["/healthz", "/readyz"])
def test_health_checks_are_never_cached(client, url):
    client.get(url)
    assert "X-Cache" not in client.get(url)


def test_a_not_found_page_is_not_stored(client, atlas_map):
    with translation.override("en"):
        url = reverse("cities:jurisdiction-detail", kwargs={"slug": "atlantis"})
    assert client.get(url).status_code == 404
    second = client.get(url)
    assert second.status_code == 404
    assert "X-Cache" not in second


def test_nothing_is_stored_when_the_cache_is_off(client, wifi):
    url = initiative_url(wifi)
    with override_settings(ATLAS_PAGE_CACHE=False):
        assert "X-Cache" not in client.get(url)
    assert client.get(url)["X-Cache"] == "miss"


# ------------------------------------------------------------------------------ per-response values


def test_each_hit_carries_a_fresh_csp_nonce_in_header_and_body(client, wifi, production_like):
    url = initiative_url(wifi)
    responses = [Client().get(url) for _ in range(3)]
    assert [r["X-Cache"] for r in responses] == ["miss", "hit", "hit"]
    nonces = [nonce_of(r) for r in responses]
    assert len(set(nonces)) == 3
    for response, nonce in zip(responses, nonces, strict=True):
        body = response.content.decode()
        assert f'nonce="{nonce}"' in body
        assert all(other not in body for other in nonces if other != nonce)
        assert page_cache.NONCE_PLACEHOLDER.decode() not in body


def test_the_csp_crawl_passes_from_the_cache(client, atlas_map, production_like, chicago_editor):
    """Every public page type, served twice: both answers pass the production CSP checks."""
    pages = _crawl_pages(atlas_map, chicago_editor)
    with translation.override("en"):
        urls = public_urls(pages)
    first = [problem for url in urls for problem in check_page(Client(), url)]
    second = [problem for url in urls for problem in check_page(Client(), url)]
    assert first == second == []
    hits = [Client().get(url).get("X-Cache") for url in urls]
    assert hits.count("hit") >= len(urls) - 4  # Sign-in, search with no hits, 404: not stored.


def _crawl_pages(atlas_map: AtlasMap, editor: Any) -> dict[str, Any]:
    focus_area = FocusArea.objects.order_by("pk").first()
    sector = Sector.objects.order_by("pk").first()
    assert focus_area is not None
    assert sector is not None
    plan = PlanFactory.create(jurisdiction=atlas_map.chicago)
    initiative = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, plan=plan, focus_areas=[focus_area]
    )
    initiative.sectors.add(sector)
    return {
        "jurisdiction": atlas_map.chicago,
        "initiative": initiative,
        "plan": plan,
        "organization": OrganizationFactory.create(),
        "focus_area": focus_area,
        "sector": sector,
        "editor": editor,
    }


def test_each_hit_carries_a_csrf_token_of_the_visitors_own(wifi):
    """The layout's forms post: a cached page never hands out a token minted for another."""
    url = initiative_url(wifi)
    first_visitor, second_visitor = Client(), Client()
    first = first_visitor.get(url)
    second = second_visitor.get(url)
    assert second["X-Cache"] == "hit"
    first_tokens = set(CSRF_INPUT.findall(first.content.decode()))
    second_tokens = set(CSRF_INPUT.findall(second.content.decode()))
    assert first_tokens
    assert second_tokens
    assert not first_tokens & second_tokens
    # The token works: the second visitor's language switch is accepted.
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.cookies = second_visitor.cookies
    page = csrf_client.get(url)
    token = CSRF_INPUT.search(page.content.decode())
    assert token is not None
    switched = csrf_client.post(
        "/i18n/setlang/", {"language": "fr", "next": url, "csrfmiddlewaretoken": token.group(1)}
    )
    assert switched.status_code == 302


def test_the_etag_and_304_hold_on_a_hit(client, wifi, django_assert_num_queries):
    first = client.get("/api/v1/initiatives/chicago-wifi/")
    etag = first["ETag"]
    with django_assert_num_queries(0):
        hit = client.get("/api/v1/initiatives/chicago-wifi/")
        not_modified = client.get("/api/v1/initiatives/chicago-wifi/", HTTP_IF_NONE_MATCH=etag)
        changed = client.get("/api/v1/initiatives/chicago-wifi/", HTTP_IF_NONE_MATCH='"other"')
    assert hit["ETag"] == etag
    assert hit["Last-Modified"] == first["Last-Modified"]
    assert not_modified.status_code == 304
    assert not_modified["ETag"] == etag
    assert not_modified.content == b""
    assert changed.status_code == 200
    assert changed.content == first.content


def test_if_modified_since_holds_on_a_hit(client, wifi):
    first = client.get("/api/v1/initiatives/chicago-wifi/")
    hit = client.get(
        "/api/v1/initiatives/chicago-wifi/", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]
    )
    assert hit.status_code == 304
    assert hit["X-Cache"] == "hit"


def test_a_head_request_shares_the_get_entry(client, wifi):
    url = initiative_url(wifi)
    client.get(url)
    head = client.head(url)
    assert head.status_code == 200
    assert head["X-Cache"] == "hit"
    assert head.content == b""


# ------------------------------------------------------------------------------ invalidation


def test_publishing_in_the_workspace_shows_on_the_next_request(
    client, atlas_map, chicago_editor, chicago_reviewer, django_capture_on_commit_callbacks
):
    draft = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        title="Library hotspots",
        publication_state=PublicationState.DRAFT,
    )
    url = jurisdiction_url(atlas_map)
    assert "Library hotspots" not in client.get(url).content.decode()
    assert client.get(url)["X-Cache"] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        workflow.record_submit(record=draft, actor=chicago_editor)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.record_publish(record=draft, actor=chicago_reviewer)
    response = client.get(url)
    assert response["X-Cache"] == "miss"
    assert "Library hotspots" in response.content.decode()


def test_a_write_through_the_api_shows_on_the_next_request(
    client, wifi, chicago_editor, django_capture_on_commit_callbacks
):
    url = "/api/v1/milestones/"
    before = client.get(url)
    assert before.status_code == 200, before.content
    assert client.get(url)["X-Cache"] == "hit"
    _key, plain = api_key_create(user=chicago_editor, read_only=False, actor=None)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(
            url, {"initiative": "chicago-wifi", "title": "Pilot in ten branches"}, format="json"
        )
    assert created.status_code == 201, created.content
    after = client.get(url)
    assert after["X-Cache"] == "miss"
    assert "Pilot in ten branches" in after.content.decode()


def test_an_admin_edit_shows_on_the_next_request(
    client, atlas_map, staff_user, django_capture_on_commit_callbacks
):
    organization = OrganizationFactory.create(name="Civic Lab")
    with translation.override("en"):
        url = reverse("council:organization-detail", kwargs={"slug": organization.slug})
    assert "Civic Lab" in client.get(url).content.decode()
    assert client.get(url)["X-Cache"] == "hit"
    admin = logged_in(Client(), staff_user)
    page = admin.get(change_url(organization))
    assert page.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            change_url(organization), {**form_data(page), "name": "Civic Lab Chicago"}
        )
    assert response.status_code == 302
    after = client.get(url)
    assert after["X-Cache"] == "miss"
    assert "Civic Lab Chicago" in after.content.decode()


def test_a_csv_import_then_its_publication_shows_on_the_next_request(
    client, atlas_map, chicago_editor, chicago_reviewer, django_capture_on_commit_callbacks
):
    url = jurisdiction_url(atlas_map)
    client.get(url)
    data = b"slug,title,status\nbike-share-data,Bike share open data,planned\n"
    with django_capture_on_commit_callbacks(execute=True):
        result = import_initiatives(jurisdiction=atlas_map.chicago, actor=chicago_editor, file=data)
    assert result.written, result.errors
    imported = Initiative.objects.get(slug="bike-share-data")
    with django_capture_on_commit_callbacks(execute=True):
        workflow.record_submit(record=imported, actor=chicago_editor)
        workflow.record_publish(record=imported, actor=chicago_reviewer)
    response = client.get(url)
    assert response["X-Cache"] == "miss"
    assert "Bike share open data" in response.content.decode()


def test_an_uncommitted_write_bumps_nothing(client, wifi, django_capture_on_commit_callbacks):
    """The bump waits for the commit: a rolled-back change leaves the cache as it was."""
    url = initiative_url(wifi)
    client.get(url)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        wifi.title = "Renamed"
        wifi.save()
        MilestoneFactory.create(initiative=wifi)
    assert page_cache.bump_generation in callbacks
    assert client.get(url)["X-Cache"] == "hit"


def test_a_many_to_many_change_bumps(wifi, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        wifi.sectors.add(Sector.objects.order_by("pk").first())
    assert page_cache.bump_generation in callbacks


def test_a_private_write_bumps_nothing(atlas_map, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        UserFactory.create(username="somebody")
    assert page_cache.bump_generation not in callbacks


def test_a_page_rendered_during_a_commit_is_not_served_after_it(client, wifi):
    """An entry is tagged with the generation read before its view ran."""
    url = initiative_url(wifi)
    real = page_cache.PageCacheMiddleware.store

    def bump_then_store(self: Any, *args: Any, **kwargs: Any) -> None:
        page_cache.bump_generation()  # A change committed while the page was rendered.
        real(self, *args, **kwargs)

    with mock.patch.object(page_cache.PageCacheMiddleware, "store", bump_then_store):
        client.get(url)
    assert client.get(url)["X-Cache"] == "miss"


def test_a_lost_generation_makes_every_entry_stale(client, wifi):
    url = initiative_url(wifi)
    client.get(url)
    page_cache.page_cache().delete(page_cache.GENERATION_KEY)
    assert client.get(url)["X-Cache"] == "miss"
    assert client.get(url)["X-Cache"] == "hit"


# ------------------------------------------------------------------------------ failures


def test_a_failing_cache_answers_from_the_database(client, wifi):
    url = initiative_url(wifi)
    with mock.patch.object(
        page_cache.page_cache(), "get_many", side_effect=ConnectionError("Redis is down")
    ):
        response = client.get(url)
    assert response.status_code == 200
    assert "Chicago Wi-Fi" in response.content.decode()
    assert "X-Cache" not in response
    # The cache is left alone for a moment rather than timing out on every request.
    assert page_cache.cache_unavailable()
    assert "X-Cache" not in client.get(url)


def test_a_failed_bump_is_applied_by_the_sweep(client, wifi, django_capture_on_commit_callbacks):
    url = initiative_url(wifi)
    cache_invalidation.sweep()  # Covers what the fixtures wrote.
    client.get(url)
    assert client.get(url)["X-Cache"] == "hit"
    with (
        mock.patch.object(
            page_cache.page_cache(), "incr", side_effect=ConnectionError("Redis is down")
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        wifi.title = "Chicago Wi-Fi for all"
        wifi.save()
    # The bump failed: the stale entry would be served until the sweep runs.
    assert "Chicago Wi-Fi for all" not in client.get(url).content.decode()
    assert cache_invalidation.sweep() is True
    response = client.get(url)
    assert response["X-Cache"] == "miss"
    assert "Chicago Wi-Fi for all" in response.content.decode()


def test_the_sweep_does_nothing_once_every_change_is_covered(wifi):
    # A minute and more after the last write, a sweep covers it for good.
    later = wifi.history.latest().history_date + 2 * cache_invalidation.SETTLE
    with mock.patch.object(cache_invalidation.timezone, "now", return_value=later):
        assert cache_invalidation.sweep() is True
    generation = page_cache.current_generation(page_cache.page_cache())
    assert cache_invalidation.sweep() is False
    assert page_cache.current_generation(page_cache.page_cache()) == generation


def test_the_sweep_is_scheduled_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-page-cache"]
    assert entry["task"] == "initiatives.cache_tasks.sweep_page_cache"
    from config.celery import app

    assert entry["task"] in app.tasks


def test_council_members_are_public_data(atlas_map, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        CouncilMembershipFactory.create(
            user=UserFactory.create(),
            jurisdiction=atlas_map.chicago,
            role=CouncilMembership.Role.EDITOR,
        )
    assert page_cache.bump_generation in callbacks
