"""
Writes about organizations and coalitions, each with the acting user in the history.

Neither record has a publication state, so deleting one removes the row (its
history keeps it); a record still referenced elsewhere refuses with
ProtectedError, which callers report as a conflict.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from council.models import Coalition, Organization
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
