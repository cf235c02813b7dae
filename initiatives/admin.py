"""The admin of taxonomies, plans, initiatives and their parts, scoped to the user's councils."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from council import permissions
from council.admin import (
    AtlasAdmin,
    DeliveryLedgerAdmin,
    JurisdictionScopedAdmin,
    JurisdictionScopedInline,
    organization_suggestions,
)
from initiatives.models import (
    DigestDelivery,
    FocusArea,
    Indicator,
    Initiative,
    InitiativeLink,
    Measurement,
    Milestone,
    OutgoingEmail,
    Partnership,
    Plan,
    PublicationState,
    Sector,
    Source,
)
from initiatives.selectors import initiative_list

AUTHORED_READONLY_FIELDS = ("created_by", "created_at", "updated_by", "updated_at")

# ------------------------------------------------------------------------------
# Taxonomies: council members read them, staff edit them
# ------------------------------------------------------------------------------


class TaxonAdmin(AtlasAdmin):
    list_display = ("name_en", "name_fr", "slug", "position")
    search_fields = ("name_en", "name_fr", "slug")
    prepopulated_fields = {"slug": ("name_en",)}
    fields = ("name_en", "name_fr", "slug", "description_en", "description_fr", "position")


@admin.register(FocusArea)
class FocusAreaAdmin(TaxonAdmin):
    pass


@admin.register(Sector)
class SectorAdmin(TaxonAdmin):
    pass


# ------------------------------------------------------------------------------
# Plans and initiatives
# ------------------------------------------------------------------------------


class AuthoredAdmin(JurisdictionScopedAdmin):
    """
    Records who created and last changed a plan or initiative.

    The admin saves in place, with no review step, so a record the public sees (or
    one waiting for review) is changed here only by someone who may publish; an
    editor changes it in the workspace, where the change waits for review.
    """

    def can_act(self, user: permissions.AnyUser, obj: models.Model) -> bool:
        return permissions.can_change_in_place(user, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


def plan_suggestions(request: HttpRequest) -> models.QuerySet[Plan]:
    """Published plans, and the unpublished ones the user's council may see."""
    if permissions.is_atlas_staff(request.user):
        return Plan.objects.all()
    return Plan.objects.filter(
        Q(publication_state=PublicationState.PUBLISHED)
        | Q(jurisdiction__in=permissions.visible_jurisdictions(request.user))
    )


@admin.register(Plan)
class PlanAdmin(AuthoredAdmin):
    list_display = (
        "title",
        "jurisdiction",
        "publication_state",
        "published_on",
        "language",
        "updated_at",
    )
    list_filter = ("publication_state", "language", "is_illustrative")
    list_select_related = ("jurisdiction",)
    search_fields = ("title", "slug", "jurisdiction__name")
    autocomplete_fields = ("jurisdiction",)
    prepopulated_fields = {"slug": ("title",)}
    # Publication goes through review, not through a form field.
    readonly_fields = ("publication_state", *AUTHORED_READONLY_FIELDS)
    fields = (
        "title",
        "slug",
        "jurisdiction",
        "summary",
        "description",
        "language",
        "published_on",
        "url",
        "source_url",
        "is_illustrative",
        "publication_state",
        *AUTHORED_READONLY_FIELDS,
    )


class MilestoneInline(JurisdictionScopedInline):
    model = Milestone
    fields = ("title", "due_date", "completed_on")


class IndicatorInline(JurisdictionScopedInline):
    model = Indicator
    fields = ("name", "unit", "baseline", "target")
    # Measurements are edited on the indicator's own page.
    show_change_link = True


class PartnershipInline(JurisdictionScopedInline):
    model = Partnership
    fields = ("organization", "role")
    autocomplete_fields = ("organization",)

    def autocomplete_choices(
        self, request: HttpRequest, db_field: models.Field[Any, Any]
    ) -> models.QuerySet[Any] | None:
        if db_field.name == "organization":
            return organization_suggestions()
        return super().autocomplete_choices(request, db_field)


class SourceInline(JurisdictionScopedInline):
    model = Source
    fields = ("kind", "title", "url", "accessed_on")


class InitiativeLinkInline(JurisdictionScopedInline):
    """Links from this initiative; those pointing at it are edited on their own initiative."""

    model = InitiativeLink
    fk_name = "from_initiative"
    fields = ("kind", "to_initiative", "note")
    autocomplete_fields = ("to_initiative",)
    verbose_name_plural = _("links to other initiatives")

    def autocomplete_choices(
        self, request: HttpRequest, db_field: models.Field[Any, Any]
    ) -> models.QuerySet[Any] | None:
        if db_field.name == "to_initiative":
            # Links often reach other cities, so any initiative the user may see will do.
            return initiative_list(user=request.user).prefetch_related(None)
        return super().autocomplete_choices(request, db_field)


@admin.register(Initiative)
class InitiativeAdmin(AuthoredAdmin):
    list_display = (
        "title",
        "jurisdiction",
        "status",
        "publication_state",
        "is_illustrative",
        "updated_at",
    )
    list_filter = ("publication_state", "status", "is_illustrative", "focus_areas")
    list_select_related = ("jurisdiction",)
    search_fields = ("title", "slug", "jurisdiction__name")
    autocomplete_fields = ("jurisdiction", "plan", "lead_organization", "focus_areas", "sectors")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("publication_state", "published_at", *AUTHORED_READONLY_FIELDS)
    fieldsets = (
        (None, {"fields": ("title", "slug", "jurisdiction", "plan", "summary", "description")}),
        (
            None,
            {
                "fields": (
                    "language",
                    "status",
                    ("start_date", "end_date"),
                    ("budget_amount", "budget_currency"),
                    "focus_areas",
                    "sectors",
                    "lead_organization",
                    "is_illustrative",
                )
            },
        ),
        (None, {"fields": ("publication_state", "published_at", *AUTHORED_READONLY_FIELDS)}),
    )
    inlines = (
        MilestoneInline,
        IndicatorInline,
        PartnershipInline,
        SourceInline,
        InitiativeLinkInline,
    )

    def autocomplete_choices(
        self, request: HttpRequest, db_field: models.Field[Any, Any]
    ) -> models.QuerySet[Any] | None:
        if db_field.name == "plan":
            return plan_suggestions(request)
        if db_field.name == "lead_organization":
            return organization_suggestions()
        return super().autocomplete_choices(request, db_field)


class MeasurementInline(JurisdictionScopedInline):
    model = Measurement
    fields = ("measured_on", "value", "source_url")


@admin.register(Indicator)
class IndicatorAdmin(JurisdictionScopedAdmin):
    jurisdiction_field = "initiative__jurisdiction"

    list_display = ("name", "initiative", "initiative__jurisdiction", "unit", "baseline", "target")
    list_select_related = ("initiative__jurisdiction",)
    search_fields = ("name", "initiative__title")
    autocomplete_fields = ("initiative",)
    fields = ("initiative", "name", "unit", "baseline", "target")
    inlines = (MeasurementInline,)

    def field_choices(
        self, request: HttpRequest, db_field: models.Field[Any, Any]
    ) -> models.QuerySet[Any] | None:
        if db_field.name == "initiative":
            # Moving an indicator edits the initiative it joins.
            if permissions.is_atlas_staff(request.user):
                return Initiative.objects.all()
            return permissions.scope_to_jurisdictions(
                Initiative.objects.all(), permissions.editable_jurisdictions(request.user)
            )
        return super().field_choices(request, db_field)


# ------------------------------------------------------------------------------
# Delivery ledgers: what was sent, what failed and why (staff)
# ------------------------------------------------------------------------------


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(DeliveryLedgerAdmin):
    list_display = (
        "subscription",
        "period",
        "state",
        "attempts",
        "last_error",
        "sent_at",
        "created_at",
    )
    list_select_related = ("subscription",)
    search_fields = ("subscription__email", "period")
    raw_id_fields = ("subscription",)
    add_fields = ("subscription", "period", "state")
    shown_fields = (
        "subscription",
        "period",
        "state",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
    )


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(DeliveryLedgerAdmin):
    """An email added here is sent by the next outbox sweep, like any other owed email."""

    list_display = ("kind", "to", "subject", "state", "attempts", "last_error", "created_at")
    list_filter = ("state", "kind")
    search_fields = ("to", "subject")
    add_fields = ("kind", "to", "subject", "body", "html")
    shown_fields = (
        "kind",
        "to",
        "subject",
        "body",
        "html",
        "headers",
        "state",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
    )
