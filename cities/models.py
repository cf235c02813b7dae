from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models.functions import Concat, Substr
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cities.managers import JurisdictionQuerySet
from cities.validators import (
    validate_boundary,
    validate_iso_3166,
    validate_ocd_division_id,
    validate_time_zone,
    validate_wikidata_qid,
)

PATH_SEPARATOR = "/"


class Jurisdiction(models.Model):
    """
    A country, state, region, metro area, county or place, in one tree.

    ``path`` materialises the chain of ancestor ids ("12/345/6789/"), so that
    ancestors and descendants each cost a single query at any depth.
    """

    class Kind(models.TextChoices):
        COUNTRY = "country", _("Country")
        STATE = "state", _("State or province")
        REGION = "region", _("Region")
        METRO = "metro", _("Metro area")
        COUNTY = "county", _("County or department")
        PLACE = "place", _("City or place")
        DISTRICT = "district", _("District")

    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=120, unique=True, allow_unicode=False)
    ocd_id = models.CharField(
        _("OCD division id"),
        max_length=255,
        unique=True,
        validators=[validate_ocd_division_id],
        help_text=_("For example ocd-division/country:us/state:il/place:chicago."),
    )
    ocd_id_minted = models.BooleanField(
        _("minted OCD id"),
        default=False,
        help_text=_("Set when Open Civic Data has no such division and the Atlas minted the id."),
    )
    iso_code = models.CharField(
        _("ISO 3166 code"), max_length=10, blank=True, validators=[validate_iso_3166]
    )
    geonames_id = models.PositiveIntegerField(_("GeoNames id"), null=True, blank=True)
    wikidata_qid = models.CharField(
        _("Wikidata QID"), max_length=20, blank=True, validators=[validate_wikidata_qid]
    )
    population = models.PositiveBigIntegerField(_("population"), null=True, blank=True)
    latitude = models.FloatField(
        _("latitude"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.FloatField(
        _("longitude"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    boundary = models.JSONField(
        _("boundary"),
        null=True,
        blank=True,
        validators=[validate_boundary],
        help_text=_("A GeoJSON Polygon or MultiPolygon geometry."),
    )
    website = models.URLField(_("website"), blank=True)
    description = models.TextField(_("description"), blank=True, help_text=_("Markdown."))
    time_zone = models.CharField(
        _("time zone"), max_length=64, blank=True, validators=[validate_time_zone]
    )
    source_url = models.URLField(_("source"), blank=True)
    is_illustrative = models.BooleanField(
        _("illustrative"),
        default=False,
        help_text=_("Set on example records that do not describe real facts."),
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(editable=False, default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    objects = JurisdictionQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["path", "depth"])

    class Meta:
        verbose_name = _("jurisdiction")
        verbose_name_plural = _("jurisdictions")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True, longitude__isnull=True)
                | models.Q(
                    latitude__gte=-90,
                    latitude__lte=90,
                    longitude__gte=-180,
                    longitude__lte=180,
                ),
                name="jurisdiction_coordinates_valid",
                violation_error_code="invalid_coordinates",
                violation_error_message=_("Give both latitude and longitude, within range."),
            ),
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("pk")),
                name="jurisdiction_not_own_parent",
                violation_error_code="own_parent",
            ),
            models.CheckConstraint(
                condition=models.Q(ocd_id__startswith="ocd-division/"),
                name="jurisdiction_ocd_id_prefix",
                violation_error_code="invalid_ocd_id",
            ),
        ]
        indexes = [
            # Peers are named in alphabetical order among the thousands of places.
            models.Index(fields=["kind", "name"], name="jurisdiction_kind_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        old_path = self.path
        with transaction.atomic():
            super().save(*args, **kwargs)
            new_path = self._compute_path()
            if new_path != old_path:
                self._move_to(new_path, old_path)
            if self.__dict__.pop("_coverage_moved", False):
                # A move or a new kind reshapes the coverage summary's roll-ups
                # (set by the summary's pre_save receiver).
                from cities.coverage import schedule_rebuild

                schedule_rebuild(using=self._state.db or "default")

    def get_absolute_url(self) -> str:
        return reverse("cities:jurisdiction-detail", kwargs={"slug": self.slug})

    def clean(self) -> None:
        super().clean()
        if self.parent_id is not None and self.pk is not None:
            parent = self.parent
            if parent is not None and (parent.pk == self.pk or self.pk in parent.ancestor_ids):
                raise ValidationError(
                    {"parent": _("A jurisdiction cannot sit inside itself or its descendants.")},
                    code="cycle",
                )
        if (self.latitude is None) != (self.longitude is None):
            raise ValidationError(
                _("Give both latitude and longitude, or neither."), code="invalid_coordinates"
            )

    # ---------------------------------------------------------------- tree

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to the parent, read from the path without a query."""
        return [int(part) for part in self.path.split(PATH_SEPARATOR) if part][:-1]

    def ancestors(self, *, include_self: bool = False) -> JurisdictionQuerySet:
        return Jurisdiction.objects.ancestors_of(self, include_self=include_self)

    def descendants(self, *, include_self: bool = False) -> JurisdictionQuerySet:
        return Jurisdiction.objects.descendants_of(self, include_self=include_self)

    def is_within(self, other: Jurisdiction) -> bool:
        """True when this jurisdiction is ``other`` or lies below it."""
        return self.path.startswith(other.path)

    def _compute_path(self) -> str:
        parent_path = self.parent.path if self.parent_id and self.parent else ""
        return f"{parent_path}{self.pk}{PATH_SEPARATOR}"

    def _move_to(self, new_path: str, old_path: str) -> None:
        """Rewrite this node's path and, when it moved, its whole subtree's in one statement."""
        new_depth = new_path.count(PATH_SEPARATOR) - 1
        Jurisdiction.objects.filter(pk=self.pk).update(path=new_path, depth=new_depth)
        if old_path:
            Jurisdiction.objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
                path=Concat(models.Value(new_path), Substr("path", len(old_path) + 1)),
                depth=models.F("depth") + (new_depth - (old_path.count(PATH_SEPARATOR) - 1)),
            )
        self.path = new_path
        self.depth = new_depth


# ------------------------------------------------------------------------------
# Public coverage summary (maintained by cities.coverage)
# ------------------------------------------------------------------------------


class Coverage(models.Model):
    """
    Published initiatives of one jurisdiction in one focus area (no focus area: in all).

    ``own`` counts the jurisdiction's own initiatives, ``subtree`` those of the
    jurisdiction and every place within it. A row exists only while one of them is
    non-zero. Public figures (peers, the home page) read this table instead of
    counting the catalogue; cities.coverage keeps it exact.
    """

    jurisdiction = models.ForeignKey(
        Jurisdiction,
        on_delete=models.CASCADE,
        related_name="coverage",
        verbose_name=_("jurisdiction"),
    )
    focus_area = models.ForeignKey(
        "initiatives.FocusArea",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("focus area"),
    )
    own = models.PositiveIntegerField(_("own initiatives"), default=0)
    subtree = models.PositiveIntegerField(_("initiatives within"), default=0)

    class Meta:
        verbose_name = _("coverage")
        verbose_name_plural = _("coverage")
        constraints = [
            models.UniqueConstraint(
                fields=["jurisdiction", "focus_area"],
                condition=models.Q(focus_area__isnull=False),
                name="coverage_unique_area",
            ),
            models.UniqueConstraint(
                fields=["jurisdiction"],
                condition=models.Q(focus_area__isnull=True),
                name="coverage_unique_total",
            ),
        ]
        indexes = [
            # The home page lists the busiest jurisdictions first.
            models.Index(
                models.F("own").desc(),
                condition=models.Q(focus_area__isnull=True, own__gt=0),
                name="coverage_busiest",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.jurisdiction_id}/{self.focus_area_id}: {self.own}/{self.subtree}"

    def get_absolute_url(self) -> str:
        return reverse("cities:jurisdiction-detail", kwargs={"slug": self.jurisdiction.slug})


class CoverageSpread(models.Model):
    """
    How many jurisdictions of a kind have exactly ``initiatives`` published
    initiatives in a focus area (no focus area: in all), counting their own
    (``own``) or their whole subtree's (``subtree``).

    A few hundred rows summarise tens of thousands of places: a peer median or a
    home page total is read from here without visiting each place. Zero counts
    have no row; they are what is left of the kind's total.
    """

    class Scope(models.TextChoices):
        OWN = "own", _("Own initiatives")
        SUBTREE = "subtree", _("Initiatives within")

    scope = models.CharField(_("scope"), max_length=8, choices=Scope.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=Jurisdiction.Kind.choices)
    focus_area = models.ForeignKey(
        "initiatives.FocusArea",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("focus area"),
    )
    initiatives = models.PositiveIntegerField(_("initiatives"))
    jurisdictions = models.PositiveIntegerField(_("jurisdictions"))

    class Meta:
        verbose_name = _("coverage spread")
        verbose_name_plural = _("coverage spreads")
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "kind", "focus_area", "initiatives"],
                condition=models.Q(focus_area__isnull=False),
                name="coverage_spread_unique_area",
            ),
            models.UniqueConstraint(
                fields=["scope", "kind", "initiatives"],
                condition=models.Q(focus_area__isnull=True),
                name="coverage_spread_unique_total",
            ),
            models.CheckConstraint(
                condition=models.Q(initiatives__gt=0, jurisdictions__gt=0),
                name="coverage_spread_positive",
            ),
        ]

    def __str__(self) -> str:
        area = self.focus_area_id or "all"
        return f"{self.scope}/{self.kind}/{area}: {self.jurisdictions} with {self.initiatives}"


class AtlasTotal(models.Model):
    """An exact atlas-wide total kept up to date on write, so no page counts a whole table."""

    class Name(models.TextChoices):
        ORGANIZATIONS = "organizations", _("Organizations")

    name = models.CharField(_("name"), max_length=32, choices=Name.choices, unique=True)
    value = models.PositiveBigIntegerField(_("value"), default=0)

    class Meta:
        verbose_name = _("atlas total")
        verbose_name_plural = _("atlas totals")

    def __str__(self) -> str:
        return f"{self.name}: {self.value}"
