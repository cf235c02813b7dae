from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Organization(models.Model):
    """A university, chamber, foundation, agency or company that carries digital leadership."""

    class Kind(models.TextChoices):
        UNIVERSITY = "university", _("University")
        CHAMBER_OF_COMMERCE = "chamber_of_commerce", _("Chamber of commerce")
        FOUNDATION = "foundation", _("Foundation")
        ECONOMIC_DEVELOPMENT_AGENCY = (
            "economic_development_agency",
            _("Economic-development agency"),
        )
        COMPANY = "company", _("Company")
        STARTUP = "startup", _("Start-up")
        INVESTOR = "investor", _("Investor")
        INCUBATOR = "incubator", _("Incubator")
        NON_PROFIT = "non_profit", _("Non-profit")
        GOVERNMENT_OFFICE = "government_office", _("Government office")
        MEDIA = "media", _("Media")

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices, db_index=True)
    jurisdiction = models.ForeignKey(
        "cities.Jurisdiction",
        verbose_name=_("home jurisdiction"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organizations",
    )
    website = models.URLField(_("website"), blank=True)
    description = models.TextField(_("description"), blank=True, help_text=_("Markdown."))
    source_url = models.URLField(_("source"), blank=True)
    is_illustrative = models.BooleanField(_("illustrative"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("council:organization-detail", kwargs={"slug": self.slug})


class Coalition(models.Model):
    """A jurisdiction's coalition, such as a Council for Digital Era Leadership."""

    jurisdiction = models.ForeignKey(
        "cities.Jurisdiction",
        verbose_name=_("jurisdiction"),
        on_delete=models.PROTECT,
        related_name="coalitions",
    )
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True, help_text=_("Markdown."))
    founded_on = models.DateField(_("founded on"), null=True, blank=True)
    website = models.URLField(_("website"), blank=True)
    source_url = models.URLField(_("source"), blank=True)
    is_illustrative = models.BooleanField(_("illustrative"), default=False)
    members = models.ManyToManyField(
        Organization, through="CoalitionMembership", related_name="coalitions", blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("coalition")
        verbose_name_plural = _("coalitions")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return self.jurisdiction.get_absolute_url() + "#coalition"


class CoalitionMembership(models.Model):
    """An organization's membership of a coalition, which Popolo and OCD cannot express."""

    class Role(models.TextChoices):
        CONVENER = "convener", _("Convener")
        FOUNDING_MEMBER = "founding_member", _("Founding member")
        MEMBER = "member", _("Member")
        FUNDER = "funder", _("Funder")
        ADVISOR = "advisor", _("Advisor")

    coalition = models.ForeignKey(Coalition, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="coalition_memberships"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, default=Role.MEMBER)
    since = models.DateField(_("since"), null=True, blank=True)
    until = models.DateField(_("until"), null=True, blank=True)
    source_url = models.URLField(_("source"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("coalition membership")
        verbose_name_plural = _("coalition memberships")
        ordering = ["coalition", "organization__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["coalition", "organization", "role"],
                name="coalition_membership_unique",
                violation_error_code="duplicate_membership",
            ),
            models.CheckConstraint(
                condition=models.Q(until__isnull=True)
                | models.Q(since__isnull=True)
                | models.Q(until__gte=models.F("since")),
                name="coalition_membership_ends_after_start",
                violation_error_code="ends_before_start",
                violation_error_message=_("A membership cannot end before it starts."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} in {self.coalition}"


class CouncilMembership(models.Model):
    """Binds a user to a jurisdiction's council. The role decides what they may do there."""

    class Role(models.TextChoices):
        CHAIR = "chair", _("Chair")
        EDITOR = "editor", _("Editor")
        REVIEWER = "reviewer", _("Reviewer")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="council_memberships"
    )
    jurisdiction = models.ForeignKey(
        "cities.Jurisdiction", on_delete=models.CASCADE, related_name="council_memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    public_name = models.CharField(
        _("public name"),
        max_length=200,
        blank=True,
        help_text=_("Shown on the public council list; the account name never is."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("council membership")
        verbose_name_plural = _("council memberships")
        ordering = ["jurisdiction", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "jurisdiction"],
                name="council_membership_one_role",
                violation_error_code="duplicate_membership",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.jurisdiction})"
