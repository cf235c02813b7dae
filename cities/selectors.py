"""Reads about jurisdictions. Views call these instead of building querysets."""

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
