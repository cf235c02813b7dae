"""The jurisdiction tree's admin, scoped like every other record to the user's councils."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from cities.models import Jurisdiction
from council import permissions
from council.admin import JurisdictionScopedAdmin


@admin.register(Jurisdiction)
class JurisdictionAdmin(JurisdictionScopedAdmin):
    jurisdiction_field = "pk"

    list_display = ("name", "kind", "parent", "ocd_id", "population", "depth", "is_illustrative")
    list_filter = ("kind", "is_illustrative", "ocd_id_minted")
    # Also read by the change form, which asks whether the user may edit the parent.
    list_select_related = ("parent",)
    search_fields = ("name", "slug", "ocd_id")
    autocomplete_fields = ("parent",)
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("path", "depth", "created_at", "updated_at")
    # Counting every jurisdiction again for "show all" costs a query on ~40k rows.
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("name", "slug", "kind", "parent")}),
        (
            _("Identifiers"),
            {"fields": ("ocd_id", "ocd_id_minted", "iso_code", "geonames_id", "wikidata_qid")},
        ),
        (
            _("Facts"),
            {
                "fields": (
                    "population",
                    ("latitude", "longitude"),
                    "time_zone",
                    "website",
                    "description",
                    "source_url",
                    "is_illustrative",
                )
            },
        ),
        (_("Boundary"), {"fields": ("boundary",), "classes": ("collapse",)}),
        (_("Record"), {"fields": ("path", "depth", "created_at", "updated_at")}),
    )

    def get_readonly_fields(
        self, request: HttpRequest, obj: Jurisdiction | None = None
    ) -> tuple[str, ...]:
        readonly = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and not self._may_move(request, obj):
            readonly += ("parent",)
        return readonly

    def _may_move(self, request: HttpRequest, obj: Jurisdiction) -> bool:
        """Moving a jurisdiction takes it from its parent, so that parent must be editable."""
        if permissions.is_atlas_staff(request.user):
            return True
        return obj.parent is not None and permissions.can_edit(request.user, obj.parent)
