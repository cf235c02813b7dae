"""
axe-core on every page type in both languages, and the behaviour axe cannot see: the skip
link, focus on the error summary, charts and maps drawn with their accessible equivalents.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.browser.conftest import Site

# django_db makes pytest-django create the test database; the seeded rows live in the
# module-scoped site fixture, outside the per-test transaction.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

PAGE_TYPES = [
    "home",
    "jurisdiction",
    "initiative",
    "plan",
    "organization",
    "focus-area",
    "sector",
    "search",
    "search-error",
    "compare",
    "coverage",
    "404",
]
LANGUAGES = ["en", "fr"]
BLOCKING = {"serious", "critical"}


def run_axe(page: Any, axe_source: str) -> list[dict[str, Any]]:
    page.add_script_tag(content=axe_source)
    # WCAG 2.1 A and AA plus axe's best practices; only serious and critical ones fail a test.
    result = page.evaluate(
        """async () => {
            const results = await axe.run(document, {
                runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                                 "best-practice"]},
                resultTypes: ["violations"],
            });
            return results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target.join(" "),
                                          summary: n.failureSummary})),
            }));
        }"""
    )
    return list(result)


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']}")
        for node in violation["nodes"][:5]:
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"    at {node['target']}: {summary}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    … and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)


def settle(page: Any) -> None:
    """Let atlas.js finish drawing charts and maps, so axe audits the enhanced page."""
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("page_type", PAGE_TYPES)
def test_no_serious_axe_violations(
    page: Any, site: Site, axe_source: str, page_type: str, language: str
) -> None:
    """Each page type, in each language, has no serious or critical axe-core violation."""
    path = site.page_paths(language)[page_type]
    response = page.goto(site.url + path)
    assert response is not None
    expected = {"404": 404, "search-error": {200, 400}}.get(page_type, 200)
    assert response.status in (expected if isinstance(expected, set) else {expected}), (
        f"{path} answered {response.status}"
    )
    settle(page)
    assert page.locator("html").get_attribute("lang") == language

    violations = run_axe(page, axe_source)
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    others = [v for v in violations if v["impact"] not in BLOCKING]
    if others:
        # Moderate and minor findings do not fail the test; they are printed for the record.
        print(f"\n{path}: minor findings\n{describe(others)}")
    assert not blocking, f"axe-core found on {path}:\n{describe(blocking)}"


def test_skip_link_moves_focus_to_main(page: Any, site: Site) -> None:
    """The first Tab reaches the visible skip link, and following it focuses the main region."""
    page.goto(site.url + site.page_paths("en")["home"])
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    assert skip.evaluate("element => element === document.activeElement")
    box = skip.bounding_box()
    assert box is not None
    assert box["y"] >= 0, "the focused skip link stays off screen"
    outline = skip.evaluate("element => getComputedStyle(element).outlineWidth")
    assert outline == "3px"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_landmarks_and_navigation(page: Any, site: Site) -> None:
    """Banner, main navigation, main and contentinfo landmarks, with the footer's data links."""
    page.goto(site.url + site.page_paths("en")["jurisdiction"])
    assert page.get_by_role("banner").count() == 1
    assert page.get_by_role("main").count() == 1
    assert page.get_by_role("contentinfo").count() == 1
    nav = page.get_by_role("navigation", name="Main")
    for name in ("Home", "Search", "Compare", "Coverage"):
        assert nav.get_by_role("link", name=name, exact=True).count() == 1
    footer = page.get_by_role("contentinfo")
    hrefs = footer.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert "/api/v1/docs/" in hrefs
    assert "/api/v1/dumps/" in hrefs
    assert any(href.endswith(".atom") for href in hrefs)
    description = page.locator('meta[name="description"]').get_attribute("content")
    assert description
    assert description.strip()


def test_focus_is_visible_on_links_and_buttons(page: Any, site: Site) -> None:
    """Keyboard focus draws a 3px outline on links and on the language button."""
    page.goto(site.url + site.page_paths("en")["home"])
    seen = set()
    for _ in range(8):
        page.keyboard.press("Tab")
        tag, width, style = page.evaluate(
            """() => {
                const element = document.activeElement;
                const css = getComputedStyle(element);
                return [element.tagName, css.outlineWidth, css.outlineStyle];
            }"""
        )
        if tag in {"A", "BUTTON"}:
            assert (width, style) == ("3px", "solid"), f"{tag} has no visible focus"
            seen.add(tag)
    assert seen == {"A", "BUTTON"}


def test_error_summary_takes_focus(page: Any, site: Site) -> None:
    """Malformed filters give a GOV.UK error summary that is focused on load and links a field."""
    page.goto(site.url + site.page_paths("en")["search-error"])
    summary = page.locator(".error-summary")
    assert summary.count() == 1
    assert summary.get_attribute("role") == "alert"
    page.wait_for_function(
        "document.activeElement && document.activeElement.classList.contains('error-summary')"
    )
    link = summary.locator("a").first
    target = link.get_attribute("href")
    assert target
    assert target.startswith("#id_")
    assert page.locator(target).count() == 1, f"the summary links to {target}, not in the page"
    link.click()
    assert page.evaluate("document.activeElement.id") == target[1:]


def test_charts_drawn_from_tables(page: Any, site: Site) -> None:
    """Each data table with data-chart gets a labelled canvas before it, and stays in the page."""
    page.goto(site.url + site.page_paths("en")["initiative"])
    tables = page.locator("table[data-chart]")
    if tables.count() == 0:
        pytest.fail("the demo initiative page has no chart table to enhance")
    page.wait_for_function(
        "document.querySelectorAll('canvas[role=img]').length >= "
        "document.querySelectorAll('table[data-chart]').length"
    )
    labels = page.locator("canvas[role=img]").evaluate_all(
        "canvases => canvases.map(c => c.getAttribute('aria-label'))"
    )
    assert all(label and label.strip() for label in labels)
    # The table is still there for screen readers and for anyone who opens the disclosure.
    assert page.locator("table[data-chart] tbody tr").count() > 0
    drawn = page.evaluate(
        "Array.from(document.querySelectorAll('canvas[role=img]'))"
        ".every(c => window.Chart && Chart.getChart(c))"
    )
    assert drawn


def test_map_drawn_with_markers_and_no_tiles(page: Any, site: Site, offsite: Any) -> None:
    """The home map draws one marker per point, with popups linking to the site, and no tiles."""
    page.goto(site.url + site.page_paths("en")["home"])
    containers = page.locator(".atlas-map[data-geojson]")
    if containers.count() == 0:
        pytest.fail("the home page has no .atlas-map container")
    page.wait_for_selector(".atlas-map.leaflet-container path.leaflet-interactive")
    script_id = containers.first.get_attribute("data-geojson")
    collection = json.loads(page.locator(f"script#{script_id}").text_content() or "{}")
    points = [f for f in collection["features"] if f["geometry"]["type"] == "Point"]
    markers = page.locator(".atlas-map path.leaflet-interactive")
    assert markers.count() >= len(points) > 0
    assert page.locator(".atlas-map .leaflet-tile").count() == 0
    markers.first.click(force=True)
    popup_link = page.locator(".leaflet-popup-content a").first
    popup_link.wait_for()
    href = popup_link.get_attribute("href") or ""
    assert href.startswith(site.url)
    assert not offsite.urls


def test_axe_harness_reports_a_planted_violation(page: Any, site: Site, axe_source: str) -> None:
    """The audit can fail: an image without alt text planted in a page is reported."""
    page.goto(site.url + site.page_paths("en")["home"])
    page.evaluate(
        """() => {
            const image = document.createElement("img");
            image.src = "/static/vendor/leaflet/images/marker-icon.png";
            document.querySelector("main").appendChild(image);
        }"""
    )
    violations = run_axe(page, axe_source)
    assert any(v["id"] == "image-alt" and v["impact"] in BLOCKING for v in violations), describe(
        violations
    )
