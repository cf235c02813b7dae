"""Reads about initiatives, plans and taxonomies, with visibility applied."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from council import permissions
from initiatives.models import (
    FocusArea,
    Indicator,
    Initiative,
    InitiativeLink,
    Milestone,
    Partnership,
    Plan,
    PublicationState,
    Sector,
)

Viewer = AbstractBaseUser | AnonymousUser | None


def visibility(user: Viewer, *, prefix: str = "") -> Q:
    """
    The rows of a published record type that ``user`` may read.

    Everyone reads published rows; council members also read unpublished rows
    of the jurisdictions their council covers; staff read everything.
    ``prefix`` reaches the record through a relation, such as ``initiative__``.
    """
    if permissions.is_atlas_staff(user):
        return Q()
    visible = Q(**{f"{prefix}publication_state": PublicationState.PUBLISHED})
    if permissions.is_council_member(user):
        visible |= Q(**{f"{prefix}jurisdiction__in": permissions.visible_jurisdictions(user)})
    return visible


def _apply_filters(
    queryset: QuerySet[Any], filterset_class: Any, filters: Mapping[str, Any] | None
) -> QuerySet[Any]:
    """Run a FilterSet over ``queryset``; malformed filters raise ValidationError."""
    if filters is None:
        return queryset
    filterset = filterset_class(filters, queryset=queryset)
    if not filterset.is_valid():
        raise ValidationError(filterset.errors.as_data())
    return filterset.qs


# ------------------------------------------------------------------------------
# Initiatives
# ------------------------------------------------------------------------------


def visible_initiatives(*, user: Viewer = None) -> QuerySet[Initiative]:
    """The initiatives ``user`` may read, with nothing related loaded."""
    return Initiative.objects.filter(visibility(user))


def initiative_list(
    *, user: Viewer = None, filters: Mapping[str, Any] | None = None
) -> QuerySet[Initiative]:
    """
    Published initiatives, plus the unpublished ones the user's council may see.

    ``filters`` (a query dict) runs through InitiativeFilterSet; the API applies
    the same FilterSet through its filter backend instead.
    """
    from initiatives.filters import InitiativeFilterSet

    queryset = (
        visible_initiatives(user=user)
        .select_related("jurisdiction", "lead_organization", "plan")
        .prefetch_related("focus_areas", "sectors")
    )
    return _apply_filters(queryset, InitiativeFilterSet, filters)


def initiative_expand(
    queryset: QuerySet[Initiative], *, expand: Collection[str], user: Viewer = None
) -> QuerySet[Initiative]:
    """
    Load what the ``?expand=`` names need, one query per relation however many
    initiatives a page holds. Unknown names are the caller's to refuse.
    """
    if "jurisdiction" in expand:
        queryset = queryset.select_related("jurisdiction__parent")
    if "lead_organization" in expand:
        queryset = queryset.select_related("lead_organization__jurisdiction")
    if "milestones" in expand:
        queryset = queryset.prefetch_related("milestones")
    if "indicators" in expand:
        queryset = queryset.prefetch_related("indicators__measurements")
    if "partners" in expand:
        queryset = queryset.prefetch_related(
            Prefetch(
                "partnerships",
                queryset=Partnership.objects.select_related("organization").order_by(
                    "organization__name", "pk"
                ),
            )
        )
    if "sources" in expand:
        queryset = queryset.prefetch_related("sources")
    if "links" in expand:
        # Links to initiatives the reader cannot see are left out, not shown as dangling slugs.
        queryset = queryset.prefetch_related(
            Prefetch(
                "outgoing_links",
                queryset=InitiativeLink.objects.filter(
                    to_initiative__in=visible_initiatives(user=user).values("pk")
                )
                .select_related("to_initiative")
                .order_by("kind", "pk"),
            )
        )
    return queryset


def initiative_get(*, slug: str, user: Viewer = None) -> Initiative:
    queryset = initiative_list(user=user).prefetch_related(
        "partnerships__organization",
        "milestones",
        "indicators__measurements",
        "sources",
        "outgoing_links__to_initiative__jurisdiction",
        "incoming_links__from_initiative__jurisdiction",
    )
    return get_object_or_404(queryset, slug=slug)


def milestone_list(*, user: Viewer = None) -> QuerySet[Milestone]:
    """Milestones of the initiatives ``user`` may read."""
    return Milestone.objects.filter(visibility(user, prefix="initiative__")).select_related(
        "initiative"
    )


def indicator_list(*, user: Viewer = None) -> QuerySet[Indicator]:
    """Indicators of the initiatives ``user`` may read, with their measurements."""
    return (
        Indicator.objects.filter(visibility(user, prefix="initiative__"))
        .select_related("initiative")
        .prefetch_related("measurements")
    )


# ------------------------------------------------------------------------------
# Plans
# ------------------------------------------------------------------------------


def plan_list(*, user: Viewer = None, filters: Mapping[str, Any] | None = None) -> QuerySet[Plan]:
    """Published plans, plus the unpublished ones the user's council may see."""
    from initiatives.filters import PlanFilterSet

    queryset = Plan.objects.filter(visibility(user)).select_related("jurisdiction")
    return _apply_filters(queryset, PlanFilterSet, filters)


def plan_get(*, slug: str) -> Plan:
    return get_object_or_404(Plan.objects.published().select_related("jurisdiction"), slug=slug)


# ------------------------------------------------------------------------------
# Taxonomies
# ------------------------------------------------------------------------------


def focus_area_list() -> QuerySet[FocusArea]:
    return FocusArea.objects.all()


def sector_list() -> QuerySet[Sector]:
    return Sector.objects.all()


def focus_area_get(*, slug: str) -> FocusArea:
    return get_object_or_404(FocusArea, slug=slug)


def sector_get(*, slug: str) -> Sector:
    return get_object_or_404(Sector, slug=slug)
