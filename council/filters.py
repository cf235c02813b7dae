"""
FilterSets for organizations and coalitions, shared by the site's search and the API.

The rules of cities.filters apply: a malformed value or a slug that names
nothing makes the FilterSet invalid (400 from the API; 404 for a slug naming
nothing), and unknown parameters are ignored.
"""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from cities.filters import JurisdictionScopedFilterSet, TextFilter, UpdatedSinceFilter
from council.models import Coalition, Organization


class OrganizationFilterSet(JurisdictionScopedFilterSet):
    """Filters for organizations: home jurisdiction (and below), kind, name, updated_since."""

    kind = django_filters.MultipleChoiceFilter(choices=Organization.Kind.choices, label=_("Kind"))
    q = TextFilter(field_name="name", lookup_expr="icontains", label=_("Name"))
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = Organization
        fields: list[str] = []


class CoalitionFilterSet(JurisdictionScopedFilterSet):
    """Filters for coalitions: jurisdiction (with descendants), name and updated_since."""

    q = TextFilter(field_name="name", lookup_expr="icontains", label=_("Name"))
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = Coalition
        fields: list[str] = []
