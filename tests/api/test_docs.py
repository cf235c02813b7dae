"""Swagger UI and Redoc render from the Atlas's own static files, with nothing from elsewhere."""

import datetime as dt
import importlib.util
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.utils import timezone

from initiatives.models import Initiative
from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db

DOC_PAGES = ["/api/v1/docs/", "/api/v1/redoc/"]


class _Assets(HTMLParser):
    """Collects what a page loads: script sources, linked stylesheets, icons and preconnects."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.urls.append(values["src"] or "")
        if tag == "link" and values.get("href"):
            self.urls.append(values["href"] or "")


def assets_of(html: str) -> list[str]:
    parser = _Assets()
    parser.feed(html)
    return parser.urls


@pytest.mark.parametrize("page", DOC_PAGES)
def test_documentation_page_renders(client, page):
    """The page answers 200 with HTML."""
    response = client.get(page)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("page", DOC_PAGES)
def test_documentation_page_loads_nothing_from_elsewhere(client, page):
    """No <script src> or <link href> points off-site; the page names no outside host at all."""
    html = client.get(page).content.decode()

    urls = assets_of(html)

    assert urls
    assert not [url for url in urls if url.startswith(("http://", "https://", "//"))]
    assert "https://" not in html
    assert "http://" not in html


@pytest.mark.parametrize("page", DOC_PAGES)
def test_documentation_assets_are_local_static_files(client, page):
    """
    Each asset the page loads is a static file the Atlas serves itself, or Swagger UI's
    start-up script, which the page serves from its own address (no inline script, so
    the production Content Security Policy needs no exception for scripts).
    """
    static_prefix = "/" + settings.STATIC_URL.lstrip("/")

    for url in assets_of(client.get(page).content.decode()):
        if url == f"{page}?script=":
            assert client.get(url)["Content-Type"].startswith("application/javascript")
            continue
        assert url.startswith(static_prefix), url
        assert finders.find(url.removeprefix(static_prefix).split("?")[0]), url


def test_swagger_ui_reads_the_schema_endpoint_and_skips_the_outside_validator(client):
    """Swagger UI fetches /api/v1/schema/ and does not post it to an online validator."""
    script = client.get("/api/v1/docs/?script=").content.decode()

    assert '"/api/v1/schema/"' in script
    assert '"validatorUrl": null' in script


def test_redoc_reads_the_schema_endpoint(client):
    """Redoc renders the schema served at /api/v1/schema/."""
    html = client.get("/api/v1/redoc/").content.decode()

    assert "/api/v1/schema/" in html


# ------------------------------------------------------------------ docs/api_client.py


def _load_client():
    """docs/ is not a package; load the example client the way a reader would run it."""
    path = Path(__file__).resolve().parents[2] / "docs" / "api_client.py"
    spec = importlib.util.spec_from_file_location("atlas_api_client", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def published_in_illinois(atlas_map):
    cache.clear()
    chicago = [
        InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug=f"chicago-{n}")
        for n in range(3)
    ]
    springfield = InitiativeFactory.create(jurisdiction=atlas_map.springfield, slug="spring")
    InitiativeFactory.create(jurisdiction=atlas_map.nyc, slug="nyc")
    return {i.slug for i in [*chicago, springfield]}


@pytest.mark.django_db(transaction=True)
def test_example_client_follows_cursors_to_the_end(live_server, published_in_illinois):
    """The documented client, one record a page, reads every initiative in Illinois."""
    api = _load_client().AtlasClient(f"{live_server.url}/api/v1")

    records = api.iterate(
        "initiatives", jurisdiction="illinois", include_descendants="true", page_size="1"
    )

    assert {record["slug"] for record in records} == published_in_illinois


@pytest.mark.django_db(transaction=True)
def test_example_client_syncs_only_what_changed(live_server, published_in_illinois):
    """changed_since asks with updated_since, so older records are not fetched again."""
    api = _load_client().AtlasClient(f"{live_server.url}/api/v1")
    later = timezone.now() + dt.timedelta(hours=1)
    Initiative.objects.filter(slug="spring").update(updated_at=later)

    changed = api.changed_since("initiatives", later - dt.timedelta(seconds=1))

    assert [record["slug"] for record in changed] == ["spring"]
