"""
The workspace's review pages, the workflow buttons and the member's API keys.

The workflow actions are POST only and thin: look the record up within the
user's scope (another jurisdiction's record is a 404), call the workflow
service, and say what happened.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from council import permissions, workspace
from council.decorators import workspace_view
from council.models import ApiKey, ReminderPreference
from council.services import (
    api_key_create,
    api_key_revoke,
    may_hold_write_key,
    reminder_preference_set,
)
from council.workspace_forms import ApiKeyForm, ReminderPreferenceForm, ReturnForm
from initiatives import workflow
from initiatives.models import Initiative, Plan
from initiatives.services import initiative_archive, plan_archive
from initiatives.snapshots import Record

# ------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------


def _member(request: HttpRequest) -> User:
    # workspace_view has turned anonymous visitors away already.
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def _next_or(request: HttpRequest, default: str) -> str:
    """``next`` when it stays on this site (as at sign-in), else ``default``."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _edit_url(record: Record) -> str:
    """The record's edit page; its review page while the editing pages are not installed."""
    name = "initiative-edit" if isinstance(record, Initiative) else "plan-edit"
    try:
        return reverse(f"council:editing:{name}", args=[record.slug])
    except NoReverseMatch:
        return _review_url(record)


def _review_url(record: Record) -> str:
    return reverse("council:workspace:review-detail", args=[workspace.kind_of(record), record.slug])


def _queue_url() -> str:
    return reverse("council:workspace:review-queue")


def _forbidden(request: HttpRequest, error: PermissionDenied) -> HttpResponse:
    message = str(error) or _("You may not do this.")
    return render(request, "council/workspace/forbidden.html", {"message": message}, status=403)


def _add_errors(form: Form, error: ValidationError) -> None:
    """A service's ValidationError on the form: on its field when the form has one."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def _record(request: HttpRequest, kind: str, slug: str) -> Record:
    return workspace.record_for_review(kind=kind, slug=slug, user=_member(request))


def _run(
    request: HttpRequest,
    action: Callable[[], object],
    *,
    success: str,
    done_url: str,
    back_url: str,
) -> HttpResponse:
    """Run a workflow step: a message and a redirect, or a 403 when the role lacks the right."""
    try:
        action()
    except PermissionDenied as error:
        return _forbidden(request, error)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect(_next_or(request, back_url))
    messages.success(request, success)
    return redirect(_next_or(request, done_url))


# ------------------------------------------------------------------------------
# Review queue and review page
# ------------------------------------------------------------------------------


@workspace_view
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    """Everything waiting for the user's review, oldest first."""
    try:
        # Capped: an absurd page number would overflow the database's offset.
        page = min(max(1, int(request.GET.get("page", "1"))), 10_000)
    except ValueError:
        page = 1
    size = workspace.QUEUE_PAGE_SIZE
    queue = workspace.review_queue(
        user=_member(request), now=timezone.now(), limit=size, offset=(page - 1) * size
    )
    return render(
        request,
        "council/workspace/review_queue.html",
        {
            "queue": queue,
            "page": page,
            "previous_page": page - 1 if page > 1 else None,
            "next_page": page + 1 if page * size < queue.total else None,
        },
    )


def _render_review(
    request: HttpRequest,
    record: Record,
    *,
    form: ReturnForm,
    status: int = 200,
    version: str | None = None,
) -> HttpResponse:
    user = _member(request)
    item = workspace.review_item(record=record)
    return render(
        request,
        "council/workspace/review_detail.html",
        {
            "item": item,
            "record": record,
            "kind": item.kind,
            "may_review": permissions.can_publish(user, record),
            # A refused return keeps its form on screen, with the note as typed.
            "show_decision": permissions.can_publish(user, record)
            and (item.in_review or form.is_bound),
            "may_edit": permissions.can_edit(user, record),
            "form": form,
            "edit_url": _edit_url(record),
            # What this page shows; publishing or returning it is refused once it changes.
            "version": version or workflow.edit_version(record),
        },
        status=status,
    )


@workspace_view
@require_GET
def review_detail(request: HttpRequest, kind: str, slug: str) -> HttpResponse:
    """A record waiting for review: its changes, or all of it when it is new."""
    record = _record(request, kind, slug)
    return _render_review(request, record, form=ReturnForm())


# ------------------------------------------------------------------------------
# Workflow actions
# ------------------------------------------------------------------------------


@workspace_view
@require_POST
def submit(request: HttpRequest, kind: str, slug: str) -> HttpResponse:
    record = _record(request, kind, slug)
    return _run(
        request,
        lambda: workflow.record_submit(record=record, actor=_member(request)),
        success=_("Sent for review: %(title)s.") % {"title": record.title},
        done_url=_edit_url(record),
        back_url=_edit_url(record),
    )


@workspace_view
@require_POST
def publish(request: HttpRequest, kind: str, slug: str) -> HttpResponse:
    record = _record(request, kind, slug)
    return _run(
        request,
        lambda: workflow.record_publish(
            record=record, actor=_member(request), version=request.POST.get("version", "")
        ),
        success=_("Published: %(title)s.") % {"title": record.title},
        done_url=_queue_url(),
        back_url=_review_url(record),
    )


@workspace_view
@require_POST
def return_to_editors(request: HttpRequest, kind: str, slug: str) -> HttpResponse:
    """Return with a note; a missing note re-shows the review page with what was typed."""
    user = _member(request)
    record = _record(request, kind, slug)
    if not permissions.can_publish(user, record):
        return _forbidden(request, PermissionDenied(_("You may not review this record.")))
    form = ReturnForm(request.POST)
    version = request.POST.get("version", "")
    if form.is_valid():
        try:
            workflow.record_return(
                record=record, actor=user, note=form.cleaned_data["note"], version=version
            )
        except PermissionDenied as error:
            return _forbidden(request, error)
        except ValidationError as error:
            _add_errors(form, error)
            if getattr(error, "code", None) == "stale":
                # The page now shows the current version; returning again judges that one.
                version = ""
        else:
            messages.success(
                request, _("Returned to its editors: %(title)s.") % {"title": record.title}
            )
            return redirect(_next_or(request, _queue_url()))
    return _render_review(request, record, form=form, status=400, version=version)


@workspace_view
@require_POST
def discard(request: HttpRequest, kind: str, slug: str) -> HttpResponse:
    """Drop the changes waiting for a published record."""
    user = _member(request)
    record = _record(request, kind, slug)

    def action() -> object:
        revision = workflow.open_revision(record)
        if revision is None:
            raise ValidationError(_("No changes are waiting for this record."), code="no_revision")
        return workflow.revision_discard(revision=revision, actor=user)

    return _run(
        request,
        action,
        success=_("Changes discarded: %(title)s.") % {"title": record.title},
        done_url=_edit_url(record),
        back_url=_edit_url(record),
    )


@workspace_view
@require_POST
def archive(request: HttpRequest, kind: str, slug: str) -> HttpResponse:
    user = _member(request)
    record = _record(request, kind, slug)

    def action() -> object:
        if isinstance(record, Plan):
            return plan_archive(plan=record, actor=user)
        return initiative_archive(initiative=record, actor=user)

    return _run(
        request,
        action,
        success=_("Archived: %(title)s.") % {"title": record.title},
        done_url=_edit_url(record),
        back_url=_edit_url(record),
    )


@workspace_view
@require_POST
def unarchive(request: HttpRequest, kind: str, slug: str) -> HttpResponse:
    record = _record(request, kind, slug)
    return _run(
        request,
        lambda: workflow.record_unarchive(record=record, actor=_member(request)),
        success=_("Unarchived as a draft: %(title)s.") % {"title": record.title},
        done_url=_edit_url(record),
        back_url=_edit_url(record),
    )


# ------------------------------------------------------------------------------
# API keys
# ------------------------------------------------------------------------------


@workspace_view
@never_cache
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest) -> HttpResponse:
    """
    The member's keys, and a form for a new one. The new key's plain text is in this
    response only: it is neither stored nor put in the session, and the page is not cached.
    """
    user = _member(request)
    may_write = may_hold_write_key(user)
    form = ApiKeyForm(request.POST or None, may_write=may_write)
    context: dict[str, Any] = {"may_write": may_write}
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                key, plain = api_key_create(
                    user=user,
                    read_only=form.wants_read_only,
                    expires_in_days=form.cleaned_data["expires_in_days"],
                    name=form.cleaned_data["name"],
                    actor=user,
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                context.update(created=key, plain_key=plain)
                form = ApiKeyForm(may_write=may_write)
                status = 200
    context.update(
        form=form,
        keys=list(workspace.api_key_list(user=user)),
        now=timezone.now(),
    )
    return render(request, "council/workspace/api_keys.html", context, status=status)


@workspace_view
@require_POST
def api_key_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of the member's own keys; anyone else's is not found."""
    user = _member(request)
    key = get_object_or_404(ApiKey, pk=pk, user_id=user.pk)
    try:
        api_key_revoke(key=key, actor=user)
    except PermissionDenied as error:
        return _forbidden(request, error)
    messages.success(request, _("Key %(prefix)s revoked.") % {"prefix": key.prefix})
    return redirect("council:workspace:api-keys")


# ------------------------------------------------------------------------------
# Reminders
# ------------------------------------------------------------------------------


@workspace_view
@require_http_methods(["GET", "HEAD", "POST"])
def reminder_preferences(request: HttpRequest) -> HttpResponse:
    """How often the member is reminded of stale records, due milestones and the queue."""
    user = _member(request)
    current = ReminderPreference.objects.filter(user=user).first() or ReminderPreference(
        user=user, language=translation.get_language() or "en"
    )
    form = ReminderPreferenceForm(request.POST or None, instance=current)
    if request.method == "POST":
        if form.is_valid():
            reminder_preference_set(
                user=user,
                frequency=form.cleaned_data["frequency"],
                language=form.cleaned_data["language"],
            )
            messages.success(request, _("Your reminder settings are saved."))
            return redirect("council:workspace:reminders")
        return render(request, "council/workspace/reminders.html", {"form": form}, status=400)
    return render(request, "council/workspace/reminders.html", {"form": form})
