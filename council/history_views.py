"""A record's timeline, restoring one of its versions, and a jurisdiction's audit log."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cities.models import Jurisdiction
from council import history, permissions
from council.decorators import workspace_view
from council.history_forms import AuditLogFilterForm, RestoreForm

AUDIT_PER_PAGE = 50

# Where each kind of record is edited, by URL name (another part of the workspace owns them).
EDIT_URL_NAMES = {
    "initiatives": "council:editing:initiative-edit",
    "plans": "council:editing:plan-edit",
    "organizations": "council:editing:organization-edit",
    "coalitions": "council:editing:coalition-edit",
    "jurisdictions": "council:editing:jurisdiction-profile",
}


def _record_or_404(request: HttpRequest, kind: str, slug: str) -> models.Model:
    model = history.RECORD_KINDS.get(kind)
    if model is None:
        raise Http404
    queryset = model._default_manager.all()
    if model is not Jurisdiction:
        queryset = queryset.select_related("jurisdiction")
    return permissions.council_object_or_404(queryset, request.user, slug=slug)


def _public_url(record: models.Model) -> str:
    """The record's public page, when the public can see it."""
    if getattr(record, "publication_state", "published") != "published":
        return ""
    return str(record.get_absolute_url())  # type: ignore[attr-defined]


def _jurisdiction_of(record: models.Model) -> Jurisdiction | None:
    return record if isinstance(record, Jurisdiction) else getattr(record, "jurisdiction", None)


@workspace_view
@require_GET
def record_history(request: HttpRequest, kind: str, slug: str) -> HttpResponse:
    record = _record_or_404(request, kind, slug)
    timeline = history.record_timeline(record=record, page=request.GET.get("page"))
    jurisdiction = _jurisdiction_of(record)
    return render(
        request,
        "council/history/record_history.html",
        {
            "record": record,
            "kind": kind,
            "timeline": timeline,
            "can_restore": permissions.can_restore(request.user, record),
            "edit_url_name": EDIT_URL_NAMES[kind],
            "public_url": _public_url(record),
            "audit_jurisdiction": (
                jurisdiction
                if jurisdiction is not None
                and permissions.can_view_audit_log(request.user, jurisdiction)
                else None
            ),
        },
    )


@workspace_view
@require_POST
def restore(request: HttpRequest, kind: str, slug: str) -> HttpResponse:
    record = _record_or_404(request, kind, slug)
    if not permissions.can_restore(request.user, record):
        raise PermissionDenied(_("You may not restore this record."))
    form = RestoreForm(request.POST, versions=history.version_times(record))
    errors: list[str] = []
    if form.is_valid():
        when = form.cleaned_data["version"]
        try:
            history.restore_version(record=record, when=when, actor=request.user)  # type: ignore[arg-type]
        except ValidationError as error:
            errors = list(error.messages)
        else:
            messages.success(
                request,
                _("The version of %(when)s is restored; it is now the newest version.")
                % {"when": f"{when:%Y-%m-%d %H:%M:%S}"},
            )
            return redirect("council:history:record-history", kind=kind, slug=record.slug)  # type: ignore[attr-defined]
    else:
        errors = [str(message) for messages_ in form.errors.values() for message in messages_]
    return render(
        request,
        "council/history/restore_error.html",
        {"record": record, "kind": kind, "errors": {"": errors}},
        status=400,
    )


@workspace_view
@require_GET
def audit_log(request: HttpRequest, slug: str) -> HttpResponse:
    jurisdiction = get_object_or_404(Jurisdiction, slug=slug)
    if not permissions.can_view_audit_log(request.user, jurisdiction):
        raise Http404
    form = AuditLogFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return render(
            request,
            "council/history/audit_log.html",
            {"jurisdiction": jurisdiction, "form": form, "entries": [], "invalid": True},
            status=400,
        )
    filters = form.cleaned_data if form.is_bound else {}
    before = filters.get("before")
    entries, next_before = history.audit_page(
        jurisdiction=jurisdiction,
        per_page=AUDIT_PER_PAGE,
        before=before,
        actor=filters.get("actor") or None,
        since=filters.get("since"),
        until=filters.get("until"),
        kind=filters.get("kind") or None,
    )
    return render(
        request,
        "council/history/audit_log.html",
        {
            "jurisdiction": jurisdiction,
            "form": form,
            "entries": entries,
            "paged": before is not None,
            "next_before": next_before.isoformat() if next_before else None,
        },
    )
