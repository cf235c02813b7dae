"""
FilterSets for jurisdictions, and the filter pieces every app's FilterSets share.

The public site's search and the API use these same classes, so a query string
means the same thing in both places.

Malformed values are refused, never ignored: a bad date, an unknown choice, a
boolean that is not one, or a slug or OCD id that names nothing makes the
FilterSet invalid (the API answers 400 and names the parameter). Parameters
the FilterSet does not know are ignored.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from cities.models import Jurisdiction

TRUE_VALUES = frozenset({"true", "1", "yes", "on"})
FALSE_VALUES = frozenset({"false", "0", "no", "off"})


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
        text = str(value).strip().lower()
        if text in TRUE_VALUES:
            return True
        if text in FALSE_VALUES:
            return False
        raise ValidationError(self.error_messages["invalid"], code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class JurisdictionChoiceField(django_filters.fields.ModelChoiceField):
    """Accepts a jurisdiction's slug or its OCD division id."""

    def to_python(self, value: Any) -> Jurisdiction | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        try:
            match = self.queryset.filter(Q(slug=text) | Q(ocd_id=text)).first()
        except ValueError:
            # PostgreSQL cannot even compare a string holding NUL; nothing is named so.
            match = None
        if match is None:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"value": text}
            )
        return match


class JurisdictionFilter(django_filters.ModelChoiceFilter):
    """A jurisdiction named by slug or OCD id; a text box, since there are thousands."""

    field_class = JurisdictionChoiceField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", Jurisdiction.objects.all())
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


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


class JurisdictionScopedFilterSet(django_filters.FilterSet):
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


class JurisdictionFilterSet(django_filters.FilterSet):
    """
    Filters for jurisdictions.

    ``parent`` takes a slug or an OCD id; ``has_initiatives`` counts published
    initiatives only, so its answer is the same for every reader.
    """

    ocd_id = django_filters.CharFilter(field_name="ocd_id", label=_("OCD division id"))
    kind = django_filters.MultipleChoiceFilter(choices=Jurisdiction.Kind.choices, label=_("Kind"))
    parent = JurisdictionFilter(field_name="parent", label=_("Parent"))
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("Name"))
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
