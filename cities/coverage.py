"""
The public coverage summary: published initiatives per jurisdiction and focus area
(cities.models.Coverage), their spread over each kind of jurisdiction
(CoverageSpread) and atlas-wide totals (AtlasTotal).

Public pages read peers, peer medians and home page totals from these few rows
instead of counting a catalogue of a million initiatives. The summary is exact:

- every write through a model's ``save``/``delete`` or a focus-area change reaches
  ``coverage_refresh`` once its transaction commits, for the jurisdictions it touched
  (before and after a move);
- writes that skip signals (``bulk_create``, ``QuerySet.update``, COPY, a database
  restore) call ``coverage_rebuild`` or the ``rebuild_coverage`` command.

Each refresh recounts the touched jurisdictions' own published initiatives after the
commit and moves the difference up their paths; refreshes run one at a time (an
advisory lock on PostgreSQL), so the last one always sees every committed change.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connections, models, transaction
from django.db.models import Count
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from cities.models import PATH_SEPARATOR, AtlasTotal, Coverage, CoverageSpread, Jurisdiction

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock key shared by every writer of the summary ("atlas-cov").
LOCK_KEY = 0x61746C6173636F76
BATCH_SIZE = 5_000

# (jurisdiction id, focus area id or None for all areas)
Key = tuple[int, int | None]
# (scope, kind, focus area id or None, initiatives)
SpreadKey = tuple[str, str, int | None, int]

OWN = CoverageSpread.Scope.OWN.value
SUBTREE = CoverageSpread.Scope.SUBTREE.value


def _path_ids(path: str) -> list[int]:
    return [int(part) for part in path.split(PATH_SEPARATOR) if part]


def _lock(using: str) -> None:
    """Serialise summary writers until the end of the current transaction."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
    # SQLite lets a single writer in at a time anyway.


def _own_counts(using: str, jurisdiction_ids: Iterable[int] | None) -> dict[Key, int]:
    """Published initiatives per (jurisdiction, focus area or None), of the given jurisdictions."""
    from initiatives.models import Initiative

    published = Initiative.objects.using(using).published()
    if jurisdiction_ids is not None:
        published = published.filter(jurisdiction_id__in=list(jurisdiction_ids))
    counts: dict[Key, int] = {}
    totals = published.values("jurisdiction_id").annotate(n=Count("pk")).order_by()
    for row in totals:
        counts[row["jurisdiction_id"], None] = row["n"]
    through = Initiative.focus_areas.through
    by_area = (
        through.objects.using(using)
        .filter(initiative__in=published.values("pk"))
        .values("initiative__jurisdiction_id", "focusarea_id")
        .annotate(n=Count("initiative_id"))
        .order_by()
    )
    for area_row in by_area:
        key = (area_row["initiative__jurisdiction_id"], area_row["focusarea_id"])
        counts[key] = area_row["n"]
    return counts


# ------------------------------------------------------------------------------
# Refresh after a write
# ------------------------------------------------------------------------------


def coverage_refresh(*, jurisdiction_ids: Iterable[int], using: str = "default") -> int:
    """
    Bring the summary up to date for the initiatives of ``jurisdiction_ids``.

    Recounts those jurisdictions' own published initiatives, then adds the
    differences to their rows, their ancestors' ``subtree`` rows and the spreads.
    Returns the number of coverage rows changed.
    """
    ids = sorted(set(jurisdiction_ids))
    if not ids:
        return 0
    with transaction.atomic(using=using):
        _lock(using)
        paths = dict(Jurisdiction.objects.using(using).filter(pk__in=ids).values_list("pk", "path"))
        fresh = _own_counts(using, paths)
        stored = {
            (row.jurisdiction_id, row.focus_area_id): row.own
            for row in Coverage.objects.using(using).filter(jurisdiction_id__in=paths)
        }
        own_delta = {
            key: fresh.get(key, 0) - stored.get(key, 0)
            for key in {*fresh, *stored}
            if fresh.get(key, 0) != stored.get(key, 0)
        }
        if not own_delta:
            return 0
        subtree_delta: dict[Key, int] = defaultdict(int)
        for (jurisdiction_id, area_id), delta in own_delta.items():
            for ancestor_id in _path_ids(paths[jurisdiction_id]):
                subtree_delta[ancestor_id, area_id] += delta
        return _apply(using, own_delta, subtree_delta)


def _apply(using: str, own_delta: dict[Key, int], subtree_delta: dict[Key, int]) -> int:
    """Write the differences to Coverage and CoverageSpread; both dicts are non-empty-safe."""
    touched = {jurisdiction_id for jurisdiction_id, _area in {*own_delta, *subtree_delta}}
    kinds = dict(Jurisdiction.objects.using(using).filter(pk__in=touched).values_list("pk", "kind"))
    rows = {
        (row.jurisdiction_id, row.focus_area_id): row
        for row in Coverage.objects.using(using).filter(jurisdiction_id__in=touched)
    }
    spread: Counter[SpreadKey] = Counter()
    to_create: list[Coverage] = []
    to_update: list[Coverage] = []
    to_delete: list[int] = []
    for key in {*own_delta, *subtree_delta}:
        jurisdiction_id, area_id = key
        kind = kinds.get(jurisdiction_id)
        if kind is None:  # Deleted meanwhile: its rows went with it.
            continue
        row = rows.get(key)
        old_own, old_subtree = (row.own, row.subtree) if row else (0, 0)
        new_own = old_own + own_delta.get(key, 0)
        new_subtree = old_subtree + subtree_delta.get(key, 0)
        if new_own < 0 or new_subtree < 0:
            raise RuntimeError(f"coverage summary out of step at {key}; run rebuild_coverage")
        for scope, old, new in ((OWN, old_own, new_own), (SUBTREE, old_subtree, new_subtree)):
            if old != new:
                if old:
                    spread[scope, kind, area_id, old] -= 1
                if new:
                    spread[scope, kind, area_id, new] += 1
        if row is None:
            to_create.append(
                Coverage(
                    jurisdiction_id=jurisdiction_id,
                    focus_area_id=area_id,
                    own=new_own,
                    subtree=new_subtree,
                )
            )
        elif not new_own and not new_subtree:
            to_delete.append(row.pk)
        else:
            row.own, row.subtree = new_own, new_subtree
            to_update.append(row)
    Coverage.objects.using(using).filter(pk__in=to_delete).delete()
    Coverage.objects.using(using).bulk_update(to_update, ["own", "subtree"], batch_size=BATCH_SIZE)
    Coverage.objects.using(using).bulk_create(to_create, batch_size=BATCH_SIZE)
    _apply_spread(using, spread)
    return len(to_create) + len(to_update) + len(to_delete)


def _apply_spread(using: str, spread: Counter[SpreadKey]) -> None:
    changes = {key: delta for key, delta in spread.items() if delta}
    if not changes:
        return
    candidates = CoverageSpread.objects.using(using).filter(
        scope__in={key[0] for key in changes},
        kind__in={key[1] for key in changes},
        initiatives__in={key[3] for key in changes},
    )
    existing = {
        (row.scope, row.kind, row.focus_area_id, row.initiatives): row for row in candidates
    }
    to_create: list[CoverageSpread] = []
    to_update: list[CoverageSpread] = []
    to_delete: list[int] = []
    for key, delta in changes.items():
        row = existing.get(key)
        count = (row.jurisdictions if row else 0) + delta
        if count < 0:
            raise RuntimeError(f"coverage spread out of step at {key}; run rebuild_coverage")
        if row is None:
            scope, kind, area_id, initiatives = key
            to_create.append(
                CoverageSpread(
                    scope=scope,
                    kind=kind,
                    focus_area_id=area_id,
                    initiatives=initiatives,
                    jurisdictions=count,
                )
            )
        elif count == 0:
            to_delete.append(row.pk)
        else:
            row.jurisdictions = count
            to_update.append(row)
    CoverageSpread.objects.using(using).filter(pk__in=to_delete).delete()
    CoverageSpread.objects.using(using).bulk_update(to_update, ["jurisdictions"])
    CoverageSpread.objects.using(using).bulk_create(to_create)


def organization_total_refresh(*, using: str = "default") -> int:
    """Recount the organizations; a write path, so the count of a small table is cheap here."""
    from council.models import Organization

    with transaction.atomic(using=using):
        _lock(using)
        value = Organization.objects.using(using).count()
        AtlasTotal.objects.using(using).update_or_create(
            name=AtlasTotal.Name.ORGANIZATIONS, defaults={"value": value}
        )
    return value


# ------------------------------------------------------------------------------
# Full rebuild
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RebuildResult:
    coverage_rows: int
    spread_rows: int
    organizations: int


def coverage_rebuild(*, using: str = "default") -> RebuildResult:
    """
    Recompute the whole summary from the catalogue.

    For the paths that write without signals: bulk imports, generated data, restores.
    Two grouped scans of the published initiatives; seconds at a million.
    """
    from council.models import Organization

    with transaction.atomic(using=using):
        _lock(using)
        own = _own_counts(using, None)
        jurisdictions = {
            pk: (path, kind)
            for pk, path, kind in Jurisdiction.objects.using(using).values_list(
                "pk", "path", "kind"
            )
        }
        subtree: dict[Key, int] = defaultdict(int)
        for (jurisdiction_id, area_id), n in own.items():
            for ancestor_id in _path_ids(jurisdictions[jurisdiction_id][0]):
                subtree[ancestor_id, area_id] += n
        rows = [
            Coverage(
                jurisdiction_id=key[0],
                focus_area_id=key[1],
                own=own.get(key, 0),
                subtree=subtree.get(key, 0),
            )
            for key in {*own, *subtree}
            if key[0] in jurisdictions
        ]
        spread: Counter[SpreadKey] = Counter()
        for scope, values in ((OWN, own), (SUBTREE, subtree)):
            for (jurisdiction_id, area_id), n in values.items():
                if n and jurisdiction_id in jurisdictions:
                    spread[scope, jurisdictions[jurisdiction_id][1], area_id, n] += 1
        spread_rows = [
            CoverageSpread(
                scope=scope, kind=kind, focus_area_id=area_id, initiatives=n, jurisdictions=count
            )
            for (scope, kind, area_id, n), count in spread.items()
        ]
        Coverage.objects.using(using).all().delete()
        CoverageSpread.objects.using(using).all().delete()
        Coverage.objects.using(using).bulk_create(rows, batch_size=BATCH_SIZE)
        CoverageSpread.objects.using(using).bulk_create(spread_rows, batch_size=BATCH_SIZE)
        organizations = Organization.objects.using(using).count()
        AtlasTotal.objects.using(using).update_or_create(
            name=AtlasTotal.Name.ORGANIZATIONS, defaults={"value": organizations}
        )
        connection = connections[using]
        if connection.vendor == "postgresql":
            # Fresh statistics, or the planner takes the refilled tables for empty ones.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE cities_coverage, cities_coveragespread")
    return RebuildResult(
        coverage_rows=len(rows), spread_rows=len(spread_rows), organizations=organizations
    )


# ------------------------------------------------------------------------------
# Signals
# ------------------------------------------------------------------------------

# What a write changes in the summary: an initiative's presence, publication state,
# jurisdiction or focus areas. A save limited to other fields changes nothing.
RELEVANT_FIELDS = frozenset({"jurisdiction", "jurisdiction_id", "publication_state"})


def _defer(callback: Callable[[], Any], using: str) -> None:
    """
    Run ``callback`` once the current transaction commits (at once outside one).

    Robust: the write has committed and stands, so a refresh that fails is logged, not
    raised into the request; the next refresh of the same jurisdiction, or the nightly
    rebuild (cities.tasks), puts its figures right.
    """
    transaction.on_commit(callback, using=using, robust=True)


def _pending(using: str) -> set[int]:
    """The jurisdictions waiting for a refresh on this connection (thread-local)."""
    connection = connections[using]
    pending: set[int] | None = getattr(connection, "_atlas_coverage_pending", None)
    if pending is None:
        pending = set()
        connection._atlas_coverage_pending = pending  # type: ignore[attr-defined]
    return pending


def schedule_refresh(jurisdiction_ids: Iterable[int | None], *, using: str = "default") -> None:
    """
    Refresh the summary for ``jurisdiction_ids`` after the commit.

    The ids gather on the connection and the first callback to run refreshes them
    all at once, so a transaction saving a thousand initiatives costs one refresh.
    Ids left behind by a rollback are refreshed with the next commit: harmless.
    """
    pending = _pending(using)
    pending.update(pk for pk in jurisdiction_ids if pk is not None)

    def flush() -> None:
        ids = set(pending)
        pending.clear()
        if ids:
            coverage_refresh(jurisdiction_ids=ids, using=using)

    _defer(flush, using)


def schedule_rebuild(*, using: str = "default") -> None:
    _defer(lambda: coverage_rebuild(using=using), using)


def _relevant(update_fields: Iterable[str] | None) -> bool:
    return update_fields is None or bool(RELEVANT_FIELDS.intersection(update_fields))


def _initiative_pre_save(
    sender: type[models.Model], instance: Any, using: str = "default", **kwargs: Any
) -> None:
    # The jurisdiction an initiative leaves needs its recount too; only the database knows it.
    if instance._state.adding or instance.pk is None:
        return
    if not _relevant(kwargs.get("update_fields")):
        return
    previous = (
        sender._default_manager.using(using)
        .filter(pk=instance.pk)
        .values_list("jurisdiction_id", flat=True)
        .first()
    )
    if previous is not None and previous != instance.jurisdiction_id:
        instance._coverage_left = previous


def _initiative_saved(instance: Any, using: str = "default", **kwargs: Any) -> None:
    if _relevant(kwargs.get("update_fields")):
        left = instance.__dict__.pop("_coverage_left", None)
        schedule_refresh([instance.jurisdiction_id, left], using=using)


def _initiative_deleted(instance: Any, using: str = "default", **kwargs: Any) -> None:
    schedule_refresh([instance.jurisdiction_id], using=using)


def _focus_areas_changed(
    instance: Any,
    action: str,
    reverse: bool,
    model: type[models.Model],
    pk_set: set[int] | None,
    using: str = "default",
    **kwargs: Any,
) -> None:
    from initiatives.models import Initiative

    if not reverse:
        if action in ("post_add", "post_remove", "post_clear"):
            schedule_refresh([instance.jurisdiction_id], using=using)
        return
    # From the focus area's side: the initiatives are in pk_set, or, for a clear,
    # whatever the area held just before.
    if action == "pre_clear":
        held = Initiative.objects.using(using).filter(focus_areas=instance)
        ids = held.values_list("jurisdiction_id", flat=True).distinct().order_by()
        instance._coverage_cleared = list(ids)
    elif action == "post_clear":
        schedule_refresh(instance.__dict__.pop("_coverage_cleared", []), using=using)
    elif action in ("post_add", "post_remove") and pk_set:
        changed = Initiative.objects.using(using).filter(pk__in=pk_set)
        ids = changed.values_list("jurisdiction_id", flat=True).distinct().order_by()
        schedule_refresh(list(ids), using=using)


def _jurisdiction_pre_save(instance: Jurisdiction, using: str = "default", **kwargs: Any) -> None:
    # A move or a change of kind reshapes the roll-ups and spreads of a whole subtree:
    # rare enough (an editor's correction) to rebuild the summary outright.
    if instance._state.adding or instance.pk is None:
        return
    before = (
        Jurisdiction.objects.using(using)
        .filter(pk=instance.pk)
        .values_list("parent_id", "kind")
        .first()
    )
    moved = before is not None and before != (instance.parent_id, instance.kind)
    if moved and Coverage.objects.using(using).filter(jurisdiction=instance).exists():
        # Jurisdiction.save schedules the rebuild once the new paths are written.
        instance._coverage_moved = True  # type: ignore[attr-defined]


def _organizations_changed(using: str = "default", **kwargs: Any) -> None:
    if kwargs.get("created", True):
        _defer(lambda: organization_total_refresh(using=using), using)


def connect() -> None:
    """Wire the signals; called from CitiesConfig.ready()."""
    from council.models import Organization
    from initiatives.models import Initiative

    uid = "cities-coverage"
    pre_save.connect(_initiative_pre_save, sender=Initiative, dispatch_uid=f"{uid}:pre-save")
    post_save.connect(_initiative_saved, sender=Initiative, dispatch_uid=f"{uid}:save")
    post_delete.connect(_initiative_deleted, sender=Initiative, dispatch_uid=f"{uid}:delete")
    m2m_changed.connect(
        _focus_areas_changed,
        sender=Initiative.focus_areas.through,
        dispatch_uid=f"{uid}:focus-areas",
    )
    pre_save.connect(_jurisdiction_pre_save, sender=Jurisdiction, dispatch_uid=f"{uid}:move")
    post_save.connect(_organizations_changed, sender=Organization, dispatch_uid=f"{uid}:org-save")
    post_delete.connect(
        _organizations_changed, sender=Organization, dispatch_uid=f"{uid}:org-delete"
    )
