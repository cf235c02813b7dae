"""The coverage summary follows every write exactly, and a rebuild agrees with it."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from cities import coverage
from cities.models import AtlasTotal, Coverage, CoverageSpread, Jurisdiction
from initiatives.models import FocusArea, Initiative, PublicationState
from tests.conftest import AtlasMap
from tests.factories import InitiativeFactory, JurisdictionFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def snapshot() -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]], int | None]:
    rows = set(Coverage.objects.values_list("jurisdiction_id", "focus_area_id", "own", "subtree"))
    spread = set(
        CoverageSpread.objects.values_list(
            "scope", "kind", "focus_area_id", "initiatives", "jurisdictions"
        )
    )
    organizations = (
        AtlasTotal.objects.filter(name=AtlasTotal.Name.ORGANIZATIONS)
        .values_list("value", flat=True)
        .first()
    )
    return rows, spread, organizations


def assert_matches_a_rebuild() -> None:
    maintained = snapshot()
    coverage.coverage_rebuild()
    assert maintained == snapshot()


def areas(count: int) -> list[FocusArea]:
    return list(FocusArea.objects.order_by("position", "slug")[:count])


def subtree(jurisdiction: Jurisdiction, area: FocusArea | None = None) -> int:
    row = Coverage.objects.filter(jurisdiction=jurisdiction, focus_area=area).first()
    return row.subtree if row else 0


def test_published_initiatives_count_in_their_jurisdiction_and_every_ancestor(
    atlas_map: AtlasMap,
) -> None:
    first, second = areas(2)
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, focus_areas=[first, second])
    InitiativeFactory.create(jurisdiction=atlas_map.springfield, focus_areas=[first])
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, publication_state=PublicationState.DRAFT
    )
    assert subtree(atlas_map.chicago) == 1
    assert subtree(atlas_map.illinois, first) == 2
    assert subtree(atlas_map.us) == 2
    assert subtree(atlas_map.us, second) == 1
    own = Coverage.objects.get(jurisdiction=atlas_map.illinois, focus_area=None)
    assert own.own == 0
    assert_matches_a_rebuild()


def test_publishing_unpublishing_and_deleting_move_the_counts(atlas_map: AtlasMap) -> None:
    (area,) = areas(1)
    initiative = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        focus_areas=[area],
        publication_state=PublicationState.DRAFT,
    )
    assert subtree(atlas_map.us) == 0
    initiative.publication_state = PublicationState.PUBLISHED
    initiative.save()
    assert subtree(atlas_map.us, area) == 1
    assert_matches_a_rebuild()
    initiative.publication_state = PublicationState.REVIEW
    initiative.save(update_fields=["publication_state"])
    assert subtree(atlas_map.us, area) == 0
    initiative.publication_state = PublicationState.PUBLISHED
    initiative.save()
    initiative.delete()
    assert not Coverage.objects.exists()
    assert not CoverageSpread.objects.exists()


def test_moving_an_initiative_recounts_the_jurisdiction_it_left(atlas_map: AtlasMap) -> None:
    initiative = InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    initiative.jurisdiction = atlas_map.nyc
    initiative.save()
    assert subtree(atlas_map.chicago) == 0
    assert subtree(atlas_map.illinois) == 0
    assert subtree(atlas_map.nyc) == 1
    assert subtree(atlas_map.us) == 1
    assert_matches_a_rebuild()


def test_focus_areas_changed_from_either_side_are_counted(atlas_map: AtlasMap) -> None:
    first, second = areas(2)
    initiative = InitiativeFactory.create(jurisdiction=atlas_map.chicago, focus_areas=[first])
    initiative.focus_areas.set([second])
    assert subtree(atlas_map.chicago, first) == 0
    assert subtree(atlas_map.chicago, second) == 1
    first.initiatives.add(initiative)
    assert subtree(atlas_map.chicago, first) == 1
    second.initiatives.clear()
    assert subtree(atlas_map.chicago, second) == 0
    assert_matches_a_rebuild()


def test_moving_a_jurisdiction_rebuilds_the_summary(atlas_map: AtlasMap) -> None:
    InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    atlas_map.chicago.parent = atlas_map.new_york
    atlas_map.chicago.save()
    assert subtree(atlas_map.illinois) == 0
    assert subtree(atlas_map.new_york) == 1
    assert_matches_a_rebuild()


def test_the_spread_counts_jurisdictions_by_their_number_of_initiatives(
    atlas_map: AtlasMap,
) -> None:
    InitiativeFactory.create_batch(2, jurisdiction=atlas_map.chicago)
    InitiativeFactory.create(jurisdiction=atlas_map.springfield)
    InitiativeFactory.create(jurisdiction=atlas_map.nyc)
    places = dict(
        CoverageSpread.objects.filter(
            scope="subtree", kind=Jurisdiction.Kind.PLACE, focus_area=None
        ).values_list("initiatives", "jurisdictions")
    )
    assert places == {1: 2, 2: 1}


def test_organizations_are_counted_as_they_come_and_go(db: None) -> None:
    kept = OrganizationFactory.create()
    gone = OrganizationFactory.create()
    assert AtlasTotal.objects.get(name="organizations").value == 2
    gone.delete()
    kept.save()
    assert AtlasTotal.objects.get(name="organizations").value == 1


def test_the_summary_waits_for_the_commit_and_refreshes_once(
    atlas_map: AtlasMap, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    """Inside a transaction nothing moves; at the commit one refresh covers every write."""
    monkeypatch.setattr(coverage, "_defer", coverage.transaction.on_commit)
    calls: list[set[int]] = []
    refresh = coverage.coverage_refresh

    def counted(*, jurisdiction_ids: Any, using: str = "default") -> int:
        calls.append(set(jurisdiction_ids))
        return refresh(jurisdiction_ids=jurisdiction_ids, using=using)

    monkeypatch.setattr(coverage, "coverage_refresh", counted)
    with django_capture_on_commit_callbacks(execute=True):
        InitiativeFactory.create_batch(3, jurisdiction=atlas_map.chicago, focus_areas=areas(1))
        InitiativeFactory.create(jurisdiction=atlas_map.nyc)
        assert not Coverage.objects.exists()
    assert calls == [{atlas_map.chicago.pk, atlas_map.nyc.pk}]
    assert subtree(atlas_map.us) == 4
    assert_matches_a_rebuild()


def test_bulk_writes_are_caught_up_by_the_rebuild_command(atlas_map: AtlasMap) -> None:
    Initiative.objects.bulk_create(
        Initiative(
            jurisdiction=atlas_map.chicago,
            title=f"Bulk {n}",
            slug=f"bulk-{n}",
            publication_state=PublicationState.PUBLISHED,
        )
        for n in range(3)
    )
    assert subtree(atlas_map.chicago) == 0
    out = StringIO()
    call_command("rebuild_coverage", stdout=out)
    assert subtree(atlas_map.chicago) == 3
    assert "coverage rows" in out.getvalue()


def test_a_refresh_of_an_unchanged_jurisdiction_writes_nothing(atlas_map: AtlasMap) -> None:
    InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    assert coverage.coverage_refresh(jurisdiction_ids=[atlas_map.chicago.pk]) == 0
    assert coverage.coverage_refresh(jurisdiction_ids=[]) == 0


def test_a_new_place_without_initiatives_has_no_rows(db: None) -> None:
    JurisdictionFactory.create()
    assert not Coverage.objects.exists()
