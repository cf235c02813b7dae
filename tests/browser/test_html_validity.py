"""
Every page type, in both languages, passes the Nu HTML Checker (npm vnu-jar) with no error.

The pages are fetched from the live server as served, then checked in one run of the checker:
the JVM takes seconds to start, so one run for all files keeps the test fast.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.browser.conftest import Site, run_vnu
from tests.browser.test_accessibility import LANGUAGES, PAGE_TYPES

# django_db makes pytest-django create the test database; the seeded rows live in the
# module-scoped site fixture, outside the per-test transaction.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def fetch(url: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Accept": "text/html"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        # 404 and 400 pages are pages too, and are checked like the others.
        return error.code, error.read().decode("utf-8")


# A page with one known error, checked in the same run: proof that the checker really ran
# and that its report is read, so a silent checker cannot pass the pages.
CANARY = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>canary</title></head>'
    '<body><p id="twice">one</p><p id="twice">two</p></body></html>'
)


def test_every_page_type_is_valid_html(site: Site, vnu: list[str], tmp_path: Path) -> None:
    files: dict[Path, str] = {}
    for language in LANGUAGES:
        for page_type, path in site.page_paths(language).items():
            status, html = fetch(site.url + path)
            assert status < 500, f"{path} answered {status}"
            file = tmp_path / f"{language}-{page_type}.html"
            file.write_text(html, encoding="utf-8")
            files[file] = path
    assert len(files) == len(PAGE_TYPES) * len(LANGUAGES)
    canary = tmp_path / "canary.html"
    canary.write_text(CANARY, encoding="utf-8")

    result = run_vnu(vnu, [*sorted(files), canary])
    # The checker prints its JSON report on stderr; a crash leaves no parsable report.
    try:
        report = json.loads(result.stderr or "{}")
    except json.JSONDecodeError:
        pytest.fail(
            f"the Nu HTML Checker did not report (exit {result.returncode}):\n"
            f"{result.stderr[-2000:]}"
        )
    errors = [
        m for m in report.get("messages", []) if m.get("type") in {"error", "non-document-error"}
    ]
    by_file: dict[str, list[dict[str, str]]] = {}
    for message in errors:
        name = Path(str(message.get("url", "")).removeprefix("file:")).name
        by_file.setdefault(name, []).append(message)

    canary_errors = by_file.pop(canary.name, [])
    assert any("Duplicate ID" in str(m.get("message")) for m in canary_errors), (
        f"the checker missed the planted error: {result.stderr[-2000:]}"
    )

    lines = []
    for name, messages in sorted(by_file.items()):
        path = next((p for f, p in files.items() if f.name == name), name)
        for message in messages:
            where = f"{path}:{message.get('lastLine', '?')}:{message.get('firstColumn', '?')}"
            extract = " ".join((message.get("extract") or "").split())
            lines.append(f"{where}: {message.get('message')}\n    {extract}")
    assert not lines, f"{len(lines)} HTML error(s):\n" + "\n".join(lines)
