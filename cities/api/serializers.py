"""How jurisdictions look in the API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from cities.models import Jurisdiction
from config.api.viewsets import (
    FlexFieldsMixin,
    JurisdictionRefField,
    WebUrlField,
    check_jurisdiction_in_scope,
)


class JurisdictionSerializer(FlexFieldsMixin, serializers.ModelSerializer[Jurisdiction]):
    """
    A jurisdiction. ``parent`` is written as a slug and read as a compact object.

    Expansions: ``parent`` (the whole parent) and ``boundary`` (the GeoJSON
    geometry, left out by default because it can be large).
    """

    url = serializers.HyperlinkedIdentityField(view_name="jurisdiction-detail", lookup_field="slug")
    web_url = WebUrlField()
    parent = JurisdictionRefField(required=False, allow_null=True)  # type: ignore[assignment]

    expandable_fields = {
        "parent": lambda: JurisdictionSerializer(read_only=True),
        "boundary": lambda: serializers.JSONField(read_only=True),
    }

    class Meta:
        model = Jurisdiction
        fields = (
            "id",
            "url",
            "web_url",
            "slug",
            "name",
            "kind",
            "ocd_id",
            "ocd_id_minted",
            "parent",
            "depth",
            "iso_code",
            "geonames_id",
            "wikidata_qid",
            "population",
            "latitude",
            "longitude",
            "website",
            "description",
            "time_zone",
            "source_url",
            "is_illustrative",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "ocd_id_minted", "depth", "created_at", "updated_at")

    def validate_parent(self, value: Jurisdiction | None) -> Jurisdiction | None:
        current = self.instance.parent if isinstance(self.instance, Jurisdiction) else None
        return check_jurisdiction_in_scope(self, value, current=current, allow_empty_for_staff=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Only staff add top-level jurisdictions; everyone else names a parent.
        if self.instance is None and "parent" not in attrs:
            try:
                attrs["parent"] = check_jurisdiction_in_scope(
                    self, None, allow_empty_for_staff=True
                )
            except serializers.ValidationError as error:
                raise serializers.ValidationError({"parent": error.detail}) from error
        return attrs
