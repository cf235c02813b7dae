"""Writes about councils' own records: API keys. Each takes the actor and leaves a history row."""

from __future__ import annotations

import datetime
import secrets
import string

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from council import permissions
from council.models import ApiKey, ReminderPreference

_PREFIX_ALPHABET = string.ascii_lowercase + string.digits


def may_hold_write_key(user: AbstractBaseUser) -> bool:
    """A write key acts with its owner's rights, so only someone with rights to act may hold one."""
    return permissions.is_atlas_staff(user) or permissions.is_council_member(user)


def _may_manage_keys_of(actor: AbstractBaseUser | None, user: AbstractBaseUser) -> bool:
    # None is an operator at the command line, who already holds the database.
    return actor is None or permissions.is_atlas_staff(actor) or actor.pk == user.pk


def _new_prefix() -> str:
    """A visible prefix not yet taken; eight base-36 characters rarely collide."""
    while True:
        prefix = ApiKey.PREFIX_LEAD + "".join(
            secrets.choice(_PREFIX_ALPHABET) for _ in range(ApiKey.PREFIX_LENGTH)
        )
        if not ApiKey.objects.filter(prefix=prefix).exists():
            return prefix


@transaction.atomic
def api_key_create(
    *,
    user: User,
    read_only: bool,
    expires_in_days: int | None = None,
    name: str = "",
    actor: AbstractBaseUser | None,
) -> tuple[ApiKey, str]:
    """
    Make a key for ``user`` and return it with its plain text, which is never seen again.

    Anyone active may hold a read-only key; a write key needs Atlas staff or a
    council member. ``actor`` is who asks: the owner, staff, or None for an
    operator running a management command.
    """
    if not _may_manage_keys_of(actor, user):
        raise PermissionDenied(_("You may not create keys for another user."))
    if not user.is_active:
        raise ValidationError(
            {"user": ValidationError(_("An inactive user cannot hold a key."), code="inactive")}
        )
    if not read_only and not may_hold_write_key(user):
        raise ValidationError(
            {
                "read_only": ValidationError(
                    _(
                        "Only Atlas staff and council members may hold a write key; "
                        "this user may have a read-only key."
                    ),
                    code="write_key_needs_council_role",
                )
            }
        )
    if expires_in_days is not None and expires_in_days < 1:
        raise ValidationError(
            {
                "expires_in_days": ValidationError(
                    _("A key must last at least one day."), code="min_value"
                )
            }
        )

    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        user=user,
        name=name,
        prefix=_new_prefix(),
        hashed_key=ApiKey.hash_secret(secret),
        read_only=read_only,
        expires_at=(
            timezone.now() + datetime.timedelta(days=expires_in_days)
            if expires_in_days is not None
            else None
        ),
    )
    key._history_user = actor  # type: ignore[attr-defined]
    key._change_reason = "created"  # type: ignore[attr-defined]
    key.save()
    return key, f"{key.prefix}_{secret}"


@transaction.atomic
def api_key_revoke(*, key: ApiKey, actor: AbstractBaseUser | None) -> ApiKey:
    """
    Revoke ``key`` at once; revoking it again changes nothing.

    The row is locked first, so two revocations racing each other record one time.
    """
    if not _may_manage_keys_of(actor, key.user):
        raise PermissionDenied(_("You may not revoke another user's key."))
    locked = ApiKey.objects.select_for_update().get(pk=key.pk)
    if locked.revoked_at is not None:
        return locked
    locked.revoked_at = timezone.now()
    locked._history_user = actor  # type: ignore[attr-defined]
    locked._change_reason = "revoked"  # type: ignore[attr-defined]
    locked.save(update_fields=["revoked_at"])
    return locked


@transaction.atomic
def reminder_preference_set(*, user: User, frequency: str, language: str) -> ReminderPreference:
    """Say how often ``user`` hears about stale records, due milestones and the review queue."""
    preference, _created = ReminderPreference.objects.select_for_update().get_or_create(
        user=user, defaults={"frequency": frequency, "language": language}
    )
    if (preference.frequency, preference.language) != (frequency, language):
        preference.frequency = frequency
        preference.language = language
        preference._history_user = user  # type: ignore[attr-defined]
        preference.full_clean()
        preference.save(update_fields=["frequency", "language"])
    return preference
