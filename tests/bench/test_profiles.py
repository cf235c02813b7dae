"""The bench's in-process profiles: one pyinstrument text file per case."""

from pathlib import Path

import pytest

from bench import run
from tests.factories import InitiativeFactory


@pytest.mark.django_db
def test_each_case_gets_a_profile_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    InitiativeFactory.create()
    monkeypatch.setattr(run, "PROFILE_DIR", tmp_path / "profiles")
    monkeypatch.setattr(run, "REPO_ROOT", tmp_path)
    summary = run.profile_cases(
        {"list": {"app": "/api/v1/initiatives/?page_size=5"}}, host="testserver", requests=3
    )
    assert summary["list"]["statuses"] == {"200": 3}
    assert summary["list"]["file"] == "profiles/list.txt"
    text = (tmp_path / "profiles" / "list.txt").read_text()
    assert text.startswith("GET /api/v1/initiatives/?page_size=5: 3 requests")
    assert "InitiativeViewSet" in text
    assert "Profile at bench/run.py:" in text
    assert str(Path(run.__file__).resolve().parents[1]) not in text
