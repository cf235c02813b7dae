"""
Who may do what: the one place that says so.

Views, forms, the admin and the API all ask these predicates; none of them
decides on its own.

- Atlas staff (active superusers) act everywhere.
- A council member acts on their jurisdiction and on everything below it, and
  on nothing else:
  - editors and chairs edit records (create, change, archive);
  - reviewers and chairs review them (publish, or return with a comment);
  - chairs also manage their council.

Memberships are read once per user object and kept on it, so a page that asks
many questions costs one query, not one per question.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.http import Http404
from django_otp import user_has_device

from cities.models import Jurisdiction
from council.models import (
    Coalition,
    CoalitionMembership,
    Contribution,
    CouncilMembership,
    Invitation,
    Organization,
)
from initiatives.models import (
    ChangeEvent,
    Indicator,
    Initiative,
    InitiativeLink,
    Measurement,
    Milestone,
    Partnership,
    Plan,
    Revision,
    Source,
)

Role = CouncilMembership.Role
EDIT_ROLES = frozenset({Role.EDITOR, Role.CHAIR})
REVIEW_ROLES = frozenset({Role.REVIEWER, Role.CHAIR})
MANAGE_ROLES = frozenset({Role.CHAIR})
ANY_ROLE = frozenset(Role)

AnyUser = AbstractBaseUser | AnonymousUser

_CACHE_ATTR = "_atlas_council_memberships"


def is_atlas_staff(user: AnyUser | None) -> bool:
    return bool(user and user.is_active and getattr(user, "is_superuser", False))


def memberships(user: AnyUser | None) -> list[CouncilMembership]:
    """The user's council memberships with their jurisdictions, read once per user object."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    cached: list[CouncilMembership] | None = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = list(
            CouncilMembership.objects.filter(user_id=user.pk).select_related("jurisdiction")
        )
        setattr(user, _CACHE_ATTR, cached)
    return cached


def forget_memberships(user: AnyUser) -> None:
    """Drop the cached memberships, after a role changes within the same request."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def is_council_member(user: AnyUser | None) -> bool:
    return bool(memberships(user))


def jurisdiction_of(obj: models.Model) -> Jurisdiction | None:
    """The jurisdiction whose council answers for ``obj``; None means only staff may act."""
    match obj:
        case Jurisdiction():
            return obj
        case (
            Initiative()
            | Plan()
            | Organization()
            | Coalition()
            | CouncilMembership()
            | Invitation()
            | Contribution()
            | ChangeEvent()
        ):
            return obj.jurisdiction
        case Revision():
            return obj.record.jurisdiction
        case Milestone() | Indicator() | Partnership() | Source():
            return obj.initiative.jurisdiction
        case Measurement():
            return obj.indicator.initiative.jurisdiction
        case InitiativeLink():
            return obj.from_initiative.jurisdiction
        case CoalitionMembership():
            return obj.coalition.jurisdiction
    return None


def has_role_on(
    user: AnyUser | None, jurisdiction: Jurisdiction | None, roles: Iterable[str]
) -> bool:
    """True when the user holds one of ``roles`` on ``jurisdiction`` or on one of its ancestors."""
    if jurisdiction is None:
        return False
    wanted = set(roles)
    return any(
        m.role in wanted and jurisdiction.is_within(m.jurisdiction) for m in memberships(user)
    )


def jurisdictions_for(user: AnyUser | None, roles: Iterable[str]) -> models.QuerySet[Jurisdiction]:
    """Every jurisdiction the user acts on with one of ``roles``: one query."""
    if is_atlas_staff(user):
        return Jurisdiction.objects.all()
    wanted = set(roles)
    roots = [m.jurisdiction for m in memberships(user) if m.role in wanted]
    return Jurisdiction.objects.within(roots)


def editable_jurisdictions(user: AnyUser | None) -> models.QuerySet[Jurisdiction]:
    return jurisdictions_for(user, EDIT_ROLES)


def reviewable_jurisdictions(user: AnyUser | None) -> models.QuerySet[Jurisdiction]:
    return jurisdictions_for(user, REVIEW_ROLES)


def visible_jurisdictions(user: AnyUser | None) -> models.QuerySet[Jurisdiction]:
    """Where the user may see unpublished records: any council role counts."""
    return jurisdictions_for(user, ANY_ROLE)


def can_edit(user: AnyUser | None, obj: models.Model) -> bool:
    """Edit ``obj``, or create it in its jurisdiction. Objects with no jurisdiction are staff's."""
    return is_atlas_staff(user) or has_role_on(user, jurisdiction_of(obj), EDIT_ROLES)


def can_review(user: AnyUser | None, obj: models.Model) -> bool:
    return is_atlas_staff(user) or has_role_on(user, jurisdiction_of(obj), REVIEW_ROLES)


def can_manage_council(user: AnyUser | None, jurisdiction: Jurisdiction) -> bool:
    return is_atlas_staff(user) or has_role_on(user, jurisdiction, MANAGE_ROLES)


def can_view_unpublished(user: AnyUser | None, obj: models.Model) -> bool:
    return is_atlas_staff(user) or has_role_on(user, jurisdiction_of(obj), ANY_ROLE)


# The workflow: editors draft and submit, reviewers publish or return.
can_submit = can_edit
can_publish = can_review


def reviews_somewhere(user: AnyUser | None) -> bool:
    """Whether the user reviews anywhere: who the review and moderation queues are for."""
    return is_atlas_staff(user) or any(m.role in REVIEW_ROLES for m in memberships(user))


def can_moderate(user: AnyUser | None, jurisdiction: Jurisdiction) -> bool:
    """Accept or reject the public's suggestions and comments: a reviewer's job."""
    return can_review(user, jurisdiction)


def can_view_audit_log(user: AnyUser | None, jurisdiction: Jurisdiction) -> bool:
    return can_view_unpublished(user, jurisdiction)


def can_change_in_place(user: AnyUser | None, obj: models.Model) -> bool:
    """
    Change the stored ``obj`` at once, as the admin does, with no review step.

    A record the public sees (or one waiting for review) changed in place is edited
    and published in one go, so it takes both rights: a chair, or an editor who also
    reviews there. An editor's changes to it wait in a revision instead. On a draft,
    or on records without a publication state, an editor will do.
    """
    state = getattr(obj, "publication_state", None)
    if state in ("published", "review"):
        return can_edit(user, obj) and can_review(user, obj)
    return can_edit(user, obj)


def can_restore(user: AnyUser | None, obj: models.Model) -> bool:
    """
    Put back an earlier version of ``obj``.

    A restore applies at once, without review, so on a record the public sees (or one
    waiting for review) it takes a reviewer: putting back what was once published is
    a reviewer's call. On a draft, or on records without a publication state, an
    editor will do.
    """
    state = getattr(obj, "publication_state", None)
    if state in ("published", "review"):
        return can_review(user, obj)
    return can_edit(user, obj)


def council_object_or_404[M: models.Model](
    queryset: models.QuerySet[M], user: AnyUser | None, **lookup: Any
) -> M:
    """
    The object of ``queryset`` matching ``lookup``, when ``user``'s council answers for it.

    An object of another jurisdiction is a 404, never a 403: the workspace does not
    confirm what exists outside the user's scope. A missing right within scope is
    for the caller to refuse with a 403.
    """

    try:
        obj = queryset.get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not can_view_unpublished(user, obj):
        raise Http404
    return obj


def scope_to_jurisdictions(
    queryset: models.QuerySet[Any],
    jurisdictions: models.QuerySet[Jurisdiction],
    *,
    field: str = "jurisdiction",
) -> models.QuerySet[Any]:
    """Narrow ``queryset`` to rows whose ``field`` lies within ``jurisdictions``."""
    return queryset.filter(**{f"{field}__in": jurisdictions})


SECOND_FACTOR_ROLES = frozenset({Role.CHAIR, Role.REVIEWER})


def requires_second_factor(user: AnyUser | None) -> bool:
    """Chairs and reviewers publish and manage, so a password alone must not let them in."""
    return any(m.role in SECOND_FACTOR_ROLES for m in memberships(user))


def second_factor_missing(user: AnyUser | None) -> bool:
    """
    True while a signed-in user must still give a one-time code before the workspace.

    That is anyone whose role requires a second factor, and anyone who has set one up
    (an editor's is optional, but once made it guards the account like a chair's), until
    a code has been verified in this session. django-otp's middleware marks the session's
    user; a user object without its mark has not been verified.
    """
    if user is None or not user.is_authenticated:
        return False
    is_verified = getattr(user, "is_verified", None)
    if is_verified is not None and is_verified():
        return False
    return requires_second_factor(user) or user_has_device(user, confirmed=True)
