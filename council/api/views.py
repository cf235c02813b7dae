"""Organizations and coalitions under /api/v1/."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db import models
from django.db.models import QuerySet

from config.api.viewsets import AtlasModelViewSet
from council import record_services, selectors
from council.api.serializers import CoalitionSerializer, OrganizationSerializer
from council.filters import CoalitionFilterSet, OrganizationFilterSet
from council.models import Coalition, Organization


class OrganizationViewSet(AtlasModelViewSet):
    """
    Universities, chambers, foundations and companies that carry digital leadership.

    DELETE removes an organization that nothing refers to; one that still
    partners an initiative or belongs to a coalition answers 409.
    """

    serializer_class = OrganizationSerializer
    filterset_class = OrganizationFilterSet
    ordering = ("name", "id")
    ordering_fields = ("name", "updated_at", "created_at", "id")
    jsonld_type = "Organization"

    def base_queryset(self) -> QuerySet[Organization]:
        return selectors.organization_list()

    def expand_queryset(self, queryset: QuerySet[Any], expand: Collection[str]) -> QuerySet[Any]:
        return selectors.organization_expand(queryset, expand=expand)

    def creation_target(self, data: dict[str, Any]) -> models.Model:
        return Organization(jurisdiction=data.get("jurisdiction"))

    def create_record(self, data: dict[str, Any]) -> Organization:
        return record_services.organization_create(actor=self.actor, values=data)

    def update_record(self, instance: Organization, data: dict[str, Any]) -> Organization:
        return record_services.organization_update(
            organization=instance, actor=self.actor, values=data
        )

    def destroy_record(self, instance: Organization) -> None:
        record_services.organization_delete(organization=instance, actor=self.actor)


class CoalitionViewSet(AtlasModelViewSet):
    """Jurisdictions' coalitions. DELETE removes the coalition and its memberships."""

    serializer_class = CoalitionSerializer
    filterset_class = CoalitionFilterSet
    ordering = ("name", "id")
    ordering_fields = ("name", "updated_at", "created_at", "founded_on", "id")
    jsonld_type = "Organization"

    def base_queryset(self) -> QuerySet[Coalition]:
        return selectors.coalition_list()

    def expand_queryset(self, queryset: QuerySet[Any], expand: Collection[str]) -> QuerySet[Any]:
        return selectors.coalition_expand(queryset, expand=expand)

    def creation_target(self, data: dict[str, Any]) -> models.Model:
        return Coalition(jurisdiction=data["jurisdiction"])

    def create_record(self, data: dict[str, Any]) -> Coalition:
        return record_services.coalition_create(actor=self.actor, values=data)

    def update_record(self, instance: Coalition, data: dict[str, Any]) -> Coalition:
        return record_services.coalition_update(coalition=instance, actor=self.actor, values=data)

    def destroy_record(self, instance: Coalition) -> None:
        record_services.coalition_delete(coalition=instance, actor=self.actor)
