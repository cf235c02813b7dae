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
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from council import permissions
from council.models import Coalition, Organization
from initiatives.services import delete_with_history, save_with_history


def _require_edit(actor: AbstractBaseUser, obj: Organization | Coalition) -> None:
    # An organization without a home jurisdiction answers to staff alone (see can_edit).
    if not permissions.can_edit(actor, obj):
        raise PermissionDenied(_("You may not edit records of this jurisdiction."))


def _assign(instance: Organization | Coalition, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        setattr(instance, name, value)


@transaction.atomic
def organization_create(*, actor: AbstractBaseUser, values: Mapping[str, Any]) -> Organization:
    organization = Organization(**values)
    _require_edit(actor, organization)
    return save_with_history(organization, actor=actor)


@transaction.atomic
def organization_update(
    *, organization: Organization, actor: AbstractBaseUser, values: Mapping[str, Any]
) -> Organization:
    """Change an organization; a new home jurisdiction must lie within ``actor``'s scope."""
    _require_edit(actor, organization)
    _assign(organization, values)
    _require_edit(actor, organization)
    return save_with_history(organization, actor=actor)


@transaction.atomic
def organization_delete(*, organization: Organization, actor: AbstractBaseUser) -> None:
    """Delete an organization nothing refers to; raises ProtectedError otherwise."""
    _require_edit(actor, organization)
    delete_with_history(instance=organization, actor=actor)


@transaction.atomic
def coalition_create(*, actor: AbstractBaseUser, values: Mapping[str, Any]) -> Coalition:
    coalition = Coalition(**values)
    _require_edit(actor, coalition)
    return save_with_history(coalition, actor=actor)


@transaction.atomic
def coalition_update(
    *, coalition: Coalition, actor: AbstractBaseUser, values: Mapping[str, Any]
) -> Coalition:
    """Change a coalition; a new jurisdiction must lie within ``actor``'s scope."""
    _require_edit(actor, coalition)
    _assign(coalition, values)
    _require_edit(actor, coalition)
    return save_with_history(coalition, actor=actor)


@transaction.atomic
def coalition_delete(*, coalition: Coalition, actor: AbstractBaseUser) -> None:
    """Delete a coalition and its memberships (their history keeps them)."""
    _require_edit(actor, coalition)
    delete_with_history(instance=coalition, actor=actor, cascade=list(coalition.memberships.all()))
