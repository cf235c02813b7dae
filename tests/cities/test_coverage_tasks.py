"""A refresh that fails after its commit is logged, and the nightly rebuild catches up."""

import logging
from typing import Any

import pytest
from django.conf import settings
from django.db import DatabaseError

from cities import coverage, tasks
from cities.models import Coverage
from config.celery import app
from tests.conftest import AtlasMap
from tests.factories import InitiativeFactory


def _chicago_count(atlas_map: AtlasMap) -> int:
    row = Coverage.objects.filter(jurisdiction=atlas_map.chicago, focus_area=None).first()
    return row.subtree if row else 0


@pytest.mark.django_db
def test_a_failed_refresh_leaves_the_write_standing_and_the_rebuild_mends_it(
    atlas_map: AtlasMap,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.undo()  # the real deferral, on commit, rather than the suite's at-once one

    def broken(**kwargs: Any) -> int:
        raise DatabaseError("the summary could not be written")

    monkeypatch.setattr(coverage, "coverage_refresh", broken)
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        initiative = InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    assert "the summary could not be written" in caplog.text
    assert initiative.pk is not None
    assert _chicago_count(atlas_map) == 0

    monkeypatch.undo()
    assert tasks.rebuild_coverage() > 0
    assert _chicago_count(atlas_map) == 1


def test_the_rebuild_runs_nightly() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["rebuild-coverage"]
    assert entry["task"] == "cities.tasks.rebuild_coverage"
    assert entry["task"] in app.tasks
