"""How initiatives, plans, taxonomies, milestones and indicators look in the API."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request

from cities.api.serializers import JurisdictionSerializer
from cities.models import Jurisdiction
from config.api.viewsets import (
    FlexFieldsMixin,
    JurisdictionRefField,
    RejectUnknownFieldsMixin,
    StrictDecimalField,
    StrictSlugRelatedField,
    StrictURLField,
    WebUrlField,
    check_jurisdiction_in_scope,
)
from council import permissions
from council.api.serializers import OrganizationSerializer
from council.models import Organization
from initiatives import selectors
from initiatives.models import (
    FocusArea,
    Indicator,
    Initiative,
    InitiativeLink,
    Milestone,
    Partnership,
    Plan,
    Sector,
    Source,
)


def _user(serializer: serializers.Field[Any, Any, Any, Any]) -> Any:
    request: Request | None = serializer.context.get("request")
    return request.user if request is not None else None


class VisiblePlanField(StrictSlugRelatedField[Plan]):
    """A plan by slug, among those the writer may see: a hidden draft is as unknown as none."""

    def get_queryset(self) -> QuerySet[Plan]:
        return selectors.plan_list(user=_user(self))


class VisibleInitiativeField(StrictSlugRelatedField[Initiative]):
    """An initiative by slug, among those the writer may see."""

    def get_queryset(self) -> QuerySet[Initiative]:
        return selectors.visible_initiatives(user=_user(self)).select_related("jurisdiction")


def check_initiative_in_scope(
    serializer: serializers.Serializer[Any], value: Initiative, *, current: Initiative | None
) -> Initiative:
    """Children (milestones, indicators) may only hang on initiatives the writer edits."""
    if current is not None and current.pk == value.pk:
        return value
    if not permissions.can_edit(_user(serializer), value):
        raise serializers.ValidationError(
            _("You may not add to this initiative."), code="out_of_scope"
        )
    return value


# ------------------------------------------------------------------------------
# Taxonomies
# ------------------------------------------------------------------------------


class FocusAreaSerializer(FlexFieldsMixin, serializers.ModelSerializer[FocusArea]):
    url = serializers.HyperlinkedIdentityField(view_name="focus-area-detail", lookup_field="slug")
    web_url = WebUrlField()

    class Meta:
        model = FocusArea
        fields = (
            "id",
            "url",
            "web_url",
            "slug",
            "name_en",
            "name_fr",
            "description_en",
            "description_fr",
            "position",
        )
        read_only_fields = fields


class SectorSerializer(FocusAreaSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="sector-detail", lookup_field="slug")

    class Meta(FocusAreaSerializer.Meta):
        model = Sector  # type: ignore[assignment]


# ------------------------------------------------------------------------------
# Children of an initiative, as nested under it with ?expand=
# ------------------------------------------------------------------------------


class MeasurementSerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    """One reading of an indicator; the indicator's payload carries its whole series."""

    measured_on = serializers.DateField()
    value = StrictDecimalField(max_digits=18, decimal_places=4)
    source_url = StrictURLField(required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A PATCH is partial, and DRF lets that reach nested items too; but the
        # series is replaced whole, so every reading must be complete.
        missing = [name for name in ("measured_on", "value") if name not in attrs]
        if missing:
            raise serializers.ValidationError(
                {name: [_("This field is required.")] for name in missing}, code="required"
            )
        return attrs


class NestedMilestoneSerializer(serializers.ModelSerializer[Milestone]):
    url = serializers.HyperlinkedIdentityField(view_name="milestone-detail")

    class Meta:
        model = Milestone
        fields = ("id", "url", "title", "due_date", "completed_on")
        read_only_fields = fields


class NestedIndicatorSerializer(serializers.ModelSerializer[Indicator]):
    url = serializers.HyperlinkedIdentityField(view_name="indicator-detail")
    measurements = MeasurementSerializer(many=True, read_only=True)

    class Meta:
        model = Indicator
        fields = ("id", "url", "name", "unit", "baseline", "target", "measurements")
        read_only_fields = fields


class PartnerSerializer(serializers.ModelSerializer[Partnership]):
    organization = serializers.SlugRelatedField[Organization](slug_field="slug", read_only=True)
    name = serializers.CharField(source="organization.name", read_only=True)

    class Meta:
        model = Partnership
        fields = ("organization", "name", "role")
        read_only_fields = fields


class SourceSerializer(serializers.ModelSerializer[Source]):
    class Meta:
        model = Source
        fields = ("kind", "title", "url", "accessed_on")
        read_only_fields = fields


class LinkSerializer(serializers.ModelSerializer[InitiativeLink]):
    initiative = serializers.SlugRelatedField[Initiative](
        source="to_initiative", slug_field="slug", read_only=True
    )

    class Meta:
        model = InitiativeLink
        fields = ("kind", "initiative", "note")
        read_only_fields = fields


# ------------------------------------------------------------------------------
# Initiatives
# ------------------------------------------------------------------------------


class InitiativeSerializer(FlexFieldsMixin, serializers.ModelSerializer[Initiative]):
    """
    An initiative. Related records are written by slug.

    ``jurisdiction`` reads as a compact object and ``point`` gives its location.
    Expansions: jurisdiction, lead_organization, focus_areas, sectors (whole
    objects instead of slugs), and milestones, indicators, partners, sources
    and links (nested lists, absent otherwise).
    """

    url = serializers.HyperlinkedIdentityField(view_name="initiative-detail", lookup_field="slug")
    web_url = WebUrlField()
    jurisdiction = JurisdictionRefField()
    point = serializers.SerializerMethodField()
    plan = VisiblePlanField(slug_field="slug", required=False, allow_null=True)
    focus_areas = StrictSlugRelatedField(
        slug_field="slug", many=True, queryset=FocusArea.objects.all(), required=False
    )
    sectors = StrictSlugRelatedField(
        slug_field="slug", many=True, queryset=Sector.objects.all(), required=False
    )
    lead_organization = StrictSlugRelatedField(
        slug_field="slug", queryset=Organization.objects.all(), required=False, allow_null=True
    )

    expandable_fields = {
        "jurisdiction": lambda: JurisdictionSerializer(read_only=True),
        "lead_organization": lambda: OrganizationSerializer(read_only=True),
        "focus_areas": lambda: FocusAreaSerializer(many=True, read_only=True),
        "sectors": lambda: SectorSerializer(many=True, read_only=True),
        "milestones": lambda: NestedMilestoneSerializer(many=True, read_only=True),
        "indicators": lambda: NestedIndicatorSerializer(many=True, read_only=True),
        "partners": lambda: PartnerSerializer(many=True, read_only=True, source="partnerships"),
        "sources": lambda: SourceSerializer(many=True, read_only=True),
        "links": lambda: LinkSerializer(many=True, read_only=True, source="outgoing_links"),
    }

    class Meta:
        model = Initiative
        fields = (
            "id",
            "url",
            "web_url",
            "slug",
            "title",
            "summary",
            "description",
            "language",
            "status",
            "jurisdiction",
            "point",
            "plan",
            "focus_areas",
            "sectors",
            "lead_organization",
            "start_date",
            "end_date",
            "budget_amount",
            "budget_currency",
            "publication_state",
            "published_at",
            "is_illustrative",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "publication_state", "published_at", "created_at", "updated_at")

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "description": "Where the initiative's jurisdiction lies, or null when unknown.",
            "properties": {"latitude": {"type": "number"}, "longitude": {"type": "number"}},
        }
    )
    def get_point(self, obj: Initiative) -> dict[str, float] | None:
        jurisdiction = obj.jurisdiction
        if jurisdiction.latitude is None or jurisdiction.longitude is None:
            return None
        return {"latitude": jurisdiction.latitude, "longitude": jurisdiction.longitude}

    def validate_jurisdiction(self, value: Jurisdiction) -> Jurisdiction | None:
        current = self.instance.jurisdiction if isinstance(self.instance, Initiative) else None
        return check_jurisdiction_in_scope(self, value, current=current)


# ------------------------------------------------------------------------------
# Plans
# ------------------------------------------------------------------------------


class PlanSerializer(FlexFieldsMixin, serializers.ModelSerializer[Plan]):
    """A plan. ``document_url`` is the plan's own document. Expansion: jurisdiction."""

    url = serializers.HyperlinkedIdentityField(view_name="plan-detail", lookup_field="slug")
    web_url = WebUrlField()
    jurisdiction = JurisdictionRefField()
    document_url = StrictURLField(source="url", required=False, allow_blank=True)

    expandable_fields = {
        "jurisdiction": lambda: JurisdictionSerializer(read_only=True),
    }

    class Meta:
        model = Plan
        fields = (
            "id",
            "url",
            "web_url",
            "slug",
            "title",
            "summary",
            "description",
            "language",
            "jurisdiction",
            "published_on",
            "document_url",
            "source_url",
            "publication_state",
            "is_illustrative",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "publication_state", "created_at", "updated_at")

    def validate_jurisdiction(self, value: Jurisdiction) -> Jurisdiction | None:
        current = self.instance.jurisdiction if isinstance(self.instance, Plan) else None
        return check_jurisdiction_in_scope(self, value, current=current)


# ------------------------------------------------------------------------------
# Milestones and indicators
# ------------------------------------------------------------------------------


class MilestoneSerializer(FlexFieldsMixin, serializers.ModelSerializer[Milestone]):
    """A milestone of an initiative, named by the initiative's slug."""

    url = serializers.HyperlinkedIdentityField(view_name="milestone-detail")
    web_url = WebUrlField()
    initiative = VisibleInitiativeField(slug_field="slug")
    is_done = serializers.BooleanField(read_only=True)

    class Meta:
        model = Milestone
        fields = (
            "id",
            "url",
            "web_url",
            "initiative",
            "title",
            "due_date",
            "completed_on",
            "is_done",
        )
        read_only_fields = ("id",)

    def validate_initiative(self, value: Initiative) -> Initiative:
        current = self.instance.initiative if isinstance(self.instance, Milestone) else None
        return check_initiative_in_scope(self, value, current=current)


class IndicatorSerializer(FlexFieldsMixin, serializers.ModelSerializer[Indicator]):
    """
    An indicator of an initiative with its measurements.

    Sending ``measurements`` replaces the whole series (matched by date);
    leaving it out keeps the series as it is.
    """

    url = serializers.HyperlinkedIdentityField(view_name="indicator-detail")
    web_url = WebUrlField()
    initiative = VisibleInitiativeField(slug_field="slug")
    measurements = MeasurementSerializer(many=True, required=False)

    class Meta:
        model = Indicator
        fields = (
            "id",
            "url",
            "web_url",
            "initiative",
            "name",
            "unit",
            "baseline",
            "target",
            "measurements",
        )
        read_only_fields = ("id",)

    def validate_initiative(self, value: Initiative) -> Initiative:
        current = self.instance.initiative if isinstance(self.instance, Indicator) else None
        return check_initiative_in_scope(self, value, current=current)

    def validate_measurements(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        days = [item["measured_on"] for item in value]
        if len(days) != len(set(days)):
            raise serializers.ValidationError(
                _("Give at most one measurement per day."), code="duplicate_measurement"
            )
        return value
