from __future__ import annotations

from typing import Any, ClassVar, Self

import pycountry
from django.conf import settings
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Combinable
from django.db.models.sql.compiler import SQLCompiler
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from initiatives.managers import InitiativeQuerySet, PlanQuerySet

# Exactly as ISO 4217 writes them: pycountry's own lookup would also take "usd".
CURRENCY_CODES = frozenset(currency.alpha_3 for currency in pycountry.currencies)


def validate_currency(value: str) -> None:
    if value not in CURRENCY_CODES:
        raise ValidationError(
            _("%(value)s is not an ISO 4217 currency code such as USD or EUR."),
            code="invalid_currency",
            params={"value": value},
        )


class ContentLanguage(models.TextChoices):
    """The language a record's own text is written in, for lang attributes."""

    ENGLISH = "en", _("English")
    FRENCH = "fr", _("French")


class PublicationState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    REVIEW = "review", _("In review")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


# ------------------------------------------------------------------------------
# Taxonomies
# ------------------------------------------------------------------------------


class Taxon(models.Model):
    """A bilingual term. ``name`` and ``description`` follow the active language."""

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=120, unique=True)
    name_fr = models.CharField(_("name (French)"), max_length=120, unique=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_fr = models.TextField(_("description (French)"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        abstract = True
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_fr if get_language() == "fr" else self.name_en

    @property
    def description(self) -> str:
        return self.description_fr if get_language() == "fr" else self.description_en


class FocusArea(Taxon):
    """A field of digital leadership, from infrastructure to museums."""

    history = HistoricalRecords()

    class Meta(Taxon.Meta):
        verbose_name = _("focus area")
        verbose_name_plural = _("focus areas")

    def get_absolute_url(self) -> str:
        return reverse("initiatives:focus-area-detail", kwargs={"slug": self.slug})


class Sector(Taxon):
    """An industry or part of society that an initiative serves."""

    history = HistoricalRecords()

    class Meta(Taxon.Meta):
        verbose_name = _("sector")
        verbose_name_plural = _("sectors")

    def get_absolute_url(self) -> str:
        return reverse("initiatives:sector-detail", kwargs={"slug": self.slug})


# ------------------------------------------------------------------------------
# Plans and initiatives
# ------------------------------------------------------------------------------


class Authored(models.Model):
    """Who created and last changed a record, and when."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    class Meta:
        abstract = True


class Plan(Authored):
    """A jurisdiction's digital strategy or road map, which groups initiatives."""

    jurisdiction = models.ForeignKey(
        "cities.Jurisdiction",
        verbose_name=_("jurisdiction"),
        on_delete=models.PROTECT,
        related_name="plans",
    )
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    summary = models.TextField(_("summary"), blank=True)
    description = models.TextField(_("description"), blank=True, help_text=_("Markdown."))
    language = models.CharField(
        _("content language"),
        max_length=8,
        choices=ContentLanguage.choices,
        default=ContentLanguage.ENGLISH,
    )
    published_on = models.DateField(_("published on"), null=True, blank=True)
    url = models.URLField(_("document"), blank=True)
    source_url = models.URLField(_("source"), blank=True)
    publication_state = models.CharField(
        _("publication state"),
        max_length=16,
        choices=PublicationState.choices,
        default=PublicationState.DRAFT,
        db_index=True,
    )
    is_illustrative = models.BooleanField(_("illustrative"), default=False)
    review_note = models.TextField(
        _("review note"),
        blank=True,
        editable=False,
        help_text=_("The reviewer's comment when the record was last returned."),
    )

    objects = PlanQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["-published_on", "title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("initiatives:plan-detail", kwargs={"slug": self.slug})


# Records come in English and in French, so the document is read through both
# configurations; the title weighs most (A), then the summary (B), then the
# description (C).
TEXT_SEARCH_CONFIGS = ("english", "french")
WEIGHTED_FIELDS = (("title", "A"), ("summary", "B"), ("description", "C"))


class SearchDocument(models.Func):
    """
    The weighted English-and-French text-search document of an initiative.

    ``Initiative.search_document`` stores it, so that matching and ranking read
    one column instead of parsing the text of every matching row again. Only
    PostgreSQL has text search: elsewhere the column holds NULL, and search
    falls back to substring matches (see initiatives.search).
    """

    template = "%(expressions)s"
    output_field = SearchVectorField()

    def __init__(self) -> None:
        parts = [
            SearchVector(name, weight=weight, config=config)
            for config in TEXT_SEARCH_CONFIGS
            for name, weight in WEIGHTED_FIELDS
        ]
        document: Combinable = parts[0]
        for part in parts[1:]:
            document = document + part
        super().__init__(document)

    def as_sql(  # type: ignore[override]
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        return "NULL", ()

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        sql, params = super().as_sql(compiler, connection, **extra_context)
        return sql, tuple(params)


class Initiative(Authored):
    """One thing a jurisdiction does to lead in the digital era."""

    class Status(models.TextChoices):
        IDEA = "idea", _("Idea")
        PLANNED = "planned", _("Planned")
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        PAUSED = "paused", _("Paused")
        CANCELLED = "cancelled", _("Cancelled")

    # Completed and cancelled are final: a revived effort is a new initiative,
    # linked with ``successor_of``, so the record of what happened stays true.
    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        Status.IDEA: frozenset({Status.PLANNED, Status.ACTIVE, Status.CANCELLED}),
        Status.PLANNED: frozenset({Status.IDEA, Status.ACTIVE, Status.PAUSED, Status.CANCELLED}),
        Status.ACTIVE: frozenset({Status.COMPLETED, Status.PAUSED, Status.CANCELLED}),
        Status.PAUSED: frozenset({Status.PLANNED, Status.ACTIVE, Status.CANCELLED}),
        Status.COMPLETED: frozenset(),
        Status.CANCELLED: frozenset(),
    }

    jurisdiction = models.ForeignKey(
        "cities.Jurisdiction",
        verbose_name=_("lead jurisdiction"),
        on_delete=models.PROTECT,
        related_name="initiatives",
    )
    plan = models.ForeignKey(
        Plan,
        verbose_name=_("plan"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="initiatives",
    )
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    summary = models.TextField(_("summary"), blank=True)
    description = models.TextField(_("description"), blank=True, help_text=_("Markdown."))
    language = models.CharField(
        _("content language"),
        max_length=8,
        choices=ContentLanguage.choices,
        default=ContentLanguage.ENGLISH,
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.IDEA, db_index=True
    )
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    budget_amount = models.DecimalField(
        _("budget"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    budget_currency = models.CharField(
        _("budget currency"), max_length=3, blank=True, validators=[validate_currency]
    )
    focus_areas = models.ManyToManyField(
        FocusArea, verbose_name=_("focus areas"), blank=True, related_name="initiatives"
    )
    sectors = models.ManyToManyField(
        Sector, verbose_name=_("sectors"), blank=True, related_name="initiatives"
    )
    lead_organization = models.ForeignKey(
        "council.Organization",
        verbose_name=_("lead organization"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_initiatives",
    )
    partners = models.ManyToManyField(
        "council.Organization",
        through="Partnership",
        verbose_name=_("partners"),
        blank=True,
        related_name="partner_initiatives",
    )
    publication_state = models.CharField(
        _("publication state"),
        max_length=16,
        choices=PublicationState.choices,
        default=PublicationState.DRAFT,
        db_index=True,
        editable=False,
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    is_illustrative = models.BooleanField(
        _("illustrative"),
        default=False,
        help_text=_("Set on example records that do not describe real facts."),
    )
    external_id = models.CharField(
        _("external id"),
        max_length=100,
        blank=True,
        help_text=_(
            "The record's id in the council's own system; CSV re-imports match rows by it."
        ),
    )
    review_note = models.TextField(
        _("review note"),
        blank=True,
        editable=False,
        help_text=_("The reviewer's comment when the record was last returned."),
    )
    # Kept by the database on every write (migration initiatives 0007 indexes
    # it); derived from the text, so the history leaves it out.
    search_document = models.GeneratedField(
        expression=SearchDocument(),
        output_field=SearchVectorField(),
        db_persist=True,
        verbose_name=_("search document"),
    )

    objects = InitiativeQuerySet.as_manager()
    history = HistoricalRecords(
        m2m_fields=[focus_areas, sectors], excluded_fields=["search_document"]
    )

    # The status as read from the database; None for an unsaved initiative.
    _loaded_status: str | None = None

    class Meta:
        verbose_name = _("initiative")
        verbose_name_plural = _("initiatives")
        ordering = ["-updated_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(start_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="initiative_ends_after_start",
                violation_error_code="ends_before_start",
                violation_error_message=_("The end date cannot come before the start date."),
            ),
            models.CheckConstraint(
                condition=models.Q(budget_amount__isnull=True, budget_currency="")
                | (models.Q(budget_amount__isnull=False) & ~models.Q(budget_currency="")),
                name="initiative_budget_has_currency",
                violation_error_code="budget_currency",
                violation_error_message=_("Give a budget together with its currency."),
            ),
            models.CheckConstraint(
                condition=models.Q(budget_amount__isnull=True) | models.Q(budget_amount__gte=0),
                name="initiative_budget_not_negative",
                violation_error_code="negative_budget",
            ),
            models.UniqueConstraint(
                fields=["jurisdiction", "external_id"],
                condition=~models.Q(external_id=""),
                name="initiative_external_id_unique",
                violation_error_code="duplicate_external_id",
                violation_error_message=_(
                    "Another initiative of this jurisdiction has this external id."
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["jurisdiction", "publication_state", "status"]),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("initiatives:initiative-detail", kwargs={"slug": self.slug})

    @classmethod
    def from_db(cls, *args: Any, **kwargs: Any) -> Self:
        instance = super().from_db(*args, **kwargs)
        # Remember the stored status so clean() can judge a transition.
        instance._loaded_status = instance.__dict__.get("status")
        return instance

    def clean(self) -> None:
        super().clean()
        loaded = getattr(self, "_loaded_status", None)
        if loaded and not self.can_transition_to(self.status, current=loaded):
            raise ValidationError({"status": self.illegal_transition_error(loaded, self.status)})

    def can_transition_to(self, status: str, *, current: str | None = None) -> bool:
        current = current or self.status
        return status == current or status in self.TRANSITIONS[current]

    @classmethod
    def illegal_transition_error(cls, old: str, new: str) -> ValidationError:
        return ValidationError(
            _("An initiative cannot go from %(old)s to %(new)s."),
            code="illegal_transition",
            params={"old": cls.Status(old).label, "new": cls.Status(new).label},
        )

    @property
    def is_public(self) -> bool:
        return self.publication_state == PublicationState.PUBLISHED


class Partnership(models.Model):
    """An organization's part in an initiative."""

    class Role(models.TextChoices):
        LEAD = "lead", _("Lead")
        FUNDER = "funder", _("Funder")
        IMPLEMENTER = "implementer", _("Implementer")
        ADVISOR = "advisor", _("Advisor")

    initiative = models.ForeignKey(
        Initiative, on_delete=models.CASCADE, related_name="partnerships"
    )
    organization = models.ForeignKey(
        "council.Organization", on_delete=models.PROTECT, related_name="partnerships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("partnership")
        verbose_name_plural = _("partnerships")
        constraints = [
            models.UniqueConstraint(
                fields=["initiative", "organization", "role"],
                name="partnership_unique_role",
                violation_error_code="duplicate_partner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} ({self.get_role_display()})"


class Milestone(models.Model):
    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("title"), max_length=200)
    due_date = models.DateField(_("due date"), null=True, blank=True, db_index=True)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["due_date", "pk"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return self.initiative.get_absolute_url()

    @property
    def is_done(self) -> bool:
        return self.completed_on is not None

    def is_overdue(self, today: object = None) -> bool:
        today = today or timezone.localdate()
        return (
            self.completed_on is None and self.due_date is not None and self.due_date < today  # type: ignore[operator]
        )


class Indicator(models.Model):
    """Something measured about an initiative, with its baseline and target."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="indicators")
    name = models.CharField(_("name"), max_length=200)
    unit = models.CharField(_("unit"), max_length=50, blank=True)
    baseline = models.DecimalField(
        _("baseline"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    target = models.DecimalField(
        _("target"), max_digits=18, decimal_places=4, null=True, blank=True
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return self.initiative.get_absolute_url()


class Measurement(models.Model):
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="measurements")
    measured_on = models.DateField(_("measured on"))
    value = models.DecimalField(_("value"), max_digits=18, decimal_places=4)
    source_url = models.URLField(_("source"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("measurement")
        verbose_name_plural = _("measurements")
        ordering = ["measured_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "measured_on"],
                name="measurement_one_per_day",
                violation_error_code="duplicate_measurement",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator}: {self.value} ({self.measured_on})"


class Source(models.Model):
    """A link that backs what the Atlas says about an initiative."""

    class Kind(models.TextChoices):
        SOURCE = "source", _("Source")
        EVIDENCE = "evidence", _("Evidence")

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="sources")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.SOURCE)
    title = models.CharField(_("title"), max_length=200)
    url = models.URLField(_("address"), max_length=500)
    accessed_on = models.DateField(_("accessed on"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        ordering = ["kind", "pk"]

    def __str__(self) -> str:
        return self.title


class InitiativeLink(models.Model):
    """A typed relation from one initiative to another, often in another city."""

    class Kind(models.TextChoices):
        INSPIRED_BY = "inspired_by", _("Inspired by")
        ADAPTED_FROM = "adapted_from", _("Adapted from")
        SUCCESSOR_OF = "successor_of", _("Successor of")

    from_initiative = models.ForeignKey(
        Initiative, on_delete=models.CASCADE, related_name="outgoing_links"
    )
    to_initiative = models.ForeignKey(
        Initiative, on_delete=models.CASCADE, related_name="incoming_links"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("initiative link")
        verbose_name_plural = _("initiative links")
        constraints = [
            models.UniqueConstraint(
                fields=["from_initiative", "to_initiative", "kind"],
                name="initiative_link_unique",
                violation_error_code="duplicate_link",
            ),
            models.CheckConstraint(
                condition=~models.Q(from_initiative=models.F("to_initiative")),
                name="initiative_link_not_to_self",
                violation_error_code="link_to_self",
                violation_error_message=_("An initiative cannot link to itself."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_initiative} {self.get_kind_display()} {self.to_initiative}"


# ------------------------------------------------------------------------------
# Review workflow
# ------------------------------------------------------------------------------


class Revision(models.Model):
    """
    Changes proposed to a published initiative or plan, kept apart from it.

    The public keeps seeing the published record while its revision is drafted
    and reviewed; publishing the revision applies it (``initiatives.snapshots``),
    which leaves an ordinary history row. ``data`` is a snapshot in the format
    ``initiatives.snapshots`` writes. A record has at most one open revision.
    """

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        REVIEW = "review", _("In review")
        PUBLISHED = "published", _("Published")
        DISCARDED = "discarded", _("Discarded")

    OPEN_STATES = (State.DRAFT, State.REVIEW)

    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.CASCADE, related_name="revisions"
    )
    plan = models.ForeignKey(
        Plan, null=True, blank=True, on_delete=models.CASCADE, related_name="revisions"
    )
    data = models.JSONField(_("proposed record"))
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.DRAFT, db_index=True
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    review_note = models.TextField(_("review note"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        ordering = ["-updated_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(initiative__isnull=False, plan__isnull=True)
                | models.Q(initiative__isnull=True, plan__isnull=False),
                name="revision_of_one_record",
                violation_error_code="revision_target",
            ),
            models.UniqueConstraint(
                fields=["initiative"],
                condition=models.Q(state__in=["draft", "review"]),
                name="revision_one_open_per_initiative",
                violation_error_code="open_revision",
            ),
            models.UniqueConstraint(
                fields=["plan"],
                condition=models.Q(state__in=["draft", "review"]),
                name="revision_one_open_per_plan",
                violation_error_code="open_revision",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.record} ({self.get_state_display()})"

    def decide(self, *, state: str, actor: Any, review_note: str | None = None) -> None:
        """Record a reviewer's or editor's decision on these changes, with ``actor`` in history."""
        self.state = state
        self.decided_by = actor
        self.decided_at = timezone.now()
        fields = ["state", "decided_by", "decided_at", "updated_at"]
        if review_note is not None:
            self.review_note = review_note
            fields.append("review_note")
        self._history_user = actor
        self.save(update_fields=fields)

    @property
    def record(self) -> Initiative | Plan:
        if self.initiative is not None:
            return self.initiative
        if self.plan is not None:
            return self.plan
        raise ValueError("A revision belongs to an initiative or a plan.")


class ChangeEvent(models.Model):
    """
    Something subscribers hear about in their digest, recorded when it happens.

    Rows are written in the same transaction as the change, so a digest never
    misses one and never sees one that was rolled back.
    """

    class Kind(models.TextChoices):
        INITIATIVE_PUBLISHED = "initiative_published", _("Initiative published")
        INITIATIVE_UPDATED = "initiative_updated", _("Initiative updated")
        STATUS_CHANGED = "status_changed", _("Status changed")
        MILESTONE_COMPLETED = "milestone_completed", _("Milestone completed")
        PLAN_PUBLISHED = "plan_published", _("Plan published")
        PLAN_UPDATED = "plan_updated", _("Plan updated")
        COALITION_MEMBER_ADDED = "coalition_member_added", _("Coalition member added")

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices, db_index=True)
    jurisdiction = models.ForeignKey(
        "cities.Jurisdiction", on_delete=models.CASCADE, related_name="change_events"
    )
    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.CASCADE, related_name="change_events"
    )
    plan = models.ForeignKey(
        Plan, null=True, blank=True, on_delete=models.CASCADE, related_name="change_events"
    )
    organization = models.ForeignKey(
        "council.Organization",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="change_events",
    )
    # What the digest says, frozen as it was: titles and statuses change later.
    details = models.JSONField(_("details"), default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("change event")
        verbose_name_plural = _("change events")
        ordering = ["-occurred_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.occurred_at:%Y-%m-%d})"


# ------------------------------------------------------------------------------
# Subscriptions and the delivery ledger
# ------------------------------------------------------------------------------


class Frequency(models.TextChoices):
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")


class Subscription(models.Model):
    """
    An email address following some targets, with the frequency and language of its digest.

    No account is needed. It counts once its address is confirmed (double opt-in),
    and stops when cancelled; a cancelled subscription is kept, so a digest run or
    a late retry can tell it was cancelled rather than never there.
    """

    email = models.EmailField(_("email"), db_index=True)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    frequency = models.CharField(
        _("frequency"), max_length=8, choices=Frequency.choices, default=Frequency.WEEKLY
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subscriptions",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["pk"]
        indexes = [
            # The digest run's keyset walk: active subscriptions of one frequency, by id.
            models.Index(
                fields=["frequency", "id"],
                condition=models.Q(confirmed_at__isnull=False, cancelled_at__isnull=True),
                name="subscription_active_by_freq",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_frequency_display()})"

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and self.cancelled_at is None


class SubscriptionTarget(models.Model):
    """One thing a subscription follows: a jurisdiction, initiative, focus area or organization."""

    class Kind(models.TextChoices):
        JURISDICTION = "jurisdiction", _("Jurisdiction")
        INITIATIVE = "initiative", _("Initiative")
        FOCUS_AREA = "focus_area", _("Focus area")
        ORGANIZATION = "organization", _("Organization")

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="targets")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    jurisdiction = models.ForeignKey(
        "cities.Jurisdiction", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    include_descendants = models.BooleanField(
        _("with the jurisdictions within it"),
        default=True,
        help_text=_("For a jurisdiction: also what happens in the places within it."),
    )
    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    focus_area = models.ForeignKey(
        FocusArea, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    organization = models.ForeignKey(
        "council.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("subscription target")
        verbose_name_plural = _("subscription targets")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        kind="jurisdiction",
                        jurisdiction__isnull=False,
                        initiative__isnull=True,
                        focus_area__isnull=True,
                        organization__isnull=True,
                    )
                    | models.Q(
                        kind="initiative",
                        jurisdiction__isnull=True,
                        initiative__isnull=False,
                        focus_area__isnull=True,
                        organization__isnull=True,
                    )
                    | models.Q(
                        kind="focus_area",
                        jurisdiction__isnull=True,
                        initiative__isnull=True,
                        focus_area__isnull=False,
                        organization__isnull=True,
                    )
                    | models.Q(
                        kind="organization",
                        jurisdiction__isnull=True,
                        initiative__isnull=True,
                        focus_area__isnull=True,
                        organization__isnull=False,
                    )
                ),
                name="subscription_target_one_kind",
                violation_error_code="target_kind",
            ),
        ]

    def __str__(self) -> str:
        return str(self.target)

    @property
    def target(self) -> models.Model:
        target = self.jurisdiction or self.initiative or self.focus_area or self.organization
        if target is None:
            raise ValueError("A subscription target names one record.")
        return target


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    EMPTY = "empty", _("Nothing to send")
    FAILED = "failed", _("Failed")


class DigestDelivery(models.Model):
    """
    The delivery ledger: one row per subscription and period, claimed before sending.

    The unique key is what makes a digest go out once: a second run, a retry or a
    message handed out again after a worker died finds the row and does not send again.
    """

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    # "2026-11-27" for a daily digest, "2026-W48" for a weekly one.
    period = models.CharField(_("period"), max_length=16)
    state = models.CharField(
        _("state"),
        max_length=8,
        choices=DeliveryState.choices,
        default=DeliveryState.PENDING,
        db_index=True,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("digest delivery")
        verbose_name_plural = _("digest deliveries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "period"],
                name="digest_delivery_once_per_period",
                violation_error_code="duplicate_delivery",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscription} {self.period}: {self.get_state_display()}"


class OutgoingEmail(models.Model):
    """
    An email the Atlas owes someone, written in the same transaction as what caused it.

    Web requests never talk to the broker or the mail server inside their
    transaction: they leave a row here, and a worker sends it. If Redis is down
    when the request commits, the row waits and the next sweep sends it.
    """

    kind = models.CharField(_("kind"), max_length=40, db_index=True)
    to = models.EmailField(_("to"))
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("text"))
    html = models.TextField(_("HTML"), blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    state = models.CharField(
        _("state"),
        max_length=8,
        choices=DeliveryState.choices,
        default=DeliveryState.PENDING,
        db_index=True,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to}: {self.get_state_display()}"
