"""
An initiative or a plan as one plain, JSON-ready dict, and back again.

Three things share this format:

- a **revision**: changes to a published record wait as a snapshot until a
  reviewer publishes them, while the public keeps seeing the record as it was;
- a **restore**: the record's history, rebuilt as of a moment, is a snapshot
  that is applied like any other change, so a restore is a new version and
  destroys nothing;
- the **diffs** of the review queue and the history page.

An initiative's snapshot holds its own fields, its focus areas and sectors,
and its child rows (milestones, indicators with their measurements,
partnerships, sources and outgoing links), each child with its ``id`` (None
for a row not made yet). Values are JSON-ready: dates as ISO strings, decimals
as strings with the field's own places, foreign keys as ids.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from initiatives.models import (
    Indicator,
    Initiative,
    InitiativeLink,
    Measurement,
    Milestone,
    Partnership,
    Plan,
    Source,
)
from initiatives.services import delete_with_history, save_with_history

type Snapshot = dict[str, Any]
type Record = Initiative | Plan

INITIATIVE_FIELDS = (
    "title",
    "summary",
    "description",
    "language",
    "status",
    "start_date",
    "end_date",
    "budget_amount",
    "budget_currency",
    "plan",
    "lead_organization",
    "is_illustrative",
    "external_id",
)
PLAN_FIELDS = (
    "title",
    "summary",
    "description",
    "language",
    "published_on",
    "url",
    "source_url",
    "is_illustrative",
)
INITIATIVE_M2M = ("focus_areas", "sectors")


@dataclass(frozen=True)
class Children:
    """One kind of child row: its model, the key to its parent and the fields a snapshot keeps."""

    key: str
    model: type[models.Model]
    parent_field: str
    fields: tuple[str, ...]


MEASUREMENTS = Children(
    "measurements", Measurement, "indicator", ("measured_on", "value", "source_url")
)
INITIATIVE_CHILDREN = (
    Children("milestones", Milestone, "initiative", ("title", "due_date", "completed_on")),
    Children("indicators", Indicator, "initiative", ("name", "unit", "baseline", "target")),
    Children("partnerships", Partnership, "initiative", ("organization", "role")),
    Children("sources", Source, "initiative", ("kind", "title", "url", "accessed_on")),
    Children("links", InitiativeLink, "from_initiative", ("to_initiative", "kind", "note")),
)


def verbose_name(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    return str(getattr(field, "verbose_name", name))


def fields_of(record: Record | type[Record]) -> tuple[str, ...]:
    is_initiative = record is Initiative or isinstance(record, Initiative)
    return INITIATIVE_FIELDS if is_initiative else PLAN_FIELDS


# ------------------------------------------------------------------------------
# Values
# ------------------------------------------------------------------------------


def encode(field: models.Field[Any, Any], value: Any) -> Any:
    """A model value as JSON: the one spelling per value, so equal values compare equal."""
    if value is None:
        return None
    if isinstance(field, models.DecimalField):
        places = Decimal(1).scaleb(-(field.decimal_places or 0))
        return str(Decimal(value).quantize(places))
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def decode(field: models.Field[Any, Any], value: Any) -> Any:
    """A JSON value back into what the model field holds (an id for a foreign key)."""
    if value is None or isinstance(field, models.ForeignKey):
        return value
    return field.to_python(value)


def _row(model: type[models.Model], source: Any, names: Iterable[str]) -> dict[str, Any]:
    """``names`` read from ``source`` (a model or historical row), foreign keys as ids."""
    values: dict[str, Any] = {}
    for name in names:
        field = model._meta.get_field(name)
        attname = field.attname  # type: ignore[union-attr]
        values[name] = encode(field, getattr(source, attname))  # type: ignore[arg-type]
    return values


# ------------------------------------------------------------------------------
# Reading
# ------------------------------------------------------------------------------


def snapshot(record: Record) -> Snapshot:
    """The record as it is stored now."""
    data: Snapshot = {"fields": _row(type(record), record, fields_of(record))}
    if isinstance(record, Initiative):
        for name in INITIATIVE_M2M:
            data[name] = sorted(getattr(record, name).values_list("pk", flat=True))
        for spec in INITIATIVE_CHILDREN:
            rows = spec.model._default_manager.filter(**{spec.parent_field: record}).order_by("pk")
            data[spec.key] = [{"id": row.pk, **_row(spec.model, row, spec.fields)} for row in rows]
        measurements = _group(
            Measurement.objects.filter(indicator__initiative=record).order_by("measured_on", "pk"),
            "indicator_id",
        )
        for indicator in data["indicators"]:
            indicator["measurements"] = [
                {"id": m.pk, **_row(Measurement, m, MEASUREMENTS.fields)}
                for m in measurements.get(indicator["id"], [])
            ]
    return data


def _group(rows: Iterable[Any], attname: str) -> dict[Any, list[Any]]:
    grouped: dict[Any, list[Any]] = {}
    for row in rows:
        grouped.setdefault(getattr(row, attname), []).append(row)
    return grouped


def _rows_as_of(model: type[models.Model], when: datetime.datetime, **lookup: Any) -> list[Any]:
    """The historical rows of ``model`` that still existed at ``when``, one per id."""
    history = model.history.model  # type: ignore[attr-defined]
    latest: dict[Any, Any] = {}
    rows = history.objects.filter(history_date__lte=when, **lookup).order_by(
        "history_date", "history_id"
    )
    for row in rows:
        latest[row.id] = row
    return sorted(
        (row for row in latest.values() if row.history_type != "-"), key=lambda row: row.id
    )


def snapshot_at(record: Record, when: datetime.datetime) -> Snapshot:
    """
    The record as it was at ``when``, rebuilt from its history and its children's.

    Raises ValidationError when the record did not exist yet.
    """
    model = type(record)
    versions = _rows_as_of(model, when, id=record.pk)
    if not versions:
        raise ValidationError(_("This record did not exist at that time."), code="no_version")
    version = versions[0]
    data: Snapshot = {"fields": _row(model, version, fields_of(record))}
    if isinstance(record, Initiative):
        for name in INITIATIVE_M2M:
            m2m_history = model.history.model._meta.get_field(
                f"historicalinitiative_{name}"
            ).related_model
            target = "focusarea_id" if name == "focus_areas" else "sector_id"
            data[name] = sorted(
                m2m_history.objects.filter(history_id=version.history_id).values_list(
                    target, flat=True
                )
            )
        for spec in INITIATIVE_CHILDREN:
            rows = _rows_as_of(spec.model, when, **{f"{spec.parent_field}_id": record.pk})
            data[spec.key] = [{"id": row.id, **_row(spec.model, row, spec.fields)} for row in rows]
        indicator_ids = [indicator["id"] for indicator in data["indicators"]]
        measurements = _group(
            _rows_as_of(Measurement, when, indicator_id__in=indicator_ids), "indicator_id"
        )
        for indicator in data["indicators"]:
            indicator["measurements"] = sorted(
                (
                    {"id": m.id, **_row(Measurement, m, MEASUREMENTS.fields)}
                    for m in measurements.get(indicator["id"], [])
                ),
                key=lambda m: (m["measured_on"], m["id"]),
            )
    return data


# ------------------------------------------------------------------------------
# Differences
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One difference between two snapshots, in words a reviewer reads."""

    section: str  # "" for the record's own fields, else the children's key
    label: str  # the field's verbose name, or the child row's title
    field: str
    before: Any
    after: Any
    kind: str  # "changed", "added" or "removed"


def diff(before: Snapshot, after: Snapshot, *, model: type[Record]) -> list[Change]:
    """What changed from ``before`` to ``after``, record fields first, then each kind of child."""
    changes: list[Change] = []
    old_fields, new_fields = before.get("fields", {}), after.get("fields", {})
    for name in fields_of(model):
        if old_fields.get(name) != new_fields.get(name):
            label = verbose_name(model, name)
            changes.append(
                Change("", label, name, old_fields.get(name), new_fields.get(name), "changed")
            )
    for name in INITIATIVE_M2M if model is Initiative else ():
        if sorted(before.get(name, [])) != sorted(after.get(name, [])):
            label = verbose_name(model, name)
            changes.append(Change("", label, name, before.get(name), after.get(name), "changed"))
    if model is Initiative:
        for spec in INITIATIVE_CHILDREN:
            changes += _diff_children(spec, before.get(spec.key, []), after.get(spec.key, []))
            if spec.key == "indicators":
                old_series = {i["id"]: i.get("measurements", []) for i in before.get(spec.key, [])}
                for indicator in after.get(spec.key, []):
                    changes += _diff_children(
                        MEASUREMENTS,
                        old_series.get(indicator["id"], []),
                        indicator.get("measurements", []),
                    )
    return changes


def _diff_children(
    spec: Children, before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> list[Change]:
    changes: list[Change] = []
    old = {row["id"]: row for row in before if row.get("id") is not None}
    kept: set[Any] = set()
    for row in after:
        previous = old.get(row.get("id"))
        if previous is None:
            changes.append(Change(spec.key, _title(spec, row), "", None, row, "added"))
            continue
        kept.add(row["id"])
        for name in spec.fields:
            if previous.get(name) != row.get(name):
                label = verbose_name(spec.model, name)
                changes.append(
                    Change(
                        spec.key,
                        f"{_title(spec, row)}: {label}",
                        name,
                        previous.get(name),
                        row.get(name),
                        "changed",
                    )
                )
    for row_id, row in old.items():
        if row_id not in kept:
            changes.append(Change(spec.key, _title(spec, row), "", row, None, "removed"))
    return changes


def _title(spec: Children, row: Mapping[str, Any]) -> str:
    for name in ("title", "name", "measured_on", "role", "kind"):
        if row.get(name):
            return str(row[name])
    return str(spec.model._meta.verbose_name)


# ------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------


@transaction.atomic
def apply_snapshot(
    record: Record,
    data: Snapshot,
    *,
    actor: AbstractBaseUser,
    reason: str,
    check_lifecycle: bool = True,
) -> Record:
    """
    Make the stored record match ``data``, leaving history rows that name ``actor``.

    Only what differs is written: an unchanged child keeps its row and gets no new
    history row, and an unchanged snapshot writes nothing at all. Child rows go
    first and the record itself last, so the record's newest history row is
    never older than its children's: a restore to that moment sees them all.

    ``check_lifecycle`` off lets a restore put back a status the lifecycle would
    not allow as a step forward (an initiative wrongly marked completed, say).
    """
    locked = type(record)._default_manager.select_for_update().get(pk=record.pk)
    current = snapshot(locked)
    changed = False
    if isinstance(locked, Initiative):
        for spec in INITIATIVE_CHILDREN:
            changed |= _apply_children(
                spec, locked, current.get(spec.key, []), data.get(spec.key, []), actor=actor
            )
    fields = data.get("fields", {})
    for name in fields_of(locked):
        if name not in fields:
            continue
        field = type(locked)._meta.get_field(name)
        value = decode(field, fields[name])  # type: ignore[arg-type]
        if encode(field, getattr(locked, field.attname)) != encode(field, value):  # type: ignore[arg-type,union-attr]
            setattr(locked, field.attname, value)  # type: ignore[union-attr]
            changed = True
    m2m: dict[str, list[int]] = {}
    if isinstance(locked, Initiative):
        for name in INITIATIVE_M2M:
            if name in data and sorted(data[name]) != current[name]:
                m2m[name] = list(data[name])
    if not changed and not m2m:
        return locked
    if not check_lifecycle:
        locked._loaded_status = None  # type: ignore[union-attr]
    related = {
        name: type(locked)
        ._meta.get_field(name)
        .related_model._default_manager.filter(  # type: ignore[union-attr]
            pk__in=ids
        )
        for name, ids in m2m.items()
    }
    return save_with_history(locked, actor=actor, m2m=related, reason=reason)


def _apply_children(
    spec: Children,
    parent: models.Model,
    current: list[dict[str, Any]],
    wanted: list[dict[str, Any]],
    *,
    actor: AbstractBaseUser,
) -> bool:
    """Bring one kind of child row in line with ``wanted``; True when anything was written."""
    manager = spec.model._default_manager
    existing = {row.pk: row for row in manager.filter(**{spec.parent_field: parent}).order_by("pk")}
    current_by_id = {row["id"]: row for row in current}
    wanted_ids = {row.get("id") for row in wanted if row.get("id") in existing}
    changed = False
    # Deletions first, so a row added again (the same partner and role, the same
    # measurement day) does not trip a unique constraint on its way in.
    for pk, row in existing.items():
        if pk not in wanted_ids:
            cascade = list(row.measurements.all()) if isinstance(row, Indicator) else []
            delete_with_history(instance=row, actor=actor, cascade=cascade)
            changed = True
    for values in wanted:
        row_id = values.get("id")
        instance = existing.get(row_id)
        if instance is None:
            instance = spec.model(**{spec.parent_field: parent})
            # A row restored from history comes back under its old id when that is
            # free, so its timeline continues where it stopped.
            if row_id is not None and not manager.filter(pk=row_id).exists():
                instance.pk = row_id
            dirty = True
        else:
            stored = current_by_id.get(row_id, {})
            dirty = any(stored.get(name) != values.get(name) for name in spec.fields)
        if dirty:
            for name in spec.fields:
                field = spec.model._meta.get_field(name)
                setattr(instance, field.attname, decode(field, values.get(name)))  # type: ignore[arg-type,union-attr]
            _save_child(instance, actor=actor)
            changed = True
        if spec.key == "indicators":
            changed |= _apply_children(
                MEASUREMENTS,
                instance,
                current_by_id.get(row_id, {}).get("measurements", []) if row_id in existing else [],
                values.get("measurements", []),
                actor=actor,
            )
    return changed


def _save_child(instance: models.Model, *, actor: AbstractBaseUser) -> None:
    try:
        save_with_history(instance, actor=actor)
    except ValidationError as error:
        # Name the row, so an error from a milestone is not read as one about the record.
        raise ValidationError(
            _("%(kind)s “%(row)s”: %(errors)s"),
            code="invalid_child",
            params={
                "kind": instance._meta.verbose_name,
                "row": instance,
                "errors": "; ".join(error.messages),
            },
        ) from error
