"""
The public's suggestions and comments, their email confirmation, and the moderation queue.

The public pages need no account. The moderation pages are workspace pages.
"""

from __future__ import annotations

import math

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cities import selectors as city_selectors
from cities.models import Jurisdiction
from council import contributions, permissions
from council.auth_views import client_address
from council.contribution_forms import CommentForm, ModerationForm, SuggestionForm
from council.decorators import workspace_view
from council.models import Contribution
from initiatives.models import Initiative

# ------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------


def _acting_user(request: HttpRequest) -> User:
    """The signed-in user, which the workspace door has already made sure of."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def _rate_limited(request: HttpRequest, error: contributions.RateLimited) -> HttpResponse:
    seconds = max(0, math.ceil((error.retry_at - timezone.now()).total_seconds()))
    response = render(
        request,
        "council/contributions/rate_limited.html",
        {"retry_at": error.retry_at, "minutes": max(1, math.ceil(seconds / 60))},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


def _submit(
    request: HttpRequest,
    form: SuggestionForm | CommentForm,
    *,
    template: str,
    context: dict[str, object],
    jurisdiction: Jurisdiction,
    initiative: Initiative | None = None,
) -> HttpResponse:
    """Shared by both public forms: honeypot, validation, rate limit, then the sent page."""
    if request.method == "POST":
        # A filled honeypot gets the same answer as a person, so the sender learns nothing.
        if form.is_bot():
            return redirect("council:contributions:sent")
        if form.is_valid():
            data = form.cleaned_data
            try:
                contributions.contribution_submit(
                    kind=(
                        Contribution.Kind.COMMENT if initiative else Contribution.Kind.SUGGESTION
                    ),
                    jurisdiction=jurisdiction,
                    initiative=initiative,
                    name=data["name"],
                    email=data["email"],
                    title=data.get("title", ""),
                    body=data["body"],
                    url=data.get("url", ""),
                    client_address=client_address(request),
                    link_base=request.build_absolute_uri("/"),
                    language=translation.get_language() or "",
                )
            except contributions.RateLimited as error:
                return _rate_limited(request, error)
            return redirect("council:contributions:sent")
    status = 400 if form.is_bound else 200
    return render(request, template, {**context, "form": form}, status=status)


# ------------------------------------------------------------------------------
# Public pages
# ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def suggest(request: HttpRequest, jurisdiction_slug: str) -> HttpResponse:
    """Suggest an initiative or an example for a jurisdiction."""
    jurisdiction = city_selectors.jurisdiction_get(slug=jurisdiction_slug)
    form = SuggestionForm(request.POST or None)
    return _submit(
        request,
        form,
        template="council/contributions/suggest.html",
        context={"jurisdiction": jurisdiction},
        jurisdiction=jurisdiction,
    )


@require_http_methods(["GET", "POST"])
def comment(request: HttpRequest, slug: str) -> HttpResponse:
    """Comment on a published initiative."""
    initiative = contributions.commentable_initiative(slug=slug)
    form = CommentForm(request.POST or None)
    return _submit(
        request,
        form,
        template="council/contributions/comment.html",
        context={"initiative": initiative},
        jurisdiction=initiative.jurisdiction,
        initiative=initiative,
    )


@require_GET
def sent(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "council/contributions/sent.html",
        {"days": contributions.confirm_days()},
    )


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """
    The emailed link. GET only shows a button: mail scanners follow links, and
    must not confirm on a person's behalf. The POST confirms.
    """
    try:
        if request.method == "POST":
            contribution = contributions.contribution_confirm(token=token)
            return render(
                request, "council/contributions/confirmed.html", {"contribution": contribution}
            )
        contribution = contributions.contribution_from_token(token=token)
    except contributions.ConfirmationInvalid as error:
        return render(
            request,
            "council/contributions/invalid_link.html",
            {"expired": error.expired},
            status=400,
        )
    return render(
        request,
        "council/contributions/confirm.html",
        {
            "contribution": contribution,
            "already": contribution.state != Contribution.State.UNCONFIRMED,
        },
    )


# ------------------------------------------------------------------------------
# Moderation (workspace)
# ------------------------------------------------------------------------------


def _require_some_review_role(user: permissions.AnyUser) -> None:
    if not permissions.reviews_somewhere(user):
        raise PermissionDenied(_("Only reviewers and chairs moderate contributions."))


@workspace_view
@require_GET
def moderation_queue(request: HttpRequest) -> HttpResponse:
    _require_some_review_role(request.user)
    queue = list(contributions.moderation_queue(user=_acting_user(request)))
    return render(
        request,
        "council/contributions/queue.html",
        {"entries": [(item, ModerationForm(contribution=item)) for item in queue]},
    )


def _moderate(request: HttpRequest, pk: int, *, accept: bool) -> HttpResponse:
    contribution = contributions.contribution_for_moderation(user=request.user, pk=pk)
    if not permissions.can_moderate(request.user, contribution.jurisdiction):
        raise PermissionDenied(_("You may not moderate contributions of this jurisdiction."))
    form = ModerationForm(request.POST, contribution=contribution)
    if not form.is_valid():
        return render(
            request,
            "council/contributions/queue.html",
            {"entries": [(contribution, form)]},
            status=400,
        )
    service = contributions.contribution_accept if accept else contributions.contribution_reject
    try:
        result = service(
            contribution=contribution, actor=_acting_user(request), note=form.cleaned_data["note"]
        )
    except ValidationError as error:
        return render(
            request,
            "council/contributions/moderation_error.html",
            {"messages_list": error.messages},
            status=400,
        )
    if result.draft is not None:
        messages.success(
            request,
            _("Accepted. The suggestion is now the draft “%(title)s”.") % {"title": result.draft},
        )
    elif accept:
        messages.success(request, _("Accepted. The comment is now shown on the initiative."))
    else:
        messages.success(request, _("Rejected."))
    return redirect("council:contributions:moderation-queue")


@workspace_view
@require_POST
def moderation_accept(request: HttpRequest, pk: int) -> HttpResponse:
    return _moderate(request, pk, accept=True)


@workspace_view
@require_POST
def moderation_reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _moderate(request, pk, accept=False)
