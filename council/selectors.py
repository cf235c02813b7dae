"""Reads about organizations and coalitions. Both are public: no publication state."""

from collections.abc import Collection

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from council.models import Coalition, CoalitionMembership, Organization


def organization_list() -> QuerySet[Organization]:
    return Organization.objects.select_related("jurisdiction")


def organization_expand(
    queryset: QuerySet[Organization], *, expand: Collection[str]
) -> QuerySet[Organization]:
    """Load what the ``?expand=`` names need."""
    if "jurisdiction" in expand:
        queryset = queryset.select_related("jurisdiction__parent")
    return queryset


def organization_get(*, slug: str) -> Organization:
    return get_object_or_404(Organization.objects.select_related("jurisdiction"), slug=slug)


def coalition_list() -> QuerySet[Coalition]:
    return Coalition.objects.select_related("jurisdiction")


def coalition_expand(
    queryset: QuerySet[Coalition], *, expand: Collection[str]
) -> QuerySet[Coalition]:
    """Load what the ``?expand=`` names need."""
    if "jurisdiction" in expand:
        queryset = queryset.select_related("jurisdiction__parent")
    if "members" in expand:
        queryset = queryset.prefetch_related(
            Prefetch(
                "memberships",
                queryset=CoalitionMembership.objects.select_related("organization").order_by(
                    "organization__name", "pk"
                ),
            )
        )
    return queryset
