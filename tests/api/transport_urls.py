"""
Test-only endpoints for the API's transport: pagination, representations and conditional GET.

They exercise the shared machinery over real models without depending on the
resource endpoints, so the transport tests hold whatever the resources look like.
"""

from typing import Any

from django.db.models import QuerySet
from django.urls import include, path
from django.utils.dateparse import parse_datetime
from rest_framework import serializers, viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from cities.models import Jurisdiction
from config.api.conditional import ConditionalResponseMixin
from initiatives.models import Initiative


class PlaceSerializer(serializers.ModelSerializer[Jurisdiction]):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Jurisdiction
        fields = ("id", "url", "slug", "name", "latitude", "longitude", "updated_at")

    def get_url(self, jurisdiction: Jurisdiction) -> str:
        return self.context["request"].build_absolute_uri(f"/transport/places/{jurisdiction.slug}/")


class ProjectSerializer(serializers.ModelSerializer[Initiative]):
    """Nested objects, scalar lists, object lists and a point: every shape the renderers map."""

    url = serializers.SerializerMethodField()
    jurisdiction = serializers.SerializerMethodField()
    point = serializers.SerializerMethodField()
    focus_areas = serializers.SerializerMethodField()
    milestones = serializers.SerializerMethodField()

    class Meta:
        model = Initiative
        fields = (
            "id",
            "url",
            "slug",
            "title",
            "status",
            "start_date",
            "budget_amount",
            "budget_currency",
            "jurisdiction",
            "point",
            "focus_areas",
            "milestones",
            "updated_at",
        )

    def get_url(self, initiative: Initiative) -> str:
        return self.context["request"].build_absolute_uri(f"/transport/projects/{initiative.slug}/")

    def get_jurisdiction(self, initiative: Initiative) -> dict[str, Any]:
        return {"slug": initiative.jurisdiction.slug, "name": initiative.jurisdiction.name}

    def get_point(self, initiative: Initiative) -> dict[str, float] | None:
        place = initiative.jurisdiction
        if place.latitude is None or place.longitude is None:
            return None
        return {"latitude": place.latitude, "longitude": place.longitude}

    def get_focus_areas(self, initiative: Initiative) -> list[str]:
        return [area.slug for area in initiative.focus_areas.all()]

    def get_milestones(self, initiative: Initiative) -> list[dict[str, str]]:
        return [{"title": milestone.title} for milestone in initiative.milestones.all()]


class ProjectViewSet(ConditionalResponseMixin, viewsets.ReadOnlyModelViewSet[Initiative]):
    serializer_class = ProjectSerializer
    permission_classes = (AllowAny,)
    filter_backends = (OrderingFilter,)
    ordering_fields = ("updated_at", "title", "start_date", "id")
    ordering = ("-updated_at", "-id")
    lookup_field = "slug"
    jsonld_type = "Project"

    def get_queryset(self) -> QuerySet[Initiative]:
        queryset = Initiative.objects.select_related("jurisdiction").prefetch_related(
            "focus_areas", "milestones"
        )
        since = parse_datetime(self.request.query_params.get("updated_since", ""))
        return queryset.filter(updated_at__gte=since) if since else queryset


class PlaceViewSet(ConditionalResponseMixin, viewsets.ReadOnlyModelViewSet[Jurisdiction]):
    """No ordering filter: the paginator falls back to the view's ``ordering``."""

    serializer_class = PlaceSerializer
    permission_classes = (AllowAny,)
    filter_backends = ()
    ordering = ("name",)
    lookup_field = "slug"
    jsonld_type = "AdministrativeArea"
    queryset = Jurisdiction.objects.all()


class EchoView(ConditionalResponseMixin, APIView):
    """Sends back the parsed JSON body, to exercise the parser and unsafe methods."""

    permission_classes = (AllowAny,)
    authentication_classes = ()

    def post(self, request: Request) -> Response:
        return Response(request.data)


router = SimpleRouter()
router.register("projects", ProjectViewSet, basename="transport-project")
router.register("places", PlaceViewSet, basename="transport-place")

urlpatterns = [
    path("transport/", include(router.urls)),
    path("transport/echo/", EchoView.as_view(), name="transport-echo"),
]
