"""
FilterSets for initiatives, plans, milestones and indicators.

Shared by the public site's search and the API. The rules of cities.filters
apply: a malformed value or a slug that names nothing makes the FilterSet
invalid (400 from the API; 404 for a slug naming nothing), and unknown
parameters are ignored. Repeated
parameters (``?focus_area=a&focus_area=b``) match any of the values.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from cities.filters import (
    JurisdictionScopedFilterSet,
    SlugChoiceFilter,
    StrictBooleanFilter,
    TextFilter,
    UpdatedSinceFilter,
)
from council.models import Organization
from initiatives.models import (
    FocusArea,
    Indicator,
    Initiative,
    Milestone,
    Partnership,
    Plan,
    Sector,
)
from initiatives.search import search_initiatives


def nothing_chosen(value: Collection[Any]) -> bool:
    """True when a multiple-choice filter got no value; never runs a query."""
    if isinstance(value, QuerySet):
        return value.query.is_empty()
    return not value


def _visible_initiatives(request: HttpRequest | None) -> QuerySet[Initiative]:
    from initiatives.selectors import initiative_list

    return initiative_list(user=getattr(request, "user", None))


def _visible_plans(request: HttpRequest | None) -> QuerySet[Plan]:
    # A draft plan's slug is as unknown as a missing one to whoever cannot see the plan.
    from initiatives.selectors import plan_list

    return plan_list(user=getattr(request, "user", None))


class InitiativeFilterSet(JurisdictionScopedFilterSet):
    """
    Filters for initiatives.

    - ``jurisdiction``: slug or OCD id; with ``include_descendants=true`` the
      whole subtree below it.
    - ``focus_area``, ``sector``, ``status``: repeatable, any of the values.
    - ``organization``: slug; the lead organization or any partner.
    - ``updated_since``: ISO 8601 instant, inclusive.
    - ``start_date_after``, ``start_date_before``: ISO 8601 dates (YYYY-MM-DD),
      both inclusive, on the start date; initiatives without one never match.
    - ``q``: full text over title, summary and description, weighted in that
      order (see initiatives.search); only its first 200 characters count.
    - ``plan``: slug.
    """

    focus_area = django_filters.ModelMultipleChoiceFilter(
        queryset=FocusArea.objects.all(),
        to_field_name="slug",
        method="filter_focus_area",
        label=_("Focus area"),
    )
    sector = django_filters.ModelMultipleChoiceFilter(
        queryset=Sector.objects.all(),
        to_field_name="slug",
        method="filter_sector",
        label=_("Sector"),
    )
    # A column of the row itself: no join, so no duplicate rows and no DISTINCT needed.
    status = django_filters.MultipleChoiceFilter(
        choices=Initiative.Status.choices, distinct=False, label=_("Status")
    )
    organization = SlugChoiceFilter(
        queryset=Organization.objects.all(),
        method="filter_organization",
        label=_("Organization"),
    )
    plan = SlugChoiceFilter(queryset=_visible_plans, field_name="plan", label=_("Plan"))
    updated_since = UpdatedSinceFilter()
    start_date_after = django_filters.DateFilter(
        field_name="start_date", lookup_expr="gte", label=_("Started on or after")
    )
    start_date_before = django_filters.DateFilter(
        field_name="start_date", lookup_expr="lte", label=_("Started on or before")
    )
    q = TextFilter(method="filter_q", label=_("Search"))

    class Meta:
        model = Initiative
        fields: list[str] = []

    # Subqueries rather than joins, so no row repeats and no DISTINCT is needed.
    # An empty choice arrives as ``none()``, not []: testing it with ``not value`` would run
    # it as a query on every request.
    def filter_focus_area(
        self, queryset: QuerySet[Initiative], name: str, value: list[FocusArea]
    ) -> QuerySet[Initiative]:
        if nothing_chosen(value):
            return queryset
        through = Initiative.focus_areas.through.objects.filter(focusarea__in=value)
        return queryset.filter(pk__in=through.values("initiative_id"))

    def filter_sector(
        self, queryset: QuerySet[Initiative], name: str, value: list[Sector]
    ) -> QuerySet[Initiative]:
        if nothing_chosen(value):
            return queryset
        through = Initiative.sectors.through.objects.filter(sector__in=value)
        return queryset.filter(pk__in=through.values("initiative_id"))

    def filter_organization(
        self, queryset: QuerySet[Initiative], name: str, value: Organization | None
    ) -> QuerySet[Initiative]:
        if value is None:
            return queryset
        partnered = Partnership.objects.filter(organization=value).values("initiative_id")
        return queryset.filter(Q(lead_organization=value) | Q(pk__in=partnered))

    def filter_q(
        self, queryset: QuerySet[Initiative], name: str, value: str
    ) -> QuerySet[Initiative]:
        return search_initiatives(queryset, value)


class PlanFilterSet(JurisdictionScopedFilterSet):
    """Filters for plans: jurisdiction (with descendants), a title search and updated_since."""

    q = TextFilter(field_name="title", lookup_expr="icontains", label=_("Title"))
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = Plan
        fields: list[str] = []


class MilestoneFilterSet(JurisdictionScopedFilterSet):
    """Filters for milestones: their initiative (slug), its jurisdiction, and whether done."""

    jurisdiction_field = "initiative__jurisdiction"

    initiative = SlugChoiceFilter(
        queryset=_visible_initiatives, field_name="initiative", label=_("Initiative")
    )
    completed = StrictBooleanFilter(
        field_name="completed_on", lookup_expr="isnull", exclude=True, label=_("Completed")
    )

    class Meta:
        model = Milestone
        fields: list[str] = []


class IndicatorFilterSet(JurisdictionScopedFilterSet):
    """Filters for indicators: their initiative (slug) and its jurisdiction."""

    jurisdiction_field = "initiative__jurisdiction"

    initiative = SlugChoiceFilter(
        queryset=_visible_initiatives, field_name="initiative", label=_("Initiative")
    )

    class Meta:
        model = Indicator
        fields: list[str] = []
