"""What crawlers and link previews read: sitemap.xml, robots.txt, canonical URLs, JSON-LD."""

import json
import re

import pytest
from defusedxml import ElementTree  # type: ignore[import-untyped]
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from cities.models import Jurisdiction
from initiatives.models import FocusArea, Initiative, PublicationState
from initiatives.templatetags.seo import canonical_url, language_alternates
from tests.factories import InitiativeFactory, OrganizationFactory, PlanFactory

pytestmark = pytest.mark.django_db

SITEMAP_QUERIES = 6

NS = {
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "xhtml": "http://www.w3.org/1999/xhtml",
}


def sitemap(client) -> dict[str, dict[str, str]]:
    """Each <loc> in the sitemap, with its hreflang alternates."""
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    root = ElementTree.fromstring(response.content)
    urls = {}
    for url in root.findall("sm:url", NS):
        loc = url.find("sm:loc", NS).text
        urls[loc] = {
            link.get("hreflang"): link.get("href") for link in url.findall("xhtml:link", NS)
        }
    return urls


def render_jsonld(obj, path="/en/") -> dict:
    request = RequestFactory().get(path)
    html = Template("{% load seo %}{% jsonld obj %}").render(
        Context({"obj": obj, "request": request})
    )
    match = re.fullmatch(r'<script type="application/ld\+json">(.*)</script>', html, re.S)
    assert match, html
    return json.loads(match.group(1))


# ------------------------------------------------------------------------------
# sitemap.xml
# ------------------------------------------------------------------------------


@pytest.fixture
def records(atlas_map):
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug="public-one")
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, slug="secret-one", publication_state="draft"
    )
    PlanFactory.create(jurisdiction=atlas_map.chicago, slug="public-plan")
    PlanFactory.create(
        jurisdiction=atlas_map.chicago, slug="secret-plan", publication_state="draft"
    )
    OrganizationFactory.create(slug="uchicago")


def test_the_sitemap_covers_every_kind_of_public_page(client, records):
    locs = sitemap(client)
    base = "http://testserver"
    for path in (
        "/en/",
        "/fr/",
        "/en/jurisdictions/chicago/",
        "/fr/jurisdictions/illinois/",
        "/en/initiatives/public-one/",
        "/en/plans/public-plan/",
        "/en/organizations/uchicago/",
        "/en/focus-areas/open-government/",
        "/fr/sectors/technology/",
    ):
        assert base + path in locs, path


def test_the_sitemap_leaves_out_drafts(client, records):
    locs = " ".join(sitemap(client))
    assert "secret-one" not in locs
    assert "secret-plan" not in locs


def test_every_sitemap_address_has_english_french_and_default_alternates(client, records):
    locs = sitemap(client)
    entry = locs["http://testserver/fr/initiatives/public-one/"]
    assert entry == {
        "en": "http://testserver/en/initiatives/public-one/",
        "fr": "http://testserver/fr/initiatives/public-one/",
        "x-default": "http://testserver/initiatives/public-one/",
    }
    assert all(set(alternates) == {"en", "fr", "x-default"} for alternates in locs.values())


# ------------------------------------------------------------------------------
# robots.txt
# ------------------------------------------------------------------------------


def test_robots_txt_allows_pages_and_points_to_the_sitemap(client, db):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "User-agent: *" in text
    assert "Disallow: /en/admin/" in text
    assert "Disallow: /fr/admin/" in text
    assert "Disallow: /api/" in text
    assert "Sitemap: http://testserver/sitemap.xml" in text


# ------------------------------------------------------------------------------
# Canonical URLs, language alternates and Open Graph
# ------------------------------------------------------------------------------


def test_the_canonical_url_drops_the_query_but_keeps_meaningful_parameters():
    request = RequestFactory().get("/en/compare/", {"j": ["chicago", "paris"], "utm": "x"})
    assert canonical_url(request) == "http://testserver/en/compare/?j=chicago&j=paris"
    first_page = RequestFactory().get("/en/focus-areas/x/", {"page": "1", "sort": "title"})
    assert canonical_url(first_page) == "http://testserver/en/focus-areas/x/"
    second_page = RequestFactory().get("/en/focus-areas/x/", {"page": "2"})
    assert canonical_url(second_page) == "http://testserver/en/focus-areas/x/?page=2"


def test_language_alternates_translate_the_path(db):
    with translation.override("fr"):
        request = RequestFactory().get("/fr/jurisdictions/chicago/")
        assert language_alternates(request) == [
            ("en", "http://testserver/en/jurisdictions/chicago/"),
            ("fr", "http://testserver/fr/jurisdictions/chicago/"),
            ("x-default", "http://testserver/jurisdictions/chicago/"),
        ]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_default_address_sends_readers_to_their_language(client, atlas_map, language):
    response = client.get("/jurisdictions/chicago/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 302
    assert response["Location"] == f"/{language}/jurisdictions/chicago/"


def test_the_meta_include_renders_canonical_alternates_and_open_graph(db):
    request = RequestFactory().get("/fr/sectors/technology/?page=3&utm_source=x")
    with translation.override("fr"):
        html = Template('{% include "includes/meta.html" %}').render(
            Context({"request": request, "og_title": "Technologies", "og_description": "<b>"})
        )
    url = "http://testserver/fr/sectors/technology/?page=3"
    assert f'<link rel="canonical" href="{url}">' in html
    assert (
        '<link rel="alternate" hreflang="en" '
        'href="http://testserver/en/sectors/technology/?page=3">' in html
    )
    assert f'<link rel="alternate" hreflang="fr" href="{url}">' in html
    assert (
        '<link rel="alternate" hreflang="x-default" '
        'href="http://testserver/sectors/technology/?page=3">' in html
    )
    assert '<meta property="og:title" content="Technologies">' in html
    assert '<meta property="og:description" content="&lt;b&gt;">' in html
    assert f'<meta property="og:url" content="{url}">' in html
    assert '<meta property="og:type" content="website">' in html
    assert '<meta property="og:locale" content="fr_FR">' in html
    assert '<meta property="og:locale:alternate" content="en_GB">' in html


def test_without_a_title_open_graph_falls_back_to_the_site_name(db):
    request = RequestFactory().get("/en/")
    html = Template('{% include "includes/meta.html" %}').render(Context({"request": request}))
    assert '<meta property="og:title" content="Digital Leadership Atlas">' in html


@pytest.mark.parametrize(
    "path",
    [
        "/en/focus-areas/open-government/",
        "/fr/sectors/technology/",
        "/en/organizations/uchicago/",
        "/fr/plans/public-plan/",
    ],
)
def test_pages_carry_canonical_hreflang_and_json_ld(client, records, path):
    html = client.get(path).content.decode()
    assert f'<link rel="canonical" href="http://testserver{path}">' in html
    for code in ("en", "fr", "x-default"):
        assert f'<link rel="alternate" hreflang="{code}"' in html
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert blocks
    assert all(json.loads(block)["@context"] == "https://schema.org" for block in blocks)


# ------------------------------------------------------------------------------
# JSON-LD
# ------------------------------------------------------------------------------


def test_a_city_is_a_city_inside_its_state(atlas_map):
    chicago = Jurisdiction.objects.select_related("parent").get(slug="chicago")
    chicago.latitude, chicago.longitude = 41.88, -87.63
    data = render_jsonld(chicago)
    assert data["@type"] == "City"
    assert data["identifier"] == "ocd-division/country:us/state:il/place:chicago"
    assert data["url"] == "http://testserver/en/jurisdictions/chicago/"
    assert data["geo"] == {"@type": "GeoCoordinates", "latitude": 41.88, "longitude": -87.63}
    assert data["containedInPlace"] == {
        "@type": "AdministrativeArea",
        "name": "Illinois",
        "url": "http://testserver/en/jurisdictions/illinois/",
        "identifier": "ocd-division/country:us/state:il",
    }


def test_a_state_is_an_administrative_area_inside_its_country(atlas_map):
    illinois = Jurisdiction.objects.select_related("parent").get(slug="illinois")
    data = render_jsonld(illinois)
    assert data["@type"] == "AdministrativeArea"
    assert data["containedInPlace"]["name"] == "United States"


def test_json_ld_makes_no_query_for_relations_not_loaded(atlas_map):
    chicago = Jurisdiction.objects.get(slug="chicago")
    with CaptureQueriesContext(connection) as queries:
        data = render_jsonld(chicago)
    assert len(queries) == 0
    assert "containedInPlace" not in data


def test_an_organization_is_an_organization(atlas_map):
    org = OrganizationFactory.create(
        name="UChicago", website="https://uchicago.edu", jurisdiction=atlas_map.chicago
    )
    data = render_jsonld(org)
    assert data["@type"] == "Organization"
    assert data["sameAs"] == "https://uchicago.edu"
    assert data["location"]["@type"] == "City"


def test_an_initiative_is_a_project(atlas_map):
    initiative = Initiative.objects.select_related("jurisdiction__parent").get(
        pk=InitiativeFactory.create(jurisdiction=atlas_map.chicago).pk
    )
    data = render_jsonld(initiative)
    assert data["@type"] == "Project"
    assert data["location"]["@type"] == "City"
    assert data["location"]["containedInPlace"]["@type"] == "AdministrativeArea"


def test_a_focus_area_is_a_defined_term(db):
    data = render_jsonld(FocusArea.objects.get(slug="open-government"))
    assert data["@type"] == "DefinedTerm"
    assert data["termCode"] == "open-government"


def test_without_an_object_the_site_offers_its_search(db):
    data = render_jsonld(None)
    assert data["@type"] == "WebSite"
    action = data["potentialAction"]
    assert action["@type"] == "SearchAction"
    assert action["target"]["urlTemplate"] == "http://testserver/en/search/?q={search_term_string}"


def test_json_ld_cannot_close_its_script_element(atlas_map):
    initiative = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        title="</script><script>alert(1)</script> & <!--",
        publication_state=PublicationState.PUBLISHED,
    )
    html = Template("{% load seo %}{% jsonld obj %}").render(
        Context({"obj": initiative, "request": RequestFactory().get("/en/")})
    )
    assert html.count("</script>") == 1
    assert "<!--" not in html
    body = html.removeprefix('<script type="application/ld+json">').removesuffix("</script>")
    assert json.loads(body)["name"] == "</script><script>alert(1)</script> & <!--"


@pytest.mark.parametrize("size", [1, 10, 200])
def test_the_sitemap_runs_a_fixed_number_of_queries(client, atlas_map, size):
    Initiative.objects.bulk_create(
        Initiative(
            jurisdiction=atlas_map.chicago,
            title=f"Item {n}",
            slug=f"item-{n}",
            publication_state="published",
        )
        for n in range(size)
    )
    with CaptureQueriesContext(connection) as queries:
        locs = sitemap(client)
    assert sum("/en/initiatives/item-" in loc for loc in locs) == size
    # One per section but the home page's.
    assert len(queries) == SITEMAP_QUERIES
