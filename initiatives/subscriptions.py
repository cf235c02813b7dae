"""
Subscriptions by email: double opt-in, signed links to manage and leave, one digest per frequency.

A request stores an unconfirmed subscription and emails a confirmation link;
nothing else is ever sent to it until the link's button is pressed. On
confirmation, an address that already has an active subscription of the same
frequency and language gets the new targets added to that one instead, so one
person receives one digest per frequency.

Three kinds of signed token, each with its own salt so that one can never stand
in for another:

- confirmation: names the subscription and expires after
  ``ATLAS_SUBSCRIPTION_CONFIRM_DAYS`` (7 by default);
- unsubscribe: names the subscription and its address, and never expires, since
  it is printed in every digest and in the ``List-Unsubscribe`` header;
- manage: names an address, and never expires either.

Digests and other mail build their links with ``unsubscribe_url``,
``manage_url`` and ``list_unsubscribe_headers``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import AnonymousUser
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cities.models import Jurisdiction
from council.contributions import client_digest
from council.models import Organization
from initiatives.models import (
    FocusArea,
    Frequency,
    Initiative,
    PublicationState,
    Subscription,
    SubscriptionTarget,
)
from initiatives.outbox import outbox_email, site_url

CONFIRM_SALT = "initiatives.subscriptions.confirm"
UNSUBSCRIBE_SALT = "initiatives.subscriptions.unsubscribe"
MANAGE_SALT = "initiatives.subscriptions.manage"
RATE_WINDOW = datetime.timedelta(hours=1)
CONFIRM_EMAIL_KIND = "subscription_confirm"

Kind = SubscriptionTarget.Kind
TargetRecord = Jurisdiction | Initiative | FocusArea | Organization

# How a target is written in a Follow form's hidden field or an imported file.
# An OCD division id or a bare slug names a jurisdiction.
_REF_PREFIXES: dict[str, str] = {
    "jurisdiction": Kind.JURISDICTION,
    "initiative": Kind.INITIATIVE,
    "focus-area": Kind.FOCUS_AREA,
    "focus_area": Kind.FOCUS_AREA,
    "organization": Kind.ORGANIZATION,
}
_KIND_PREFIX: dict[str, str] = {
    Kind.JURISDICTION: "jurisdiction",
    Kind.INITIATIVE: "initiative",
    Kind.FOCUS_AREA: "focus-area",
    Kind.ORGANIZATION: "organization",
}
_TARGET_RELATED = ("jurisdiction", "initiative", "focus_area", "organization")


class RateLimited(Exception):
    """The client has asked for as many subscriptions as an hour allows."""

    def __init__(self, retry_at: datetime.datetime) -> None:
        super().__init__(retry_at)
        self.retry_at = retry_at


class TokenInvalid(Exception):
    """A link that was altered, has expired, or names nothing that exists."""

    def __init__(self, *, expired: bool = False) -> None:
        super().__init__(expired)
        self.expired = expired


@dataclass(frozen=True)
class TargetSpec:
    """One thing to follow, before it is stored as a SubscriptionTarget."""

    kind: str
    record: TargetRecord
    include_descendants: bool = True

    @property
    def key(self) -> tuple[str, int]:
        return (self.kind, self.record.pk)

    @property
    def ref(self) -> str:
        """The written form ``resolve_target_refs`` reads back, e.g. ``initiative:wifi``."""
        return f"{_KIND_PREFIX[self.kind]}:{self.record.slug}"

    @property
    def label(self) -> str:
        return str(self.record)

    @property
    def kind_label(self) -> str:
        return str(Kind(self.kind).label)

    @classmethod
    def from_target(cls, target: SubscriptionTarget) -> TargetSpec:
        return cls(
            kind=target.kind,
            record=target.target,  # type: ignore[arg-type]
            include_descendants=target.include_descendants,
        )


# ------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------


def normalise_email(email: str) -> str:
    """
    The form addresses are stored and compared in.

    Lowercased whole: mail systems treat the local part case-insensitively in
    practice, and one person typing ``Ana@`` and ``ana@`` must not get two digests.
    """
    return BaseUserManager.normalize_email(email.strip()).lower()


def site_language(language: str | None) -> str:
    """``language`` when the site offers it, else the default."""
    offered = {code for code, _name in settings.LANGUAGES}
    return language if language in offered else settings.LANGUAGE_CODE


def confirm_days() -> int:
    return settings.ATLAS_SUBSCRIPTION_CONFIRM_DAYS


def _per_hour() -> int:
    return settings.ATLAS_SUBSCRIPTIONS_PER_HOUR


def _history(record: models.Model, actor: AbstractBaseUser | None, reason: str) -> None:
    record._history_user = actor  # type: ignore[attr-defined]
    record._change_reason = reason  # type: ignore[attr-defined]


def _actor(user: AbstractBaseUser | AnonymousUser | None) -> AbstractBaseUser | None:
    return user if isinstance(user, AbstractBaseUser) and user.is_authenticated else None


# ------------------------------------------------------------------------------
# Targets as written in forms and files
# ------------------------------------------------------------------------------


@dataclass
class TargetResolution:
    """What ``resolve_target_refs`` found, by written ref, and why the others failed."""

    found: dict[str, TargetSpec]
    errors: dict[str, str]


def _split_ref(ref: str) -> tuple[str, str, str] | None:
    """(kind, lookup field, value) for one written target, or None when it names no kind."""
    ref = ref.strip()
    if ref.startswith("ocd-division/"):
        return (Kind.JURISDICTION, "ocd_id", ref)
    prefix, colon, value = ref.partition(":")
    if not colon:
        return (Kind.JURISDICTION, "slug", ref) if ref else None
    kind = _REF_PREFIXES.get(prefix.strip().lower())
    if kind is None or not value.strip():
        return None
    return (kind, "slug", value.strip())


def resolve_target_refs(refs: Iterable[str]) -> TargetResolution:
    """
    Look up written targets, a handful of queries however many there are.

    ``jurisdiction:<slug>``, a bare jurisdiction slug or an OCD division id name a
    jurisdiction (followed with the places within it); ``initiative:<slug>`` a
    published initiative; ``focus-area:<slug>`` a focus area; ``organization:<slug>``
    an organization.
    """
    wanted: dict[str, tuple[str, str, str]] = {}
    errors: dict[str, str] = {}
    for ref in refs:
        parts = _split_ref(ref)
        if parts is None:
            errors[ref] = _("“%(ref)s” does not name something to follow.") % {"ref": ref}
        else:
            wanted[ref] = parts

    def values(kind: str, field: str) -> set[str]:
        return {v for (k, f, v) in wanted.values() if k == kind and f == field}

    by_kind: dict[tuple[str, str], dict[str, TargetRecord]] = {}
    lookups: list[tuple[str, str, models.QuerySet[models.Model]]] = [
        (Kind.JURISDICTION, "ocd_id", Jurisdiction.objects.all()),
        (Kind.JURISDICTION, "slug", Jurisdiction.objects.all()),
        (
            Kind.INITIATIVE,
            "slug",
            Initiative.objects.filter(publication_state=PublicationState.PUBLISHED),
        ),
        (Kind.FOCUS_AREA, "slug", FocusArea.objects.all()),
        (Kind.ORGANIZATION, "slug", Organization.objects.all()),
    ]
    for kind, field, queryset in lookups:
        needed = values(kind, field)
        if needed:
            by_kind[(kind, field)] = {
                getattr(record, field): record  # type: ignore[misc]
                for record in queryset.filter(**{f"{field}__in": needed})
            }

    found: dict[str, TargetSpec] = {}
    for ref, (kind, field, value) in wanted.items():
        record = by_kind.get((kind, field), {}).get(value)
        if record is None:
            errors[ref] = _("Nothing to follow is called “%(ref)s”.") % {"ref": ref}
        else:
            found[ref] = TargetSpec(kind=kind, record=record)
    return TargetResolution(found=found, errors=errors)


def targets_from_refs(refs: Sequence[str]) -> list[TargetSpec]:
    """The targets ``refs`` name, once each and in order; ValidationError for any that fail."""
    resolution = resolve_target_refs(refs)
    if resolution.errors:
        raise ValidationError(list(resolution.errors.values()), code="unknown_target")
    return _unique(resolution.found[ref] for ref in refs)


def _unique(specs: Iterable[TargetSpec]) -> list[TargetSpec]:
    seen: dict[tuple[str, int], TargetSpec] = {}
    for spec in specs:
        earlier = seen.get(spec.key)
        # The wider of two jurisdiction targets wins: with the places within it.
        if earlier is None or (spec.include_descendants and not earlier.include_descendants):
            seen[spec.key] = spec
    return list(seen.values())


# ------------------------------------------------------------------------------
# Tokens and links
# ------------------------------------------------------------------------------


def confirmation_token(subscription: Subscription) -> str:
    return signing.dumps({"s": subscription.pk}, salt=CONFIRM_SALT)


def unsubscribe_token(subscription: Subscription) -> str:
    # Bound to the address too: a row whose address changed is not reachable by an old link.
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign_object(
        {"s": subscription.pk, "e": normalise_email(subscription.email)}
    )


def manage_token(email: str) -> str:
    return signing.Signer(salt=MANAGE_SALT).sign_object({"e": normalise_email(email)})


def _path_in(language: str, name: str, token: str) -> str:
    with translation.override(site_language(language)):
        return reverse(name, kwargs={"token": token})


def confirm_url(subscription: Subscription) -> str:
    """The absolute confirmation link, in the subscription's language."""
    return site_url(
        _path_in(subscription.language, "subscriptions:confirm", confirmation_token(subscription))
    )


def unsubscribe_url(subscription: Subscription) -> str:
    """The absolute one-click unsubscribe link (RFC 8058): POST cancels, GET shows a button."""
    return site_url(
        _path_in(
            subscription.language, "subscriptions:unsubscribe", unsubscribe_token(subscription)
        )
    )


def manage_url(email: str, language: str) -> str:
    """The absolute link to the page where ``email`` manages all its subscriptions."""
    return site_url(_path_in(language, "subscriptions:manage", manage_token(email)))


def list_unsubscribe_headers(subscription: Subscription) -> dict[str, str]:
    """The RFC 2369 / RFC 8058 headers every digest carries."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(subscription)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def _payload(token: str, *, salt: str, max_age: datetime.timedelta | None = None) -> dict[str, Any]:
    try:
        if max_age is None:
            payload = signing.Signer(salt=salt).unsign_object(token)
        else:
            payload = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise TokenInvalid(expired=True) from None
    except (signing.BadSignature, ValueError):
        raise TokenInvalid from None
    if not isinstance(payload, dict):
        raise TokenInvalid
    return payload


def subscription_from_confirmation_token(*, token: str) -> Subscription:
    """The subscription a confirmation link names; TokenInvalid when the link is bad."""
    payload = _payload(token, salt=CONFIRM_SALT, max_age=datetime.timedelta(days=confirm_days()))
    pk = payload.get("s")
    subscription = Subscription.objects.filter(pk=pk).first() if isinstance(pk, int) else None
    if subscription is None:
        raise TokenInvalid
    return subscription


def subscription_from_unsubscribe_token(*, token: str) -> Subscription:
    """The subscription an unsubscribe link names; TokenInvalid when the link is bad."""
    payload = _payload(token, salt=UNSUBSCRIBE_SALT)
    pk, email = payload.get("s"), payload.get("e")
    if not isinstance(pk, int) or not isinstance(email, str):
        raise TokenInvalid
    subscription = Subscription.objects.filter(pk=pk).first()
    if subscription is None or normalise_email(subscription.email) != email:
        raise TokenInvalid
    return subscription


def email_from_manage_token(*, token: str) -> str:
    """The address a manage link was made for; TokenInvalid when the link is bad."""
    email = _payload(token, salt=MANAGE_SALT).get("e")
    if not isinstance(email, str) or not email:
        raise TokenInvalid
    return email


# ------------------------------------------------------------------------------
# Selectors
# ------------------------------------------------------------------------------


def _with_targets(queryset: models.QuerySet[Subscription]) -> models.QuerySet[Subscription]:
    return queryset.filter(cancelled_at__isnull=True).prefetch_related(
        models.Prefetch(
            "targets",
            queryset=SubscriptionTarget.objects.select_related(*_TARGET_RELATED).order_by("pk"),
        )
    )


def subscriptions_for_email(*, email: str) -> models.QuerySet[Subscription]:
    """An address's subscriptions that are not cancelled, confirmed or not, with their targets."""
    return _with_targets(Subscription.objects.filter(email=normalise_email(email)))


def subscriptions_for_user(*, user: AbstractBaseUser) -> models.QuerySet[Subscription]:
    """A signed-in user's subscriptions: made while signed in, or to their account's address."""
    condition = models.Q(user=user)
    email = str(getattr(user, "email", "") or "")
    if email:
        condition |= models.Q(email=normalise_email(email))
    return _with_targets(Subscription.objects.filter(condition))


def _rate_keys(digest: str) -> tuple[str, str]:
    return (f"subscriptions:rate:{digest}", f"subscriptions:rate-since:{digest}")


def subscription_retry_at(*, client_address: str) -> datetime.datetime | None:
    """
    When the client may ask again, or None when it may ask now.

    Counted in the cache under a keyed digest of the address, so the address is
    never stored; the count lives an hour from the client's first request.
    """
    count_key, since_key = _rate_keys(client_digest(client_address))
    if int(cache.get(count_key, 0)) < _per_hour():
        return None
    since = cache.get(since_key)
    now = timezone.now()
    return since + RATE_WINDOW if isinstance(since, datetime.datetime) else now + RATE_WINDOW


def _count_request(client_address: str) -> None:
    count_key, since_key = _rate_keys(client_digest(client_address))
    seconds = int(RATE_WINDOW.total_seconds())
    cache.add(since_key, timezone.now(), timeout=seconds)
    cache.add(count_key, 0, timeout=seconds)
    try:
        cache.incr(count_key)
    except ValueError:
        # The key expired between add and incr.
        cache.set(count_key, 1, timeout=seconds)


# ------------------------------------------------------------------------------
# Services
# ------------------------------------------------------------------------------


def _check_settings(*, frequency: str, language: str) -> None:
    if frequency not in Frequency.values:
        raise ValidationError(_("Choose daily or weekly."), code="frequency")
    if language not in {code for code, _name in settings.LANGUAGES}:
        raise ValidationError(_("Choose a language the Atlas is written in."), code="language")


def _add_targets(
    subscription: Subscription, targets: Iterable[TargetSpec], actor: AbstractBaseUser | None
) -> int:
    """Add the targets the subscription does not follow yet; how many were added or widened."""
    existing = {
        (target.kind, target.target.pk): target
        for target in subscription.targets.select_related(*_TARGET_RELATED)
    }
    changed = 0
    for spec in _unique(targets):
        current = existing.get(spec.key)
        if current is not None:
            if spec.include_descendants and not current.include_descendants:
                current.include_descendants = True
                _history(current, actor, "widened")
                current.save(update_fields=["include_descendants"])
                changed += 1
            continue
        target = SubscriptionTarget(
            subscription=subscription,
            kind=spec.kind,
            include_descendants=spec.include_descendants,
            **{_field_for(spec.kind): spec.record},
        )
        _history(target, actor, "added")
        target.save()
        existing[spec.key] = target
        changed += 1
    return changed


def _field_for(kind: str) -> str:
    """The foreign key of SubscriptionTarget that holds a target of ``kind``."""
    fields: dict[str, str] = {
        Kind.JURISDICTION: "jurisdiction",
        Kind.INITIATIVE: "initiative",
        Kind.FOCUS_AREA: "focus_area",
        Kind.ORGANIZATION: "organization",
    }
    return fields[kind]


def _send_confirmation(subscription: Subscription) -> None:
    with translation.override(subscription.language):
        context = {
            "subscription": subscription,
            "targets": [
                TargetSpec.from_target(t)
                for t in subscription.targets.select_related(*_TARGET_RELATED)
            ],
            "link": confirm_url(subscription),
            "days": confirm_days(),
        }
        outbox_email(
            kind=CONFIRM_EMAIL_KIND,
            to=subscription.email,
            subject=render_to_string("emails/subscription_confirm_subject.txt", context),
            body=render_to_string("emails/subscription_confirm.txt", context),
            html=render_to_string("emails/subscription_confirm.html", context),
        )


def _create_subscription(
    *,
    email: str,
    language: str,
    frequency: str,
    targets: Sequence[TargetSpec],
    user: AbstractBaseUser | None,
    confirmed: bool,
    reason: str,
) -> Subscription:
    _check_settings(frequency=frequency, language=language)
    if not targets:
        raise ValidationError(_("Choose something to follow."), code="no_targets")
    subscription = Subscription(
        email=normalise_email(email),
        language=language,
        frequency=frequency,
        user=user,  # type: ignore[misc]
        confirmed_at=timezone.now() if confirmed else None,
    )
    subscription.full_clean()
    _history(subscription, user, reason)
    subscription.save()
    _add_targets(subscription, targets, user)
    return subscription


@transaction.atomic
def subscription_request(
    *,
    email: str,
    language: str,
    frequency: str,
    targets: Sequence[TargetSpec],
    user: AbstractBaseUser | AnonymousUser | None = None,
    client_address: str | None = None,
) -> Subscription:
    """
    Store an unconfirmed subscription and email its confirmation link (double opt-in).

    With ``client_address``, refuses with RateLimited, storing nothing, once that
    client has asked ``ATLAS_SUBSCRIPTIONS_PER_HOUR`` times within the hour.
    Raises ValidationError for an unknown frequency or language or no targets.
    """
    if client_address is not None:
        retry_at = subscription_retry_at(client_address=client_address)
        if retry_at is not None:
            raise RateLimited(retry_at)
    subscription = _create_subscription(
        email=email,
        language=language,
        frequency=frequency,
        targets=targets,
        user=_actor(user),
        confirmed=False,
        reason="requested",
    )
    _send_confirmation(subscription)
    if client_address is not None:
        _count_request(client_address)
    return subscription


def _lock_address(email: str) -> list[Subscription]:
    """
    Lock every subscription of one address, in id order.

    Two confirmations for one address then run one after the other, and the
    second sees the first's active subscription and merges into it.
    """
    return list(
        Subscription.objects.select_for_update().filter(email=normalise_email(email)).order_by("pk")
    )


def _active_twin(rows: Iterable[Subscription], subscription: Subscription) -> Subscription | None:
    """Another active subscription of the same address, frequency and language."""
    return next(
        (
            row
            for row in rows
            if row.pk != subscription.pk
            and row.is_active
            and row.frequency == subscription.frequency
            and row.language == subscription.language
        ),
        None,
    )


def _merge_into(
    source: Subscription, survivor: Subscription, actor: AbstractBaseUser | None
) -> Subscription:
    """Give ``survivor`` the targets of ``source`` and cancel ``source``."""
    _add_targets(
        survivor,
        [TargetSpec.from_target(t) for t in source.targets.select_related(*_TARGET_RELATED)],
        actor,
    )
    if survivor.user_id is None and source.user_id is not None:
        survivor.user_id = source.user_id
        _history(survivor, actor, "account linked")
        survivor.save(update_fields=["user"])
    now = timezone.now()
    source.confirmed_at = source.confirmed_at or now
    source.cancelled_at = now
    _history(source, actor, f"merged into subscription {survivor.pk}")
    source.save(update_fields=["confirmed_at", "cancelled_at"])
    return survivor


@transaction.atomic
def subscription_confirm(*, token: str) -> Subscription:
    """
    Confirm the subscription a valid link names; returns the subscription now active.

    When the address already has an active subscription of the same frequency and
    language, the new targets join it and the newly confirmed one is cancelled.
    Confirming again changes nothing. A cancelled subscription stays cancelled.
    """
    pending = subscription_from_confirmation_token(token=token)
    rows = _lock_address(pending.email)
    locked = next((row for row in rows if row.pk == pending.pk), None)
    if locked is None:
        raise TokenInvalid
    if locked.cancelled_at is not None:
        # Merged earlier: the active twin is what the person has now.
        if locked.confirmed_at is not None:
            return _active_twin(rows, locked) or locked
        return locked
    if locked.confirmed_at is not None:
        return locked
    twin = _active_twin(rows, locked)
    if twin is not None:
        return _merge_into(locked, twin, None)
    locked.confirmed_at = timezone.now()
    _history(locked, None, "confirmed")
    locked.save(update_fields=["confirmed_at"])
    return locked


@transaction.atomic
def subscription_cancel(
    *, subscription: Subscription, actor: AbstractBaseUser | AnonymousUser | None = None
) -> Subscription:
    """Cancel one subscription; the address's others go on. Cancelling twice changes nothing."""
    locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if locked.cancelled_at is None:
        locked.cancelled_at = timezone.now()
        _history(locked, _actor(actor), "cancelled")
        locked.save(update_fields=["cancelled_at"])
    return locked


@transaction.atomic
def subscription_update(
    *,
    subscription: Subscription,
    frequency: str,
    language: str,
    actor: AbstractBaseUser | AnonymousUser | None = None,
) -> Subscription:
    """
    Change a subscription's frequency and language; returns the subscription that holds them.

    When the address already has an active subscription with the new settings,
    the targets move into that one and this one is cancelled, as on confirmation.
    """
    _check_settings(frequency=frequency, language=language)
    acting = _actor(actor)
    rows = _lock_address(subscription.email)
    locked = next((row for row in rows if row.pk == subscription.pk), None)
    if locked is None or locked.cancelled_at is not None:
        raise ValidationError(_("This subscription has been cancelled."), code="cancelled")
    if locked.frequency == frequency and locked.language == language:
        return locked
    locked.frequency = frequency
    locked.language = language
    if locked.is_active:
        twin = _active_twin(rows, locked)
        if twin is not None:
            return _merge_into(locked, twin, acting)
    _history(locked, acting, "settings changed")
    locked.save(update_fields=["frequency", "language"])
    return locked


@transaction.atomic
def subscription_target_remove(
    *, target: SubscriptionTarget, actor: AbstractBaseUser | AnonymousUser | None = None
) -> Subscription:
    """
    Stop following one target. Removing the last one cancels the subscription,
    which would otherwise be kept for digests that can never hold anything.
    """
    acting = _actor(actor)
    subscription = Subscription.objects.select_for_update().get(pk=target.subscription_id)
    row = SubscriptionTarget.objects.filter(pk=target.pk).first()
    if row is not None:
        _history(row, acting, "removed")
        row.delete()
    if subscription.cancelled_at is None and not subscription.targets.exists():
        subscription.cancelled_at = timezone.now()
        _history(subscription, acting, "last target removed")
        subscription.save(update_fields=["cancelled_at"])
    return subscription


ImportOutcome = Literal["created", "awaiting_confirmation", "updated", "unchanged"]


@transaction.atomic
def subscription_import(
    *,
    email: str,
    language: str,
    frequency: str,
    targets: Sequence[TargetSpec],
    confirmed: bool,
) -> ImportOutcome:
    """
    Bring one subscriber of an existing mailing list in; importing it again changes nothing.

    A confirmed subscriber joins the address's active subscription of the same
    frequency and language, or gets one. An unconfirmed one gets a pending
    subscription and a confirmation email, unless the targets are already all
    followed or already waiting for confirmation.
    """
    _check_settings(frequency=frequency, language=language)
    wanted = {spec.key for spec in _unique(targets)}
    rows = _lock_address(email)
    same = [
        row
        for row in rows
        if row.cancelled_at is None and row.frequency == frequency and row.language == language
    ]
    active = next((row for row in same if row.is_active), None)
    if active is not None:
        followed = {(t.kind, t.target.pk) for t in active.targets.select_related(*_TARGET_RELATED)}
        if wanted <= followed:
            return "unchanged"
        if confirmed:
            _add_targets(active, targets, None)
            return "updated"
    if not confirmed:
        for row in same:
            if row.confirmed_at is None:
                keys = {(t.kind, t.target.pk) for t in row.targets.select_related(*_TARGET_RELATED)}
                if keys == wanted:
                    return "unchanged"
    subscription = _create_subscription(
        email=email,
        language=language,
        frequency=frequency,
        targets=targets,
        user=None,
        confirmed=confirmed,
        reason="imported",
    )
    if confirmed:
        return "created"
    _send_confirmation(subscription)
    return "awaiting_confirmation"
