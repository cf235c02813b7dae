"""
Following things by email: subscribe, confirm, manage, unsubscribe.

No page needs an account; the manage pages open from a signed link, and
signed-in users also find theirs at ``subscriptions:mine``. No GET changes
anything: mail scanners and link previews follow every link they see.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from council.auth_views import client_address
from initiatives import subscriptions
from initiatives.models import Subscription, SubscriptionTarget
from initiatives.subscription_forms import SubscribeForm, SubscriptionSettingsForm

# ------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------


def _invalid_link(request: HttpRequest, error: subscriptions.TokenInvalid) -> HttpResponse:
    return render(
        request, "subscriptions/invalid_link.html", {"expired": error.expired}, status=400
    )


def _rate_limited(request: HttpRequest, error: subscriptions.RateLimited) -> HttpResponse:
    seconds = max(0, math.ceil((error.retry_at - timezone.now()).total_seconds()))
    response = render(
        request,
        "subscriptions/rate_limited.html",
        {"retry_at": error.retry_at, "minutes": max(1, math.ceil(seconds / 60))},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


def _page_language() -> str:
    return subscriptions.site_language(translation.get_language())


def _manage_path(email: str) -> str:
    """The manage page of ``email``, in the page's language: a link on this site, not in mail."""
    return reverse("subscriptions:manage", kwargs={"token": subscriptions.manage_token(email)})


@dataclass
class _Entry:
    """One subscription on a manage page, with the addresses its buttons post to."""

    subscription: Subscription
    form: SubscriptionSettingsForm
    cancel_url: str
    update_url: str
    targets: list[tuple[SubscriptionTarget, str]]


def _entries(
    rows: list[Subscription],
    url: Callable[[str, dict[str, object]], str],
    bound: SubscriptionSettingsForm | None = None,
) -> list[_Entry]:
    return [
        _Entry(
            subscription=row,
            form=bound
            if bound is not None and bound.prefix == f"s{row.pk}"
            else SubscriptionSettingsForm(subscription=row),
            cancel_url=url("cancel", {"pk": row.pk}),
            update_url=url("update", {"pk": row.pk}),
            targets=[
                (target, url("remove-target", {"pk": target.pk})) for target in row.targets.all()
            ],
        )
        for row in rows
    ]


def _manage_page(
    request: HttpRequest,
    *,
    rows: list[Subscription],
    url: Callable[[str, dict[str, object]], str],
    context: dict[str, object],
    bound: SubscriptionSettingsForm | None = None,
) -> HttpResponse:
    return render(
        request,
        "subscriptions/manage.html",
        {**context, "entries": _entries(rows, url, bound)},
        status=400 if bound is not None else 200,
    )


def _owned(rows: list[Subscription], pk: int) -> Subscription:
    """One of the listed subscriptions; anyone else's is simply not found."""
    found = next((row for row in rows if row.pk == pk), None)
    if found is None:
        raise Http404
    return found


def _owned_target(rows: list[Subscription], pk: int) -> SubscriptionTarget:
    for row in rows:
        for target in row.targets.all():
            if target.pk == pk:
                return target
    raise Http404


def _act(
    request: HttpRequest,
    *,
    action: str,
    pk: int,
    rows: list[Subscription],
    url: Callable[[str, dict[str, object]], str],
    context: dict[str, object],
    back: str,
) -> HttpResponse:
    """The three POST actions of the manage pages, shared by the signed-link and account pages."""
    user = request.user if request.user.is_authenticated else None
    if action == "remove-target":
        target = _owned_target(rows, pk)
        subscriptions.subscription_target_remove(target=target, actor=user)
        messages.success(request, _("You no longer follow %(name)s.") % {"name": target})
        return redirect(back)
    subscription = _owned(rows, pk)
    if action == "cancel":
        subscriptions.subscription_cancel(subscription=subscription, actor=user)
        messages.success(request, _("The subscription is cancelled. No more emails for it."))
        return redirect(back)
    form = SubscriptionSettingsForm(request.POST, subscription=subscription)
    if not form.is_valid():
        return _manage_page(request, rows=rows, url=url, context=context, bound=form)
    try:
        subscriptions.subscription_update(
            subscription=subscription,
            frequency=form.cleaned_data["frequency"],
            language=form.cleaned_data["language"],
            actor=user,
        )
    except ValidationError as error:
        for message in error.messages:
            form.add_error(None, message)
        return _manage_page(request, rows=rows, url=url, context=context, bound=form)
    messages.success(request, _("Saved."))
    return redirect(back)


# ------------------------------------------------------------------------------
# Subscribing
# ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    """
    The subscribe page. The Follow forms on public pages post here; a GET with
    ``?target=`` values shows the same form for those targets.
    """
    if request.method == "POST":
        form = SubscribeForm(request.POST)
        # A filled honeypot gets the same answer as a person, so the sender learns nothing.
        if form.is_bot():
            return redirect("subscriptions:sent")
        if form.is_valid():
            data = form.cleaned_data
            try:
                subscriptions.subscription_request(
                    email=data["email"],
                    language=data["language"],
                    frequency=data["frequency"],
                    targets=data["target"],
                    user=request.user,
                    client_address=client_address(request),
                )
            except subscriptions.RateLimited as error:
                return _rate_limited(request, error)
            return redirect("subscriptions:sent")
        followed = form.cleaned_data.get("target", [])
        problems: dict[str, list[str]] = {}
        status = 400
    else:
        refs = request.GET.getlist("target")
        form = SubscribeForm(
            initial={
                "target": refs,
                "language": _page_language(),
                "email": getattr(request.user, "email", ""),
            }
        )
        try:
            followed = subscriptions.targets_from_refs(refs)
            problems = {}
        except ValidationError as error:
            followed, problems = [], {"__all__": error.messages}
        status = 400 if problems else 200
    return render(
        request,
        "subscriptions/subscribe.html",
        {"form": form, "followed": followed, "problems": problems},
        status=status,
    )


@require_GET
def sent(request: HttpRequest) -> HttpResponse:
    return render(request, "subscriptions/sent.html", {"days": subscriptions.confirm_days()})


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """
    The emailed link. GET only shows a button: mail scanners follow links, and
    must not confirm on a person's behalf. The POST confirms.
    """
    try:
        if request.method == "POST":
            subscription = subscriptions.subscription_confirm(token=token)
            return render(
                request,
                "subscriptions/confirmed.html",
                {
                    "subscription": subscription,
                    "manage_path": _manage_path(subscription.email),
                },
            )
        subscription = subscriptions.subscription_from_confirmation_token(token=token)
    except subscriptions.TokenInvalid as error:
        return _invalid_link(request, error)
    return render(
        request,
        "subscriptions/confirm.html",
        {
            "subscription": subscription,
            "targets": [
                subscriptions.TargetSpec.from_target(t)
                for t in subscription.targets.select_related(
                    "jurisdiction", "initiative", "focus_area", "organization"
                )
            ],
        },
    )


# ------------------------------------------------------------------------------
# Unsubscribing (RFC 8058)
# ------------------------------------------------------------------------------


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """
    One-click unsubscribe. Mail clients POST ``List-Unsubscribe=One-Click`` with
    no cookies, hence no CSRF check: the signed token is the proof. A GET only
    shows the button, and never unsubscribes.
    """
    try:
        subscription = subscriptions.subscription_from_unsubscribe_token(token=token)
    except subscriptions.TokenInvalid as error:
        return _invalid_link(request, error)
    done = False
    if request.method == "POST":
        subscription = subscriptions.subscription_cancel(subscription=subscription)
        done = True
    return render(
        request,
        "subscriptions/unsubscribe.html",
        {
            "subscription": subscription,
            "done": done,
            "manage_path": _manage_path(subscription.email),
        },
    )


# ------------------------------------------------------------------------------
# Managing: by signed link, or signed in
# ------------------------------------------------------------------------------


def _by_link(token: str) -> tuple[str, list[Subscription], Callable[[str, dict[str, object]], str]]:
    email = subscriptions.email_from_manage_token(token=token)
    rows = list(subscriptions.subscriptions_for_email(email=email))

    def url(action: str, kwargs: dict[str, object]) -> str:
        return reverse(f"subscriptions:manage-{action}", kwargs={"token": token, **kwargs})

    return email, rows, url


@require_GET
def manage(request: HttpRequest, token: str) -> HttpResponse:
    """Every subscription of the address the signed link names, each changeable on its own."""
    try:
        email, rows, url = _by_link(token)
    except subscriptions.TokenInvalid as error:
        return _invalid_link(request, error)
    return _manage_page(request, rows=rows, url=url, context={"email": email})


@require_POST
def manage_action(request: HttpRequest, token: str, action: str, pk: int) -> HttpResponse:
    try:
        email, rows, url = _by_link(token)
    except subscriptions.TokenInvalid as error:
        return _invalid_link(request, error)
    return _act(
        request,
        action=action,
        pk=pk,
        rows=rows,
        url=url,
        context={"email": email},
        back=reverse("subscriptions:manage", kwargs={"token": token}),
    )


_UrlFor = Callable[[str, dict[str, object]], str]


def _mine(request: HttpRequest) -> tuple[list[Subscription], _UrlFor]:
    if not isinstance(request.user, User):
        raise PermissionDenied
    rows = list(subscriptions.subscriptions_for_user(user=request.user))

    def url(action: str, kwargs: dict[str, object]) -> str:
        return reverse(f"subscriptions:mine-{action}", kwargs=kwargs)

    return rows, url


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """The signed-in user's subscriptions: made while signed in, or to their account's address."""
    rows, url = _mine(request)
    return _manage_page(request, rows=rows, url=url, context={"mine": True})


@login_required
@require_POST
def mine_action(request: HttpRequest, action: str, pk: int) -> HttpResponse:
    rows, url = _mine(request)
    return _act(
        request,
        action=action,
        pk=pk,
        rows=rows,
        url=url,
        context={"mine": True},
        back=reverse("subscriptions:mine"),
    )
