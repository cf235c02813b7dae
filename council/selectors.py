"""Reads about organizations and coalitions. Both are public: no publication state."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from council.models import Coalition, CoalitionMembership, Organization
from initiatives.models import Partnership

if TYPE_CHECKING:
    from initiatives.models import Initiative
    from initiatives.selectors import Viewer


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


# ------------------------------------------------------------------------------
# Public pages
# ------------------------------------------------------------------------------


def organization_page(*, slug: str) -> Organization:
    return get_object_or_404(Organization.objects.select_related("jurisdiction__parent"), slug=slug)


def organization_initiatives(
    *, organization: Organization, user: Viewer = None
) -> QuerySet[Initiative]:
    """
    The initiatives ``organization`` leads or partners in that ``user`` may read.

    Each carries ``organization_partnerships``: this organization's roles in it,
    loaded in one query for the whole page.
    """
    from initiatives.selectors import visible_initiatives

    return (
        visible_initiatives(user=user)
        .filter(
            Q(lead_organization=organization)
            | Q(pk__in=Partnership.objects.filter(organization=organization).values("initiative"))
        )
        .select_related("jurisdiction")
        .prefetch_related(
            Prefetch(
                "partnerships",
                queryset=Partnership.objects.filter(organization=organization).order_by("role"),
                to_attr="organization_partnerships",
            )
        )
        .order_by("title", "pk")
    )


def organization_coalition_memberships(
    *, organization: Organization
) -> QuerySet[CoalitionMembership]:
    """The coalitions ``organization`` belongs or belonged to, with its role in each."""
    return (
        CoalitionMembership.objects.filter(organization=organization)
        .select_related("coalition__jurisdiction")
        .order_by("coalition__name", "role", "pk")
    )
