"""
The workspace's forms for initiatives and plans.

An initiative is edited in one page and one POST: its own fields, and its
milestones, indicators (with their measurements), partners, sources and lineage
links as formsets. ``InitiativeEditor`` holds them together, validates them as
the models would (a published record's changes only wait in a revision, so
nothing may be found wrong later, when a reviewer publishes them) and turns
them into a snapshot in the format of ``initiatives.snapshots``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models import Q
from django.forms.formsets import BaseFormSet
from django.http import QueryDict
from django.utils.dateparse import parse_date
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cities.models import Jurisdiction
from council.forms import (
    RowForm,
    SlugMixin,
    UniqueRowsFormSet,
    add_model_errors,
    date_field,
    markdown_field,
    markdown_previews,
    organization_choices,
    silence,
    slug_field,
    summary_errors,
    with_more_rows,
)
from council.models import Organization
from initiatives.models import (
    CURRENCY_CODES,
    ContentLanguage,
    FocusArea,
    Indicator,
    Initiative,
    InitiativeLink,
    Measurement,
    Milestone,
    Partnership,
    Plan,
    PublicationState,
    Sector,
    Source,
)
from initiatives.selectors import Viewer, visible_initiatives
from initiatives.snapshots import (
    INITIATIVE_FIELDS,
    PLAN_FIELDS,
    Record,
    Snapshot,
    decode,
    encode,
)
from initiatives.workflow import working_snapshot


def _encode_row(model: type[models.Model], values: Mapping[str, Any]) -> dict[str, Any]:
    """Python values (foreign keys as ids) in the snapshot's JSON spelling."""
    return {
        name: encode(model._meta.get_field(name), value)  # type: ignore[arg-type]
        for name, value in values.items()
    }


def _decode_row(model: type[models.Model], values: Mapping[str, Any]) -> dict[str, Any]:
    decoded: dict[str, Any] = {}
    for name, value in values.items():
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:  # "id" passes through as it is
            decoded[name] = value
            continue
        decoded[name] = decode(field, value)  # type: ignore[arg-type]
    return decoded


def _plain_number(value: Decimal) -> str:
    """12.5000 as "12.5" and 1E+1 as "10": what a person would type."""
    text = format(value.normalize(), "f")
    return text


# ------------------------------------------------------------------------------
# The record's own fields
# ------------------------------------------------------------------------------


class RecordForm(SlugMixin, forms.Form):
    """Fields initiatives and plans share."""

    title = forms.CharField(label=_("Title"), max_length=200)
    slug = slug_field()
    summary = forms.CharField(
        label=_("Summary"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One or two plain sentences, shown in lists."),
    )
    description = markdown_field(_("Description"))
    language = forms.ChoiceField(
        label=_("Content language"),
        choices=ContentLanguage.choices,
        initial=ContentLanguage.ENGLISH,
        help_text=_("The language the title and texts are written in."),
    )

    markdown_fields = ("description",)

    def __init__(self, *args: Any, creating: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Slugs are addresses other sites link to: fixed once the record exists.
        if not creating:
            del self.fields["slug"]


class InitiativeForm(RecordForm):
    status = forms.ChoiceField(label=_("Status"), choices=Initiative.Status.choices)
    start_date = date_field(_("Start date"))
    end_date = date_field(_("End date"))
    budget_amount = forms.DecimalField(
        label=_("Budget"), required=False, max_digits=16, decimal_places=2, min_value=0
    )
    budget_currency = forms.CharField(
        label=_("Budget currency"),
        required=False,
        max_length=3,
        help_text=_("An ISO 4217 code such as USD or EUR."),
    )
    plan = forms.TypedChoiceField(
        label=_("Plan"), required=False, coerce=int, empty_value=None, choices=()
    )
    lead_organization = forms.TypedChoiceField(
        label=_("Lead organization"), required=False, coerce=int, empty_value=None, choices=()
    )
    focus_areas = forms.ModelMultipleChoiceField(
        label=_("Focus areas"),
        queryset=FocusArea.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    sectors = forms.ModelMultipleChoiceField(
        label=_("Sectors"),
        queryset=Sector.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    is_illustrative = forms.BooleanField(
        label=_("Illustrative"),
        required=False,
        help_text=_("Set on example records that do not describe real facts."),
    )
    external_id = forms.CharField(
        label=_("External id"),
        required=False,
        max_length=100,
        help_text=_(
            "The record's id in the council's own system; CSV re-imports match rows by it."
        ),
    )

    slug_model = Initiative

    def __init__(
        self,
        *args: Any,
        record: Initiative | None,
        plans: list[tuple[str, str]],
        organizations: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, creating=record is None, **kwargs)
        self.fields["plan"].choices = plans  # type: ignore[attr-defined]
        self.fields["lead_organization"].choices = organizations  # type: ignore[attr-defined]
        if record is not None:
            # The lifecycle is judged from the stored status, as Initiative.clean does.
            self.fields["status"].choices = [  # type: ignore[attr-defined]
                (value, label)
                for value, label in Initiative.Status.choices
                if record.can_transition_to(value)
            ]

    def clean_budget_currency(self) -> str:
        currency: str = self.cleaned_data.get("budget_currency", "").strip().upper()
        if currency and currency not in CURRENCY_CODES:
            raise ValidationError(
                _("%(value)s is not an ISO 4217 currency code such as USD or EUR."),
                code="invalid_currency",
                params={"value": currency},
            )
        return currency

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error(
                "end_date",
                ValidationError(
                    _("The end date cannot come before the start date."), code="ends_before_start"
                ),
            )
        amount, currency = data.get("budget_amount"), data.get("budget_currency")
        if amount is not None and not currency and "budget_currency" not in self.errors:
            self.add_error(
                "budget_currency",
                ValidationError(_("Give the currency of the budget."), code="budget_currency"),
            )
        if currency and amount is None and "budget_amount" not in self.errors:
            self.add_error(
                "budget_amount",
                ValidationError(_("Give the budget for this currency."), code="budget_currency"),
            )
        return data


class PlanForm(RecordForm):
    published_on = date_field(_("Published on"))
    url = forms.URLField(label=_("Document"), required=False, assume_scheme="https", max_length=200)
    source_url = forms.URLField(
        label=_("Source"), required=False, assume_scheme="https", max_length=200
    )
    is_illustrative = forms.BooleanField(
        label=_("Illustrative"),
        required=False,
        help_text=_("Set on example records that do not describe real facts."),
    )

    slug_model = Plan


# ------------------------------------------------------------------------------
# Child rows
# ------------------------------------------------------------------------------


class MilestoneForm(RowForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    due_date = date_field(_("Due date"))
    completed_on = date_field(_("Completed on"))


MEASUREMENT_HELP = _(
    "One measurement a line: the date (YYYY-MM-DD), the value with a point for decimals, "
    "and optionally the address of its source, separated by spaces. "
    "For example: 2024-06-30 42.5 https://example.org/report"
)


def parse_measurements(text: str) -> list[dict[str, Any]]:
    """
    Lines of "YYYY-MM-DD value [source-url]" as measurement values, one per day.

    Raises one ValidationError listing every bad line, each named by its number.
    """
    value_field = forms.DecimalField(max_digits=18, decimal_places=4)
    url_field = forms.URLField(max_length=200, assume_scheme="https")
    rows: list[dict[str, Any]] = []
    errors: list[ValidationError] = []
    seen: dict[datetime.date, int] = {}

    def refuse(number: int, message: str, code: str) -> None:
        errors.append(
            ValidationError(
                _("Line %(number)d: %(problem)s"),
                code=code,
                params={"number": number, "problem": message},
            )
        )

    for number, raw in enumerate(text.splitlines(), start=1):
        parts = raw.split()
        if not parts:
            continue
        if len(parts) not in (2, 3):
            refuse(
                number,
                gettext("write a date, a value and optionally a source address."),
                "measurement_format",
            )
            continue
        try:
            day = parse_date(parts[0])
        except ValueError:
            day = None
        if day is None:
            refuse(number, gettext("the date must be a real day as YYYY-MM-DD."), "invalid_date")
            continue
        try:
            value = value_field.clean(parts[1])
        except ValidationError as error:
            refuse(number, " ".join(error.messages), "invalid_value")
            continue
        source_url = ""
        if len(parts) == 3:
            try:
                source_url = url_field.clean(parts[2])
            except ValidationError as error:
                refuse(number, " ".join(error.messages), "invalid_url")
                continue
        if day in seen:
            refuse(
                number,
                gettext("line %(other)d is already about this day; keep one of them.")
                % {"other": seen[day]},
                "duplicate_measurement",
            )
            continue
        seen[day] = number
        rows.append({"measured_on": day, "value": value, "source_url": source_url})
    if errors:
        raise ValidationError(errors)
    return sorted(rows, key=lambda row: row["measured_on"])


def measurement_lines(measurements: Iterable[Mapping[str, Any]]) -> str:
    """A snapshot's measurements as the lines ``parse_measurements`` reads back."""
    lines = []
    for row in measurements:
        value = _plain_number(Decimal(str(row["value"])))
        parts = [str(row["measured_on"]), value, row.get("source_url") or ""]
        lines.append(" ".join(part for part in parts if part))
    return "\n".join(lines)


class IndicatorForm(RowForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    unit = forms.CharField(label=_("Unit"), max_length=50, required=False)
    baseline = forms.DecimalField(
        label=_("Baseline"), required=False, max_digits=18, decimal_places=4
    )
    target = forms.DecimalField(label=_("Target"), required=False, max_digits=18, decimal_places=4)
    measurements = forms.CharField(
        label=_("Measurements"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=MEASUREMENT_HELP,
    )

    def clean_measurements(self) -> list[dict[str, Any]]:
        return parse_measurements(self.cleaned_data.get("measurements") or "")


class PartnershipForm(RowForm):
    organization = forms.TypedChoiceField(
        label=_("Organization"), coerce=int, empty_value=None, choices=()
    )
    # The browser sends a select's first option when nobody touches it; with that as the
    # initial value an untouched extra row counts as unchanged and is skipped.
    role = forms.ChoiceField(
        label=_("Role"), choices=Partnership.Role.choices, initial=Partnership.Role.choices[0][0]
    )

    def __init__(self, *args: Any, organizations: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].choices = organizations  # type: ignore[attr-defined]


class SourceForm(RowForm):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=Source.Kind.choices, initial=Source.Kind.choices[0][0]
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    url = forms.URLField(label=_("Address"), max_length=500, assume_scheme="https")
    accessed_on = date_field(_("Accessed on"))


class LinkForm(RowForm):
    target = forms.SlugField(
        label=_("Initiative"),
        max_length=120,
        help_text=_("The slug of the other initiative, as in its address."),
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=InitiativeLink.Kind.choices,
        initial=InitiativeLink.Kind.choices[0][0],
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args: Any, find_target: Callable[[str], int | None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.find_target = find_target

    def clean_target(self) -> int:
        slug: str = self.cleaned_data["target"]
        target = self.find_target(slug)
        if target is None:
            raise ValidationError(
                _("There is no initiative “%(slug)s” that you can see."),
                code="unknown_initiative",
                params={"slug": slug},
            )
        return target


class PartnershipFormSetBase(UniqueRowsFormSet):
    unique_fields = ("organization", "role")
    duplicate_message = _("This organization already has this role.")


class LinkFormSetBase(UniqueRowsFormSet):
    unique_fields = ("target", "kind")
    duplicate_message = _("This initiative is already linked this way.")


def _formset(form: type[forms.Form], base: type[BaseFormSet[Any]] = UniqueRowsFormSet) -> Any:
    return forms.formset_factory(form, formset=base, extra=2, can_delete=True)


MilestoneFormSet = _formset(MilestoneForm)
IndicatorFormSet = _formset(IndicatorForm)
PartnershipFormSet = _formset(PartnershipForm, PartnershipFormSetBase)
SourceFormSet = _formset(SourceForm)
LinkFormSet = _formset(LinkForm, LinkFormSetBase)


# ------------------------------------------------------------------------------
# The editors: form, formsets, validation and the snapshot together
# ------------------------------------------------------------------------------


def plan_choices(jurisdiction: Jurisdiction, current: int | None) -> list[tuple[str, str]]:
    """The jurisdiction's plans, archived ones left out unless already chosen."""
    plans = Plan.objects.filter(jurisdiction=jurisdiction).filter(
        ~Q(publication_state=PublicationState.ARCHIVED) | Q(pk=current)
    )
    return [("", "—"), *((str(pk), title) for pk, title in plans.values_list("pk", "title"))]


class RecordEditor:
    """What initiatives and plans share: the form, validation against the model, the snapshot."""

    model: type[Record]
    form_class: type[RecordForm]
    fields: tuple[str, ...]
    # Set when a save was refused because the record changed after the page was opened.
    stale = False

    def __init__(
        self,
        *,
        user: Viewer,
        jurisdiction: Jurisdiction,
        record: Record | None = None,
        data: QueryDict | None = None,
    ) -> None:
        self.user = user
        self.jurisdiction = jurisdiction
        self.record = record
        self.working: Snapshot = working_snapshot(record) if record is not None else {}
        self.data = data
        self.form = self.make_form(data)

    def make_form(self, data: QueryDict | None) -> RecordForm:
        """The record's own fields; an initiative's editor adds its choices and rows."""
        return self.form_class(data, initial=self.initial_fields(), creating=self.record is None)

    def initial_fields(self) -> dict[str, Any]:
        return _decode_row(self.model, self.working.get("fields", {}))

    @property
    def formsets(self) -> list[tuple[str, BaseFormSet[Any]]]:
        return []

    # -- buttons that re-render without saving

    def grow(self) -> None:
        """Re-bind with more empty rows in every formset, keeping what was typed."""
        if self.data is None:
            return
        self.data = with_more_rows(self.data, [formset for _, formset in self.formsets])
        self.form = self.make_form(self.data)
        self.quiet()

    def quiet(self) -> None:
        silence(self.form)
        for _label, formset in self.formsets:
            silence(formset)

    def previews(self) -> dict[str, SafeString]:
        return markdown_previews(self.form, self.form.markdown_fields)

    def errors(self) -> dict[str, list[str]]:
        return summary_errors(self.form, self.formsets)

    # -- validation

    def is_valid(self) -> bool:
        valid = self.form.is_valid()
        for _label, formset in self.formsets:
            valid = formset.is_valid() and valid
        if not valid:
            return False
        self.check_models()
        return not self.errors()

    def field_values(self) -> dict[str, Any]:
        """The record's own fields, foreign keys as ids, as the snapshot names them."""
        return {name: self.form.cleaned_data[name] for name in self.fields}

    def draft_instance(self) -> Record:
        """The record as it would be, unsaved: a stored record keeps its stored status."""
        if self.record is None:
            instance = self.model(
                jurisdiction=self.jurisdiction, slug=self.form.cleaned_data["slug"]
            )
        else:
            instance = type(self.record)._default_manager.get(pk=self.record.pk)
        for name, value in self.field_values().items():
            field = self.model._meta.get_field(name)
            setattr(instance, field.attname, value)  # type: ignore[union-attr]
        return instance

    def check_models(self) -> None:
        try:
            self.draft_instance().full_clean()
        except ValidationError as error:
            add_model_errors(self.form, error)

    # -- output

    def values(self) -> dict[str, Any]:
        """What record_create takes: jurisdiction, slug and the fields."""
        values: dict[str, Any] = {
            "jurisdiction": self.jurisdiction,
            "slug": self.form.cleaned_data["slug"],
        }
        for name, value in self.field_values().items():
            values[self.model._meta.get_field(name).attname] = value  # type: ignore[union-attr]
        return values

    def snapshot(self) -> Snapshot:
        return {"fields": _encode_row(self.model, self.field_values())}

    def report(self, error: ValidationError) -> None:
        """Show a service's refusal on the form; the page then answers 400."""
        add_model_errors(self.form, error)


class PlanEditor(RecordEditor):
    model = Plan
    form_class = PlanForm
    fields = PLAN_FIELDS


class InitiativeEditor(RecordEditor):
    model = Initiative
    form_class = InitiativeForm
    fields = INITIATIVE_FIELDS

    def __init__(self, **kwargs: Any) -> None:
        self._formsets: list[tuple[str, BaseFormSet[Any]]] = []
        super().__init__(**kwargs)

    # -- building

    def make_form(self, data: QueryDict | None) -> RecordForm:
        working = self.working
        if not hasattr(self, "_organizations"):
            self._organizations = organization_choices(Organization.objects.order_by("name"))
        current_plan = working.get("fields", {}).get("plan")
        form = InitiativeForm(
            data,
            initial={
                **self.initial_fields(),
                "focus_areas": working.get("focus_areas", []),
                "sectors": working.get("sectors", []),
            },
            record=self.record if isinstance(self.record, Initiative) else None,
            plans=plan_choices(self.jurisdiction, current_plan),
            organizations=self._organizations,
        )
        self._formsets = self._make_formsets(data)
        return form

    def _make_formsets(self, data: QueryDict | None) -> list[tuple[str, BaseFormSet[Any]]]:
        working = self.working
        rows = {key: working.get(key, []) for key in _CHILD_MODELS}
        ids = {key: [row["id"] for row in value if row.get("id")] for key, value in rows.items()}
        link_slugs = dict(
            Initiative.objects.filter(
                pk__in=[row["to_initiative"] for row in rows["links"]]
            ).values_list("pk", "slug")
        )
        self._measurement_ids = {
            indicator["id"]: {m["measured_on"]: m["id"] for m in indicator.get("measurements", [])}
            for indicator in rows["indicators"]
            if indicator.get("id")
        }

        def initial(key: str) -> list[dict[str, Any]]:
            model = _CHILD_MODELS[key]
            out = []
            for row in rows[key]:
                values = _decode_row(model, {k: v for k, v in row.items() if k != "measurements"})
                if key == "indicators":
                    values["measurements"] = measurement_lines(row.get("measurements", []))
                if key == "links":
                    values["target"] = link_slugs.get(row["to_initiative"], "")
                out.append(values)
            return out

        organizations = {"organizations": self._organizations}
        return [
            (
                str(_("Milestones")),
                MilestoneFormSet(
                    data,
                    prefix="milestones",
                    initial=initial("milestones"),
                    form_kwargs={"known_ids": ids["milestones"]},
                ),
            ),
            (
                str(_("Indicators")),
                IndicatorFormSet(
                    data,
                    prefix="indicators",
                    initial=initial("indicators"),
                    form_kwargs={"known_ids": ids["indicators"]},
                ),
            ),
            (
                str(_("Partners")),
                PartnershipFormSet(
                    data,
                    prefix="partnerships",
                    initial=initial("partnerships"),
                    form_kwargs={"known_ids": ids["partnerships"], **organizations},
                ),
            ),
            (
                str(_("Sources")),
                SourceFormSet(
                    data,
                    prefix="sources",
                    initial=initial("sources"),
                    form_kwargs={"known_ids": ids["sources"]},
                ),
            ),
            (
                str(_("Lineage links")),
                LinkFormSet(
                    data,
                    prefix="links",
                    initial=initial("links"),
                    form_kwargs={"known_ids": ids["links"], "find_target": self._find_target},
                ),
            ),
        ]

    def _find_target(self, slug: str) -> int | None:
        """A link may point only at an initiative the editor can see, and not at itself."""
        target = visible_initiatives(user=self.user).filter(slug=slug).values_list("pk", flat=True)
        pk = target.first()
        if pk is not None and self.record is not None and pk == self.record.pk:
            return None
        return pk

    @property
    def formsets(self) -> list[tuple[str, BaseFormSet[Any]]]:
        return self._formsets

    def formset(self, prefix: str) -> UniqueRowsFormSet:
        for _label, formset in self._formsets:
            if formset.prefix == prefix and isinstance(formset, UniqueRowsFormSet):
                return formset
        raise KeyError(prefix)

    # -- validation

    def check_models(self) -> None:
        super().check_models()
        for _label, formset in self._formsets:
            key = str(formset.prefix)
            model = _CHILD_MODELS[key]
            parent = "from_initiative" if key == "links" else "initiative"
            for form in formset.forms:
                data = form.cleaned_data
                if not data or data.get("DELETE"):
                    continue
                instance = _unsaved(model, _child_values(key, data))
                try:
                    instance.full_clean(exclude=[parent])
                except ValidationError as error:
                    add_model_errors(form, _rename_target(error))
                if key == "indicators":
                    for values in data.get("measurements", []):
                        try:
                            Measurement(**values).full_clean(exclude=["indicator"])
                        except ValidationError as error:
                            add_model_errors(form, ValidationError(error.messages))

    # -- output

    def snapshot(self) -> Snapshot:
        data = super().snapshot()
        data["focus_areas"] = sorted(area.pk for area in self.form.cleaned_data["focus_areas"])
        data["sectors"] = sorted(sector.pk for sector in self.form.cleaned_data["sectors"])
        for key, model in _CHILD_MODELS.items():
            rows = []
            for row in self.formset(key).rows():
                values = _child_values(key, row)
                encoded = {"id": row.get("id"), **_encode_row(model, values)}
                if key == "indicators":
                    days = self._measurement_ids.get(row.get("id"), {})
                    encoded["measurements"] = [
                        {
                            "id": days.get(values_m["measured_on"].isoformat()),
                            **_encode_row(Measurement, values_m),
                        }
                        for values_m in row["measurements"]
                    ]
                rows.append(encoded)
            data[key] = rows
        return data


_CHILD_MODELS: dict[str, type[models.Model]] = {
    "milestones": Milestone,
    "indicators": Indicator,
    "partnerships": Partnership,
    "sources": Source,
    "links": InitiativeLink,
}


def _child_values(key: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """A cleaned row as the snapshot names its fields, foreign keys as ids."""
    if key == "milestones":
        return {name: data[name] for name in ("title", "due_date", "completed_on")}
    if key == "indicators":
        return {name: data[name] for name in ("name", "unit", "baseline", "target")}
    if key == "partnerships":
        return {"organization": data["organization"], "role": data["role"]}
    if key == "sources":
        return {name: data[name] for name in ("kind", "title", "url", "accessed_on")}
    return {"to_initiative": data["target"], "kind": data["kind"], "note": data["note"]}


def _unsaved(model: type[models.Model], values: Mapping[str, Any]) -> models.Model:
    """An unsaved row from snapshot-named values (foreign keys go in by their attnames)."""
    return model(
        **{model._meta.get_field(name).attname: value for name, value in values.items()}  # type: ignore[union-attr]
    )


def _rename_target(error: ValidationError) -> ValidationError:
    """A link's model errors name ``to_initiative``; the form calls that field ``target``."""
    if hasattr(error, "error_dict") and "to_initiative" in error.error_dict:
        renamed = dict(error.error_dict)
        renamed["target"] = renamed.pop("to_initiative")
        return ValidationError(renamed)
    return error
