"""
Writes about organizations and coalitions, each with the acting user in the history.

Neither record has a publication state, so deleting one removes the row (its
history keeps it); a record still referenced elsewhere refuses with
ProtectedError, which callers report as a conflict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from council.models import Coalition, CoalitionMembership, Organization
from initiatives.models import ChangeEvent
from initiatives.services import (
    assign_values,
    delete_with_history,
    require_edit,
    save_with_history,
)


@transaction.atomic
def organization_create(*, actor: AbstractBaseUser, values: Mapping[str, Any]) -> Organization:
    organization = Organization(**values)
    require_edit(actor, organization)
    return save_with_history(organization, actor=actor)


@transaction.atomic
def organization_update(
    *, organization: Organization, actor: AbstractBaseUser, values: Mapping[str, Any]
) -> Organization:
    """Change an organization; a new home jurisdiction must lie within ``actor``'s scope."""
    require_edit(actor, organization)
    assign_values(organization, values)
    require_edit(actor, organization)
    return save_with_history(organization, actor=actor)


@transaction.atomic
def organization_delete(*, organization: Organization, actor: AbstractBaseUser) -> None:
    """Delete an organization nothing refers to; raises ProtectedError otherwise."""
    require_edit(actor, organization)
    delete_with_history(instance=organization, actor=actor)


@transaction.atomic
def coalition_create(*, actor: AbstractBaseUser, values: Mapping[str, Any]) -> Coalition:
    coalition = Coalition(**values)
    require_edit(actor, coalition)
    return save_with_history(coalition, actor=actor)


@transaction.atomic
def coalition_update(
    *, coalition: Coalition, actor: AbstractBaseUser, values: Mapping[str, Any]
) -> Coalition:
    """Change a coalition; a new jurisdiction must lie within ``actor``'s scope."""
    require_edit(actor, coalition)
    assign_values(coalition, values)
    require_edit(actor, coalition)
    return save_with_history(coalition, actor=actor)


@transaction.atomic
def coalition_delete(*, coalition: Coalition, actor: AbstractBaseUser) -> None:
    """Delete a coalition and its memberships (their history keeps them)."""
    require_edit(actor, coalition)
    delete_with_history(instance=coalition, actor=actor, cascade=list(coalition.memberships.all()))


# ------------------------------------------------------------------------------
# Coalition memberships
# ------------------------------------------------------------------------------


def _record_member_added(membership: CoalitionMembership, *, actor: AbstractBaseUser) -> None:
    """A coalition is public as soon as it changes, so digests hear of a new member at once."""
    coalition = membership.coalition
    ChangeEvent.objects.create(
        kind=ChangeEvent.Kind.COALITION_MEMBER_ADDED,
        jurisdiction_id=coalition.jurisdiction_id,
        organization_id=membership.organization_id,
        actor=actor,  # type: ignore[misc]
        details={
            "title": coalition.name,
            "coalition": coalition.slug,
            "organization": str(membership.organization),
            "role": membership.role,
        },
    )


@transaction.atomic
def coalition_membership_create(
    *, coalition: Coalition, actor: AbstractBaseUser, values: Mapping[str, Any]
) -> CoalitionMembership:
    """Add an organization to ``coalition`` with a role (organization, role, since, until)."""
    membership = CoalitionMembership(coalition=coalition, **values)
    require_edit(actor, membership)
    save_with_history(membership, actor=actor)
    _record_member_added(membership, actor=actor)
    return membership


@transaction.atomic
def coalition_membership_update(
    *, membership: CoalitionMembership, actor: AbstractBaseUser, values: Mapping[str, Any]
) -> CoalitionMembership:
    """Change a membership; it stays in its coalition."""
    require_edit(actor, membership)
    if "coalition" in values or "coalition_id" in values:
        raise ValidationError(
            {"coalition": ValidationError(_("A membership stays in its coalition."), code="moved")}
        )
    assign_values(membership, values)
    return save_with_history(membership, actor=actor)


@transaction.atomic
def coalition_membership_delete(
    *, membership: CoalitionMembership, actor: AbstractBaseUser
) -> None:
    require_edit(actor, membership)
    delete_with_history(instance=membership, actor=actor)


@transaction.atomic
def coalition_save(
    *,
    coalition: Coalition,
    actor: AbstractBaseUser,
    values: Mapping[str, Any],
    memberships: Sequence[Mapping[str, Any]],
) -> Coalition:
    """
    Change a coalition and make its memberships match ``memberships``, in one transaction.

    Each wanted membership is a mapping of organization, role, since and until, with
    ``id`` naming the stored membership it edits (None for a new one); stored
    memberships not named are removed. Unchanged rows are not written, so their
    history stays quiet. Removals go first, so a membership removed and added again
    (the same organization and role) does not trip the unique constraint.
    """
    require_edit(actor, coalition)
    locked = Coalition.objects.select_for_update().get(pk=coalition.pk)
    existing = {m.pk: m for m in CoalitionMembership.objects.filter(coalition=locked)}
    wanted_ids = {row.get("id") for row in memberships if row.get("id") in existing}
    for pk, membership in existing.items():
        if pk not in wanted_ids:
            coalition_membership_delete(membership=membership, actor=actor)
    for row in memberships:
        fields = {name: value for name, value in row.items() if name != "id"}
        current = existing.get(row.get("id"))  # type: ignore[arg-type]
        if current is None:
            coalition_membership_create(coalition=locked, actor=actor, values=fields)
        elif any(getattr(current, name) != value for name, value in fields.items()):
            coalition_membership_update(membership=current, actor=actor, values=fields)
    if any(getattr(locked, name) != value for name, value in values.items()):
        coalition_update(coalition=locked, actor=actor, values=values)
    return locked
