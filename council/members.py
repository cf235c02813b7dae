"""
A chair's management of their council: invitations, roles and removals.

Writes take the acting user and leave a history row naming them. A jurisdiction
always keeps at least one chair, so a council can never lock itself out.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass
from urllib.parse import urljoin

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cities.models import Jurisdiction
from council import permissions
from council.contributions import site_language
from council.models import CouncilMembership, Invitation
from initiatives.outbox import outbox_email
from initiatives.services import delete_with_history

Role = CouncilMembership.Role


class InvitationUnusable(Exception):
    """An invitation that exists but can no longer be accepted."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "expired", "used" or "revoked"


# ------------------------------------------------------------------------------
# Selectors
# ------------------------------------------------------------------------------


def council_jurisdiction(*, user: permissions.AnyUser, slug: str) -> Jurisdiction:
    """A jurisdiction whose council ``user`` belongs to (or one above it); else a 404."""
    jurisdiction = Jurisdiction.objects.filter(slug=slug).first()
    if jurisdiction is None or not permissions.can_view_unpublished(user, jurisdiction):
        raise Http404
    return jurisdiction


def council_members(*, jurisdiction: Jurisdiction) -> models.QuerySet[CouncilMembership]:
    """The council's members with their accounts, chairs first."""
    role_order = models.Case(
        *(models.When(role=role, then=position) for position, role in enumerate(Role.values)),
        output_field=models.IntegerField(),
    )
    return (
        CouncilMembership.objects.filter(jurisdiction=jurisdiction)
        .select_related("user")
        .order_by(role_order, "public_name", "user__username", "pk")
    )


@dataclass(frozen=True)
class InvitationLists:
    open: list[Invitation]
    accepted: list[Invitation]


def council_invitations(*, jurisdiction: Jurisdiction) -> InvitationLists:
    """Open and accepted invitations of the council, in one query."""
    now = timezone.now()
    rows = list(
        Invitation.objects.filter(jurisdiction=jurisdiction)
        .filter(
            models.Q(accepted_at__isnull=False)
            | models.Q(revoked_at__isnull=True, expires_at__gt=now)
        )
        .select_related("invited_by", "accepted_by")
        .order_by("-created_at", "-pk")
    )
    return InvitationLists(
        open=[row for row in rows if row.is_open(now)],
        accepted=[row for row in rows if row.accepted_at is not None],
    )


def invitation_from_token(*, token: str) -> Invitation:
    """The invitation a link names, open or not; Invitation.DoesNotExist when none does."""
    return Invitation.objects.select_related("jurisdiction", "invited_by").get(
        hashed_token=Invitation.hash_token(token)
    )


def unusable_reason(invitation: Invitation, now: datetime.datetime) -> str:
    """Why ``invitation`` cannot be accepted, or "" when it can."""
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.accepted_at is not None:
        return "used"
    if invitation.expires_at <= now:
        return "expired"
    return ""


# ------------------------------------------------------------------------------
# Services
# ------------------------------------------------------------------------------


def _require_manage(actor: User, jurisdiction: Jurisdiction) -> None:
    if not permissions.can_manage_council(actor, jurisdiction):
        raise PermissionDenied(_("Only a chair may manage this council."))


def _send_invitation(invitation: Invitation, link: str, language: str) -> None:
    with translation.override(language):
        inviter = invitation.invited_by
        context = {
            "invitation": invitation,
            "inviter": (inviter.get_full_name() or inviter.get_username())
            if inviter
            else _("A chair"),
            "link": link,
            "days": settings.ATLAS_INVITATION_DAYS,
        }
        subject = render_to_string("emails/invitation_subject.txt", context)
        outbox_email(
            kind="invitation",
            to=invitation.email,
            subject=subject,
            body=render_to_string("emails/invitation.txt", context),
            html=render_to_string("emails/invitation.html", context),
        )


@transaction.atomic
def invitation_create(
    *,
    jurisdiction: Jurisdiction,
    email: str,
    role: str,
    actor: User,
    link_base: str = "",
    language: str | None = None,
) -> tuple[Invitation, str]:
    """
    Invite ``email`` to the council with ``role`` and email them the link.

    Returns the invitation and its plain token, which is stored nowhere: the
    row keeps only its SHA-256. ``link_base`` is the site's absolute root the
    emailed link is built on; ``language`` that of the email (the current one
    by default).
    """
    _require_manage(actor, jurisdiction)
    if role not in Role.values:
        raise ValidationError({"role": ValidationError(_("Unknown role."), code="invalid_choice")})
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        jurisdiction=jurisdiction,
        email=email,
        role=role,
        invited_by=actor,
        hashed_token=Invitation.hash_token(token),
        expires_at=timezone.now() + datetime.timedelta(days=settings.ATLAS_INVITATION_DAYS),
    )
    invitation._history_user = actor  # type: ignore[attr-defined]
    invitation._change_reason = "invited"  # type: ignore[attr-defined]
    invitation.full_clean(exclude=["hashed_token"])
    invitation.save()

    mail_language = site_language(language or translation.get_language())
    with translation.override(mail_language):
        path = reverse("council:members:invitation-accept", kwargs={"token": token})
    link = urljoin(link_base, path)
    # After commit: an invitation rolled back must not have been sent.
    transaction.on_commit(lambda: _send_invitation(invitation, link, mail_language))
    return invitation, token


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> CouncilMembership:
    """
    Make ``user`` a member of the inviting council with the invited role.

    A member already holds one role per jurisdiction, so their role changes
    instead, but an invitation never takes the chair from a chair: only a chair
    changing roles on the members page does that, knowingly. Raises
    Invitation.DoesNotExist for an unknown token, InvitationUnusable when it
    expired, was used or was revoked, and ValidationError when it would demote
    a chair or lose a race with another acceptance.
    """
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("jurisdiction")
        .get(hashed_token=Invitation.hash_token(token))
    )
    now = timezone.now()
    reason = unusable_reason(invitation, now)
    if reason:
        raise InvitationUnusable(reason)

    membership = (
        CouncilMembership.objects.select_for_update()
        .filter(user_id=user.pk, jurisdiction=invitation.jurisdiction)
        .first()
    )
    if membership is None:
        membership = CouncilMembership(
            user=user, jurisdiction=invitation.jurisdiction, role=invitation.role
        )
        membership._change_reason = "joined by invitation"  # type: ignore[attr-defined]
    elif membership.role != invitation.role:
        if membership.role == Role.CHAIR:
            raise ValidationError(
                _(
                    "You chair this council already; accepting this invitation would make "
                    "you %(role)s instead. Ask another chair to change your role if that "
                    "is what you want."
                )
                % {"role": invitation.get_role_display()},
                code="would_demote",
            )
        _guard_last_chair(membership)
        membership.role = invitation.role
        membership._change_reason = "role set by invitation"  # type: ignore[attr-defined]
    membership._history_user = user  # type: ignore[attr-defined]
    try:
        with transaction.atomic():
            membership.save()
    except IntegrityError:
        # Another invitation to the same council was accepted at the same moment.
        raise ValidationError(
            _(
                "You joined this council through another invitation at the same moment. "
                "Sign in to see your role."
            ),
            code="accepted_meanwhile",
        ) from None

    invitation.accepted_at = now
    invitation.accepted_by = user
    invitation._history_user = user  # type: ignore[attr-defined]
    invitation._change_reason = "accepted"  # type: ignore[attr-defined]
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    permissions.forget_memberships(user)
    return membership


@transaction.atomic
def invitation_accept_with_new_account(
    *, token: str, username: str, email: str, password: str
) -> CouncilMembership:
    """
    Create an account and accept the invitation with it, both or neither.

    The password must already have passed the password validators (the form does so).
    Raises ValidationError on ``username`` when it was taken since the form checked it.
    """
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, email=email, password=password)
    except IntegrityError:
        raise ValidationError(
            {
                "username": ValidationError(
                    _("This username was taken a moment ago. Choose another."),
                    code="username_taken",
                )
            }
        ) from None
    return invitation_accept(token=token, user=user)


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: User) -> Invitation:
    """Revoke an open invitation; its link stops working. Revoking twice changes nothing."""
    _require_manage(actor, invitation.jurisdiction)
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.accepted_at is not None:
        raise ValidationError(
            _("This invitation has been accepted already; remove the member instead."),
            code="accepted",
        )
    if locked.revoked_at is not None:
        return locked
    locked.revoked_at = timezone.now()
    locked._history_user = actor  # type: ignore[attr-defined]
    locked._change_reason = "revoked"  # type: ignore[attr-defined]
    locked.save(update_fields=["revoked_at"])
    return locked


def _guard_last_chair(membership: CouncilMembership) -> None:
    """Refuse to leave the jurisdiction without a chair. Locks its chairs' rows."""
    if membership.role != Role.CHAIR:
        return
    chairs = list(
        CouncilMembership.objects.select_for_update()
        .filter(jurisdiction_id=membership.jurisdiction_id, role=Role.CHAIR)
        .values_list("pk", flat=True)
    )
    if chairs == [membership.pk]:
        raise ValidationError(
            _(
                "This is the council's last chair. Make another member chair first, "
                "so the council can still be managed."
            ),
            code="last_chair",
        )


@transaction.atomic
def membership_change_role(
    *, membership: CouncilMembership, role: str, actor: User
) -> CouncilMembership:
    """Give a member another role; the last chair cannot be demoted."""
    _require_manage(actor, membership.jurisdiction)
    if role not in Role.values:
        raise ValidationError({"role": ValidationError(_("Unknown role."), code="invalid_choice")})
    locked = (
        CouncilMembership.objects.select_for_update(of=("self",))
        .select_related("jurisdiction")
        .get(pk=membership.pk)
    )
    if locked.role == role:
        return locked
    if role != Role.CHAIR:
        _guard_last_chair(locked)
    locked.role = role
    locked._history_user = actor  # type: ignore[attr-defined]
    locked._change_reason = f"role → {role}"  # type: ignore[attr-defined]
    locked.save(update_fields=["role"])
    if locked.user_id == actor.pk:
        permissions.forget_memberships(actor)
    return locked


@transaction.atomic
def membership_remove(*, membership: CouncilMembership, actor: User) -> None:
    """Remove a member from the council; the last chair cannot be removed."""
    _require_manage(actor, membership.jurisdiction)
    locked = (
        CouncilMembership.objects.select_for_update(of=("self",))
        .select_related("jurisdiction")
        .get(pk=membership.pk)
    )
    _guard_last_chair(locked)
    user_id = locked.user_id
    delete_with_history(instance=locked, actor=actor)
    if user_id == actor.pk:
        permissions.forget_memberships(actor)
