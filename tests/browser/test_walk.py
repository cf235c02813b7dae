"""
The visitor's walk through the public site, in one browser tab: home → a city → one of its
initiatives → a search with two facets → a comparison of three cities → the same comparison
in French. Each step checks what the page shows, and the walk takes the README's screenshots.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.conftest import SCREENSHOTS, Site

# django_db makes pytest-django create the test database; the seeded rows live in the
# module-scoped site fixture, outside the per-test transaction.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

COMPARED = ["chicago", "new-york-city", "boston"]


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def heading(page: Any) -> str:
    return " ".join((page.locator("main h1").first.text_content() or "").split())


def choose(form: Any, name: str, value: str) -> None:
    """Pick a value in a facet, whether the form draws it as a select or as checkboxes."""
    field = form.locator(f'[name="{name}"]')
    assert field.count() > 0, f"the form has no field named {name!r}"
    first = field.first
    tag = first.evaluate("element => element.tagName")
    if tag == "SELECT":
        first.select_option(value=value)
    else:
        form.locator(f'[name="{name}"][value="{value}"]').check()


def submit(form: Any) -> None:
    form.locator('button[type="submit"], input[type="submit"], button:not([type])').first.click()


def test_walk(page: Any, site: Site) -> None:
    # ---- home
    page.goto(site.url + "/en/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert heading(page), "the home page has no heading"
    main = page.locator("main")
    assert main.get_by_role("link", name=site.names["chicago"], exact=True).count() > 0
    screenshot(page, "home.png")

    # ---- a city
    main.get_by_role("link", name=site.names["chicago"], exact=True).first.click()
    page.wait_for_url(re.compile(r"/en/jurisdictions/chicago/$"))
    assert heading(page) == site.names["chicago"]
    initiative_links = main.locator('a[href*="/en/initiatives/"]')
    assert initiative_links.count() > 0, "Chicago's page lists no initiative"
    screenshot(page, "city.png")

    # ---- one of its initiatives
    link = initiative_links.first
    title = " ".join((link.text_content() or "").split())
    link.click()
    page.wait_for_url(re.compile(r"/en/initiatives/[\w-]+/$"))
    assert heading(page) == title
    assert main.get_by_role("link", name=site.names["chicago"], exact=True).count() > 0, (
        "the initiative page does not link back to its city"
    )

    # ---- search with two facets, through the GET form
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Search").click()
    page.wait_for_url(re.compile(r"/en/search/"))
    form = page.locator("main form").filter(has=page.locator('[name="focus_area"]')).first
    choose(form, "focus_area", site.facets.focus_area)
    choose(form, "status", site.facets.status)
    submit(form)
    page.wait_for_url(re.compile(r"[?&]status="))
    query = parse_qs(urlsplit(page.url).query)
    assert query.get("focus_area") == [site.facets.focus_area]
    assert query.get("status") == [site.facets.status]
    text = " ".join((main.text_content() or "").split())
    expected = len(site.facets.titles)
    assert re.search(rf"\b{expected}\b", text), f"the result count {expected} is not shown"
    for expected_title in site.facets.titles[:10]:
        assert main.get_by_role("link", name=expected_title, exact=True).count() > 0, (
            f"{expected_title!r} is missing from the results"
        )

    # ---- compare three cities, through the compare form
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Compare").click()
    page.wait_for_url(re.compile(r"/en/compare/"))
    form = page.locator("main form").filter(has=page.locator('[name="j"]')).first
    fields = form.locator('[name="j"]')
    if fields.first.evaluate("element => element.tagName") == "SELECT" and fields.count() >= 3:
        for index, slug in enumerate(COMPARED):
            fields.nth(index).select_option(value=slug)
    else:
        for slug in COMPARED:
            choose(form, "j", slug)
    submit(form)
    page.wait_for_url(re.compile(r"/en/compare/\?"))
    assert sorted(parse_qs(urlsplit(page.url).query).get("j", [])) == sorted(COMPARED)
    assert_compare_table(page, site)
    screenshot(page, "compare.png")

    # ---- switch to French: same page, same query, French document
    page.locator('form.language-switch button[lang="fr"]').click()
    page.wait_for_url(re.compile(r"/fr/compare/\?"))
    assert page.locator("html").get_attribute("lang") == "fr"
    assert sorted(parse_qs(urlsplit(page.url).query).get("j", [])) == sorted(COMPARED)
    assert_compare_table(page, site)
    # The switch now offers English, labelled in English.
    back = page.locator('form.language-switch button[lang="en"]')
    assert (back.text_content() or "").strip() == "English"


def assert_compare_table(page: Any, site: Site) -> None:
    """The comparison has a table whose columns are exactly the three cities."""
    names = sorted(site.names[slug] for slug in COMPARED)
    tables = page.locator("main table")
    assert tables.count() > 0, "the compare page has no table"
    for index in range(tables.count()):
        headers = tables.nth(index).locator('thead th[scope="col"]')
        texts = [" ".join((t or "").split()) for t in headers.all_text_contents()]
        if sorted(texts[1:]) == names:
            return
    pytest.fail(f"no table on the compare page has the columns {names}")


def test_french_404(page: Any, site: Site) -> None:
    """An unknown slug under /fr/ gives the 404 page in French (DEBUG is off in tests)."""
    response = page.goto(site.url + "/fr/jurisdictions/no-such-place/")
    assert response is not None
    assert response.status == 404
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("navigation").count() >= 1
    # The language switch on a 404 page leads to the same missing page in English.
    page.locator('form.language-switch button[lang="en"]').click()
    page.wait_for_url(re.compile(r"/en/jurisdictions/no-such-place/$"))
    assert page.locator("html").get_attribute("lang") == "en"
