"""
Import and export of a jurisdiction's initiatives as CSV, in the council workspace.

Importing takes two steps: the upload shows what each row would do and writes
nothing; the confirmation checks the kept file again against the data as it is
then and imports it in one transaction. The rules live in initiatives.csv_io.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cities.models import Jurisdiction
from council import permissions
from council.csv_forms import (
    ImportConfirmForm,
    ImportUploadForm,
    discard_upload,
    stage_upload,
    staging_storage,
)
from council.decorators import workspace_view
from initiatives.csv_io import (
    ImportPlan,
    export_initiatives,
    format_counts,
    format_waiting,
    import_initiatives,
)

# The preview lists up to this many rows of each kind (changing, unchanged);
# the counts above the lists cover the rest.
PREVIEW_ROWS = 500


def _actor(request: HttpRequest) -> AbstractBaseUser:
    """The signed-in user; workspace_view has turned everyone else away."""
    if not isinstance(request.user, AbstractBaseUser):
        raise PermissionDenied
    return request.user


def _jurisdiction(request: HttpRequest, slug: str) -> Jurisdiction:
    return permissions.council_object_or_404(Jurisdiction.objects.all(), request.user, slug=slug)


def _editable_jurisdiction(request: HttpRequest, slug: str) -> Jurisdiction:
    jurisdiction = _jurisdiction(request, slug)
    if not permissions.can_edit(request.user, jurisdiction):
        raise PermissionDenied(_("You may not edit records of this jurisdiction."))
    return jurisdiction


def _preview(
    request: HttpRequest,
    *,
    jurisdiction: Jurisdiction,
    plan: ImportPlan,
    upload_form: ImportUploadForm,
    confirm_form: ImportConfirmForm | None,
) -> HttpResponse:
    changes = [row for row in plan.rows if row.action != "unchanged"]
    unchanged = [row for row in plan.rows if row.action == "unchanged"]
    return render(
        request,
        "council/csv/import.html",
        {
            "jurisdiction": jurisdiction,
            "form": upload_form,
            "plan": plan,
            "counts": format_counts(plan),
            "changes": changes[:PREVIEW_ROWS],
            "more_changes": max(len(changes) - PREVIEW_ROWS, 0),
            "unchanged": unchanged[:PREVIEW_ROWS],
            "more_unchanged": max(len(unchanged) - PREVIEW_ROWS, 0),
            "confirm_form": confirm_form,
        },
        status=400 if plan.errors else 200,
    )


@workspace_view
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest, slug: str) -> HttpResponse:
    """The upload form, and on POST the dry run of the uploaded file."""
    jurisdiction = _editable_jurisdiction(request, slug)
    if request.method != "POST":
        return render(
            request,
            "council/csv/import.html",
            {"jurisdiction": jurisdiction, "form": ImportUploadForm()},
        )
    form = ImportUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(
            request,
            "council/csv/import.html",
            {"jurisdiction": jurisdiction, "form": form},
            status=400,
        )
    upload = form.cleaned_data["file"]
    result = import_initiatives(
        jurisdiction=jurisdiction, actor=_actor(request), file=upload, dry_run=True
    )
    confirm_form = None
    plan = result.plan
    if not plan.errors and (plan.created or plan.updated):
        upload.seek(0)
        token = stage_upload(file=upload, user=request.user, jurisdiction=jurisdiction)
        confirm_form = ImportConfirmForm(
            initial={"token": token}, user=request.user, jurisdiction=jurisdiction
        )
    return _preview(
        request,
        jurisdiction=jurisdiction,
        plan=plan,
        upload_form=ImportUploadForm(),
        confirm_form=confirm_form,
    )


def _confirm_refused(
    request: HttpRequest, *, jurisdiction: Jurisdiction, form: ImportConfirmForm
) -> HttpResponse:
    return render(
        request,
        "council/csv/import.html",
        {
            "jurisdiction": jurisdiction,
            "form": ImportUploadForm(),
            # The token is a hidden field: its error links to nothing.
            "confirm_errors": {"__all__": form.errors.get("token", [])},
        },
        status=400,
    )


@workspace_view
@require_POST
def import_confirm(request: HttpRequest, slug: str) -> HttpResponse:
    """Import the previewed file, checked again, in one transaction."""
    jurisdiction = _editable_jurisdiction(request, slug)
    form = ImportConfirmForm(request.POST, user=request.user, jurisdiction=jurisdiction)
    if not form.is_valid():
        return _confirm_refused(request, jurisdiction=jurisdiction, form=form)
    name = form.cleaned_data["token"]
    try:
        staged = staging_storage().open(name, "rb")
    except FileNotFoundError:
        # A second submit of the same confirmation took the file in the meantime.
        form.add_error("token", ImportConfirmForm.refusal())
        return _confirm_refused(request, jurisdiction=jurisdiction, form=form)
    with staged:
        result = import_initiatives(jurisdiction=jurisdiction, actor=_actor(request), file=staged)
    discard_upload(name)
    if result.errors:
        return _preview(
            request,
            jurisdiction=jurisdiction,
            plan=result.plan,
            upload_form=ImportUploadForm(),
            confirm_form=None,
        )
    plan = result.plan
    done = _(
        "Import done. Created as drafts: %(created)s. Updated: %(updated)s. "
        "Unchanged: %(unchanged)s."
    ) % {"created": plan.created, "updated": plan.updated, "unchanged": plan.unchanged}
    if plan.waiting_for_review:
        done += " " + format_waiting(plan)
    messages.success(request, done)
    return redirect("council:csv:import", slug=jurisdiction.slug)


@workspace_view
@require_GET
def export(request: HttpRequest, slug: str) -> HttpResponse:
    """The jurisdiction's initiatives the user may see, in the import's format."""
    jurisdiction = _jurisdiction(request, slug)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{jurisdiction.slug}-initiatives.csv"'
    # The byte order mark tells spreadsheet programs the file is UTF-8.
    response.write("\ufeff")
    export_initiatives(jurisdiction=jurisdiction, user=_actor(request), out=response)
    return response
