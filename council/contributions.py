"""
Suggestions and comments from the public, and their moderation: services and selectors.

A contribution is stored unconfirmed and its author is emailed a signed link.
Following the link and pressing the button on its page puts the contribution in
the moderation queue of its jurisdiction's reviewers. Each client address may
send at most ``ATLAS_CONTRIBUTIONS_PER_HOUR`` an hour, counted from the stored
rows by a keyed digest of the address, so the address itself is never kept.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from urllib.parse import urljoin

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from cities.models import Jurisdiction
from council import permissions
from council.models import Contribution
from initiatives.models import ContentLanguage, Initiative, PublicationState
from initiatives.outbox import outbox_email
from initiatives.services import save_with_history

CONFIRM_SALT = "council.contributions.confirm"
RATE_WINDOW = datetime.timedelta(hours=1)
_SLUG_MAX_LENGTH = Initiative._meta.get_field("slug").max_length or 120


class RateLimited(Exception):
    """The client has sent as many contributions as an hour allows."""

    def __init__(self, retry_at: datetime.datetime) -> None:
        super().__init__(retry_at)
        self.retry_at = retry_at


class ConfirmationInvalid(Exception):
    """A confirmation link that was altered, has expired, or names no contribution."""

    def __init__(self, *, expired: bool) -> None:
        super().__init__(expired)
        self.expired = expired


# ------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------


def client_digest(address: str) -> str:
    """
    HMAC-SHA256 of the client address under SECRET_KEY.

    Keyed, so the stored digest cannot be reversed by hashing every IPv4 address.
    An IPv6 address counts as its /64 network: one client is usually given a
    whole /64 and could otherwise pick a fresh address for every submission.
    """
    key = address
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        parsed = None
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            key = str(parsed.ipv4_mapped)
        else:
            key = str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return hmac.new(
        settings.SECRET_KEY.encode(), key.encode(), digestmod=hashlib.sha256
    ).hexdigest()


def site_language(language: str | None) -> str:
    """``language`` when the site offers it, else the default: mail is never sent in a stray one."""
    offered = {code for code, _name in settings.LANGUAGES}
    return language if language in offered else settings.LANGUAGE_CODE


def confirmation_token(contribution: Contribution) -> str:
    return signing.dumps({"contribution": contribution.pk}, salt=CONFIRM_SALT)


def _confirm_max_age() -> datetime.timedelta:
    return datetime.timedelta(days=settings.ATLAS_CONTRIBUTION_CONFIRM_DAYS)


def _send_confirmation(contribution: Contribution, link: str) -> None:
    with translation.override(contribution.language):
        context = {
            "contribution": contribution,
            "link": link,
            "days": settings.ATLAS_CONTRIBUTION_CONFIRM_DAYS,
        }
        subject = render_to_string("emails/contribution_confirm_subject.txt", context)
        outbox_email(
            kind="contribution_confirm",
            to=contribution.email,
            subject=subject,
            body=render_to_string("emails/contribution_confirm.txt", context),
            html=render_to_string("emails/contribution_confirm.html", context),
        )


# ------------------------------------------------------------------------------
# Selectors
# ------------------------------------------------------------------------------


def contribution_retry_at(*, digest: str, now: datetime.datetime) -> datetime.datetime | None:
    """When the client may send again, or None when it may send now."""
    limit: int = settings.ATLAS_CONTRIBUTIONS_PER_HOUR
    recent = list(
        Contribution.objects.filter(client_digest=digest, created_at__gt=now - RATE_WINDOW)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(recent) < limit:
        return None
    # The oldest of the last ``limit`` leaves the window first.
    return recent[-1] + RATE_WINDOW


def confirm_days() -> int:
    return int(settings.ATLAS_CONTRIBUTION_CONFIRM_DAYS)


def commentable_initiative(*, slug: str) -> Initiative:
    """A published initiative, the only kind the public may comment on; else a 404."""
    return get_object_or_404(
        Initiative.objects.filter(publication_state=PublicationState.PUBLISHED).select_related(
            "jurisdiction"
        ),
        slug=slug,
    )


def moderation_queue(*, user: permissions.AnyUser) -> models.QuerySet[Contribution]:
    """Confirmed contributions waiting for a decision, in the user's reviewing scope."""
    return (
        Contribution.objects.filter(
            state=Contribution.State.PENDING,
            jurisdiction__in=permissions.reviewable_jurisdictions(user),
        )
        .select_related("jurisdiction", "initiative")
        .order_by("confirmed_at", "pk")
    )


def contribution_for_moderation(*, user: permissions.AnyUser, pk: int) -> Contribution:
    """
    The contribution ``pk`` when the user's council answers for its jurisdiction.

    Another jurisdiction's contribution is a 404; the caller refuses a missing role with a 403.
    """
    contribution = (
        Contribution.objects.select_related("jurisdiction", "initiative").filter(pk=pk).first()
    )
    if contribution is None or not permissions.can_view_unpublished(
        user, contribution.jurisdiction
    ):
        raise Http404
    return contribution


@dataclass(frozen=True)
class InitiativeContributions:
    """What the public gave an initiative: accepted comments, and who suggested it."""

    comments: list[Contribution]
    suggested_by: str


def initiative_contributions(*, initiative: Initiative) -> InitiativeContributions:
    """Accepted comments and the suggestion's author in one query. Emails are never read."""
    rows = list(
        Contribution.objects.filter(
            models.Q(
                initiative=initiative,
                kind=Contribution.Kind.COMMENT,
                state=Contribution.State.ACCEPTED,
            )
            | models.Q(draft=initiative, state=Contribution.State.ACCEPTED)
        )
        .only("kind", "name", "body", "created_at", "draft_id")
        .order_by("created_at", "pk")
    )
    return InitiativeContributions(
        comments=[row for row in rows if row.kind == Contribution.Kind.COMMENT],
        suggested_by=next(
            (row.name for row in rows if row.draft_id == initiative.pk),
            "",
        ),
    )


# ------------------------------------------------------------------------------
# Services
# ------------------------------------------------------------------------------


@transaction.atomic
def contribution_submit(
    *,
    kind: str,
    jurisdiction: Jurisdiction,
    name: str,
    email: str,
    body: str,
    client_address: str,
    link_base: str,
    language: str,
    title: str = "",
    url: str = "",
    initiative: Initiative | None = None,
) -> Contribution:
    """
    Store an unconfirmed contribution and email its author the confirmation link.

    Raises RateLimited, storing nothing, once the client has sent its hourly
    share. ``link_base`` is the site's absolute root, such as
    ``https://atlas.example/``; the link in the email is built on it.
    Concurrent submissions from one address may slip one or two past the limit;
    a lock for that would serialise every visitor's submission.
    """
    if kind == Contribution.Kind.COMMENT and (
        initiative is None or initiative.publication_state != PublicationState.PUBLISHED
    ):
        raise ValidationError(
            _("Only published initiatives can be commented on."), code="not_published"
        )
    digest = client_digest(client_address)
    now = timezone.now()
    retry_at = contribution_retry_at(digest=digest, now=now)
    if retry_at is not None:
        raise RateLimited(retry_at)

    contribution = Contribution(
        kind=kind,
        jurisdiction=jurisdiction,
        initiative=initiative,
        name=name,
        email=email,
        title=title,
        body=body,
        url=url,
        language=site_language(language),
        client_digest=digest,
    )
    contribution._history_user = None  # type: ignore[attr-defined]
    contribution._change_reason = "submitted"  # type: ignore[attr-defined]
    contribution.full_clean()
    contribution.save()

    with translation.override(contribution.language):
        path = reverse(
            "council:contributions:confirm", kwargs={"token": confirmation_token(contribution)}
        )
    link = urljoin(link_base, path)
    # After commit: a rolled-back contribution must not have sent mail.
    transaction.on_commit(lambda: _send_confirmation(contribution, link))
    return contribution


def contribution_from_token(*, token: str) -> Contribution:
    """The contribution a confirmation link names; ConfirmationInvalid when the link is bad."""
    try:
        payload = signing.loads(token, salt=CONFIRM_SALT, max_age=_confirm_max_age())
    except signing.SignatureExpired:
        raise ConfirmationInvalid(expired=True) from None
    except signing.BadSignature:
        raise ConfirmationInvalid(expired=False) from None
    pk = payload.get("contribution") if isinstance(payload, dict) else None
    contribution = Contribution.objects.filter(pk=pk).first() if isinstance(pk, int) else None
    if contribution is None:
        raise ConfirmationInvalid(expired=False)
    return contribution


@transaction.atomic
def contribution_confirm(*, token: str) -> Contribution:
    """
    Move the contribution a valid link names into the moderation queue.

    Confirming twice changes nothing: only an unconfirmed contribution moves.
    """
    contribution = contribution_from_token(token=token)
    locked = Contribution.objects.select_for_update().get(pk=contribution.pk)
    if locked.state != Contribution.State.UNCONFIRMED:
        return locked
    locked.state = Contribution.State.PENDING
    locked.confirmed_at = timezone.now()
    locked._history_user = None  # type: ignore[attr-defined]
    locked._change_reason = "confirmed"  # type: ignore[attr-defined]
    locked.save(update_fields=["state", "confirmed_at"])
    return locked


def _lock_pending(contribution: Contribution, actor: AbstractBaseUser) -> Contribution:
    if not permissions.can_moderate(actor, contribution.jurisdiction):
        raise PermissionDenied(_("You may not moderate contributions of this jurisdiction."))
    locked = (
        Contribution.objects.select_for_update(of=("self",))
        .select_related("jurisdiction")
        .get(pk=contribution.pk)
    )
    if locked.state != Contribution.State.PENDING:
        raise ValidationError(
            _("This contribution has already been moderated."), code="not_pending"
        )
    return locked


# Tries at a free slug for an accepted suggestion's draft before giving up.
_SLUG_ATTEMPTS = 3


def _unique_initiative_slug(title: str, *, salt: str = "") -> str:
    """A slug from ``title`` that no initiative holds yet, with -2, -3 … when needed."""
    base = slugify(title)[: _SLUG_MAX_LENGTH - 8].strip("-") or "suggestion"
    if salt:
        base = f"{base[: _SLUG_MAX_LENGTH - 8 - len(salt) - 1]}-{salt}"
    taken = set(Initiative.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def _draft_from(contribution: Contribution, actor: AbstractBaseUser) -> Initiative:
    """
    The draft initiative an accepted suggestion becomes.

    This follows ``initiatives.services.initiative_create`` but asks for the
    moderating right instead of the editing one: moderation is a reviewer's job,
    and a reviewer could otherwise never accept a suggestion. The result is only
    a draft, which still goes through editing and review before anyone sees it.
    """
    description = contribution.body
    if contribution.url:
        description = f"{description}\n\n{_('Link')}: <{contribution.url}>"
    language = (
        contribution.language
        if contribution.language in ContentLanguage.values
        else ContentLanguage.ENGLISH
    )
    source = contribution.title or contribution.name
    slug = _unique_initiative_slug(source)
    for _attempt in range(_SLUG_ATTEMPTS):
        initiative = Initiative(
            jurisdiction=contribution.jurisdiction,
            title=contribution.title or _("Suggestion from %(name)s") % {"name": contribution.name},
            slug=slug,
            description=description,
            language=language,
            publication_state=PublicationState.DRAFT,
            published_at=None,
        )
        try:
            # A savepoint: a slug taken meanwhile leaves the transaction usable to try again.
            with transaction.atomic():
                return save_with_history(initiative, actor=actor, reason="suggested by the public")
        except IntegrityError:
            pass
        except ValidationError as error:
            if "slug" not in getattr(error, "error_dict", {}):
                raise
        # Another draft took the slug between the check and the insert.
        slug = _unique_initiative_slug(source, salt=secrets.token_hex(3))
    raise ValidationError(
        _("The draft could not be given an address just now. Try again."), code="slug_taken"
    )


@transaction.atomic
def contribution_accept(
    *, contribution: Contribution, actor: AbstractBaseUser, note: str = ""
) -> Contribution:
    """
    Accept a pending contribution. A suggestion becomes a draft initiative credited
    to its author; a comment appears on its initiative's page.
    """
    locked = _lock_pending(contribution, actor)
    if locked.kind == Contribution.Kind.SUGGESTION:
        locked.draft = _draft_from(locked, actor)
    locked.state = Contribution.State.ACCEPTED
    locked.moderated_by = actor  # type: ignore[assignment]
    locked.moderated_at = timezone.now()
    locked.moderation_note = note
    locked._history_user = actor  # type: ignore[attr-defined]
    locked._change_reason = "accepted"  # type: ignore[attr-defined]
    locked.save(update_fields=["state", "moderated_by", "moderated_at", "moderation_note", "draft"])
    return locked


@transaction.atomic
def contribution_reject(
    *, contribution: Contribution, actor: AbstractBaseUser, note: str = ""
) -> Contribution:
    """Reject a pending contribution. It is kept, with who decided, when and why."""
    locked = _lock_pending(contribution, actor)
    locked.state = Contribution.State.REJECTED
    locked.moderated_by = actor  # type: ignore[assignment]
    locked.moderated_at = timezone.now()
    locked.moderation_note = note
    locked._history_user = actor  # type: ignore[attr-defined]
    locked._change_reason = "rejected"  # type: ignore[attr-defined]
    locked.save(update_fields=["state", "moderated_by", "moderated_at", "moderation_note"])
    return locked
