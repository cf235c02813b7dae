"""
The council's round trip, in Chromium: the Chicago editor changes a published initiative and
submits it; the Chicago reviewer, with their second factor, publishes it; the public page shows
the change; the history shows the diff; restoring the earlier version puts the public page back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from tests.browser.conftest import SCREENSHOTS, Site
from tests.browser.test_accessibility import BLOCKING, describe, run_axe
from tests.conftest import code_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

NEW_SUMMARY = "Round trip: free public Wi-Fi in all 81 library branches by 2027."


@pytest.fixture(scope="module")
def reviewer_app(site: Site, django_db_blocker: Any) -> Iterator[Any]:
    """The demo reviewer's authenticator app, committed so the live server sees it."""
    from django.contrib.auth.models import User
    from django_otp.plugins.otp_totp.models import TOTPDevice

    with django_db_blocker.unblock():
        reviewer = User.objects.get(username="chicago-reviewer")
        device, _ = TOTPDevice.objects.get_or_create(
            user=reviewer, name="phone", defaults={"confirmed": True}
        )
        yield device


@pytest.fixture(scope="module")
def chicago_initiative(site: Site, django_db_blocker: Any) -> tuple[str, str]:
    """A published Chicago initiative: its slug and its summary before the round."""
    from initiatives.models import Initiative

    with django_db_blocker.unblock():
        initiative = (
            Initiative.objects.published()
            .filter(jurisdiction__slug="chicago")
            .exclude(summary="")
            .order_by("slug")
            .first()
        )
        assert initiative is not None, "the demo has no published Chicago initiative"
        return initiative.slug, initiative.summary


def url(site: Site, name: str, **kwargs: str) -> str:
    with translation.override("en"):
        return site.url + reverse(name, kwargs=kwargs or None)


def sign_in(page: Any, site: Site, username: str) -> None:
    page.goto(url(site, "council:login"))
    page.locator('input[name="username"]').fill(username)
    page.locator('input[name="password"]').fill(settings.DEMO_PASSWORD)
    page.locator('main button[type="submit"]').first.click()
    page.wait_for_load_state()


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").first.click()
    page.wait_for_load_state()


def audit(page: Any, axe_source: str) -> None:
    """The workspace pages meet the public pages' bar: no serious or critical axe violation."""
    blocking = [v for v in run_axe(page, axe_source) if v["impact"] in BLOCKING]
    assert not blocking, f"{page.url}\n{describe(blocking)}"


def message(page: Any) -> str:
    problems = page.locator(".error-summary")
    if problems.count():
        raise AssertionError(" ".join((problems.first.text_content() or "").split()))
    return " ".join((page.locator(".notices").first.text_content() or "").split())


def test_edit_submit_publish_diff_restore(
    page: Any,
    site: Site,
    reviewer_app: Any,
    chicago_initiative: tuple[str, str],
    axe_source: str,
) -> None:
    slug, old_summary = chicago_initiative
    public_url = url(site, "initiatives:initiative-detail", slug=slug)

    # ---- 1. The Chicago editor signs in, edits the initiative and submits it.
    sign_in(page, site, "chicago-editor")
    assert page.url.endswith("/en/council/"), page.url
    audit(page, axe_source)
    page.goto(url(site, "council:editing:initiative-edit", slug=slug))
    audit(page, axe_source)
    summary = page.get_by_label("Summary", exact=True)
    assert summary.input_value() == old_summary
    summary.fill(NEW_SUMMARY)
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_load_state()
    assert "review" in message(page).lower(), message(page)
    # The public still sees the published text while the change waits.
    assert page.get_by_label("Summary", exact=True).input_value() == NEW_SUMMARY
    page.get_by_role("button", name="Submit for review").click()
    page.wait_for_load_state()
    assert "sent for review" in message(page).lower(), message(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "council-edit.png"), full_page=True)
    sign_out(page)

    public = page.context.new_page()
    public.goto(public_url)
    assert public.get_by_text(old_summary).count() > 0
    assert public.get_by_text(NEW_SUMMARY).count() == 0

    # ---- 2. The Chicago reviewer signs in with their second factor and publishes it.
    sign_in(page, site, "chicago-reviewer")
    assert "/accounts/two-factor/verify/" in page.url, page.url
    page.locator('input[name="token"]').fill(code_for(reviewer_app))
    page.locator('main button[type="submit"]').first.click()
    page.wait_for_load_state()
    assert page.url.endswith("/en/council/"), page.url
    page.get_by_role("link", name="Review queue").first.click()
    page.wait_for_load_state()
    queue = page.locator("main")
    queue.get_by_role("link", name=re.compile(".+")).filter(
        has_text=re.compile(r"\S")
    ).first.wait_for()
    page.goto(url(site, "council:workspace:review-detail", kind="initiatives", slug=slug))
    # The reviewer sees the change as a diff before publishing it.
    assert page.locator("main").get_by_text(NEW_SUMMARY).count() > 0
    assert page.locator("main").get_by_text(old_summary).count() > 0
    audit(page, axe_source)
    page.screenshot(path=str(SCREENSHOTS / "council-review.png"), full_page=True)
    page.get_by_role("button", name="Publish these changes").click()
    page.wait_for_load_state()
    assert "publish" in message(page).lower(), message(page)

    # ---- 3. The public page shows the change.
    public.goto(public_url)
    assert public.get_by_text(NEW_SUMMARY).count() > 0
    assert public.get_by_text(old_summary).count() == 0

    # ---- 4. The history shows the diff.
    page.goto(url(site, "council:history:record-history", kind="initiatives", slug=slug))
    newest = page.locator("main ol > li, main .version").first
    assert newest.get_by_text(NEW_SUMMARY).count() > 0
    assert newest.get_by_text(old_summary).count() > 0
    audit(page, axe_source)
    page.screenshot(path=str(SCREENSHOTS / "council-history.png"), full_page=True)

    # ---- 5. Restoring the earlier version works, and the public page follows.
    page.get_by_role("button", name="Restore this version").first.click()
    page.wait_for_load_state()
    assert "restor" in message(page).lower(), message(page)
    public.goto(public_url)
    assert public.get_by_text(old_summary).count() > 0
    assert public.get_by_text(NEW_SUMMARY).count() == 0
    public.close()
