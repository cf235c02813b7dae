"""Jurisdictions under /api/v1/jurisdictions/."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db import models
from django.db.models import QuerySet

from cities import selectors
from cities.api.serializers import JurisdictionSerializer
from cities.filters import JurisdictionFilterSet
from cities.models import Jurisdiction
from config.api.viewsets import AtlasModelViewSet
from initiatives import services


class JurisdictionViewSet(AtlasModelViewSet):
    """
    Countries, states, regions and places, in one tree.

    Editors add jurisdictions below those they edit and change those they edit;
    staff act anywhere. Deleting is not offered (405): jurisdictions anchor the
    record of everything done in them.
    """

    serializer_class = JurisdictionSerializer
    filterset_class = JurisdictionFilterSet
    ordering = ("name", "id")
    ordering_fields = ("name", "updated_at", "created_at", "population", "depth", "id")
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    jurisdiction_path = "pk"
    jsonld_type = "AdministrativeArea"

    def base_queryset(self) -> QuerySet[Jurisdiction]:
        return selectors.jurisdiction_list()

    def expand_queryset(self, queryset: QuerySet[Any], expand: Collection[str]) -> QuerySet[Any]:
        return selectors.jurisdiction_expand(queryset, expand=expand)

    def creation_target(self, data: dict[str, Any]) -> models.Model:
        # A new jurisdiction is created by whoever may edit its parent.
        parent: Jurisdiction | None = data.get("parent")
        return parent if parent is not None else Jurisdiction()

    def create_record(self, data: dict[str, Any]) -> Jurisdiction:
        return services.jurisdiction_create(actor=self.actor, values=data)

    def update_record(self, instance: Jurisdiction, data: dict[str, Any]) -> Jurisdiction:
        return services.jurisdiction_update(jurisdiction=instance, actor=self.actor, values=data)
