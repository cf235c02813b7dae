"""
Workspace forms for organizations, coalitions and a jurisdiction's profile, and the
helpers every workspace edit form shares: model errors mapped onto fields, one
error summary for a form and its formsets, and the "add more rows" and "preview"
buttons, which re-render what was typed without judging it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import QuerySet
from django.forms.formsets import TOTAL_FORM_COUNT, BaseFormSet
from django.forms.utils import ErrorDict, ErrorList
from django.http import QueryDict
from django.urls import reverse_lazy
from django.utils.safestring import SafeString
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from cities.markdown import render_markdown
from cities.models import Jurisdiction
from council.models import CoalitionMembership, Organization

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

# How many empty rows the "Add more rows" button adds to each formset.
MORE_ROWS = 3
# The longest text the preview endpoint renders; longer is refused, not truncated.
PREVIEW_MAX_LENGTH = 100_000

PREVIEW_URL = reverse_lazy("council:editing:markdown-preview")

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def date_field(label: StrOrPromise, **kwargs: Any) -> forms.DateField:
    return forms.DateField(label=label, required=False, widget=DATE_WIDGET, **kwargs)


def markdown_field(label: StrOrPromise, **kwargs: Any) -> forms.CharField:
    """A Markdown textarea; workspace.js may add a live preview, the Preview button needs none."""
    return forms.CharField(
        label=label,
        required=False,
        help_text=_("Markdown: **bold**, *italic*, [link](https://example.org), lists."),
        widget=forms.Textarea(
            attrs={"rows": 10, "data-markdown-preview": PREVIEW_URL},
        ),
        **kwargs,
    )


# ------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------


def add_model_errors(form: forms.BaseForm, error: ValidationError, *, prefix: str = "") -> None:
    """
    Put a model's or service's ValidationError on ``form``: each message on the field it
    names when the form has that field, the rest above the form (``prefix`` says which row).
    """
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, f"{prefix}{message}" if prefix else message)
        return
    for name, errors in error.error_dict.items():
        target = name if name in form.fields and name != NON_FIELD_ERRORS else None
        for item in errors:
            for message in item.messages:
                if target is None and prefix:
                    message = f"{prefix}{message}"
                form.add_error(target, message)


def _anchor(bound: forms.BoundField) -> str:
    """The id the summary links to, without "id_": checkbox lists point at their first box."""
    subwidgets = bound.subwidgets
    target = (
        bound.id_for_label
        or (subwidgets[0].id_for_label if subwidgets else "")
        or bound.auto_id
        or bound.html_name
    )
    return str(target).removeprefix("id_")


def summary_errors(
    form: forms.BaseForm | None, formsets: Iterable[tuple[str, BaseFormSet[Any]]] = ()
) -> dict[str, list[str]]:
    """
    Every error of ``form`` and its formsets, keyed the way includes/error_summary.html
    links them: field anchors (without "id_"), and "__all__" for errors that belong to no field.
    """
    summary: dict[str, list[str]] = {}

    def collect(one: forms.BaseForm, row: str) -> None:
        for message in one.non_field_errors():
            summary.setdefault(NON_FIELD_ERRORS, []).append(f"{row}{message}")
        for bound in one:
            for message in bound.errors:
                summary.setdefault(_anchor(bound), []).append(f"{row}{message}")

    if form is not None and form.is_bound:
        collect(form, "")
    for label, formset in formsets:
        if not formset.is_bound:
            continue
        for message in formset.non_form_errors():
            summary.setdefault(NON_FIELD_ERRORS, []).append(f"{label}: {message}")
        for number, row in enumerate(formset.forms, start=1):
            if formset.can_delete and row.is_bound and row["DELETE"].data:
                continue
            collect(row, f"{label}, {_('row')} {number}: ")
    return summary


def silence(form: forms.BaseForm | BaseFormSet[Any]) -> None:
    """
    Show ``form`` as typed without judging it: the preview and "add more rows" buttons
    re-render what the user has so far, and an empty required field is not yet an error.
    """
    # Django computes errors lazily into these attributes; set empty, nothing is computed.
    if isinstance(form, BaseFormSet):
        form._errors = []  # type: ignore[attr-defined]
        form._non_form_errors = ErrorList()  # type: ignore[attr-defined]
        for row in form.forms:
            silence(row)
        return
    form._errors = ErrorDict()  # type: ignore[attr-defined]
    form.cleaned_data = {}


def with_more_rows(data: QueryDict, formsets: Sequence[BaseFormSet[Any]]) -> QueryDict:
    """``data`` with MORE_ROWS empty rows more in each formset; everything typed is kept."""
    grown = data.copy()
    for formset in formsets:
        key = formset.management_form.add_prefix(TOTAL_FORM_COUNT)
        try:
            total = int(data.get(key, "0"))
        except ValueError:
            total = 0
        grown[key] = str(min(total, formset.absolute_max - MORE_ROWS) + MORE_ROWS)
    return grown


def markdown_previews(form: forms.BaseForm, names: Iterable[str]) -> dict[str, SafeString]:
    """The sanitised HTML of each Markdown field as typed, for the Preview button."""
    return {name: render_markdown(str(form[name].value() or "")) for name in names}


def unique_slug(
    text: str, *, taken: QuerySet[Any], max_length: int = 120, fallback: str = "record"
) -> str:
    """A slug made from ``text`` that ``taken`` (a queryset with a slug field) does not hold yet."""
    base = slugify(text)[:max_length].strip("-") or fallback
    candidate, number = base, 1
    while taken.filter(slug=candidate).exists():
        number += 1
        suffix = f"-{number}"
        candidate = f"{base[: max_length - len(suffix)].rstrip('-')}{suffix}"
    return candidate


class SlugMixin(forms.Form):
    """A slug, suggested from ``slug_source`` when left blank, and never one already taken."""

    slug_source = "title"
    slug_model: Any = None

    def clean_slug(self) -> str:
        slug: str = self.cleaned_data.get("slug", "")
        taken = self.slug_model._default_manager.all()
        if not slug:
            return unique_slug(self.cleaned_data.get(self.slug_source, ""), taken=taken)
        if taken.filter(slug=slug).exists():
            raise ValidationError(
                _("This slug is taken. Choose another or leave it blank for a suggestion."),
                code="slug_taken",
            )
        return slug


def slug_field() -> forms.SlugField:
    return forms.SlugField(
        label=_("Slug"),
        max_length=120,
        required=False,
        help_text=_(
            "The record's address on the site. Leave blank to make one from the title. "
            "It cannot be changed later."
        ),
    )


# ------------------------------------------------------------------------------
# Organizations and coalitions
# ------------------------------------------------------------------------------


class OrganizationForm(SlugMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    slug = slug_field()
    kind = forms.ChoiceField(label=_("Kind"), choices=Organization.Kind.choices)
    jurisdiction = forms.ModelChoiceField(
        label=_("Home jurisdiction"), queryset=Jurisdiction.objects.none()
    )
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    description = markdown_field(_("Description"))
    source_url = forms.URLField(label=_("Source"), required=False, assume_scheme="https")
    is_illustrative = forms.BooleanField(
        label=_("Illustrative"),
        required=False,
        help_text=_("Set on example records that do not describe real facts."),
    )

    slug_source = "name"
    slug_model = Organization
    markdown_fields = ("description",)

    def __init__(
        self,
        *args: Any,
        jurisdictions: QuerySet[Jurisdiction],
        creating: bool,
        jurisdiction_required: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # Only jurisdictions the user may edit: an organization moved elsewhere is out of reach.
        field = self.fields["jurisdiction"]
        field.queryset = jurisdictions.order_by("name")  # type: ignore[attr-defined]
        field.required = jurisdiction_required
        if not creating:
            del self.fields["slug"]

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.fields}


class CoalitionForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = markdown_field(_("Description"))
    founded_on = date_field(_("Founded on"))
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    source_url = forms.URLField(label=_("Source"), required=False, assume_scheme="https")
    is_illustrative = forms.BooleanField(label=_("Illustrative"), required=False)

    markdown_fields = ("description",)

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.fields}


class RowForm(forms.Form):
    """A formset row; ``id`` names the stored row it edits, blank for a new one."""

    id = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, known_ids: Iterable[int] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.known_ids = frozenset(known_ids)

    def clean_id(self) -> int | None:
        # An id the page did not offer (a row deleted meanwhile, or a forged one) is a new row.
        value = self.cleaned_data.get("id")
        return value if value in self.known_ids else None


class UniqueRowsFormSet(BaseFormSet):  # type: ignore[type-arg,unused-ignore]
    """A formset whose rows may not repeat the same ``unique_fields``."""

    unique_fields: tuple[str, ...] = ()
    duplicate_message = _("This row repeats another one.")

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = _("Remove this row")

    def clean(self) -> None:
        if not self.unique_fields or any(self.errors):
            return
        seen: set[tuple[Any, ...]] = set()
        for form in self.forms:
            data = form.cleaned_data
            if not data or data.get("DELETE"):
                continue
            key = tuple(data.get(name) for name in self.unique_fields)
            if key in seen:
                form.add_error(
                    self.unique_fields[-1],
                    ValidationError(self.duplicate_message, code="duplicate_row"),
                )
            seen.add(key)

    def rows(self) -> list[dict[str, Any]]:
        """The cleaned rows to keep: neither deleted nor left empty."""
        kept: list[dict[str, Any]] = []
        used: set[int] = set()
        for form in self.forms:
            data = dict(form.cleaned_data)
            if not data or data.pop("DELETE", False):
                continue
            # The same stored row twice (a doctored page) edits it once; the other is new.
            if data.get("id") in used:
                data["id"] = None
            if data.get("id") is not None:
                used.add(data["id"])
            kept.append(data)
        return kept


def organization_choices(organizations: QuerySet[Organization]) -> list[tuple[str, str]]:
    """Choices read once per page, so each formset row does not query again."""
    return [("", "—"), *((str(pk), name) for pk, name in organizations.values_list("pk", "name"))]


class CoalitionMembershipForm(RowForm):
    organization = forms.TypedChoiceField(
        label=_("Organization"), coerce=int, empty_value=None, choices=()
    )
    role = forms.ChoiceField(
        label=_("Role"),
        choices=CoalitionMembership.Role.choices,
        initial=CoalitionMembership.Role.MEMBER,
    )
    since = date_field(_("Since"))
    until = date_field(_("Until"))

    def __init__(self, *args: Any, organizations: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].choices = organizations  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error(
                "until",
                ValidationError(
                    _("A membership cannot end before it starts."), code="ends_before_start"
                ),
            )
        return data


class CoalitionMembershipFormSetBase(UniqueRowsFormSet):
    unique_fields = ("organization", "role")
    duplicate_message = _("This organization already has this role in the coalition.")


CoalitionMembershipFormSet = forms.formset_factory(
    CoalitionMembershipForm, formset=CoalitionMembershipFormSetBase, extra=2, can_delete=True
)


# ------------------------------------------------------------------------------
# A jurisdiction's profile
# ------------------------------------------------------------------------------


# What a council may change about its own jurisdiction. Its identity (OCD id, kind,
# slug, parent, name) comes from Open Civic Data and belongs to the importer and staff.
JURISDICTION_PROFILE_FIELDS = (
    "description",
    "website",
    "source_url",
    "population",
    "latitude",
    "longitude",
    "time_zone",
    "wikidata_qid",
    "geonames_id",
)


class JurisdictionProfileForm(forms.ModelForm):  # type: ignore[type-arg,unused-ignore]
    markdown_fields = ("description",)

    class Meta:
        model = Jurisdiction
        fields = JURISDICTION_PROFILE_FIELDS
        widgets = {
            "description": forms.Textarea(
                attrs={
                    "rows": 10,
                    "data-markdown-preview": PREVIEW_URL,
                }
            ),
        }

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.fields}

    def _post_clean(self) -> None:
        # The service validates the whole model once, with the actor's rights checked first;
        # validating here as well would apply the values to the instance before that.
        pass


class MarkdownPreviewForm(forms.Form):
    text = forms.CharField(required=False, max_length=PREVIEW_MAX_LENGTH, strip=False)
