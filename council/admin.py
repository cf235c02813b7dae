"""
The admin's shared base classes, and the admin of councils, coalitions and organizations.

Django's admin asks auth.Permission rows who may do what. The Atlas answers from
council.permissions instead, so the rules live in one module: staff act everywhere,
a council member sees and edits within their jurisdictions, and another
jurisdiction's record is simply not found.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.options import BaseModelAdmin
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import models
from django.db.models.fields.related import RelatedField
from django.forms import ModelChoiceField, ModelMultipleChoiceField
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from cities.models import Jurisdiction
from council import permissions, services
from council.models import (
    ApiKey,
    Coalition,
    CoalitionMembership,
    CouncilMembership,
    Organization,
    ReminderDelivery,
)


def is_autocomplete(request: HttpRequest) -> bool:
    """True inside the admin's autocomplete JSON view."""
    match = request.resolver_match
    return match is not None and match.url_name == "autocomplete"


def edits_anywhere(
    user: permissions.AnyUser,
    can_act: Callable[[permissions.AnyUser, models.Model], bool] = permissions.can_edit,
) -> bool:
    """
    Whether ``can_act`` allows the user something on at least one jurisdiction.

    Staff act everywhere; a council member can only act somewhere their own
    memberships reach, so asking the predicate about each membership's
    jurisdiction answers without a query beyond the cached memberships.
    """
    return permissions.is_atlas_staff(user) or any(
        can_act(user, membership.jurisdiction) for membership in permissions.memberships(user)
    )


class ScopedChoicesMixin(BaseModelAdmin):
    """
    Narrows what a form offers for related fields, and what the autocomplete suggests.

    ``field_choices`` binds both the form field (so a forged POST fails validation)
    and the autocomplete. ``autocomplete_choices`` only changes what is suggested,
    for references such as a partner organization, where the stored value may
    lie outside what the user can see and must still validate.
    """

    def jurisdiction_choices(self, request: HttpRequest) -> models.QuerySet[Jurisdiction]:
        return permissions.editable_jurisdictions(request.user)

    def field_choices(
        self, request: HttpRequest, db_field: models.Field[Any, Any]
    ) -> models.QuerySet[Any] | None:
        """The rows ``db_field`` may point at; None leaves Django's default of every row."""
        if db_field.related_model is Jurisdiction:
            return self.jurisdiction_choices(request)
        return None

    def autocomplete_choices(
        self, request: HttpRequest, db_field: models.Field[Any, Any]
    ) -> models.QuerySet[Any] | None:
        """The rows the autocomplete suggests for ``db_field``; None asks the target's admin."""
        return self.field_choices(request, db_field)

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        choices = self.field_choices(request, db_field)
        if choices is not None:
            kwargs["queryset"] = choices
        if db_field.related_model is Jurisdiction and not permissions.is_atlas_staff(request.user):
            # A record without a jurisdiction is staff's alone: a council member
            # who left it empty would lose sight of what they had just created.
            kwargs["required"] = True
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(
        self, db_field: models.ManyToManyField[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelMultipleChoiceField[Any] | None:
        choices = self.field_choices(request, db_field)
        if choices is not None:
            kwargs["queryset"] = choices
        return super().formfield_for_manytomany(db_field, request, **kwargs)


def _choices_owner(
    admin_site: admin.AdminSite, model: type[models.Model]
) -> ScopedChoicesMixin | None:
    """The admin (or inline) whose form shows ``model``'s fields, if it scopes choices."""
    registered = admin_site._registry.get(model)
    if isinstance(registered, ScopedChoicesMixin):
        return registered
    for parent_admin in admin_site._registry.values():
        for inline_class in getattr(parent_admin, "inlines", ()):
            if inline_class.model is model and issubclass(inline_class, ScopedChoicesMixin):
                return inline_class(parent_admin.model, admin_site)
    return None


def autocomplete_suggestions(
    admin_site: admin.AdminSite, request: HttpRequest
) -> models.QuerySet[Any] | None:
    """
    What the autocomplete view may suggest, as the admin of the asking field decides.

    Django hands the search to the target model's admin, which cannot tell a
    council membership's jurisdiction (chairs' councils) from an initiative's
    (editors' jurisdictions), so the source field's admin is asked instead.
    """
    try:
        model = apps.get_model(request.GET["app_label"], request.GET["model_name"])
        field = model._meta.get_field(request.GET["field_name"])
    except (KeyError, LookupError, FieldDoesNotExist):
        return None
    owner = _choices_owner(admin_site, model)
    if owner is None or not isinstance(field, RelatedField):
        return None
    suggestions = owner.autocomplete_choices(request, field)
    if suggestions is None:
        return None
    return suggestions.complex_filter(field.get_limit_choices_to())


class AtlasAdmin(ScopedChoicesMixin, SimpleHistoryAdmin):
    """
    Every Atlas admin: a history page per object, and rights from council.permissions.

    Council members read; staff write. Jurisdiction-scoped records refine this in
    ``JurisdictionScopedAdmin``; taxonomies use it as it is.
    """

    def has_module_permission(self, request: HttpRequest) -> bool:
        return permissions.is_atlas_staff(request.user) or permissions.is_council_member(
            request.user
        )

    def has_view_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return permissions.is_atlas_staff(request.user)

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return permissions.is_atlas_staff(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return permissions.is_atlas_staff(request.user)

    def get_search_results(
        self, request: HttpRequest, queryset: models.QuerySet[Any], search_term: str
    ) -> tuple[models.QuerySet[Any], bool]:
        if is_autocomplete(request):
            suggestions = autocomplete_suggestions(self.admin_site, request)
            if suggestions is not None:
                queryset = suggestions
        result: tuple[models.QuerySet[Any], bool] = super().get_search_results(
            request, queryset, search_term
        )
        return result

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # simple_history falls back to the history table when the object is not
        # in the queryset, which would show another jurisdiction's past.
        self._get_object_in_scope(request, object_id)
        response: HttpResponse = super().history_view(request, object_id, extra_context)
        return response

    def history_form_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        obj = self._get_object_in_scope(request, object_id)
        # simple_history saves a revert for anyone who may merely view the object.
        if request.method == "POST" and not self.has_change_permission(request, obj):
            raise PermissionDenied
        response: HttpResponse = super().history_form_view(
            request, object_id, version_id, extra_context
        )
        return response

    def _get_object_in_scope(self, request: HttpRequest, object_id: str) -> models.Model | None:
        """The object, or 404 for a council member; staff may also see deleted objects' history."""
        obj: models.Model | None = self.get_object(request, unquote(object_id))
        if obj is None and not permissions.is_atlas_staff(request.user):
            raise Http404
        return obj


class JurisdictionScopedAdmin(AtlasAdmin):
    """
    An admin for records that belong to a jurisdiction.

    Council members see the records within ``permissions.visible_jurisdictions``
    and may change those ``can_act`` allows (``permissions.can_edit`` unless a
    subclass says otherwise). ``jurisdiction_field`` is the lookup from the model
    to its jurisdiction, ``"pk"`` for Jurisdiction itself.
    """

    jurisdiction_field: ClassVar[str] = "jurisdiction"

    def can_act(self, user: permissions.AnyUser, obj: models.Model) -> bool:
        return permissions.can_edit(user, obj)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Any]:
        queryset: models.QuerySet[Any] = super().get_queryset(request)
        # Permission checks read each object's jurisdiction, so it is joined. The
        # changelist applies list_select_related only to a queryset that joins
        # nothing yet, so those joins are named here as well.
        related = [] if self.jurisdiction_field == "pk" else [self.jurisdiction_field]
        listed = self.get_list_select_related(request)
        if isinstance(listed, list | tuple):
            related.extend(listed)
        if related:
            queryset = queryset.select_related(*related)
        if permissions.is_atlas_staff(request.user):
            return queryset
        return permissions.scope_to_jurisdictions(
            queryset,
            permissions.visible_jurisdictions(request.user),
            field=self.jurisdiction_field,
        )

    def has_view_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        if obj is None:
            return self.has_module_permission(request)
        return permissions.can_view_unpublished(request.user, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return edits_anywhere(request.user, self.can_act)

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        if obj is None:
            return edits_anywhere(request.user, self.can_act)
        return self.can_act(request.user, obj)

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return self.has_change_permission(request, obj)


class JurisdictionScopedInline(ScopedChoicesMixin, admin.TabularInline):
    """
    An inline whose rows belong to the parent object: they follow its rights.

    ``obj`` is the parent here, or None on the parent's add page, where the
    parent form's own jurisdiction choices already keep the user in scope.
    """

    extra = 0

    def has_view_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        if obj is None:
            return permissions.is_atlas_staff(request.user) or permissions.is_council_member(
                request.user
            )
        return permissions.can_view_unpublished(request.user, obj)

    # Inlines take the parent object, as Django's InlineModelAdmin does.
    def has_add_permission(self, request: HttpRequest, obj: models.Model | None) -> bool:  # type: ignore[override]
        if obj is None:
            return edits_anywhere(request.user)
        return permissions.can_edit(request.user, obj)

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return self.has_add_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return self.has_add_permission(request, obj)


# ------------------------------------------------------------------------------
# Council models
# ------------------------------------------------------------------------------


def organization_suggestions() -> models.QuerySet[Organization]:
    """Organizations have public pages, so any may be named as a partner or member."""
    return Organization.objects.all()


@admin.register(Organization)
class OrganizationAdmin(JurisdictionScopedAdmin):
    list_display = ("name", "kind", "jurisdiction", "is_illustrative", "updated_at")
    list_filter = ("kind", "is_illustrative")
    list_select_related = ("jurisdiction",)
    search_fields = ("name", "slug")
    autocomplete_fields = ("jurisdiction",)
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("created_at", "updated_at")
    fields = (
        "name",
        "slug",
        "kind",
        "jurisdiction",
        "website",
        "description",
        "source_url",
        "is_illustrative",
        "created_at",
        "updated_at",
    )


class CoalitionMembershipInline(JurisdictionScopedInline):
    model = CoalitionMembership
    fields = ("organization", "role", "since", "until", "source_url")
    autocomplete_fields = ("organization",)

    def autocomplete_choices(
        self, request: HttpRequest, db_field: models.Field[Any, Any]
    ) -> models.QuerySet[Any] | None:
        if db_field.name == "organization":
            return organization_suggestions()
        return super().autocomplete_choices(request, db_field)


@admin.register(Coalition)
class CoalitionAdmin(JurisdictionScopedAdmin):
    list_display = ("name", "jurisdiction", "founded_on", "is_illustrative", "updated_at")
    list_filter = ("is_illustrative",)
    list_select_related = ("jurisdiction",)
    search_fields = ("name", "slug", "jurisdiction__name")
    autocomplete_fields = ("jurisdiction",)
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("created_at", "updated_at")
    fields = (
        "name",
        "slug",
        "jurisdiction",
        "description",
        "founded_on",
        "website",
        "source_url",
        "is_illustrative",
        "created_at",
        "updated_at",
    )
    inlines = (CoalitionMembershipInline,)


@admin.register(CouncilMembership)
class CouncilMembershipAdmin(JurisdictionScopedAdmin):
    """Chairs manage their councils; any council member may see who sits on them."""

    list_display = ("user", "jurisdiction", "role", "public_name", "created_at")
    list_filter = ("role",)
    list_select_related = ("user", "jurisdiction")
    search_fields = ("user__username", "public_name", "jurisdiction__name")
    autocomplete_fields = ("jurisdiction",)
    # The user admin answers to auth.Permission, which chairs lack, so a user
    # is picked by id rather than through its autocomplete.
    raw_id_fields = ("user",)
    readonly_fields = ("created_at",)
    fields = ("user", "jurisdiction", "role", "public_name", "created_at")

    def can_act(self, user: permissions.AnyUser, obj: models.Model) -> bool:
        jurisdiction = permissions.jurisdiction_of(obj)
        return jurisdiction is not None and permissions.can_manage_council(user, jurisdiction)

    def jurisdiction_choices(self, request: HttpRequest) -> models.QuerySet[Jurisdiction]:
        return permissions.jurisdictions_for(request.user, permissions.MANAGE_ROLES)

    def save_model(
        self, request: HttpRequest, obj: CouncilMembership, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        # The acting chair may have changed their own role.
        permissions.forget_memberships(request.user)

    def delete_model(self, request: HttpRequest, obj: CouncilMembership) -> None:
        super().delete_model(request, obj)
        permissions.forget_memberships(request.user)

    def delete_queryset(
        self, request: HttpRequest, queryset: models.QuerySet[CouncilMembership]
    ) -> None:
        super().delete_queryset(request, queryset)
        permissions.forget_memberships(request.user)


# ------------------------------------------------------------------------------
# API keys
# ------------------------------------------------------------------------------


class ApiKeyCreationForm(forms.ModelForm):
    """The add form: what ``services.api_key_create`` needs, and nothing it makes itself."""

    expires_in_days = forms.IntegerField(
        label=_("expires in (days)"),
        min_value=1,
        required=False,
        help_text=_("Leave empty for a key that does not expire."),
    )

    class Meta:
        model = ApiKey
        fields = ("user", "name", "read_only")

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        user = cleaned.get("user")
        if (
            user is not None
            and not cleaned.get("read_only")
            and not services.may_hold_write_key(user)
        ):
            self.add_error(
                "read_only", _("Only Atlas staff and council members may hold a write key.")
            )
        return cleaned


@admin.register(ApiKey)
class ApiKeyAdmin(AtlasAdmin):
    """
    Staff see every key, a council member their own. The digest is never shown.

    A key is made here or with ``create_api_key``, shown once, and afterwards only
    revoked: nothing about an existing key can be edited or deleted, so its
    history stays whole.
    """

    list_display = (
        "prefix",
        "user",
        "name",
        "read_only",
        "state",
        "created_at",
        "expires_at",
        "last_used_at",
    )
    list_filter = ("read_only",)
    list_select_related = ("user",)
    search_fields = ("prefix", "name", "user__username")
    raw_id_fields = ("user",)
    actions = ("revoke",)
    add_fields = ("user", "name", "read_only", "expires_in_days")
    shown_fields = (
        "user",
        "name",
        "prefix",
        "read_only",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Any]:
        queryset: models.QuerySet[Any] = super().get_queryset(request)
        if permissions.is_atlas_staff(request.user):
            return queryset
        return queryset.filter(user_id=request.user.pk)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def get_fields(self, request: HttpRequest, obj: models.Model | None = None) -> Any:
        return self.add_fields if obj is None else self.shown_fields

    def get_readonly_fields(self, request: HttpRequest, obj: models.Model | None = None) -> Any:
        return () if obj is None else self.shown_fields

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = ApiKeyCreationForm
        return super().get_form(request, obj, change, **kwargs)

    def field_choices(
        self, request: HttpRequest, db_field: models.Field[Any, Any]
    ) -> models.QuerySet[Any] | None:
        if db_field.name == "user" and not permissions.is_atlas_staff(request.user):
            return get_user_model()._default_manager.filter(id=request.user.pk or 0)
        return super().field_choices(request, db_field)

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if db_field.name == "user" and not permissions.is_atlas_staff(request.user):
            # A council member makes keys for themselves alone; the raw-id lookup
            # would lead to the user admin, which is staff's.
            kwargs["widget"] = forms.Select()
            kwargs["initial"] = request.user.pk
            kwargs["empty_label"] = None
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        data = form.cleaned_data
        key, plain = services.api_key_create(
            user=data["user"],
            read_only=data["read_only"],
            expires_in_days=data.get("expires_in_days"),
            name=data.get("name", ""),
            actor=request.user,  # type: ignore[arg-type]
        )
        # The admin goes on to log and redirect to ``obj``, so it becomes the saved key.
        for field in ApiKey._meta.concrete_fields:
            setattr(obj, field.attname, getattr(key, field.attname))
        obj._state.adding = False
        obj._state.db = key._state.db
        # The message travels in the (signed) message cookie to the one browser
        # that asked, and is gone once shown; only the digest is kept.
        messages.warning(
            request,
            format_html(
                "{} <code>{}</code>",
                _("Copy this key now; it will not be shown again:"),
                plain,
            ),
        )

    @admin.display(description=_("state"))
    def state(self, obj: ApiKey) -> str:
        if obj.revoked_at is not None:
            return str(_("revoked"))
        if obj.is_expired(timezone.now()):
            return str(_("expired"))
        return str(_("active"))

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request: HttpRequest, queryset: models.QuerySet[ApiKey]) -> None:
        revoked = 0
        for key in queryset.filter(revoked_at__isnull=True).select_related("user"):
            services.api_key_revoke(key=key, actor=request.user)  # type: ignore[arg-type]
            revoked += 1
        self.message_user(
            request,
            ngettext("Revoked %(count)d key.", "Revoked %(count)d keys.", revoked)
            % {"count": revoked},
            messages.SUCCESS,
        )


# ------------------------------------------------------------------------------
# Delivery ledgers
# ------------------------------------------------------------------------------


class DeliveryLedgerAdmin(AtlasAdmin):
    """
    A delivery ledger, for Atlas staff: each row's state, attempts and last error,
    with counts per state beside the filter (failed ones first to look at).

    Rows are written by the delivery code alone: existing ones are read-only, and
    failed ones can be sent again with the "retry" action.
    """

    list_filter: tuple[str, ...] = ("state",)
    show_facets = admin.ShowFacets.ALWAYS
    actions = ("retry",)
    shown_fields: tuple[str, ...] = ()

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Any]:
        queryset: models.QuerySet[Any] = super().get_queryset(request)
        # Addresses and errors are staff business; council members see an empty list.
        if permissions.is_atlas_staff(request.user):
            return queryset
        return queryset.none()

    # Ledger rows keep no history of their own: Django's admin log stands in for it.
    object_history_template = "admin/object_history.html"

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response: HttpResponse = admin.ModelAdmin.history_view(
            self, request, object_id, extra_context
        )
        return response

    add_fields: tuple[str, ...] = ()

    def get_fields(self, request: HttpRequest, obj: models.Model | None = None) -> Any:
        return self.add_fields if obj is None else self.shown_fields

    def get_readonly_fields(self, request: HttpRequest, obj: models.Model | None = None) -> Any:
        return () if obj is None else self.shown_fields

    @admin.action(description=_("Send the selected failed deliveries again"))
    def retry(self, request: HttpRequest, queryset: models.QuerySet[Any]) -> None:
        from initiatives.delivery import retry_failed

        if not permissions.is_atlas_staff(request.user):
            raise PermissionDenied
        count = retry_failed(queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d failed delivery handed to the workers again.",
                "%(count)d failed deliveries handed to the workers again.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(ReminderDelivery)
class ReminderDeliveryAdmin(DeliveryLedgerAdmin):
    list_display = ("user", "period", "state", "attempts", "last_error", "sent_at", "created_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "user__email", "period")
    raw_id_fields = ("user",)
    add_fields = ("user", "period", "state")
    shown_fields = (
        "user",
        "period",
        "state",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
    )
