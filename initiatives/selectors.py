"""Reads about initiatives, plans and taxonomies, with visibility applied."""

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from council import permissions
from initiatives.models import FocusArea, Initiative, Plan, PublicationState, Sector


def initiative_list(
    *, user: AbstractBaseUser | AnonymousUser | None = None
) -> QuerySet[Initiative]:
    """Published initiatives, plus the unpublished ones the user's council may see."""
    visible = Q(publication_state=PublicationState.PUBLISHED)
    if permissions.is_atlas_staff(user):
        visible = Q()
    elif permissions.is_council_member(user):
        visible |= Q(jurisdiction__in=permissions.visible_jurisdictions(user))
    return (
        Initiative.objects.filter(visible)
        .select_related("jurisdiction", "lead_organization", "plan")
        .prefetch_related("focus_areas")
    )


def initiative_get(
    *, slug: str, user: AbstractBaseUser | AnonymousUser | None = None
) -> Initiative:
    queryset = initiative_list(user=user).prefetch_related(
        "sectors",
        "partnerships__organization",
        "milestones",
        "indicators__measurements",
        "sources",
        "outgoing_links__to_initiative__jurisdiction",
        "incoming_links__from_initiative__jurisdiction",
    )
    return get_object_or_404(queryset, slug=slug)


def plan_get(*, slug: str) -> Plan:
    return get_object_or_404(Plan.objects.published().select_related("jurisdiction"), slug=slug)


def focus_area_get(*, slug: str) -> FocusArea:
    return get_object_or_404(FocusArea, slug=slug)


def sector_get(*, slug: str) -> Sector:
    return get_object_or_404(Sector, slug=slug)
