"""
Signing in and out, the second factor, password reset, and the council landing page.

A password opens a session. A chair or reviewer, or anyone who has set up an
authenticator app, must then give a one-time code before the council pages let
them in (``permissions.second_factor_missing``); until then they are sent to
verify a code, or to set up an app if they have none.
"""

from __future__ import annotations

from base64 import b32encode
from typing import Any, cast
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from council import permissions, workspace
from council.auth_forms import OneTimeCodeForm
from council.decorators import workspace_view

# ------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------


def _next_url(request: HttpRequest) -> str:
    """Where to go once done: ``next`` when it stays on this site, else the council landing."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("council:landing")


def _is_verified(user: permissions.AnyUser) -> bool:
    """Whether this session has given a one-time code; OTPMiddleware puts the answer on the user."""
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def _with_next(url: str, next_url: str) -> str:
    return f"{url}?{urlencode({'next': next_url})}"


def _confirmed_devices(user: permissions.AnyUser) -> list[TOTPDevice]:
    return list(TOTPDevice.objects.devices_for_user(user, confirmed=True))


def second_factor_redirect(user: permissions.AnyUser, next_url: str) -> HttpResponseRedirect:
    """To the code prompt when the user has an app set up, else to setting one up."""
    name = (
        "council:second-factor-verify"
        if _confirmed_devices(user)
        else "council:second-factor-setup"
    )
    return redirect(_with_next(reverse(name), next_url))


def _mark_verified(request: HttpRequest, device: TOTPDevice) -> None:
    # A new session key, as at sign-in: the session now carries more rights than before.
    request.session.cycle_key()
    otp_login(request, device)


def _qr_svg(data: str) -> str:
    """An inline SVG QR code, made here so the secret never leaves the server."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathFillImage)
    return image.to_string(encoding="unicode")


def _grouped(secret: str) -> str:
    """``JBSWY3DPEHPK3PXP`` as ``JBSW Y3DP EHPK 3PXP``, easier to type into an app."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@transaction.atomic
def _confirm_device(*, user: permissions.AnyUser, device: TOTPDevice) -> TOTPDevice:
    """Make ``device`` the user's one authenticator: confirm it and drop any other."""
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user_id=user.pk).exclude(pk=device.pk).delete()
    return device


# ------------------------------------------------------------------------------
# Signing in and out
# ------------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    """Django's sign-in, followed by the second factor for those who need one."""

    template_name = "registration/login.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(failure_limit=settings.AXES_FAILURE_LIMIT, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        user = form.get_user()
        if permissions.second_factor_missing(user):
            return second_factor_redirect(user, self.get_success_url())
        return response


# ------------------------------------------------------------------------------
# Second factor
# ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def second_factor_verify(request: HttpRequest) -> HttpResponse:
    """Asks for a code from the app set up before, once per session."""
    next_url = _next_url(request)
    if _is_verified(request.user):
        return redirect(next_url)
    devices = _confirmed_devices(request.user)
    if not devices:
        return redirect(_with_next(reverse("council:second-factor-setup"), next_url))
    form = OneTimeCodeForm(request.POST or None, devices=devices)
    if request.method == "POST" and form.is_valid():
        _mark_verified(request, form.device)
        return redirect(next_url)
    return render(
        request, "registration/second_factor_verify.html", {"form": form, "next": next_url}
    )


@login_required
@require_http_methods(["GET", "POST"])
def second_factor_setup(request: HttpRequest) -> HttpResponse:
    """
    Sets up an authenticator app, or replaces the one set up before.

    Replacing asks for the current app's code first: otherwise a stolen password
    alone could swap in the thief's app.
    """
    user = request.user
    next_url = _next_url(request)
    replacing = bool(_confirmed_devices(user))
    if replacing and not _is_verified(user):
        return redirect(_with_next(reverse("council:second-factor-verify"), request.path))

    # The same pending device across reloads, so the code on screen stays the one to scan.
    device = TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)
    form = OneTimeCodeForm(request.POST or None, devices=[device])
    if request.method == "POST" and form.is_valid():
        _confirm_device(user=user, device=form.device)
        _mark_verified(request, form.device)
        messages.success(request, _("Your authenticator app is set up."))
        return redirect(next_url)

    otpauth_uri = device.config_url
    return render(
        request,
        "registration/second_factor_setup.html",
        {
            "form": form,
            "next": next_url,
            "replacing": replacing,
            "required": permissions.requires_second_factor(user),
            "qr_svg": _qr_svg(otpauth_uri),
            "secret": _grouped(b32encode(device.bin_key).decode("ascii")),
            "otpauth_uri": otpauth_uri,
        },
    )


# ------------------------------------------------------------------------------
# Password reset by email
# ------------------------------------------------------------------------------


class PasswordResetView(auth_views.PasswordResetView):
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("council:password-reset-done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("council:password-reset-complete")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        # Holding the mailbox proves enough to lift the lockout this address earned, so the
        # owner can sign in with the new password at once. Other addresses stay locked.
        address = client_address(self.request)
        if address:
            axes_reset(ip=address, username=form.user.get_username())
        return response


# ------------------------------------------------------------------------------
# Council landing
# ------------------------------------------------------------------------------


@workspace_view
@require_http_methods(["GET", "HEAD"])
def landing(request: HttpRequest) -> HttpResponse:
    """
    The workspace dashboard, where council members arrive once signed in: their
    councils, drafts, review queue, records going stale, milestones due and API keys.
    """
    # workspace_view has signed anonymous visitors in first.
    user = cast(AbstractBaseUser, request.user)
    return render(
        request,
        "council/landing.html",
        {
            "dashboard": workspace.dashboard(user=user, now=timezone.now()),
            "memberships": permissions.memberships(user),
            "verified": _is_verified(user),
        },
    )


# ------------------------------------------------------------------------------
# Lockout
# ------------------------------------------------------------------------------


def client_address(request: HttpRequest) -> str:
    """
    AXES_CLIENT_IP_CALLABLE: the address a sign-in attempt came from.

    Behind ATLAS_TRUSTED_PROXY_COUNT reverse proxies, each proxy appends the address
    it was reached from to X-Forwarded-For, so the client's address is that many
    entries from the right; anything further left was written by the client and is
    ignored. REMOTE_ADDR alone would be the nearest proxy's address, shared by all,
    which would turn the lockout into one per username that any stranger could trip.
    """
    remote = str(request.META.get("REMOTE_ADDR", ""))
    hops: int = settings.ATLAS_TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [
        part.strip()
        for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")
        if part.strip()
    ]
    return forwarded[-hops] if len(forwarded) >= hops else remote


# ------------------------------------------------------------------------------
# CSRF failure
# ------------------------------------------------------------------------------


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a page in the site's language saying what to do, not why it failed."""
    return render(request, "403_csrf.html", status=403)
