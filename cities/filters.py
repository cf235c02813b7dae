"""
FilterSets for jurisdictions, and the filter pieces every app's FilterSets share.

The public site's search and the API use these same classes, so a query string
means the same thing in both places.

Malformed values are refused, never ignored: a bad date, an unknown choice, a
boolean that is not one, or a slug or OCD id that names nothing makes the
FilterSet invalid. The API answers 400 and names the parameter, except for a
well-formed slug or OCD id that names nothing: that is a 404, as in a path.
An empty value is the same as none. Parameters the FilterSet does not know
are ignored.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from cities.models import Jurisdiction

TRUE_VALUES = frozenset({"true", "1", "yes", "on"})
FALSE_VALUES = frozenset({"false", "0", "no", "off"})
# The API schema lists exactly what StrictBooleanField accepts, so a client (or a
# fuzzer) can tell a valid value from an invalid one without trying it.
BOOLEAN_VALUES = ("true", "false", "1", "0", "yes", "no", "on", "off")
NO_NUL_PATTERN = r"^[^\u0000]*$"


class StrictBooleanField(forms.Field):
    """A yes/no field that refuses anything else, where Django's would read it as "unknown"."""

    default_error_messages = {
        "invalid": _("Enter true or false."),
    }

    def to_python(self, value: Any) -> bool | None:
        if value in self.empty_values:
            return None
        if isinstance(value, bool):
            return value
        # Exactly as documented: no case folding or trimming the schema does not promise.
        text = str(value)
        if text in TRUE_VALUES:
            return True
        if text in FALSE_VALUES:
            return False
        raise ValidationError(self.error_messages["invalid"], code="invalid")


@extend_schema_field({"type": "string", "pattern": NO_NUL_PATTERN})
class TextFilter(django_filters.CharFilter):
    """Free text. Django forms refuse the NUL character (PostgreSQL cannot hold it), as the
    schema says."""


@extend_schema_field({"type": "string", "enum": list(BOOLEAN_VALUES)})
class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class JurisdictionChoiceField(django_filters.fields.ModelChoiceField):
    """Accepts a jurisdiction's slug or its OCD division id."""

    def to_python(self, value: Any) -> Jurisdiction | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        if "\x00" in text:
            # Malformed, as the schema says (PostgreSQL cannot even compare such a string).
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid")
        match = self.queryset.filter(Q(slug=text) | Q(ocd_id=text)).first()
        if match is None:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"value": text}
            )
        return match


@extend_schema_field(
    {
        "type": "string",
        "pattern": NO_NUL_PATTERN,
        "description": "A jurisdiction's slug or its OCD division id.",
    }
)
class JurisdictionFilter(django_filters.ModelChoiceFilter):
    """A jurisdiction named by slug or OCD id; a text box, since there are thousands."""

    field_class = JurisdictionChoiceField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", Jurisdiction.objects.all())
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "string", "pattern": NO_NUL_PATTERN})
class SlugChoiceFilter(django_filters.ModelChoiceFilter):
    """One record named by slug, typed rather than picked from a list."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("to_field_name", "slug")
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class UpdatedSinceFilter(django_filters.IsoDateTimeFilter):
    """Rows changed at or after an ISO 8601 instant, for incremental sync."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("field_name", "updated_at")
        kwargs.setdefault("lookup_expr", "gte")
        kwargs.setdefault("label", _("Updated since"))
        super().__init__(*args, **kwargs)


class AtlasFilterSet(django_filters.FilterSet):
    """
    A FilterSet for which an empty value is the same as leaving the parameter out.

    Forms submit empty fields (``?focus_area=&q=``); single-valued filters already
    read them as "no filter", and this makes repeatable ones (``focus_area``,
    ``status``, ``kind``) do the same instead of refusing ``""`` as a choice.
    """

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        if data is not None and hasattr(data, "lists"):
            cleaned = data.copy()
            for key, values in data.lists():
                kept = [value for value in values if value != ""]
                if len(kept) != len(values):
                    if kept:
                        cleaned.setlist(key, kept)
                    else:
                        del cleaned[key]
            data = cleaned
        super().__init__(data, *args, **kwargs)

    def filter_queryset_without(
        self, queryset: QuerySet[Any], names: Collection[str] = ()
    ) -> QuerySet[Any]:
        """
        Apply every valid filter except those in ``names``.

        Faceted search counts each facet over the rows the other filters leave,
        so that picking one value does not hide its siblings. Filters that
        failed validation are left out, as ``qs`` does.
        """
        self.errors  # noqa: B018 -- validates the form, which fills cleaned_data
        for name, value in self.form.cleaned_data.items():
            if name not in names:
                queryset = self.filters[name].filter(queryset, value)
        return queryset


class JurisdictionScopedFilterSet(AtlasFilterSet):
    """
    Adds ``jurisdiction`` (slug or OCD id) and ``include_descendants`` to a FilterSet.

    ``jurisdiction_field`` names the path to the record's jurisdiction, such as
    ``initiative__jurisdiction`` for milestones. Descendants are found through
    the materialised path, so the whole subtree costs no extra query.
    """

    jurisdiction_field = "jurisdiction"

    jurisdiction = JurisdictionFilter(method="filter_jurisdiction", label=_("Jurisdiction"))
    include_descendants = StrictBooleanFilter(
        method="filter_noop", label=_("Include descendant jurisdictions")
    )

    def filter_jurisdiction(
        self, queryset: QuerySet[Any], name: str, value: Jurisdiction | None
    ) -> QuerySet[Any]:
        if value is None:
            return queryset
        if self.form.cleaned_data.get("include_descendants"):
            return queryset.filter(**{f"{self.jurisdiction_field}__path__startswith": value.path})
        return queryset.filter(**{self.jurisdiction_field: value})

    def filter_noop(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        """A modifier such as ``include_descendants`` changes another filter, not the rows."""
        return queryset


class JurisdictionFilterSet(AtlasFilterSet):
    """
    Filters for jurisdictions.

    ``parent`` takes a slug or an OCD id; ``has_initiatives`` counts published
    initiatives only, so its answer is the same for every reader.
    """

    ocd_id = TextFilter(field_name="ocd_id", label=_("OCD division id"))
    kind = django_filters.MultipleChoiceFilter(choices=Jurisdiction.Kind.choices, label=_("Kind"))
    parent = JurisdictionFilter(field_name="parent", label=_("Parent"))
    q = TextFilter(field_name="name", lookup_expr="icontains", label=_("Name"))
    updated_since = UpdatedSinceFilter()
    has_initiatives = StrictBooleanFilter(
        method="filter_has_initiatives", label=_("Has published initiatives")
    )

    class Meta:
        model = Jurisdiction
        fields: list[str] = []

    def filter_has_initiatives(
        self, queryset: QuerySet[Jurisdiction], name: str, value: bool | None
    ) -> QuerySet[Jurisdiction]:
        if value is None:
            return queryset
        # Imported here: initiatives depends on cities, not the other way round.
        from initiatives.models import Initiative, PublicationState

        published = Exists(
            Initiative.objects.filter(
                jurisdiction=OuterRef("pk"), publication_state=PublicationState.PUBLISHED
            )
        )
        return queryset.filter(published) if value else queryset.exclude(published)
