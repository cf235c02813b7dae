"""
Resource endpoints under /api/v1/.

Route names are the DRF router's, without a namespace: ``initiative-list``,
``initiative-detail``, ``jurisdiction-detail`` and so on, one basename per resource.
"""

from django.urls import URLPattern, URLResolver
from rest_framework.routers import DefaultRouter

from cities.api.views import JurisdictionViewSet
from council.api.views import CoalitionViewSet, OrganizationViewSet
from initiatives.api.views import (
    FocusAreaViewSet,
    IndicatorViewSet,
    InitiativeViewSet,
    MilestoneViewSet,
    PlanViewSet,
    SectorViewSet,
)

router = DefaultRouter()
router.register("jurisdictions", JurisdictionViewSet, basename="jurisdiction")
router.register("initiatives", InitiativeViewSet, basename="initiative")
router.register("plans", PlanViewSet, basename="plan")
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("coalitions", CoalitionViewSet, basename="coalition")
router.register("focus-areas", FocusAreaViewSet, basename="focus-area")
router.register("sectors", SectorViewSet, basename="sector")
router.register("milestones", MilestoneViewSet, basename="milestone")
router.register("indicators", IndicatorViewSet, basename="indicator")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]
