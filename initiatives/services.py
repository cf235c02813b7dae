"""Writes about initiatives. Each takes the acting user and leaves a history row."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from cities.models import Jurisdiction
from council import permissions
from initiatives.models import (
    Authored,
    FocusArea,
    Indicator,
    Initiative,
    Measurement,
    Milestone,
    Plan,
    PublicationState,
    Revision,
    Sector,
)


@transaction.atomic
def initiative_change_status(
    *, initiative: Initiative, status: str, actor: AbstractBaseUser, reason: str = ""
) -> Initiative:
    """
    Move an initiative to ``status`` if the lifecycle allows it.

    The row is locked first, so two editors racing each other cannot both pass
    the check against the same old status.
    """
    if not permissions.can_edit(actor, initiative):
        raise PermissionDenied(_("You may not edit this initiative."))
    locked = Initiative.objects.select_for_update().get(pk=initiative.pk)
    if status not in Initiative.Status.values:
        raise ValidationError(
            {"status": ValidationError(_("Unknown status."), code="invalid_choice")}
        )
    if not locked.can_transition_to(status):
        raise ValidationError(
            {"status": Initiative.illegal_transition_error(locked.status, status)}
        )
    if locked.status == status:
        return locked
    locked.status = status
    locked.updated_by = actor  # type: ignore[assignment]
    locked._history_user = actor  # type: ignore[attr-defined]
    locked._change_reason = reason or f"status → {status}"  # type: ignore[attr-defined]
    locked.save(update_fields=["status", "updated_by", "updated_at"])
    return locked


# ------------------------------------------------------------------------------
# Record writes shared by the API and, later, the site's forms
# ------------------------------------------------------------------------------


def save_with_history[M: models.Model](
    instance: M,
    *,
    actor: AbstractBaseUser,
    m2m: Mapping[str, Iterable[models.Model]] | None = None,
    reason: str = "",
) -> M:
    """
    Validate ``instance`` in full, save it with ``actor`` as the history's user,
    then set its many-to-many relations.

    Model validation runs first (fields, ``clean()``, constraints), so a bad
    record is refused with a ValidationError rather than an IntegrityError.
    """
    if isinstance(instance, Authored):
        if instance.pk is None:
            instance.created_by = actor  # type: ignore[assignment]
        instance.updated_by = actor  # type: ignore[assignment]
    instance._history_user = actor  # type: ignore[attr-defined]
    if reason:
        instance._change_reason = reason  # type: ignore[attr-defined]
    instance.full_clean()
    instance.save()
    for name, related in (m2m or {}).items():
        getattr(instance, name).set(list(related))
    return instance


def delete_with_history(
    *,
    instance: models.Model,
    actor: AbstractBaseUser,
    cascade: Iterable[models.Model] = (),
) -> None:
    """
    Delete a row; its history keeps a last entry naming ``actor``.

    Rows that would go with it by cascade are named in ``cascade`` and deleted
    first, one by one, so their history names ``actor`` too rather than whoever
    the request middleware saw.
    """
    for child in cascade:
        child._history_user = actor  # type: ignore[attr-defined]
        child.delete()
    instance._history_user = actor  # type: ignore[attr-defined]
    instance.delete()


def require_edit(actor: AbstractBaseUser, obj: models.Model) -> None:
    if not permissions.can_edit(actor, obj):
        raise PermissionDenied(_("You may not edit records of this jurisdiction."))


def assign_values(instance: models.Model, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        setattr(instance, name, value)


@transaction.atomic
def initiative_create(
    *,
    actor: AbstractBaseUser,
    values: Mapping[str, Any],
    focus_areas: Iterable[FocusArea] = (),
    sectors: Iterable[Sector] = (),
) -> Initiative:
    """Create an initiative as a draft in a jurisdiction ``actor`` may edit."""
    initiative = Initiative(**values)
    initiative.publication_state = PublicationState.DRAFT
    initiative.published_at = None
    require_edit(actor, initiative)
    return save_with_history(
        initiative, actor=actor, m2m={"focus_areas": focus_areas, "sectors": sectors}
    )


@transaction.atomic
def initiative_update(
    *,
    initiative: Initiative,
    actor: AbstractBaseUser,
    values: Mapping[str, Any],
    focus_areas: Iterable[FocusArea] | None = None,
    sectors: Iterable[Sector] | None = None,
) -> Initiative:
    """
    Change an initiative's fields. A new status must follow the lifecycle, and a
    new jurisdiction must lie within ``actor``'s scope as well as the old one.

    The row is locked first, so the status check reads what is stored now.
    """
    require_edit(actor, initiative)
    locked = Initiative.objects.select_for_update().get(pk=initiative.pk)
    new_status = values.get("status", locked.status)
    if not locked.can_transition_to(new_status):
        raise ValidationError(
            {"status": Initiative.illegal_transition_error(locked.status, new_status)}
        )
    assign_values(locked, values)
    require_edit(actor, locked)
    m2m = {
        name: related
        for name, related in (("focus_areas", focus_areas), ("sectors", sectors))
        if related is not None
    }
    return save_with_history(locked, actor=actor, m2m=m2m)


def _archive[R: (Initiative, Plan)](record: R, *, actor: AbstractBaseUser) -> R:
    """Mark ``record`` archived under a row lock, with ``actor`` in its history."""
    require_edit(actor, record)
    locked = type(record)._default_manager.select_for_update().get(pk=record.pk)
    locked.publication_state = PublicationState.ARCHIVED
    locked.updated_by = actor  # type: ignore[assignment]
    locked._history_user = actor  # type: ignore[attr-defined]
    locked._change_reason = "archived"  # type: ignore[attr-defined]
    locked.save(update_fields=["publication_state", "updated_by", "updated_at"])
    # Changes waiting for review would otherwise outlive the record they change;
    # discarded, they stay in the revision's history.
    target = "initiative" if isinstance(locked, Initiative) else "plan"
    for revision in Revision.objects.filter(**{target: locked}, state__in=Revision.OPEN_STATES):
        revision.decide(state=Revision.State.DISCARDED, actor=actor)
    return locked


@transaction.atomic
def initiative_archive(*, initiative: Initiative, actor: AbstractBaseUser) -> Initiative:
    """Archive an initiative: it leaves the public record but keeps its history."""
    return _archive(initiative, actor=actor)


@transaction.atomic
def plan_create(*, actor: AbstractBaseUser, values: Mapping[str, Any]) -> Plan:
    """Create a plan as a draft in a jurisdiction ``actor`` may edit."""
    plan = Plan(**values)
    plan.publication_state = PublicationState.DRAFT
    require_edit(actor, plan)
    return save_with_history(plan, actor=actor)


@transaction.atomic
def plan_update(*, plan: Plan, actor: AbstractBaseUser, values: Mapping[str, Any]) -> Plan:
    """Change a plan; a new jurisdiction must lie within ``actor``'s scope."""
    require_edit(actor, plan)
    locked = Plan.objects.select_for_update().get(pk=plan.pk)
    assign_values(locked, values)
    require_edit(actor, locked)
    return save_with_history(locked, actor=actor)


@transaction.atomic
def plan_archive(*, plan: Plan, actor: AbstractBaseUser) -> Plan:
    """Archive a plan: it leaves the public record but keeps its history."""
    return _archive(plan, actor=actor)


@transaction.atomic
def milestone_create(*, actor: AbstractBaseUser, values: Mapping[str, Any]) -> Milestone:
    milestone = Milestone(**values)
    require_edit(actor, milestone)
    return save_with_history(milestone, actor=actor)


@transaction.atomic
def milestone_update(
    *, milestone: Milestone, actor: AbstractBaseUser, values: Mapping[str, Any]
) -> Milestone:
    """Change a milestone; moving it to another initiative needs rights on both."""
    require_edit(actor, milestone)
    assign_values(milestone, values)
    require_edit(actor, milestone)
    return save_with_history(milestone, actor=actor)


@transaction.atomic
def milestone_delete(*, milestone: Milestone, actor: AbstractBaseUser) -> None:
    require_edit(actor, milestone)
    delete_with_history(instance=milestone, actor=actor)


@transaction.atomic
def indicator_create(
    *,
    actor: AbstractBaseUser,
    values: Mapping[str, Any],
    measurements: Iterable[Mapping[str, Any]] = (),
) -> Indicator:
    """Create an indicator with its measurements."""
    indicator = Indicator(**values)
    require_edit(actor, indicator)
    save_with_history(indicator, actor=actor)
    _replace_measurements(indicator=indicator, actor=actor, measurements=measurements)
    return indicator


@transaction.atomic
def indicator_update(
    *,
    indicator: Indicator,
    actor: AbstractBaseUser,
    values: Mapping[str, Any],
    measurements: Iterable[Mapping[str, Any]] | None = None,
) -> Indicator:
    """
    Change an indicator. ``measurements``, when given, is the complete series:
    rows are matched by date, so unchanged ones keep their id and history.
    """
    require_edit(actor, indicator)
    assign_values(indicator, values)
    require_edit(actor, indicator)
    save_with_history(indicator, actor=actor)
    if measurements is not None:
        _replace_measurements(indicator=indicator, actor=actor, measurements=measurements)
    return indicator


def _replace_measurements(
    *, indicator: Indicator, actor: AbstractBaseUser, measurements: Iterable[Mapping[str, Any]]
) -> None:
    existing = {m.measured_on: m for m in indicator.measurements.all()}
    wanted: dict[Any, Mapping[str, Any]] = {}
    for values in measurements:
        wanted[values["measured_on"]] = values
    for day, measurement in existing.items():
        if day not in wanted:
            delete_with_history(instance=measurement, actor=actor)
    for day, values in wanted.items():
        current = existing.get(day) or Measurement(indicator=indicator)
        changed = current.pk is None or any(
            getattr(current, name) != value for name, value in values.items()
        )
        if changed:
            assign_values(current, values)
            save_with_history(current, actor=actor)
    # Drop any cached series so the caller reads the new one.
    if hasattr(indicator, "_prefetched_objects_cache"):
        indicator._prefetched_objects_cache.pop("measurements", None)


@transaction.atomic
def indicator_delete(*, indicator: Indicator, actor: AbstractBaseUser) -> None:
    require_edit(actor, indicator)
    delete_with_history(instance=indicator, actor=actor, cascade=list(indicator.measurements.all()))


# ------------------------------------------------------------------------------
# Jurisdictions (the importer's writes live in cities.services)
# ------------------------------------------------------------------------------


def _require_parent_in_scope(actor: AbstractBaseUser, parent: Jurisdiction | None) -> None:
    """A jurisdiction sits under one the actor may edit; only staff add or move roots."""
    if parent is None:
        if not permissions.is_atlas_staff(actor):
            raise ValidationError(
                {
                    "parent": ValidationError(
                        _("Only staff may add a top-level jurisdiction."), code="out_of_scope"
                    )
                }
            )
        return
    if not permissions.can_edit(actor, parent):
        raise ValidationError(
            {
                "parent": ValidationError(
                    _("This jurisdiction is outside your scope."), code="out_of_scope"
                )
            }
        )


@transaction.atomic
def jurisdiction_create(*, actor: AbstractBaseUser, values: Mapping[str, Any]) -> Jurisdiction:
    """Add a jurisdiction below one ``actor`` may edit."""
    jurisdiction = Jurisdiction(**values)
    _require_parent_in_scope(actor, jurisdiction.parent)
    return save_with_history(jurisdiction, actor=actor)


@transaction.atomic
def jurisdiction_update(
    *, jurisdiction: Jurisdiction, actor: AbstractBaseUser, values: Mapping[str, Any]
) -> Jurisdiction:
    """Change a jurisdiction ``actor`` may edit; a new parent must also be within scope."""
    require_edit(actor, jurisdiction)
    old_parent_id = jurisdiction.parent_id
    assign_values(jurisdiction, values)
    if jurisdiction.parent_id != old_parent_id:
        _require_parent_in_scope(actor, jurisdiction.parent)
    return save_with_history(jurisdiction, actor=actor)
