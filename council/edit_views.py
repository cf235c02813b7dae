"""
The workspace's edit pages: a jurisdiction's records, and the forms that create and
change initiatives, plans, organizations, coalitions and the jurisdiction's profile.

Every page works without JavaScript. Besides saving, each form has two buttons
that re-render what was typed and save nothing: "Preview" shows the Markdown
fields as the public will read them, "Add more rows" adds empty rows to the
formsets. A record of another jurisdiction is a 404; a role without the right to
edit is a 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from cities.markdown import render_markdown
from cities.models import Jurisdiction
from council import permissions
from council.decorators import workspace_view
from council.forms import (
    CoalitionForm,
    CoalitionMembershipFormSet,
    JurisdictionProfileForm,
    MarkdownPreviewForm,
    OrganizationForm,
    add_model_errors,
    markdown_previews,
    organization_choices,
    silence,
    summary_errors,
    with_more_rows,
)
from council.models import Coalition, CoalitionMembership, Organization
from council.record_services import coalition_save, organization_create, organization_update
from initiatives.forms import InitiativeEditor, PlanEditor, RecordEditor
from initiatives.models import Initiative, Plan, PublicationState, Revision
from initiatives.services import jurisdiction_update
from initiatives.snapshots import Record
from initiatives.views import paginate
from initiatives.workflow import edit_version, open_revision, record_create, record_save_changes

# The buttons that share each form with "Save": they re-render, never write.
PREVIEW = "preview"
MORE_ROWS = "more_rows"

# ------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------


def _acting_user(request: HttpRequest) -> User:
    """The signed-in user, which the workspace door has already made sure of."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def _action(request: HttpRequest) -> str:
    return request.POST.get("action", "") if request.method == "POST" else ""


def _require_edit(request: HttpRequest, obj: Any) -> None:
    """In scope but without the right to edit (a reviewer, say): 403."""
    if not permissions.can_edit(request.user, obj):
        raise PermissionDenied(_("You may not edit records of this jurisdiction."))


def _jurisdiction(request: HttpRequest, slug: str) -> Jurisdiction:
    return permissions.council_object_or_404(Jurisdiction.objects.all(), request.user, slug=slug)


def _records_url(jurisdiction: Jurisdiction) -> str:
    return reverse("council:editing:jurisdiction-records", kwargs={"slug": jurisdiction.slug})


def _edit_url(record: Record | Organization | Coalition) -> str:
    name = {
        Initiative: "initiative-edit",
        Plan: "plan-edit",
        Organization: "organization-edit",
        Coalition: "coalition-edit",
    }[type(record)]
    return reverse(f"council:editing:{name}", kwargs={"slug": record.slug})


# ------------------------------------------------------------------------------
# A jurisdiction's records
# ------------------------------------------------------------------------------


def _with_revision_marker(queryset: QuerySet[Any], field: str) -> QuerySet[Any]:
    """Mark each record that has changes waiting in an open revision: one subquery."""
    return queryset.annotate(
        has_open_revision=Exists(
            Revision.objects.filter(**{field: OuterRef("pk")}, state__in=Revision.OPEN_STATES)
        )
    )


@workspace_view
@require_http_methods(["GET", "HEAD"])
def jurisdiction_records(request: HttpRequest, slug: str) -> HttpResponse:
    """Every record of one jurisdiction, published or not, for its council."""
    jurisdiction = _jurisdiction(request, slug)
    initiatives = paginate(
        request,
        _with_revision_marker(
            Initiative.objects.filter(jurisdiction=jurisdiction).order_by("title", "pk"),
            "initiative",
        ).only("title", "slug", "status", "publication_state", "updated_at"),
    )
    plans = _with_revision_marker(
        Plan.objects.filter(jurisdiction=jurisdiction).order_by("title", "pk"), "plan"
    ).only("title", "slug", "publication_state", "updated_at")
    organizations = Organization.objects.filter(jurisdiction=jurisdiction).only(
        "name", "slug", "kind"
    )
    coalitions = Coalition.objects.filter(jurisdiction=jurisdiction).only("name", "slug")
    return render(
        request,
        "council/edit/records.html",
        {
            "jurisdiction": jurisdiction,
            **initiatives.context(),
            "plans": list(plans),
            "organizations": list(organizations),
            "coalitions": list(coalitions),
            "can_edit": permissions.can_edit(request.user, jurisdiction),
        },
        status=initiatives.status,
    )


# ------------------------------------------------------------------------------
# Initiatives and plans
# ------------------------------------------------------------------------------


def _record_page(
    request: HttpRequest,
    *,
    editor_class: type[RecordEditor],
    jurisdiction: Jurisdiction,
    record: Record | None,
) -> HttpResponse:
    """Shared by the four initiative and plan pages: show, re-render, or save."""
    data = request.POST if request.method == "POST" else None
    editor = editor_class(user=request.user, jurisdiction=jurisdiction, record=record, data=data)
    action = _action(request)
    previews = {}
    status = 200
    if action == MORE_ROWS:
        editor.grow()
    elif action == PREVIEW:
        previews = editor.previews()
        editor.quiet()
    elif data is not None:
        if editor.is_valid():
            saved = _save_record(request, editor)
            if saved is not None:
                return redirect(_edit_url(saved))
        status = 400
    version = request.POST.get("version", "")
    if editor.record is not None and (data is None or editor.stale):
        # A fresh page, or one refused as out of date: it now shows the current version,
        # so saving again knowingly replaces it. Otherwise the page keeps the version it
        # was opened on, so a change made meanwhile is still caught at the next save.
        version = edit_version(editor.record)
    return render(
        request,
        "council/edit/record_form.html",
        {**_record_context(request, editor, previews=previews), "version": version},
        status=status,
    )


def _save_record(request: HttpRequest, editor: RecordEditor) -> Record | None:
    """Create or change the record; a refusal lands on the form and None comes back."""
    actor = _acting_user(request)
    try:
        if editor.record is None:
            created = record_create(
                model=editor.model, values=editor.values(), data=editor.snapshot(), actor=actor
            )
            messages.success(request, _("Created as a draft. Submit it for review when ready."))
            return created
        outcome = record_save_changes(
            record=editor.record,
            data=editor.snapshot(),
            actor=actor,
            version=request.POST.get("version", ""),
        )
    except ValidationError as error:
        editor.stale = getattr(error, "code", None) == "stale"
        editor.report(error)
        return None
    except IntegrityError:
        # Another editor took the slug or the external id between validation and saving.
        editor.report(
            ValidationError(_("Another record was saved meanwhile; check the slug and try again."))
        )
        return None
    if isinstance(outcome, Revision):
        messages.success(
            request,
            _(
                "Your changes are kept for review. The public page shows the published "
                "version until a reviewer publishes them; submit them for review when ready."
            ),
        )
        return outcome.record
    if outcome.publication_state == PublicationState.PUBLISHED:
        messages.info(request, _("Nothing differs from the published version: nothing to save."))
    else:
        messages.success(request, _("Saved."))
    return outcome


def _record_context(
    request: HttpRequest, editor: RecordEditor, *, previews: dict[str, Any]
) -> dict[str, Any]:
    record = editor.record
    kind = "initiatives" if editor.model is Initiative else "plans"
    revision = open_revision(record) if record is not None else None
    review_note = ""
    if revision is not None:
        review_note = revision.review_note
    elif record is not None and record.publication_state == PublicationState.DRAFT:
        review_note = record.review_note
    return {
        "editor": editor,
        "form": editor.form,
        "formsets": editor.formsets,
        "errors": editor.errors(),
        "previews": previews,
        "record": record,
        "jurisdiction": editor.jurisdiction,
        "kind": kind,
        "is_initiative": editor.model is Initiative,
        "revision": revision,
        "review_note": review_note,
        "can_submit": record is not None and permissions.can_submit(request.user, record),
        "states": PublicationState,
    }


@workspace_view
@require_http_methods(["GET", "HEAD", "POST"])
def initiative_create(request: HttpRequest, jurisdiction_slug: str) -> HttpResponse:
    jurisdiction = _jurisdiction(request, jurisdiction_slug)
    _require_edit(request, jurisdiction)
    return _record_page(
        request, editor_class=InitiativeEditor, jurisdiction=jurisdiction, record=None
    )


@workspace_view
@require_http_methods(["GET", "HEAD", "POST"])
def initiative_edit(request: HttpRequest, slug: str) -> HttpResponse:
    initiative = permissions.council_object_or_404(
        Initiative.objects.select_related("jurisdiction"), request.user, slug=slug
    )
    _require_edit(request, initiative)
    return _record_page(
        request,
        editor_class=InitiativeEditor,
        jurisdiction=initiative.jurisdiction,
        record=initiative,
    )


@workspace_view
@require_http_methods(["GET", "HEAD", "POST"])
def plan_create(request: HttpRequest, jurisdiction_slug: str) -> HttpResponse:
    jurisdiction = _jurisdiction(request, jurisdiction_slug)
    _require_edit(request, jurisdiction)
    return _record_page(request, editor_class=PlanEditor, jurisdiction=jurisdiction, record=None)


@workspace_view
@require_http_methods(["GET", "HEAD", "POST"])
def plan_edit(request: HttpRequest, slug: str) -> HttpResponse:
    plan = permissions.council_object_or_404(
        Plan.objects.select_related("jurisdiction"), request.user, slug=slug
    )
    _require_edit(request, plan)
    return _record_page(
        request, editor_class=PlanEditor, jurisdiction=plan.jurisdiction, record=plan
    )


# ------------------------------------------------------------------------------
# Organizations
# ------------------------------------------------------------------------------


def _organization_page(request: HttpRequest, organization: Organization | None) -> HttpResponse:
    jurisdictions = permissions.editable_jurisdictions(request.user)
    initial: dict[str, Any] = {}
    if organization is not None:
        initial = {
            name: getattr(organization, name)
            for name in (
                "name",
                "kind",
                "website",
                "description",
                "source_url",
                "is_illustrative",
            )
        }
        initial["jurisdiction"] = organization.jurisdiction_id
    form = OrganizationForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        jurisdictions=jurisdictions,
        creating=organization is None,
        # Staff may keep an organization without a home; a council's belongs somewhere.
        jurisdiction_required=not permissions.is_atlas_staff(request.user),
    )
    action = _action(request)
    previews = {}
    status = 200
    if action == PREVIEW:
        previews = markdown_previews(form, form.markdown_fields)
        silence(form)
    elif request.method == "POST":
        if form.is_valid():
            actor = _acting_user(request)
            try:
                if organization is None:
                    saved = organization_create(actor=actor, values=form.values())
                else:
                    values = form.values()
                    saved = organization_update(
                        organization=organization, actor=actor, values=values
                    )
            except ValidationError as error:
                add_model_errors(form, error)
            else:
                messages.success(request, _("Saved."))
                return redirect(_edit_url(saved))
        status = 400
    return render(
        request,
        "council/edit/organization_form.html",
        {
            "form": form,
            "organization": organization,
            "previews": previews,
            "errors": summary_errors(form),
        },
        status=status,
    )


@workspace_view
@require_http_methods(["GET", "HEAD", "POST"])
def organization_create_view(request: HttpRequest) -> HttpResponse:
    if not permissions.editable_jurisdictions(request.user).exists():
        raise PermissionDenied(_("You may not edit records of any jurisdiction."))
    return _organization_page(request, None)


@workspace_view
@require_http_methods(["GET", "HEAD", "POST"])
def organization_edit(request: HttpRequest, slug: str) -> HttpResponse:
    organization = permissions.council_object_or_404(
        Organization.objects.select_related("jurisdiction"), request.user, slug=slug
    )
    _require_edit(request, organization)
    return _organization_page(request, organization)


# ------------------------------------------------------------------------------
# Coalitions
# ------------------------------------------------------------------------------

COALITION_FIELDS = ("name", "description", "founded_on", "website", "source_url", "is_illustrative")
MEMBERSHIP_FIELDS = ("organization", "role", "since", "until")


@workspace_view
@require_http_methods(["GET", "HEAD", "POST"])
def coalition_edit(request: HttpRequest, slug: str) -> HttpResponse:
    """A coalition's own fields and its memberships, in one form."""
    coalition = permissions.council_object_or_404(
        Coalition.objects.select_related("jurisdiction"), request.user, slug=slug
    )
    _require_edit(request, coalition)
    stored = list(CoalitionMembership.objects.filter(coalition=coalition).order_by("pk"))
    data = request.POST if request.method == "POST" else None
    choices = organization_choices(Organization.objects.order_by("name"))

    def bind(data: Any) -> tuple[CoalitionForm, Any]:
        form = CoalitionForm(
            data, initial={name: getattr(coalition, name) for name in COALITION_FIELDS}
        )
        formset = CoalitionMembershipFormSet(
            data,
            prefix="memberships",
            initial=[
                {
                    "id": m.pk,
                    "organization": m.organization_id,
                    "role": m.role,
                    "since": m.since,
                    "until": m.until,
                }
                for m in stored
            ],
            form_kwargs={"known_ids": [m.pk for m in stored], "organizations": choices},
        )
        return form, formset

    form, formset = bind(data)
    action = _action(request)
    previews = {}
    status = 200
    if action == MORE_ROWS and data is not None:
        form, formset = bind(with_more_rows(data, [formset]))
        silence(form)
        silence(formset)
    elif action == PREVIEW:
        previews = markdown_previews(form, form.markdown_fields)
        silence(form)
        silence(formset)
    elif data is not None:
        if form.is_valid() and formset.is_valid():
            rows = [
                {"id": row["id"], **{n: row[n] for n in MEMBERSHIP_FIELDS}}
                for row in formset.rows()
            ]
            for row in rows:
                row["organization_id"] = row.pop("organization")
            try:
                coalition_save(
                    coalition=coalition,
                    actor=_acting_user(request),
                    values=form.values(),
                    memberships=rows,
                )
            except ValidationError as error:
                add_model_errors(form, error)
            except IntegrityError:
                add_model_errors(
                    form,
                    ValidationError(_("This organization already has this role in the coalition.")),
                )
            else:
                messages.success(request, _("Saved."))
                return redirect(_edit_url(coalition))
        status = 400
    return render(
        request,
        "council/edit/coalition_form.html",
        {
            "coalition": coalition,
            "form": form,
            "formset": formset,
            "previews": previews,
            "errors": summary_errors(form, [(_("Members"), formset)]),
        },
        status=status,
    )


# ------------------------------------------------------------------------------
# The jurisdiction's profile
# ------------------------------------------------------------------------------


@workspace_view
@require_http_methods(["GET", "HEAD", "POST"])
def jurisdiction_profile(request: HttpRequest, slug: str) -> HttpResponse:
    jurisdiction = _jurisdiction(request, slug)
    _require_edit(request, jurisdiction)
    form = JurisdictionProfileForm(
        request.POST if request.method == "POST" else None, instance=jurisdiction
    )
    action = _action(request)
    previews = {}
    status = 200
    if action == PREVIEW:
        previews = markdown_previews(form, form.markdown_fields)
        silence(form)
    elif request.method == "POST":
        if form.is_valid():
            try:
                jurisdiction_update(
                    jurisdiction=Jurisdiction.objects.get(pk=jurisdiction.pk),
                    actor=_acting_user(request),
                    values=form.values(),
                )
            except ValidationError as error:
                add_model_errors(form, error)
            else:
                messages.success(request, _("Saved."))
                return redirect(_records_url(jurisdiction))
        status = 400
    return render(
        request,
        "council/edit/jurisdiction_profile.html",
        {
            "jurisdiction": jurisdiction,
            "form": form,
            "previews": previews,
            "errors": summary_errors(form),
        },
        status=status,
    )


# ------------------------------------------------------------------------------
# Markdown preview, for workspace.js
# ------------------------------------------------------------------------------


@workspace_view
@require_POST
def markdown_preview(request: HttpRequest) -> HttpResponse:
    """The sanitised HTML of the posted ``text``, as the public pages will show it."""
    form = MarkdownPreviewForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(
            _("The text is too long to preview."), content_type="text/plain; charset=utf-8"
        )
    return HttpResponse(
        render_markdown(form.cleaned_data["text"]), content_type="text/html; charset=utf-8"
    )
