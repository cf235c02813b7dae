"""
A council's members and invitations, managed by its chairs; and the page an invitation leads to.

Any member of the council may see the list; only a chair changes it. The
invitation page is open to anyone holding the link, signed in or not.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cities.models import Jurisdiction
from council import members, permissions
from council.decorators import workspace_view
from council.member_forms import AccountForm, InvitationForm, RoleForm
from council.models import Invitation

# ------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------


def _acting_user(request: HttpRequest) -> User:
    """The signed-in user, which the workspace door has already made sure of."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def _managed_jurisdiction(request: HttpRequest, slug: str) -> Jurisdiction:
    """The jurisdiction, when the user is on its council (else 404) and chairs it (else 403)."""
    jurisdiction = members.council_jurisdiction(user=request.user, slug=slug)
    if not permissions.can_manage_council(request.user, jurisdiction):
        raise PermissionDenied(_("Only a chair may manage this council."))
    return jurisdiction


def _refused(
    request: HttpRequest, jurisdiction: Jurisdiction, error: ValidationError
) -> HttpResponse:
    return render(
        request,
        "council/members/refused.html",
        {"jurisdiction": jurisdiction, "messages_list": error.messages},
        status=400,
    )


def _list_url(jurisdiction: Jurisdiction) -> str:
    return reverse("council:members:list", kwargs={"slug": jurisdiction.slug})


# ------------------------------------------------------------------------------
# The council's members
# ------------------------------------------------------------------------------


@workspace_view
@require_GET
def member_list(request: HttpRequest, slug: str) -> HttpResponse:
    jurisdiction = members.council_jurisdiction(user=request.user, slug=slug)
    can_manage = permissions.can_manage_council(request.user, jurisdiction)
    return render(
        request,
        "council/members/list.html",
        {
            "jurisdiction": jurisdiction,
            "can_manage": can_manage,
            "entries": [
                (membership, RoleForm(membership=membership))
                for membership in members.council_members(jurisdiction=jurisdiction)
            ],
            # Invitees' addresses are for those who manage the council only.
            "invitations": (
                members.council_invitations(jurisdiction=jurisdiction) if can_manage else None
            ),
            "invite_form": InvitationForm() if can_manage else None,
        },
    )


@workspace_view
@require_http_methods(["GET", "POST"])
def member_invite(request: HttpRequest, slug: str) -> HttpResponse:
    jurisdiction = _managed_jurisdiction(request, slug)
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation, _token = members.invitation_create(
                jurisdiction=jurisdiction,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                actor=_acting_user(request),
                link_base=request.build_absolute_uri("/"),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("An invitation is on its way to %(email)s.") % {"email": invitation.email},
            )
            return redirect(_list_url(jurisdiction))
    return render(
        request,
        "council/members/invite.html",
        {"jurisdiction": jurisdiction, "form": form, "days": settings.ATLAS_INVITATION_DAYS},
        status=400 if form.is_bound else 200,
    )


@workspace_view
@require_POST
def member_change_role(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    jurisdiction = _managed_jurisdiction(request, slug)
    membership = get_object_or_404(members.council_members(jurisdiction=jurisdiction), pk=pk)
    form = RoleForm(request.POST, membership=membership)
    if not form.is_valid():
        return render(
            request,
            "council/members/list.html",
            {
                "jurisdiction": jurisdiction,
                "can_manage": True,
                "entries": [(membership, form)],
                "invitations": None,
                "invite_form": None,
            },
            status=400,
        )
    try:
        changed = members.membership_change_role(
            membership=membership, role=form.cleaned_data["role"], actor=_acting_user(request)
        )
    except ValidationError as error:
        return _refused(request, jurisdiction, error)
    messages.success(
        request,
        _("%(member)s is now %(role)s.")
        % {
            "member": changed.public_name or changed.user.get_username(),
            "role": changed.get_role_display(),
        },
    )
    return redirect(_list_url(jurisdiction))


@workspace_view
@require_POST
def member_remove(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    jurisdiction = _managed_jurisdiction(request, slug)
    membership = get_object_or_404(members.council_members(jurisdiction=jurisdiction), pk=pk)
    name = membership.public_name or membership.user.get_username()
    try:
        members.membership_remove(membership=membership, actor=_acting_user(request))
    except ValidationError as error:
        return _refused(request, jurisdiction, error)
    messages.success(request, _("%(member)s has left the council.") % {"member": name})
    if not permissions.can_view_unpublished(request.user, jurisdiction):
        # The chair removed themselves and can no longer see this council.
        return redirect("council:landing")
    return redirect(_list_url(jurisdiction))


@workspace_view
@require_POST
def invitation_revoke(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    jurisdiction = _managed_jurisdiction(request, slug)
    invitation = get_object_or_404(Invitation.objects.filter(jurisdiction=jurisdiction), pk=pk)
    try:
        members.invitation_revoke(invitation=invitation, actor=_acting_user(request))
    except ValidationError as error:
        return _refused(request, jurisdiction, error)
    messages.success(
        request, _("The invitation to %(email)s is revoked.") % {"email": invitation.email}
    )
    return redirect(_list_url(jurisdiction))


# ------------------------------------------------------------------------------
# Accepting an invitation
# ------------------------------------------------------------------------------


def _unusable(request: HttpRequest, reason: str) -> HttpResponse:
    return render(
        request, "council/members/invitation_unusable.html", {"reason": reason}, status=400
    )


def _acceptance_refused(request: HttpRequest, reasons: list[str]) -> HttpResponse:
    return render(
        request,
        "council/members/invitation_unusable.html",
        {"reason": "refused", "refusals": reasons},
        status=400,
    )


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """
    Signed in, a button accepts. Otherwise the visitor may sign in (and come back)
    or create an account here, which accepts at once.
    """
    try:
        invitation = members.invitation_from_token(token=token)
    except Invitation.DoesNotExist:
        return render(
            request, "council/members/invitation_unusable.html", {"reason": "unknown"}, status=404
        )
    reason = members.unusable_reason(invitation, timezone.now())
    if reason:
        return _unusable(request, reason)

    signed_in = request.user.is_authenticated
    form = (
        None
        if signed_in
        else AccountForm(request.POST or None, initial={"email": invitation.email})
    )
    if request.method == "POST":
        try:
            if signed_in:
                membership = members.invitation_accept(token=token, user=_acting_user(request))
            elif form is not None and form.is_valid():
                membership = members.invitation_accept_with_new_account(
                    token=token,
                    username=form.cleaned_data["username"],
                    email=form.cleaned_data["email"],
                    password=form.cleaned_data["password1"],
                )
                login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            else:
                membership = None
        except members.InvitationUnusable as error:
            return _unusable(request, error.reason)
        except ValidationError as error:
            if form is not None and hasattr(error, "error_dict"):
                # The username went between the form's check and the account's creation.
                for name, field_errors in error.error_dict.items():
                    form.add_error(name if name in form.fields else None, field_errors)
                membership = None
            else:
                return _acceptance_refused(request, error.messages)
        except IntegrityError:
            # A race the service did not foresee: refuse clearly, write nothing.
            return _acceptance_refused(
                request, [_("The invitation could not be accepted just now. Try again.")]
            )
        if membership is not None:
            messages.success(
                request,
                _("Welcome to the council of %(jurisdiction)s, as %(role)s.")
                % {
                    "jurisdiction": membership.jurisdiction.name,
                    "role": membership.get_role_display(),
                },
            )
            # The landing page asks chairs and reviewers for their second factor first.
            return redirect("council:landing")
    return render(
        request,
        "council/members/invitation_accept.html",
        {"invitation": invitation, "form": form, "token": token},
        status=400 if form is not None and form.is_bound else 200,
    )
