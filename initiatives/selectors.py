"""Reads about initiatives, plans and taxonomies, with visibility applied."""

from __future__ import annotations

import datetime
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Prefetch, Q, QuerySet
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

if TYPE_CHECKING:
    from cities.models import Jurisdiction

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
    """
    The initiatives ``user`` may read, with nothing related loaded, nor the stored search
    document: kilobytes a row that only the database reads (initiatives.search).
    """
    return Initiative.objects.filter(visibility(user)).defer("search_document")


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
    return (
        Milestone.objects.filter(visibility(user, prefix="initiative__"))
        .select_related("initiative")
        .defer("initiative__search_document")
    )


def indicator_list(*, user: Viewer = None) -> QuerySet[Indicator]:
    """Indicators of the initiatives ``user`` may read, with their measurements."""
    return (
        Indicator.objects.filter(visibility(user, prefix="initiative__"))
        .select_related("initiative")
        .defer("initiative__search_document")
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


# ------------------------------------------------------------------------------
# Public pages
# ------------------------------------------------------------------------------


def _initiatives_with_places(queryset: QuerySet[Initiative]) -> QuerySet[Initiative]:
    """What a list of initiatives on a page shows, loaded once whatever the list's length."""
    return queryset.select_related("jurisdiction", "lead_organization").prefetch_related(
        "focus_areas"
    )


def initiative_page(*, slug: str, user: Viewer = None) -> Initiative:
    """
    One initiative with everything its public page shows, in a fixed number of queries.

    Lineage links only reach initiatives ``user`` may read, so a draft elsewhere
    never shows up as inspiration or as inspired.
    """
    visible_pks = visible_initiatives(user=user).values("pk")
    queryset = (
        Initiative.objects.filter(visibility(user))
        .select_related("jurisdiction__parent", "lead_organization", "plan")
        .prefetch_related(
            "focus_areas",
            "sectors",
            Prefetch(
                "partnerships",
                queryset=Partnership.objects.select_related("organization").order_by(
                    "organization__name", "role", "pk"
                ),
            ),
            "milestones",
            "indicators__measurements",
            "sources",
            Prefetch(
                "outgoing_links",
                queryset=InitiativeLink.objects.filter(to_initiative__in=visible_pks)
                .select_related("to_initiative__jurisdiction")
                .order_by("kind", "to_initiative__title", "pk"),
            ),
            Prefetch(
                "incoming_links",
                queryset=InitiativeLink.objects.filter(from_initiative__in=visible_pks)
                .select_related("from_initiative__jurisdiction")
                .order_by("kind", "from_initiative__title", "pk"),
            ),
        )
    )
    return get_object_or_404(queryset, slug=slug)


@dataclass(frozen=True)
class ChangeSummary:
    """When a record last changed and how many recorded changes it has had."""

    last_changed: datetime.datetime | None
    count: int


def initiative_change_summary(*, initiative: Initiative) -> ChangeSummary:
    """The initiative's own history, summed up in a single query whatever its length."""
    totals = initiative.history.aggregate(
        last_changed=Max("history_date"), count=Count("history_id")
    )
    return ChangeSummary(last_changed=totals["last_changed"], count=totals["count"])


def plan_page(*, slug: str, user: Viewer = None) -> Plan:
    """A plan ``user`` may read: published, or unpublished within their council's reach."""
    return get_object_or_404(
        Plan.objects.filter(visibility(user)).select_related("jurisdiction__parent"), slug=slug
    )


def plan_initiatives(*, plan: Plan, user: Viewer = None) -> QuerySet[Initiative]:
    return _initiatives_with_places(
        visible_initiatives(user=user).filter(plan=plan).order_by("title", "pk")
    )


def focus_area_initiatives(*, focus_area: FocusArea, user: Viewer = None) -> QuerySet[Initiative]:
    """Every initiative in the area across all jurisdictions, grouped by jurisdiction."""
    return _initiatives_with_places(
        visible_initiatives(user=user)
        .filter(focus_areas=focus_area)
        .order_by("jurisdiction__name", "jurisdiction__pk", "title", "pk")
    )


def sector_initiatives(*, sector: Sector, user: Viewer = None) -> QuerySet[Initiative]:
    return _initiatives_with_places(
        visible_initiatives(user=user)
        .filter(sectors=sector)
        .order_by("jurisdiction__name", "jurisdiction__pk", "title", "pk")
    )


def initiative_counts_by_jurisdiction(
    initiatives: QuerySet[Initiative],
) -> list[dict[str, Any]]:
    """How many of ``initiatives`` each jurisdiction holds, largest first, in one query."""
    rows = (
        initiatives.order_by()
        .values("jurisdiction__name", "jurisdiction__slug")
        .annotate(count=Count("pk", distinct=True))
        .order_by("-count", "jurisdiction__name")
    )
    return [dict(row) for row in rows]


def feed_initiatives(
    *,
    jurisdiction: Jurisdiction | None = None,
    focus_area: FocusArea | None = None,
    limit: int = 50,
) -> list[Initiative]:
    """
    The latest published initiatives for a feed, newest change first.

    Feeds are public and cached by readers, so they never show unpublished rows,
    whoever asks. A jurisdiction's feed includes everything below it.
    """
    queryset = Initiative.objects.published()
    if jurisdiction is not None:
        queryset = queryset.in_jurisdiction(jurisdiction, include_descendants=True)
    if focus_area is not None:
        queryset = queryset.filter(focus_areas=focus_area)
    return list(
        queryset.select_related("jurisdiction")
        .prefetch_related("focus_areas")
        .order_by("-updated_at", "-pk")[:limit]
    )
