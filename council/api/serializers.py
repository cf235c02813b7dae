"""How organizations and coalitions look in the API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from cities.api.serializers import JurisdictionSerializer
from cities.models import Jurisdiction
from config.api.viewsets import (
    FlexFieldsMixin,
    JurisdictionRefField,
    WebUrlField,
    check_jurisdiction_in_scope,
)
from council.models import Coalition, CoalitionMembership, Organization


class OrganizationSerializer(FlexFieldsMixin, serializers.ModelSerializer[Organization]):
    """
    An organization. ``jurisdiction`` is its home, written as a slug; only staff
    may leave it empty. Expansion: jurisdiction.
    """

    url = serializers.HyperlinkedIdentityField(view_name="organization-detail", lookup_field="slug")
    web_url = WebUrlField()
    jurisdiction = JurisdictionRefField(required=False, allow_null=True)

    expandable_fields = {
        "jurisdiction": lambda: JurisdictionSerializer(read_only=True),
    }

    class Meta:
        model = Organization
        fields = (
            "id",
            "url",
            "web_url",
            "slug",
            "name",
            "kind",
            "jurisdiction",
            "website",
            "description",
            "source_url",
            "is_illustrative",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "created_at", "updated_at")

    def validate_jurisdiction(self, value: Jurisdiction | None) -> Jurisdiction | None:
        current = self.instance.jurisdiction if isinstance(self.instance, Organization) else None
        return check_jurisdiction_in_scope(self, value, current=current, allow_empty_for_staff=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Leaving the home out on creation is the same as sending null: staff only.
        if self.instance is None and "jurisdiction" not in attrs:
            try:
                attrs["jurisdiction"] = check_jurisdiction_in_scope(
                    self, None, allow_empty_for_staff=True
                )
            except serializers.ValidationError as error:
                raise serializers.ValidationError({"jurisdiction": error.detail}) from error
        return attrs


class CoalitionMemberSerializer(serializers.ModelSerializer[CoalitionMembership]):
    organization = serializers.SlugRelatedField[Organization](slug_field="slug", read_only=True)
    name = serializers.CharField(source="organization.name", read_only=True)

    class Meta:
        model = CoalitionMembership
        fields = ("organization", "name", "role", "since", "until")
        read_only_fields = fields


class CoalitionSerializer(FlexFieldsMixin, serializers.ModelSerializer[Coalition]):
    """A coalition. Expansions: jurisdiction, members (organizations with their roles)."""

    url = serializers.HyperlinkedIdentityField(view_name="coalition-detail", lookup_field="slug")
    web_url = WebUrlField()
    jurisdiction = JurisdictionRefField()

    expandable_fields = {
        "jurisdiction": lambda: JurisdictionSerializer(read_only=True),
        "members": lambda: CoalitionMemberSerializer(
            many=True, read_only=True, source="memberships"
        ),
    }

    class Meta:
        model = Coalition
        fields = (
            "id",
            "url",
            "web_url",
            "slug",
            "name",
            "jurisdiction",
            "description",
            "founded_on",
            "website",
            "source_url",
            "is_illustrative",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "created_at", "updated_at")

    def validate_jurisdiction(self, value: Jurisdiction) -> Jurisdiction | None:
        current = self.instance.jurisdiction if isinstance(self.instance, Coalition) else None
        return check_jurisdiction_in_scope(self, value, current=current)
