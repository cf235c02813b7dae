"""
What every resource viewset under /api/v1/ shares.

- ``?fields=a,b`` keeps only those top-level fields of each item and
  ``?expand=x,y`` replaces a compact reference with the nested object (or adds
  a nested list). Unknown names in either are refused with a 400 that lists
  the allowed ones. Expanded names are always kept, whatever ``fields`` says.
- Querysets come from selectors; for unsafe methods they are narrowed to the
  jurisdictions the user may edit, so another jurisdiction's object is simply
  not found.
- One permission class asks council.permissions, the same predicates the site
  and the admin use.
- Writes go through services; Django's ValidationError and PermissionDenied
  become 400 and 403 problems in the API's exception handler, and a
  ProtectedError becomes a 409.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, cast

from django import forms
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import MethodNotAllowed, NotFound, ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from cities.models import Jurisdiction
from config.api.conditional import ConditionalResponseMixin
from config.api.exceptions import Archived
from council import permissions
from initiatives.models import PublicationState

if TYPE_CHECKING:
    _SerializerBase = serializers.ModelSerializer[Any]
else:
    _SerializerBase = object


# ------------------------------------------------------------------------------
# Serializers: ?fields= and ?expand=
# ------------------------------------------------------------------------------


class StrictStringMixin:
    """
    Takes only JSON strings: DRF's text fields would also turn ``0`` or ``1.5`` into
    text, accepting what the schema calls the wrong type.
    """

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid")  # type: ignore[attr-defined]
        return super().to_internal_value(data)  # type: ignore[misc]


class SlugUnchanged:
    """Refuses, as a conflict with the stored record, a slug other than its own."""

    def __init__(self, current: str | None) -> None:
        self.current = current

    def __call__(self, value: str) -> None:
        if value != self.current:
            raise ValidationError(
                _("A slug is fixed once the record exists; this one is %(slug)s.")
                % {"slug": self.current},
                code="slug_fixed",
            )


class StrictBooleanField(serializers.BooleanField):
    """Takes only JSON true and false: DRF's own also takes 0, 1, "yes" and "off"."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    """Takes only JSON numbers that are whole: not "12", and not true (which Python counts as 1)."""

    def to_internal_value(self, data: Any) -> int:
        whole = isinstance(data, int) or (isinstance(data, float) and data.is_integer())
        if isinstance(data, bool) or not whole:
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    """Takes only JSON numbers: not "1.5", and not false (which Python counts as 0)."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(StrictStringMixin, serializers.CharField):
    pass


class StrictSlugField(StrictStringMixin, serializers.SlugField):
    pass


# A web address as the API takes it: http(s), a dotted host name ending in a
# letter-only top-level domain, an optional port, then a path, query and
# fragment made only of what RFC 3986 allows there, anything else
# percent-encoded. Stricter than Django's URLValidator alone (which lets control
# characters and brackets through after the host); published in the schema as
# the pattern of every URL field.
_URL_CHAR = "(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})"
WEB_URL_PATTERN = (
    "^https?://(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,63}"
    f"(?::[0-9]{{1,5}})?(?:/(?:{_URL_CHAR}|/)*)?"
    f"(?:\\?(?:{_URL_CHAR}|[/?])*)?(?:#(?:{_URL_CHAR}|[/?])*)?$"
)


class StrictURLField(StrictStringMixin, serializers.URLField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(
            RegexValidator(
                WEB_URL_PATTERN,
                message=_(
                    "Enter a web address starting with http:// or https://, with "
                    "characters outside ASCII percent-encoded."
                ),
                code="invalid",
            )
        )


class StrictEmailField(StrictStringMixin, serializers.EmailField):
    pass


class StrictDecimalField(StrictStringMixin, serializers.DecimalField):
    """Decimals travel as strings both ways, so no binary float ever rounds them."""


class StrictDecimalFieldExtension(OpenApiSerializerFieldExtension):
    """Documents StrictDecimalField as exactly the strings it takes: digits, places and sign."""

    target_class = "config.api.viewsets.StrictDecimalField"

    def map_serializer_field(self, auto_schema: AutoSchema, direction: Any) -> dict[str, Any]:
        field = self.target
        places = field.decimal_places
        whole = field.max_digits - places
        sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
        number = (
            f"(?:[0-9]{{1,{whole}}}(?:\\.[0-9]{{0,{places}}})?|\\.[0-9]{{1,{places}}})"
            if places
            else f"[0-9]{{1,{whole}}}"
        )
        schema = {"type": "string", "format": "decimal", "pattern": f"^{sign}{number}$"}
        return {**schema, "nullable": True} if field.allow_null else schema


class StrictSlugRelatedField[T: models.Model](serializers.SlugRelatedField[T]):
    """A record named by its slug, which must be a string (``0`` is not the slug "0")."""

    def to_internal_value(self, data: Any) -> T:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class RejectUnknownFieldsMixin(_SerializerBase):
    """
    A body naming a field the record does not have is refused, so that a typo
    ("titel") is not silently dropped. Read-only fields, and the model's own
    fields the API never writes (``created_by``, ``path``...), stay accepted and
    ignored: a client may send back what it read, and mass assignment still
    changes nothing.
    """

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            model = getattr(getattr(self, "Meta", None), "model", None)
            known = set(self.fields)
            if model is not None:
                known |= {field.name for field in model._meta.get_fields()}
                known |= {field.attname for field in model._meta.concrete_fields}
            unknown = sorted(str(name) for name in data if name not in known)
            if unknown:
                raise ValidationError(
                    {name: [_("Unknown field.")] for name in unknown}, code="unknown_field"
                )
        return super().to_internal_value(data)


class FlexFieldsMixin(RejectUnknownFieldsMixin):
    """
    A serializer whose items can be trimmed (``fields``) and expanded (``expand``).

    ``expandable_fields`` maps an expansion name to a factory for the field that
    renders it; the factory's field reads the attribute of the same name
    unless it sets ``source``. Expansion only changes the output, so a field
    written by slug keeps being written by slug. The viewset loads what each
    expansion needs, so expanding costs no query per item.
    """

    expandable_fields: ClassVar[
        Mapping[str, Callable[[], serializers.Field[Any, Any, Any, Any]]]
    ] = {}
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.SlugField: StrictSlugField,
        models.URLField: StrictURLField,
        models.EmailField: StrictEmailField,
        models.DecimalField: StrictDecimalField,
        models.BooleanField: StrictBooleanField,
        models.IntegerField: StrictIntegerField,
        models.BigIntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField,
        models.PositiveBigIntegerField: StrictIntegerField,
        models.PositiveSmallIntegerField: StrictIntegerField,
        models.SmallIntegerField: StrictIntegerField,
        models.FloatField: StrictFloatField,
    }

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        # A slug is chosen at creation and fixed afterwards: it is the record's
        # address on the site, in feeds and in others' citations, and what other
        # records are written against. A change may resend it, not replace it.
        instance = getattr(self, "instance", None)
        if isinstance(instance, models.Model) and "slug" in fields:
            fields["slug"].validators.append(SlugUnchanged(getattr(instance, "slug", None)))
        return fields

    def __init__(
        self,
        *args: Any,
        fields: Collection[str] | None = None,
        expand: Collection[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._selected = frozenset(fields) if fields is not None else None
        self._expanded: dict[str, serializers.Field[Any, Any, Any, Any]] = {}
        for name in expand:
            field = self.expandable_fields[name]()
            field.bind(field_name=name, parent=self)
            self._expanded[name] = field

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        for name, field in self._expanded.items():
            attribute = field.get_attribute(instance)
            data[name] = None if attribute is None else field.to_representation(attribute)
        if self._selected is not None:
            keep = self._selected | self._expanded.keys()
            data = {name: value for name, value in data.items() if name in keep}
        return data


@extend_schema_field(OpenApiTypes.URI)
class WebUrlField(serializers.Field[str, Any, str, Any]):
    """The record's page on the public site, as an absolute URL."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("source", "*")
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str:
        request: Request | None = self.context.get("request")
        path = value.get_absolute_url()
        return request.build_absolute_uri(path) if request is not None else path


class JurisdictionRefField(StrictSlugRelatedField[Jurisdiction]):
    """
    Written as a jurisdiction's slug, read as ``{"slug", "name", "ocd_id"}``.

    The compact object lets a client label and match a record without a second
    request; ``?expand=jurisdiction`` gives the whole jurisdiction.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("slug_field", "slug")
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", Jurisdiction.objects.all())
        super().__init__(**kwargs)

    def to_representation(self, obj: Jurisdiction) -> dict[str, Any]:  # type: ignore[override]
        return {"slug": obj.slug, "name": obj.name, "ocd_id": obj.ocd_id}


COMPACT_JURISDICTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The jurisdiction in brief; ?expand=jurisdiction gives all of it.",
    "properties": {
        "slug": {"type": "string"},
        "name": {"type": "string"},
        "ocd_id": {"type": "string"},
    },
    "required": ["slug", "name", "ocd_id"],
}


class JurisdictionRefFieldExtension(OpenApiSerializerFieldExtension):
    """Documents JurisdictionRefField: a slug in requests, a compact object in responses."""

    target_class = "config.api.viewsets.JurisdictionRefField"

    def map_serializer_field(self, auto_schema: AutoSchema, direction: Any) -> dict[str, Any]:
        nullable = {"nullable": True} if self.target.allow_null else {}
        if direction == "request":
            return {"type": "string", "description": "A jurisdiction's slug.", **nullable}
        return {**COMPACT_JURISDICTION_SCHEMA, **nullable}


def check_jurisdiction_in_scope(
    serializer: serializers.Serializer[Any],
    value: Jurisdiction | None,
    *,
    current: Jurisdiction | None = None,
    allow_empty_for_staff: bool = False,
) -> Jurisdiction | None:
    """
    Refuse, as a field error, a jurisdiction the writer may not place records in.

    ``current`` is the value stored now: keeping it is always allowed, so an
    editor of Chicago may resend Chicago's parent, Illinois, unchanged.
    """
    request: Request | None = serializer.context.get("request")
    user = request.user if request is not None else None
    if value is not None and current is not None and value.pk == current.pk:
        return value
    if value is None:
        if allow_empty_for_staff and permissions.is_atlas_staff(user):
            return value
        if current is None and serializer.instance is not None:
            return value
        raise serializers.ValidationError(
            _("Only staff may leave this empty."), code="out_of_scope"
        )
    if not permissions.can_edit(user, value):
        raise serializers.ValidationError(
            _("You may not place records in this jurisdiction."), code="out_of_scope"
        )
    return value


# ------------------------------------------------------------------------------
# Permissions
# ------------------------------------------------------------------------------


class CouncilPermission(BasePermission):
    """
    Anyone reads; writers must be signed in and edit somewhere; each object asks can_edit.

    Unsafe requests from users who edit nowhere (reviewers, outsiders) are
    refused with 403 before any lookup. For creation, the viewset checks the
    unsaved object, which sits in the jurisdiction the payload names.
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in SAFE_METHODS:
            return True
        user = request.user
        if not user or not user.is_authenticated:
            return False
        return permissions.is_atlas_staff(user) or any(
            permissions.can_edit(user, membership.jurisdiction)
            for membership in permissions.memberships(user)
        )

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return permissions.can_edit(request.user, obj)


# ------------------------------------------------------------------------------
# Viewsets
# ------------------------------------------------------------------------------


class AtlasAutoSchema(AutoSchema):
    """Documents ``?fields=`` and ``?expand=`` on every operation that returns a record."""

    def _map_basic_serializer(self, serializer: Any, direction: Any) -> dict[str, Any]:
        """
        Describe what ``?fields=`` and ``?expand=`` really return.

        Any field may be trimmed away, so a response names none as required;
        an expandable field is either its compact form or the expanded object,
        and an expansion that adds a field (``milestones``) is documented as an
        optional property.
        """
        schema: dict[str, Any] = super()._map_basic_serializer(serializer, direction)
        if direction != "response" or not isinstance(serializer, FlexFieldsMixin):
            return schema
        schema.pop("required", None)
        properties = schema.setdefault("properties", {})
        for name, factory in serializer.expandable_fields.items():
            field = factory()
            field.bind(field_name=name, parent=cast(serializers.Serializer[Any], serializer))
            expanded = self._map_serializer_field(field, direction)
            compact = properties.get(name)
            properties[name] = expanded if compact is None else {"anyOf": [compact, expanded]}
        return schema

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self.method == "DELETE":
            return parameters
        get_class = getattr(self.view, "get_serializer_class", None)
        serializer_class = get_class() if get_class is not None else None
        if not (
            isinstance(serializer_class, type) and issubclass(serializer_class, FlexFieldsMixin)
        ):
            return parameters
        serializer = serializer_class()
        selectable = sorted({*serializer.fields, *serializer_class.expandable_fields})
        parameters.append(
            OpenApiParameter(
                "fields",
                _name_list_schema(selectable),
                style="form",
                explode=False,
                description=(
                    "Comma-separated top-level fields to keep in each item; "
                    "an unknown name is a 400."
                ),
            )
        )
        expandable = sorted(serializer_class.expandable_fields)
        if expandable:
            parameters.append(
                OpenApiParameter(
                    "expand",
                    _name_list_schema(expandable),
                    style="form",
                    explode=False,
                    description=(
                        "Comma-separated expansions, from: "
                        + ", ".join(expandable)
                        + ". An unknown name is a 400."
                    ),
                )
            )
        return parameters


def _name_list_schema(names: list[str]) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string", "enum": names}}


def _names(request: Request, param: str) -> list[str] | None:
    """
    Comma-separated (or repeated) names from a query parameter; None when absent or empty.

    Names are taken exactly as sent, as the schema lists them: ``?fields=slug, title``
    or ``?fields=slug,`` names an unknown field (" title", "") and is refused.
    """
    raw = [value for value in request.query_params.getlist(param) if value != ""]
    names = [part for value in raw for part in value.split(",")]
    return names or None


class AtlasFilterBackend(DjangoFilterBackend):
    """
    django-filter's backend, with one refinement: a filter naming a record that is not
    there (``?jurisdiction=atlantis``) is a 404, like the same name in a path.

    The value is well formed, as the schema describes it; only the record is missing,
    which no schema can tell in advance. Malformed values of any filter, and unknown
    choices of a fixed list (``?status=done``), stay a 400.
    """

    def filter_queryset(self, request: Any, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            form = filterset.form
            problems = form.errors.as_data()
            if problems and all(
                isinstance(form.fields.get(name), forms.ModelChoiceField)
                and all(error.code == "invalid_choice" for error in errors)
                for name, errors in problems.items()
            ):
                raise NotFound(
                    " ".join(
                        f"{name}: {message}"
                        for name, messages in form.errors.items()
                        for message in messages
                    )
                )
            raise ValidationError(filterset.errors)
        return filterset.qs


class AtlasOrderingFilter(OrderingFilter):
    """
    DRF's ordering, refusing what it would silently drop: ``?ordering=colour`` is a
    400 naming the fields one may order by, so that a typo never passes for the
    default order. The schema gives the same grammar as a pattern.
    """

    def get_ordering(self, request: Any, queryset: QuerySet[Any], view: Any) -> Any:
        raw = request.query_params.get(self.ordering_param, "")
        if raw:
            allowed = self._allowed(queryset, view, request)
            unknown = [term for term in raw.split(",") if term.strip().lstrip("-") not in allowed]
            if unknown:
                raise ValidationError(
                    {
                        self.ordering_param: [
                            _("Unknown ordering: %(unknown)s. Choose from: %(allowed)s.")
                            % {
                                "unknown": ", ".join(unknown),
                                "allowed": ", ".join(sorted(allowed)),
                            }
                        ]
                    },
                    code="invalid",
                )
        return super().get_ordering(request, queryset, view)

    def _allowed(self, queryset: QuerySet[Any], view: Any, request: Any) -> set[str]:
        return {
            name for name, _label in self.get_valid_fields(queryset, view, {"request": request})
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        names = sorted(name for name in getattr(view, "ordering_fields", None) or ())
        if not names:
            return []
        term = "-?(" + "|".join(re.escape(name) for name in names) + ")"
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": (
                    "Comma-separated fields to order by, each optionally preceded by '-' "
                    "for descending order, from: " + ", ".join(names) + "."
                ),
                "schema": {"type": "string", "pattern": f"^({term}(,{term})*)?$"},
            }
        ]


class AlreadyArchived(Exception):
    """A DELETE reached a record already archived: nothing left to do."""


class AtlasViewSet(ConditionalResponseMixin, GenericViewSet[Any], ABC):
    """
    The base of every resource viewset.

    Subclasses set ``serializer_class``, ``filterset_class``, ``ordering`` (ending
    in a unique field, for stable cursors) and ``ordering_fields``, and implement
    ``base_queryset()`` from a selector. ``jurisdiction_path`` names the field
    that puts a record in a jurisdiction, for scoping writes; ``expand_queryset``
    loads what the requested expansions need.
    """

    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    filter_backends = [AtlasFilterBackend, AtlasOrderingFilter]
    permission_classes = [CouncilPermission]
    schema = AtlasAutoSchema()
    jurisdiction_path: str = "jurisdiction"

    @abstractmethod
    def base_queryset(self) -> QuerySet[Any]:
        """Each resource says how; the base class holds what they share."""

    def expand_queryset(self, queryset: QuerySet[Any], expand: Collection[str]) -> QuerySet[Any]:
        return queryset

    # ---------------------------------------------------------------- fields and expand

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # Refused before any query, so a typo costs nothing.
        _ = self.requested_expand, self.requested_fields

    @cached_property
    def requested_expand(self) -> tuple[str, ...]:
        names = _names(self.request, "expand") if getattr(self, "request", None) else None
        if not names:
            return ()
        allowed = self._serializer_expandable()
        unknown = [name for name in names if name not in allowed]
        if unknown:
            raise ValidationError(
                {
                    "expand": [
                        _("Unknown expansion: %(unknown)s. Choose from: %(allowed)s.")
                        % {"unknown": ", ".join(unknown), "allowed": ", ".join(sorted(allowed))}
                    ]
                },
                code="invalid",
            )
        return tuple(dict.fromkeys(names))

    @cached_property
    def requested_fields(self) -> frozenset[str] | None:
        names = _names(self.request, "fields") if getattr(self, "request", None) else None
        if not names:
            return None
        serializer = cast(
            serializers.Serializer[Any],
            self.get_serializer_class()(context=self.get_serializer_context()),
        )
        allowed = set(serializer.fields) | set(self._serializer_expandable())
        unknown = [name for name in names if name not in allowed]
        if unknown:
            raise ValidationError(
                {
                    "fields": [
                        _("Unknown field: %(unknown)s. Choose from: %(allowed)s.")
                        % {"unknown": ", ".join(unknown), "allowed": ", ".join(sorted(allowed))}
                    ]
                },
                code="invalid",
            )
        return frozenset(names)

    def _serializer_expandable(self) -> Collection[str]:
        return getattr(self.get_serializer_class(), "expandable_fields", {}).keys()

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        if issubclass(self.get_serializer_class(), FlexFieldsMixin):
            kwargs.setdefault("fields", self.requested_fields)
            kwargs.setdefault("expand", self.requested_expand)
        return super().get_serializer(*args, **kwargs)

    # ---------------------------------------------------------------- querysets

    def get_queryset(self) -> QuerySet[Any]:
        queryset = self.expand_queryset(self.base_queryset(), self.requested_expand)
        if self.request.method not in SAFE_METHODS:
            queryset = self.scope_for_writes(queryset)
        return queryset

    def get_object(self) -> Any:
        """
        The addressed record; an archived one is not found (404) for every method
        but a repeated DELETE, which succeeds again without writing anything.
        Lists keep archived rows, visible to their council, so that an
        incremental sync learns of the deletion.
        """
        instance = super().get_object()
        if getattr(instance, "publication_state", None) == PublicationState.ARCHIVED:
            if self.request.method == "DELETE":
                raise AlreadyArchived
            raise Archived
        return instance

    def scope_for_writes(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """What the user may change: another jurisdiction's object is simply not found."""
        user = self.request.user
        if permissions.is_atlas_staff(user):
            return queryset
        return permissions.scope_to_jurisdictions(
            queryset, permissions.editable_jurisdictions(user), field=self.jurisdiction_path
        )

    # ---------------------------------------------------------------- writes

    @property
    def actor(self) -> AbstractBaseUser:
        return cast(AbstractBaseUser, self.request.user)

    def check_create_permission(self, unsaved: models.Model) -> None:
        """Ask the permission class about the record about to be created, where it will sit."""
        self.check_object_permissions(self.request, unsaved)

    def respond(self, instance: models.Model, *, status_code: int = 200) -> Response:
        """The stored record, read back through the selector so it renders like a GET."""
        fresh = self.expand_queryset(self.base_queryset(), self.requested_expand).get(
            pk=instance.pk
        )
        return Response(self.get_serializer(fresh).data, status=status_code)


class AtlasReadOnlyViewSet(AtlasViewSet):
    """List and retrieve."""

    def represent(self, records: Any, *, many: bool) -> Any:
        """What a read answers for ``records``: the serializer's output, unless a resource says."""
        return self.get_serializer(records, many=many).data

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        if page is None:
            return Response(self.represent(queryset, many=True))
        return self.get_paginated_response(self.represent(page, many=True))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self.represent(self.get_object(), many=False))


class AtlasModelViewSet(AtlasReadOnlyViewSet):
    """
    List, retrieve, create, update, partial update and delete, each write through a service.

    Subclasses implement ``creation_target`` (an unsaved record placed where the
    new one will sit, for the permission check), ``create_record``,
    ``update_record`` and ``destroy_record``. The serializer validates the
    payload (read-only fields are ignored), the service validates the record.
    """

    @abstractmethod
    def creation_target(self, data: dict[str, Any]) -> models.Model:
        """Each resource says how; the base class holds what they share."""

    @abstractmethod
    def create_record(self, data: dict[str, Any]) -> models.Model:
        """Each resource says how; the base class holds what they share."""

    @abstractmethod
    def update_record(self, instance: Any, data: dict[str, Any]) -> models.Model:
        """Each resource says how; the base class holds what they share."""

    def destroy_record(self, instance: Any) -> None:
        """Resources that can be removed or archived say how; the rest refuse DELETE."""
        raise MethodNotAllowed("DELETE")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.check_create_permission(self.creation_target(dict(serializer.validated_data)))
        instance = self.create_record(dict(serializer.validated_data))
        return self.respond(instance, status_code=201)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        serializer = self.get_serializer(
            instance, data=request.data, partial=kwargs.pop("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        return self.respond(self.update_record(instance, dict(serializer.validated_data)))

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            instance = self.get_object()
        except AlreadyArchived:
            return Response(status=204)
        self.destroy_record(instance)
        return Response(status=204)
