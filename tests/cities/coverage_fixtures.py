"""
Test support for the coverage summary, loaded by the suite's conftest.

The summary follows writes once their transaction commits, and a test's
transaction never does: here each write refreshes it at once instead, so pages
under test show what the test created.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def coverage_summary_follows_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    # Imported here: as a plugin this module loads before Django is set up.
    from cities import coverage

    monkeypatch.setattr(coverage, "_defer", lambda callback, using: callback())
