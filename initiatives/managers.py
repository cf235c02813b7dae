from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from cities.models import Jurisdiction
    from initiatives.models import Initiative, Plan  # noqa: F401 (named in strings below)


class InitiativeQuerySet(models.QuerySet["Initiative"]):
    def published(self) -> InitiativeQuerySet:
        return self.filter(publication_state="published")

    def in_jurisdiction(
        self, jurisdiction: Jurisdiction, *, include_descendants: bool = False
    ) -> InitiativeQuerySet:
        if include_descendants:
            return self.filter(jurisdiction__path__startswith=jurisdiction.path)
        return self.filter(jurisdiction=jurisdiction)


class PlanQuerySet(models.QuerySet["Plan"]):
    def published(self) -> PlanQuerySet:
        return self.filter(publication_state="published")
