from __future__ import annotations

import datetime
import hashlib
import hmac
import re

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


class ApiKey(models.Model):
    """
    A key for the REST API, sent as ``Authorization: Bearer atl_<prefix>_<secret>``.

    Only a SHA-256 digest of the secret is stored; the plain key is shown once,
    when it is made. A password hasher (PBKDF2 and the like) is deliberately not
    used: those are slow to make guessing a low-entropy password expensive, but the
    secret here is 32 random bytes, which no amount of guessing recovers from its
    digest, and a slow hash would cost every API request that time instead.
    The visible prefix finds the row; the digest is then compared in constant time.
    """

    PREFIX_LEAD = "atl_"
    PREFIX_LENGTH = 8
    # How stale ``last_used_at`` may get: reads then write at most once a minute per key.
    LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)
    _KEY_PATTERN = re.compile(r"^(atl_[a-z0-9]{8})_([A-Za-z0-9_-]{32,128})$")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="api_keys",
    )
    name = models.CharField(
        _("name"), max_length=100, blank=True, help_text=_("What the key is for.")
    )
    prefix = models.CharField(
        _("prefix"),
        max_length=16,
        editable=False,
        help_text=_("The visible start of the key, which identifies it in logs and lists."),
    )
    hashed_key = models.CharField(_("hashed key"), max_length=64, editable=False)
    read_only = models.BooleanField(
        _("read-only"), default=True, help_text=_("A read-only key cannot change anything.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)

    # The digest never changes and is nobody's business in the history; the
    # last use is bookkeeping, written by ``update()`` and so never recorded anyway.
    history = HistoricalRecords(excluded_fields=["hashed_key", "last_used_at"])

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["prefix"], name="api_key_unique_prefix", violation_error_code="duplicate"
            ),
            models.UniqueConstraint(
                fields=["hashed_key"], name="api_key_unique_hash", violation_error_code="duplicate"
            ),
            models.CheckConstraint(
                condition=models.Q(prefix__startswith="atl_"),
                name="api_key_prefix_format",
                violation_error_code="invalid_prefix",
            ),
            models.CheckConstraint(
                condition=~models.Q(hashed_key=""),
                name="api_key_hash_present",
                violation_error_code="missing_hash",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__isnull=True)
                | models.Q(expires_at__gt=models.F("created_at")),
                name="api_key_expires_after_creation",
                violation_error_code="expires_before_creation",
                violation_error_message=_("A key cannot expire before it is created."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix} ({self.user})"

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @classmethod
    def split(cls, key: str) -> tuple[str, str] | None:
        """The prefix and secret of a well-formed plain key, or None."""
        match = cls._KEY_PATTERN.fullmatch(key)
        return (match[1], match[2]) if match else None

    def matches(self, secret: str) -> bool:
        """Whether ``secret`` is this key's, compared in constant time."""
        return hmac.compare_digest(self.hashed_key, self.hash_secret(secret))

    def is_usable(self, now: datetime.datetime) -> bool:
        """Neither revoked nor expired at ``now``."""
        return self.revoked_at is None and not self.is_expired(now)

    def is_expired(self, now: datetime.datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def touch(self, now: datetime.datetime) -> None:
        """
        Record a use, writing at most once per ``LAST_USED_RESOLUTION``.

        The check on the loaded row spares most requests any write; the
        conditional ``update()`` lets only one of several concurrent requests write.
        """
        threshold = now - self.LAST_USED_RESOLUTION
        if self.last_used_at is not None and self.last_used_at > threshold:
            return
        ApiKey.objects.filter(
            models.Q(last_used_at__isnull=True) | models.Q(last_used_at__lte=threshold),
            pk=self.pk,
        ).update(last_used_at=now)
        self.last_used_at = now


class Invitation(models.Model):
    """
    A chair's invitation to join their council with a role, sent by email.

    Only a SHA-256 digest of the token is stored, as for API keys: the link in
    the email is the only copy of the secret.
    """

    jurisdiction = models.ForeignKey(
        "cities.Jurisdiction", on_delete=models.CASCADE, related_name="council_invitations"
    )
    email = models.EmailField(_("email"))
    role = models.CharField(_("role"), max_length=16, choices=CouncilMembership.Role.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invited by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    hashed_token = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["hashed_token"])

    class Meta:
        verbose_name = _("council invitation")
        verbose_name_plural = _("council invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_role_display()}, {self.jurisdiction})"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def is_open(self, now: datetime.datetime) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > now


class Contribution(models.Model):
    """
    A suggestion or comment from the public, no account needed.

    It waits unconfirmed until its author follows the link emailed to them, then
    in the moderation queue of its jurisdiction's reviewers. An accepted
    suggestion becomes a draft initiative credited to its author; an accepted
    comment is shown on its initiative's page.
    """

    class Kind(models.TextChoices):
        SUGGESTION = "suggestion", _("Suggestion")
        COMMENT = "comment", _("Comment")

    class State(models.TextChoices):
        UNCONFIRMED = "unconfirmed", _("Awaiting email confirmation")
        PENDING = "pending", _("Awaiting moderation")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.UNCONFIRMED, db_index=True
    )
    jurisdiction = models.ForeignKey(
        "cities.Jurisdiction", on_delete=models.CASCADE, related_name="contributions"
    )
    initiative = models.ForeignKey(
        "initiatives.Initiative",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="contributions",
        help_text=_("The initiative a comment is about."),
    )
    name = models.CharField(_("name"), max_length=100)
    email = models.EmailField(_("email"))
    title = models.CharField(_("title"), max_length=200, blank=True)
    body = models.TextField(_("text"), help_text=_("Markdown."))
    url = models.URLField(_("link"), blank=True)
    language = models.CharField(_("language"), max_length=8, default="en")
    # A keyed digest of the sender's address, for the rate limit; the address is not kept.
    client_digest = models.CharField(max_length=64, db_index=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    moderated_at = models.DateTimeField(_("moderated at"), null=True, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("moderated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    moderation_note = models.TextField(_("moderation note"), blank=True)
    draft = models.OneToOneField(
        "initiatives.Initiative",
        verbose_name=_("resulting draft"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="suggested_by",
    )

    history = HistoricalRecords(excluded_fields=["client_digest"])

    class Meta:
        verbose_name = _("contribution")
        verbose_name_plural = _("contributions")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="comment") | models.Q(initiative__isnull=False),
                name="contribution_comment_has_initiative",
                violation_error_code="comment_without_initiative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.name}"


class ReminderPreference(models.Model):
    """How often a council member hears about their stale records, due milestones and queue."""

    class Frequency(models.TextChoices):
        WEEKLY = "weekly", _("Weekly")
        DAILY = "daily", _("Daily")
        NEVER = "never", _("Never")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminder_preference"
    )
    frequency = models.CharField(
        _("reminders"), max_length=8, choices=Frequency.choices, default=Frequency.WEEKLY
    )
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("reminder preference")
        verbose_name_plural = _("reminder preferences")

    def __str__(self) -> str:
        return f"{self.user}: {self.get_frequency_display()}"


class ReminderDelivery(models.Model):
    """The reminders' ledger: one row per member and period, like the digests'."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminder_deliveries"
    )
    period = models.CharField(_("period"), max_length=16)
    state = models.CharField(_("state"), max_length=8, default="pending", db_index=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("reminder delivery")
        verbose_name_plural = _("reminder deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "period"],
                name="reminder_delivery_once_per_period",
                violation_error_code="duplicate_delivery",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.period}: {self.state}"
