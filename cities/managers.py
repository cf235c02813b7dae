from __future__ import annotations

from collections.abc import Iterable
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from cities.models import Jurisdiction


class JurisdictionQuerySet(models.QuerySet["Jurisdiction"]):
    """Tree lookups over the materialised path: each costs one query, whatever the depth."""

    def descendants_of(
        self, jurisdiction: Jurisdiction, *, include_self: bool = False
    ) -> JurisdictionQuerySet:
        qs = self.filter(path__startswith=jurisdiction.path)
        return qs if include_self else qs.exclude(pk=jurisdiction.pk)

    def ancestors_of(
        self, jurisdiction: Jurisdiction, *, include_self: bool = False
    ) -> JurisdictionQuerySet:
        ids = list(jurisdiction.ancestor_ids)
        if include_self:
            ids.append(jurisdiction.pk)
        return self.filter(pk__in=ids).order_by("depth")

    def within(self, roots: Iterable[Jurisdiction]) -> JurisdictionQuerySet:
        """The given jurisdictions and everything below them."""
        conditions = [models.Q(path__startswith=root.path) for root in roots]
        if not conditions:
            return self.none()
        return self.filter(reduce(or_, conditions))

    def roots(self) -> JurisdictionQuerySet:
        return self.filter(parent__isnull=True)
