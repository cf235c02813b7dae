"""
sitemap.xml: every public page, in English and French, with hreflang alternates.

Only published initiatives and plans appear; organizations, jurisdictions and
taxonomies are public records.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.sitemaps import Sitemap
from django.db.models import QuerySet
from django.urls import reverse

from cities.models import Jurisdiction
from council.models import Organization
from initiatives.models import FocusArea, Initiative, Plan, Sector


class AtlasSitemap(Sitemap):
    """Every address in each language, each listing its translations and the default."""

    i18n = True
    alternates = True
    x_default = True


class HomeSitemap(AtlasSitemap):
    changefreq = "daily"
    priority = 1.0

    def items(self) -> list[str]:
        return ["cities:home"]

    def location(self, item: str) -> str:
        return reverse(item)


class JurisdictionSitemap(AtlasSitemap):
    changefreq = "weekly"

    def items(self) -> QuerySet[Jurisdiction]:
        return Jurisdiction.objects.only("slug", "updated_at").order_by("pk")

    def lastmod(self, item: Jurisdiction) -> datetime.datetime:
        return item.updated_at


class InitiativeSitemap(AtlasSitemap):
    changefreq = "weekly"

    def items(self) -> QuerySet[Initiative]:
        return Initiative.objects.published().only("slug", "updated_at").order_by("pk")

    def lastmod(self, item: Initiative) -> datetime.datetime:
        return item.updated_at


class PlanSitemap(AtlasSitemap):
    def items(self) -> QuerySet[Plan]:
        return Plan.objects.published().only("slug", "updated_at").order_by("pk")

    def lastmod(self, item: Plan) -> datetime.datetime:
        return item.updated_at


class OrganizationSitemap(AtlasSitemap):
    def items(self) -> QuerySet[Organization]:
        return Organization.objects.only("slug", "updated_at").order_by("pk")

    def lastmod(self, item: Organization) -> datetime.datetime:
        return item.updated_at


class FocusAreaSitemap(AtlasSitemap):
    def items(self) -> QuerySet[FocusArea]:
        return FocusArea.objects.only("slug").order_by("pk")


class SectorSitemap(AtlasSitemap):
    def items(self) -> QuerySet[Sector]:
        return Sector.objects.only("slug").order_by("pk")


SITEMAPS: dict[str, Any] = {
    "home": HomeSitemap,
    "jurisdictions": JurisdictionSitemap,
    "initiatives": InitiativeSitemap,
    "plans": PlanSitemap,
    "organizations": OrganizationSitemap,
    "focus-areas": FocusAreaSitemap,
    "sectors": SectorSitemap,
}
