"""Writes about initiatives. Each takes the acting user and leaves a history row."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from council import permissions
from initiatives.models import Initiative


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
