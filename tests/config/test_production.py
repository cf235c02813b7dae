"""
Production settings pass Django's deployment checks, and every page they serve carries a
Content Security Policy with a fresh nonce that each of its scripts holds.

The crawl applies config.security, the module production's settings build their middleware,
templates and policy from (the settings module itself refuses to load without secrets);
test_production_settings_use_config_security holds production to that module.
"""

import base64
import hashlib
import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation

from config.security import (
    PERMISSIONS_POLICY,
    content_security_policy,
    production_middleware,
    production_templates,
    style_attribute_hashes,
    tiles_origin,
)
from initiatives.models import FocusArea, Sector
from tests.conftest import REPO_ROOT, AtlasMap
from tests.factories import InitiativeFactory, OrganizationFactory, PlanFactory

# Variables that would change what production's settings load; each subprocess sets its own.
ENV_KEYS = (
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DJANGO_DEBUG",
    "EMAIL_URL",
    "REDIS_URL",
    "ATLAS_MAP_TILES_URL",
    "DJANGO_SETTINGS_MODULE",
    # Set in this process by the browser tests, for Playwright's event loop; a deployment
    # never has it, and check --deploy rightly refuses it (async.E001).
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)


def production_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(45),  # 60 characters
        ALLOWED_HOSTS="testserver",
        # A production mailer: the console backend is refused by Django's mail.E001.
        EMAIL_URL="smtp://mail.example.org:587",
        DATABASE_URL=os.environ.get("DATABASE_URL", "sqlite:///:memory:"),
    )
    env.update(extra)
    return env


def run(args: list[str], **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed interpreter and arguments
        [sys.executable, *args],
        cwd=REPO_ROOT,
        env=production_env(**extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# ------------------------------------------------------------------------------
# Settings
# ------------------------------------------------------------------------------


def test_check_deploy_reports_no_issues():
    """`check --deploy` under production settings: not one warning, nothing silenced."""
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout


PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "middleware": settings.MIDDLEWARE,
    "templates": settings.TEMPLATES,
    "csp": {k: [str(v) for v in vs] for k, vs in settings.SECURE_CSP.items()},
    "staticfiles": settings.STORAGES["staticfiles"]["BACKEND"],
    "conn_max_age": settings.DATABASES["default"]["CONN_MAX_AGE"],
    "conn_health_checks": settings.DATABASES["default"]["CONN_HEALTH_CHECKS"],
    "session_samesite": settings.SESSION_COOKIE_SAMESITE,
    "csrf_samesite": settings.CSRF_COOKIE_SAMESITE,
    "session_httponly": settings.SESSION_COOKIE_HTTPONLY,
    "csrf_httponly": settings.CSRF_COOKIE_HTTPONLY,
    "hsts": settings.SECURE_HSTS_SECONDS,
    "referrer": settings.SECURE_REFERRER_POLICY,
}, default=str))
"""


def probe(**extra: str) -> dict[str, Any]:
    result = run(["-c", PROBE], **extra)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_settings_use_config_security():
    """What the crawl below applies is what production loads."""
    found = probe()
    assert found["middleware"] == production_middleware(list(settings.MIDDLEWARE))
    assert found["templates"] == json.loads(
        json.dumps(production_templates(settings.TEMPLATES), default=str)
    )
    assert found["csp"] == {k: [str(v) for v in vs] for k, vs in content_security_policy().items()}


def test_production_middleware_order():
    """WhiteNoise comes right after SecurityMiddleware; CSP and Permissions-Policy are in."""
    middleware = probe()["middleware"]
    security = middleware.index("django.middleware.security.SecurityMiddleware")
    assert middleware[security + 1] == "whitenoise.middleware.WhiteNoiseMiddleware"
    assert "django.middleware.csp.ContentSecurityPolicyMiddleware" in middleware
    assert "config.headers.PermissionsPolicyMiddleware" in middleware
    # Base's own middleware all stays, once each.
    assert len(middleware) == len(set(middleware)) == len(settings.MIDDLEWARE) + 3


def test_production_hardening():
    found = probe()
    assert found["staticfiles"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert found["conn_max_age"] > 0
    assert found["conn_health_checks"] is True
    assert found["session_samesite"] == found["csrf_samesite"] == "Lax"
    assert found["session_httponly"] is found["csrf_httponly"] is True
    assert found["hsts"] >= 60 * 60 * 24 * 365
    assert found["referrer"] == "same-origin"
    processors = found["templates"][0]["OPTIONS"]["context_processors"]
    assert "django.template.context_processors.csp" in processors


def test_a_tile_server_is_allowed_for_images_only():
    """ATLAS_MAP_TILES_URL adds its origin to img-src, and to nothing else."""
    csp = probe(ATLAS_MAP_TILES_URL="https://{s}.tile.example.org/{z}/{x}/{y}.png")["csp"]
    assert csp["img-src"] == ["'self'", "data:", "https://*.tile.example.org"]
    assert all("example.org" not in " ".join(v) for k, v in csp.items() if k != "img-src")
    assert "example.org" not in " ".join(probe()["csp"]["img-src"])


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", "https://*.tile.openstreetmap.org"),
        ("https://tiles.example.org:8443/{z}/{x}/{y}.png", "https://tiles.example.org:8443"),
        ("", ""),
        ("/local/{z}/{x}/{y}.png", ""),
    ],
)
def test_tiles_origin(url, origin):
    assert tiles_origin(url) == origin


# ------------------------------------------------------------------------------
# The crawl
# ------------------------------------------------------------------------------


class Scripts(HTMLParser):
    """The attributes of every <script> element and every style attribute of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.styles: list[str] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self.scripts.append(found)
        if found.get("style"):
            self.styles.append(found["style"] or "")
        self.handlers += [name for name in found if name.startswith("on")]


def parse(html: str) -> Scripts:
    parser = Scripts()
    parser.feed(html)
    return parser


def directives(header: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def nonce_of(response: Any) -> str:
    script_src = directives(response["Content-Security-Policy"])["script-src"]
    nonces = [re.fullmatch(r"'nonce-([^']+)'", v) for v in script_src]
    found = [m.group(1) for m in nonces if m]
    assert len(found) == 1, script_src
    return found[0]


# WhiteNoise warns that STATIC_ROOT is empty: the tests run without collectstatic.
pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")


@pytest.fixture
def production_like() -> Iterator[None]:
    with override_settings(
        MIDDLEWARE=production_middleware(list(settings.MIDDLEWARE)),
        TEMPLATES=production_templates(settings.TEMPLATES),
        SECURE_CSP=content_security_policy(),
        SECURE_CONTENT_TYPE_NOSNIFF=True,
        SECURE_REFERRER_POLICY="same-origin",
    ):
        yield


@pytest.fixture
def pages(atlas_map: AtlasMap, chicago_editor: Any) -> dict[str, Any]:
    focus_area = FocusArea.objects.order_by("pk").first()
    sector = Sector.objects.order_by("pk").first()
    assert focus_area is not None
    assert sector is not None
    organization = OrganizationFactory.create()
    plan = PlanFactory.create(jurisdiction=atlas_map.chicago)
    initiative = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, plan=plan, focus_areas=[focus_area]
    )
    initiative.sectors.add(sector)
    return {
        "jurisdiction": atlas_map.chicago,
        "initiative": initiative,
        "plan": plan,
        "organization": organization,
        "focus_area": focus_area,
        "sector": sector,
        "editor": chicago_editor,
    }


def public_urls(pages: dict[str, Any]) -> list[str]:
    return [
        reverse("cities:home"),
        pages["jurisdiction"].get_absolute_url(),
        pages["initiative"].get_absolute_url(),
        pages["plan"].get_absolute_url(),
        reverse("council:organization-detail", kwargs={"slug": pages["organization"].slug}),
        pages["focus_area"].get_absolute_url(),
        pages["sector"].get_absolute_url(),
        reverse("initiatives:search"),
        reverse("initiatives:search") + "?q=initiative",
        reverse("cities:compare"),
        reverse("cities:coverage"),
        reverse("council:login"),
        reverse("cities:jurisdiction-detail", kwargs={"slug": "atlantis"}),
    ]


def editor_urls(pages: dict[str, Any]) -> list[str]:
    return [
        reverse("council:landing"),
        reverse("council:editing:initiative-edit", kwargs={"slug": pages["initiative"].slug}),
    ]


EXECUTABLE_TYPES = {"text/javascript", "application/javascript", "module"}


def check_page(client: Client, url: str) -> list[str]:
    """What is wrong with one page under the policy; empty when nothing is."""
    response = client.get(url)
    problems: list[str] = []
    if response.status_code not in (200, 404):
        return [f"{url}: status {response.status_code}"]
    if not response["Content-Type"].startswith("text/html"):
        return [f"{url}: {response['Content-Type']}"]
    for header in ("Permissions-Policy", "X-Content-Type-Options", "Referrer-Policy"):
        if header not in response:
            problems.append(f"{url}: no {header}")
    if "Content-Security-Policy" not in response:
        return [*problems, f"{url}: no Content-Security-Policy"]
    policy = directives(response["Content-Security-Policy"])
    if "'unsafe-inline'" in policy["script-src"] or "'unsafe-eval'" in policy["script-src"]:
        problems.append(f"{url}: script-src {policy['script-src']}")
    nonce = nonce_of(response)
    page = parse(response.content.decode())
    if not page.scripts:
        problems.append(f"{url}: no script at all; is this the site's layout?")
    for script in page.scripts:
        # JSON-LD and json_script's output are data blocks: browsers never run them, so
        # script-src does not govern them.
        if (script.get("type") or "text/javascript") not in EXECUTABLE_TYPES:
            continue
        if script.get("nonce") != nonce:
            problems.append(f"{url}: script without the nonce: {script}")
    allowed_styles = set(policy.get("style-src-attr", []))
    for style in page.styles:
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        if f"'sha256-{digest}'" not in allowed_styles:
            problems.append(f"{url}: style attribute the policy refuses: {style!r}")
    if page.handlers:
        problems.append(f"{url}: inline event handlers {page.handlers}")
    return problems


@pytest.mark.django_db
@pytest.mark.usefixtures("production_like")
@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_page_type_carries_the_policy_and_its_nonce(client, pages, language):
    """Public pages, sign-in, a 404, the council landing and an edit page, in both languages."""
    with translation.override(language):
        public = public_urls(pages)
        private = editor_urls(pages)
    assert all(url.startswith(f"/{language}/") for url in public + private)
    problems = [problem for url in public for problem in check_page(client, url)]
    client.force_login(pages["editor"])
    problems += [problem for url in private for problem in check_page(client, url)]
    assert problems == []


@pytest.mark.django_db
@pytest.mark.usefixtures("production_like")
def test_each_response_gets_a_fresh_nonce(client, pages):
    url = pages["initiative"].get_absolute_url()
    first, second = client.get(url), client.get(url)
    assert nonce_of(first) != nonce_of(second)
    assert f'nonce="{nonce_of(second)}"' in second.content.decode()
    assert f'nonce="{nonce_of(first)}"' not in second.content.decode()


@pytest.mark.django_db
@pytest.mark.usefixtures("production_like")
def test_the_policy_itself(client, pages):
    response = client.get(reverse("cities:home"))
    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"][0] == "'self'"
    assert policy["style-src"] == policy["style-src-elem"] == ["'self'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY
    for feature in ("camera", "microphone", "geolocation", "payment", "usb", "interest-cohort"):
        assert f"{feature}=()" in PERMISSIONS_POLICY


@pytest.mark.django_db
@pytest.mark.usefixtures("production_like")
def test_search_facet_indents_are_allowed_by_hash(client, atlas_map):
    """The jurisdiction facet's nested levels use style attributes the policy lists by hash."""
    InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    html = client.get(reverse("initiatives:search")).content.decode()
    styles = parse(html).styles
    assert styles, "the facet shows nested jurisdictions"
    allowed = set(style_attribute_hashes())
    for style in styles:
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in allowed, style


@pytest.mark.django_db
@pytest.mark.usefixtures("production_like")
def test_a_view_may_keep_its_own_permissions_policy(rf):
    from django.http import HttpResponse

    from config.headers import PermissionsPolicyMiddleware

    def view(request: Any) -> HttpResponse:
        response = HttpResponse()
        response["Permissions-Policy"] = "camera=(self)"
        return response

    assert PermissionsPolicyMiddleware(view)(rf.get("/"))["Permissions-Policy"] == "camera=(self)"


@pytest.mark.django_db
@pytest.mark.usefixtures("production_like")
@pytest.mark.parametrize("name", ["api-docs", "api-redoc"])
def test_the_api_documentation_keeps_scripts_strict(client, name):
    """The docs may inline styles (their UI libraries write them), never scripts."""
    response = client.get(reverse(name))
    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert "'unsafe-inline'" in policy["style-src"]
    page = parse(response.content.decode())
    runnable = [
        script
        for script in page.scripts
        if (script.get("type") or "text/javascript") in EXECUTABLE_TYPES
    ]
    assert runnable
    # Every script is loaded from this origin; none is written inline.
    assert all((script.get("src") or "").startswith("/") for script in runnable), runnable
    assert page.handlers == []
