"""
Fixtures for the browser tests: Debian's Chromium driven by Playwright, a live server holding
the demo data, and the checkers vendored from npm (axe-core, the Nu HTML Checker).

Chromium is never downloaded: the tests launch /usr/bin/chromium, which CI installs. Each
module gets one live server seeded once; its data is committed, so the fixture restores the
database to its pre-seed state afterwards (the taxonomy rows come from a data migration and
other tests count on them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connections
from django.utils import translation

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO_ROOT / "node_modules"
AXE_JS = NODE_MODULES / "axe-core" / "axe.min.js"
VNU_JAR = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
CHROMIUM = Path(os.environ.get("ATLAS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip on a developer's machine that lacks a tool; in CI a missing tool is a failure."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"{reason} (CI must provide it)", pytrace=False)
    pytest.skip(reason)


# ------------------------------------------------------------------------------ browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    require(
        CHROMIUM.exists(),
        f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)",
    )
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API keeps an event loop running in the test thread for as long as it
    # runs, and Django's async-safety guard would refuse the fixtures' ORM calls made there.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_api.sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@dataclass
class OffsiteLog:
    """Requests the page tried to send to another host; the Atlas must make none."""

    urls: list[str] = field(default_factory=list)


@pytest.fixture
def offsite() -> OffsiteLog:
    return OffsiteLog()


@pytest.fixture
def page(browser: Any, site: Site, offsite: OffsiteLog) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB")
    own = urlsplit(site.url).netloc

    def gate(route: Any) -> None:
        target = urlsplit(route.request.url)
        if target.scheme in {"http", "https"} and target.netloc != own:
            offsite.urls.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", gate)
    browser_page = context.new_page()
    browser_page.set_default_timeout(15_000)
    yield browser_page
    context.close()
    assert not offsite.urls, f"the page requested other hosts: {offsite.urls}"


# ------------------------------------------------------------------------------ live site


@dataclass(frozen=True)
class Slugs:
    """Slugs of demo records, one per page type, looked up after seeding."""

    initiative: str
    plan: str
    organization: str
    focus_area: str
    sector: str


@dataclass(frozen=True)
class FacetSearch:
    """A focus area and a status that, together, match several published initiatives."""

    focus_area: str
    status: str
    titles: tuple[str, ...]


@dataclass(frozen=True)
class Site:
    url: str
    slugs: Slugs
    names: dict[str, str]
    facets: FacetSearch

    def path(self, language: str, view_name: str, **kwargs: str) -> str:
        from django.urls import reverse

        with translation.override(language):
            return reverse(view_name, kwargs=kwargs or None)

    def page_paths(self, language: str) -> dict[str, str]:
        """Every public page type, by name, in one language."""
        slugs = self.slugs
        prefix = f"/{language}"
        return {
            "home": self.path(language, "cities:home"),
            "jurisdiction": self.path(language, "cities:jurisdiction-detail", slug="chicago"),
            "initiative": self.path(
                language, "initiatives:initiative-detail", slug=slugs.initiative
            ),
            "plan": self.path(language, "initiatives:plan-detail", slug=slugs.plan),
            "organization": self.path(
                language, "council:organization-detail", slug=slugs.organization
            ),
            "focus-area": self.path(
                language, "initiatives:focus-area-detail", slug=slugs.focus_area
            ),
            "sector": self.path(language, "initiatives:sector-detail", slug=slugs.sector),
            "search": self.path(language, "initiatives:search") + "?q=data",
            "search-error": self.path(language, "initiatives:search") + "?status=no-such-status",
            "compare": self.path(language, "cities:compare")
            + "?j=chicago&j=new-york-city&j=boston",
            "coverage": self.path(language, "cities:coverage") + "?kind=place",
            "404": f"{prefix}/jurisdictions/no-such-place/",
        }


def _demo_slugs() -> Slugs:
    from django.db.models import Count

    from council.models import Organization
    from initiatives.models import FocusArea, Initiative, Plan, PublicationState, Sector

    published = PublicationState.PUBLISHED
    # The published initiative with the most indicators, so its page draws charts.
    initiative = (
        Initiative.objects.filter(publication_state=published)
        .annotate(charts=Count("indicators"))
        .order_by("-charts", "slug")
        .first()
    )
    plan = Plan.objects.filter(publication_state=published).order_by("slug").first()
    organization = (
        Organization.objects.filter(led_initiatives__publication_state=published)
        .order_by("slug")
        .first()
    )
    focus_area = (
        FocusArea.objects.filter(initiatives__publication_state=published).order_by("slug").first()
    )
    sector = (
        Sector.objects.filter(initiatives__publication_state=published).order_by("slug").first()
    )
    missing = [
        name
        for name, row in (
            ("initiative", initiative),
            ("plan", plan),
            ("organization", organization),
            ("focus area", focus_area),
            ("sector", sector),
        )
        if row is None
    ]
    assert not missing, f"the demo data has no published {missing}"
    assert initiative
    assert plan
    assert organization
    assert focus_area
    assert sector
    return Slugs(
        initiative=initiative.slug,
        plan=plan.slug,
        organization=organization.slug,
        focus_area=focus_area.slug,
        sector=sector.slug,
    )


def _facet_search() -> FacetSearch:
    from django.db.models import Count

    from initiatives.models import Initiative, PublicationState

    published = Initiative.objects.filter(publication_state=PublicationState.PUBLISHED)
    best = (
        published.values("focus_areas__slug", "status")
        .exclude(focus_areas__slug=None)
        .annotate(n=Count("id"))
        .order_by("-n", "focus_areas__slug", "status")
        .first()
    )
    assert best, "no published initiative has a focus area"
    titles = published.filter(
        focus_areas__slug=best["focus_areas__slug"], status=best["status"]
    ).values_list("title", flat=True)
    return FacetSearch(
        focus_area=best["focus_areas__slug"], status=best["status"], titles=tuple(titles)
    )


@pytest.fixture(scope="module")
def site(django_db_setup: None, django_db_blocker: Any) -> Iterator[Site]:
    """A live server over the demo data, shared by one module's tests."""
    from pytest_django.live_server_helper import LiveServer

    with django_db_blocker.unblock():
        connection = connections["default"]
        # Seeding commits: make sure this is the test database, never a developer's own.
        name = str(connection.settings_dict["NAME"])
        in_memory = connection.vendor == "sqlite" and "memory" in name
        assert in_memory or name.startswith("test_"), f"refusing to seed {name}"
        # Django's own serialized rollback: keep what migrations put in, restore it after.
        snapshot = connection.creation.serialize_db_to_string()
        call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
        from cities.models import Jurisdiction

        slugs = _demo_slugs()
        names = dict(Jurisdiction.objects.values_list("slug", "name"))
        facets = _facet_search()
        server = LiveServer("localhost")
        try:
            yield Site(url=server.url, slugs=slugs, names=names, facets=facets)
        finally:
            server.stop()
            call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0)
            connection.creation.deserialize_db_from_string(snapshot)
            # The restored rows keep their ids; PostgreSQL's sequences must move past them,
            # or the next test's insert collides with a restored taxonomy row.
            statements = connection.ops.sequence_reset_sql(no_style(), apps.get_models())
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
            translation.activate("en")


# ------------------------------------------------------------------------------ checkers


@pytest.fixture(scope="session")
def axe_source() -> str:
    require(AXE_JS.exists(), "node_modules/axe-core is missing: run `npm ci` (make test does)")
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def vnu() -> list[str]:
    """The command that runs the Nu HTML Checker, without its file arguments."""
    require(VNU_JAR.exists(), "node_modules/vnu-jar is missing: run `npm ci` (make test does)")
    java = shutil.which("java")
    require(java is not None, "java is missing: the Nu HTML Checker needs a Java runtime")
    assert java is not None
    return [java, "-Xss4m", "-jar", str(VNU_JAR), "--errors-only", "--format", "json"]


def run_vnu(command: list[str], files: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (a fixed command over files this test wrote)
        [*command, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
