"""Reads about jurisdictions. Views call these instead of building querysets."""

from collections.abc import Collection, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from cities.models import Jurisdiction


def jurisdiction_list_featured() -> QuerySet[Jurisdiction]:
    """Jurisdictions with at least one published initiative, busiest first."""
    return (
        Jurisdiction.objects.annotate(
            published_initiatives=Count(
                "initiatives", filter=Q(initiatives__publication_state="published")
            )
        )
        .filter(published_initiatives__gt=0)
        .select_related("parent")
        .order_by("-published_initiatives", "name")
    )


def jurisdiction_get(*, slug: str) -> Jurisdiction:
    return get_object_or_404(Jurisdiction.objects.select_related("parent"), slug=slug)


def jurisdiction_list(*, filters: Mapping[str, Any] | None = None) -> QuerySet[Jurisdiction]:
    """
    Every jurisdiction, with its parent: the map itself is public.

    ``filters`` (a query dict) runs through JurisdictionFilterSet; malformed
    filters raise ValidationError.
    """
    from cities.filters import JurisdictionFilterSet

    queryset = Jurisdiction.objects.select_related("parent")
    if filters is None:
        return queryset
    filterset = JurisdictionFilterSet(filters, queryset=queryset)
    if not filterset.is_valid():
        raise ValidationError(filterset.errors.as_data())
    return filterset.qs


def jurisdiction_expand(
    queryset: QuerySet[Jurisdiction], *, expand: Collection[str]
) -> QuerySet[Jurisdiction]:
    """Load what the ``?expand=`` names need; the boundary is deferred unless asked for."""
    if "parent" in expand:
        queryset = queryset.select_related("parent__parent")
    if "boundary" not in expand:
        queryset = queryset.defer("boundary")
    return queryset
