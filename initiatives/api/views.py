"""Initiatives, plans, taxonomies, milestones and indicators under /api/v1/."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db import models
from django.db.models import QuerySet

from config.api.viewsets import AtlasModelViewSet, AtlasReadOnlyViewSet
from initiatives import selectors, services
from initiatives.api.rows import COLUMNS as ROW_COLUMNS
from initiatives.api.rows import InitiativeRows
from initiatives.api.serializers import (
    FocusAreaSerializer,
    IndicatorSerializer,
    InitiativeSerializer,
    MilestoneSerializer,
    PlanSerializer,
    SectorSerializer,
)
from initiatives.filters import (
    IndicatorFilterSet,
    InitiativeFilterSet,
    MilestoneFilterSet,
    PlanFilterSet,
)
from initiatives.models import (
    FocusArea,
    Indicator,
    Initiative,
    Milestone,
    Plan,
    Sector,
)


class InitiativeViewSet(AtlasModelViewSet):
    """
    What jurisdictions do to lead in the digital era.

    New initiatives start as drafts; publishing is a review step, not a field.
    A status change must follow the lifecycle. DELETE archives the initiative.
    """

    serializer_class = InitiativeSerializer
    filterset_class = InitiativeFilterSet
    ordering = ("-updated_at", "-id")
    ordering_fields = ("updated_at", "created_at", "title", "start_date", "end_date", "id")
    jsonld_type = "Project"

    def base_queryset(self) -> QuerySet[Initiative]:
        return selectors.initiative_list(user=self.request.user)

    def expand_queryset(self, queryset: QuerySet[Any], expand: Collection[str]) -> QuerySet[Any]:
        if not expand:
            # InitiativeRows reads the taxa's slugs itself, as bare pairs.
            return queryset.prefetch_related(None)
        return selectors.initiative_expand(queryset, expand=expand, user=self.request.user)

    def get_queryset(self) -> QuerySet[Any]:
        queryset = super().get_queryset()
        if self.action in ("list", "retrieve") and not self.requested_expand:
            queryset = queryset.only(*ROW_COLUMNS)
        return queryset

    # Reads without an expansion skip the serializer, which still renders every expansion.
    def represent(self, records: Any, *, many: bool) -> Any:
        if self.requested_expand:
            return super().represent(records, many=many)
        rows = InitiativeRows(self.request, fields=self.requested_fields)
        return rows.represent(list(records)) if many else rows.represent([records])[0]

    def creation_target(self, data: dict[str, Any]) -> models.Model:
        return Initiative(jurisdiction=data["jurisdiction"])

    def create_record(self, data: dict[str, Any]) -> Initiative:
        focus_areas = data.pop("focus_areas", [])
        sectors = data.pop("sectors", [])
        return services.initiative_create(
            actor=self.actor, values=data, focus_areas=focus_areas, sectors=sectors
        )

    def update_record(self, instance: Initiative, data: dict[str, Any]) -> Initiative:
        focus_areas = data.pop("focus_areas", None)
        sectors = data.pop("sectors", None)
        return services.initiative_update(
            initiative=instance,
            actor=self.actor,
            values=data,
            focus_areas=focus_areas,
            sectors=sectors,
        )

    def destroy_record(self, instance: Initiative) -> None:
        services.initiative_archive(initiative=instance, actor=self.actor)


class PlanViewSet(AtlasModelViewSet):
    """Jurisdictions' digital strategies. New plans start as drafts; DELETE archives."""

    serializer_class = PlanSerializer
    filterset_class = PlanFilterSet
    ordering = ("-updated_at", "-id")
    ordering_fields = ("updated_at", "created_at", "title", "published_on", "id")
    jsonld_type = "CreativeWork"

    def base_queryset(self) -> QuerySet[Plan]:
        return selectors.plan_list(user=self.request.user)

    def expand_queryset(self, queryset: QuerySet[Any], expand: Collection[str]) -> QuerySet[Any]:
        if "jurisdiction" in expand:
            queryset = queryset.select_related("jurisdiction__parent")
        return queryset

    def creation_target(self, data: dict[str, Any]) -> models.Model:
        return Plan(jurisdiction=data["jurisdiction"])

    def create_record(self, data: dict[str, Any]) -> Plan:
        return services.plan_create(actor=self.actor, values=data)

    def update_record(self, instance: Plan, data: dict[str, Any]) -> Plan:
        return services.plan_update(plan=instance, actor=self.actor, values=data)

    def destroy_record(self, instance: Plan) -> None:
        services.plan_archive(plan=instance, actor=self.actor)


class MilestoneViewSet(AtlasModelViewSet):
    """Milestones of initiatives, visible when their initiative is. DELETE removes the row."""

    serializer_class = MilestoneSerializer
    filterset_class = MilestoneFilterSet
    lookup_field = "pk"
    lookup_value_regex = r"[0-9]+"
    ordering = ("due_date", "id")
    ordering_fields = ("due_date", "completed_on", "id")
    jurisdiction_path = "initiative__jurisdiction"

    def base_queryset(self) -> QuerySet[Milestone]:
        return selectors.milestone_list(user=self.request.user)

    def creation_target(self, data: dict[str, Any]) -> models.Model:
        return Milestone(initiative=data["initiative"])

    def create_record(self, data: dict[str, Any]) -> Milestone:
        return services.milestone_create(actor=self.actor, values=data)

    def update_record(self, instance: Milestone, data: dict[str, Any]) -> Milestone:
        return services.milestone_update(milestone=instance, actor=self.actor, values=data)

    def destroy_record(self, instance: Milestone) -> None:
        services.milestone_delete(milestone=instance, actor=self.actor)


class IndicatorViewSet(AtlasModelViewSet):
    """
    Indicators of initiatives with their measurements, visible when their
    initiative is. DELETE removes the row.
    """

    serializer_class = IndicatorSerializer
    filterset_class = IndicatorFilterSet
    lookup_field = "pk"
    lookup_value_regex = r"[0-9]+"
    ordering = ("id",)
    ordering_fields = ("name", "id")
    jurisdiction_path = "initiative__jurisdiction"

    def base_queryset(self) -> QuerySet[Indicator]:
        return selectors.indicator_list(user=self.request.user)

    def creation_target(self, data: dict[str, Any]) -> models.Model:
        return Indicator(initiative=data["initiative"])

    def create_record(self, data: dict[str, Any]) -> Indicator:
        measurements = data.pop("measurements", [])
        return services.indicator_create(actor=self.actor, values=data, measurements=measurements)

    def update_record(self, instance: Indicator, data: dict[str, Any]) -> Indicator:
        measurements = data.pop("measurements", None)
        return services.indicator_update(
            indicator=instance, actor=self.actor, values=data, measurements=measurements
        )

    def destroy_record(self, instance: Indicator) -> None:
        services.indicator_delete(indicator=instance, actor=self.actor)


class FocusAreaViewSet(AtlasReadOnlyViewSet):
    """Fields of digital leadership, named in English and French. Read-only."""

    serializer_class = FocusAreaSerializer
    filterset_class = None
    ordering = ("position", "slug", "id")
    ordering_fields = ("position", "slug", "id")
    jsonld_type = "DefinedTerm"

    def base_queryset(self) -> QuerySet[FocusArea]:
        return selectors.focus_area_list()


class SectorViewSet(AtlasReadOnlyViewSet):
    """Industries and parts of society that initiatives serve. Read-only."""

    serializer_class = SectorSerializer
    filterset_class = None
    ordering = ("position", "slug", "id")
    ordering_fields = ("position", "slug", "id")
    jsonld_type = "DefinedTerm"

    def base_queryset(self) -> QuerySet[Sector]:
        return selectors.sector_list()
