"""
What a subscriber's digest says: the changes of one period to the things they follow.

A digest is read from ``ChangeEvent`` rows (written with each change) plus the
milestones that fell overdue in the period, which need no event: their due date
says when. Everything here is a read; sending is the delivery code's business.

Building is done for many subscriptions at once: a period's changes are loaded
once (a fixed handful of queries) and indexed by jurisdiction, initiative, focus
area and organization, so each subscription is matched in memory and the number
of queries does not grow with subscribers, targets or events.
"""

from __future__ import annotations

import datetime
import re
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from cities.models import PATH_SEPARATOR
from council.models import CoalitionMembership
from initiatives.models import (
    ChangeEvent,
    Frequency,
    Initiative,
    Milestone,
    Partnership,
    PublicationState,
    Subscription,
    SubscriptionTarget,
)
from initiatives.outbox import site_url

# ------------------------------------------------------------------------------
# Periods
# ------------------------------------------------------------------------------

_DAY = datetime.timedelta(days=1)
_SPANS = {Frequency.DAILY: _DAY, Frequency.WEEKLY: 7 * _DAY}
_DAILY_KEY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WEEKLY_KEY = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class Period:
    """
    The half-open span [start, end) in UTC one digest covers, and its ledger key.

    Keys are "2026-11-26" for a day and "2026-W48" for an ISO week (Monday to Monday).
    """

    frequency: str
    key: str
    start: datetime.datetime
    end: datetime.datetime

    def __contains__(self, moment: datetime.datetime) -> bool:
        return self.start <= moment < self.end

    @property
    def first_day(self) -> datetime.date:
        return self.start.date()

    @property
    def last_day(self) -> datetime.date:
        return (self.end - _DAY).date()

    def previous(self) -> Period:
        return _period_starting(self.frequency, self.start - _SPANS[Frequency(self.frequency)])


def _frequency(frequency: str) -> Frequency:
    try:
        return Frequency(frequency)
    except ValueError:
        raise ValueError(f"Unknown digest frequency: {frequency!r}") from None


def _period_starting(frequency: str, start: datetime.datetime) -> Period:
    freq = _frequency(frequency)
    if freq == Frequency.DAILY:
        key = start.date().isoformat()
    else:
        year, week, _weekday = start.isocalendar()
        key = f"{year}-W{week:02d}"
    return Period(freq.value, key, start, start + _SPANS[freq])


def period_containing(frequency: str, moment: datetime.datetime) -> Period:
    """The period ``moment`` falls in: the one still running at ``moment``."""
    freq = _frequency(frequency)
    if timezone.is_naive(moment):
        raise ValueError("A period is found from an aware datetime.")
    utc = moment.astimezone(datetime.UTC)
    start = datetime.datetime.combine(utc.date(), datetime.time.min, tzinfo=datetime.UTC)
    if freq == Frequency.WEEKLY:
        start -= utc.weekday() * _DAY
    return _period_starting(freq, start)


def period_for(frequency: str, moment: datetime.datetime) -> Period:
    """
    The period that ended most recently at or before ``moment``: the one a run at
    ``moment`` sends. At 2026-11-27 00:00 UTC the daily one is 2026-11-26.
    """
    return period_containing(frequency, moment).previous()


def period_from_key(frequency: str, key: str) -> Period:
    """The period a ledger key names; ValueError for a key that names none."""
    freq = _frequency(frequency)
    refused = ValueError(f"Not a {freq.value} period key: {key!r}")
    try:
        if freq == Frequency.DAILY:
            if not _DAILY_KEY.match(key):
                raise refused
            day = datetime.date.fromisoformat(key)
        else:
            match = _WEEKLY_KEY.match(key)
            if match is None:
                raise refused
            # fromisocalendar refuses week 0 and a week 53 the year does not have.
            day = datetime.date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError as error:
        raise refused from error
    period = _period_starting(
        freq, datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)
    )
    if period.key != key:
        raise refused
    return period


# ------------------------------------------------------------------------------
# The digest
# ------------------------------------------------------------------------------

MILESTONE_OVERDUE = "milestone_overdue"
# What a digest reports; updates to a record's text are not news for subscribers.
REPORTED_KINDS = (
    ChangeEvent.Kind.INITIATIVE_PUBLISHED,
    ChangeEvent.Kind.STATUS_CHANGED,
    ChangeEvent.Kind.MILESTONE_COMPLETED,
    ChangeEvent.Kind.COALITION_MEMBER_ADDED,
    ChangeEvent.Kind.PLAN_PUBLISHED,
)
_PUBLISHED_KINDS = frozenset(
    {ChangeEvent.Kind.INITIATIVE_PUBLISHED, ChangeEvent.Kind.PLAN_PUBLISHED}
)


@dataclass(frozen=True)
class DigestItem:
    """One change, as the subscriber reads it: already in their language, links absolute."""

    kind: str
    label: str
    title: str
    url: str
    when: datetime.datetime
    details: str
    # ``when`` as the subscriber reads it; formatted once per language, not per email.
    day: str = ""


@dataclass(frozen=True)
class DigestGroup:
    """The changes to one followed thing, newest first."""

    label: str
    url: str
    kind: str
    items: list[DigestItem]


@dataclass(frozen=True)
class Digest:
    subscription: Subscription
    period: Period
    language: str
    groups: list[DigestGroup] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not any(group.items for group in self.groups)

    @property
    def item_count(self) -> int:
        return sum(len(group.items) for group in self.groups)


@dataclass
class _Change:
    """A change of the period, before it is put in words: shared by every digest."""

    key: tuple[Any, ...]
    when: datetime.datetime
    order: int
    jurisdiction_id: int
    jurisdiction_path: str
    initiative: Initiative | None
    event: ChangeEvent | None = None
    milestone: Milestone | None = None

    @property
    def initiative_id(self) -> int | None:
        return self.initiative.pk if self.initiative is not None else None


class PeriodChanges:
    """
    Every public change of one period, indexed for matching subscriptions.

    Load it once per period (``load_changes``) and pass it to ``build_digests_for``
    for each chunk of subscribers: the chunks then cost no query for the changes.
    """

    def __init__(self, period: Period, changes: list[_Change], links: _InitiativeLinks) -> None:
        self.period = period
        self.changes = changes
        self.by_jurisdiction: dict[int, list[_Change]] = defaultdict(list)
        self.by_subtree: dict[int, list[_Change]] = defaultdict(list)
        self.by_initiative: dict[int, list[_Change]] = defaultdict(list)
        self.by_focus_area: dict[int, list[_Change]] = defaultdict(list)
        self.by_organization: dict[int, list[_Change]] = defaultdict(list)
        # Filled in order, so each list is newest first like ``changes``.
        for change in changes:
            self.by_jurisdiction[change.jurisdiction_id].append(change)
            for part in change.jurisdiction_path.split(PATH_SEPARATOR):
                if part:
                    self.by_subtree[int(part)].append(change)
            organizations: set[int] = set()
            if change.event is not None and change.event.organization_id is not None:
                organizations.add(change.event.organization_id)
            initiative = change.initiative
            if initiative is not None:
                self.by_initiative[initiative.pk].append(change)
                for focus_area_id in links.focus_areas.get(initiative.pk, ()):
                    self.by_focus_area[focus_area_id].append(change)
                if initiative.lead_organization_id is not None:
                    organizations.add(initiative.lead_organization_id)
                organizations.update(links.partners.get(initiative.pk, ()))
            for organization_id in organizations:
                self.by_organization[organization_id].append(change)
        self._items: dict[tuple[str, tuple[Any, ...]], DigestItem] = {}

    def __len__(self) -> int:
        return len(self.changes)

    def matching(self, target: SubscriptionTarget) -> list[_Change]:
        """The target's changes, newest first."""
        match target.kind:
            case SubscriptionTarget.Kind.JURISDICTION:
                index = self.by_subtree if target.include_descendants else self.by_jurisdiction
                return index.get(target.jurisdiction_id or 0, [])
            case SubscriptionTarget.Kind.INITIATIVE:
                return self.by_initiative.get(target.initiative_id or 0, [])
            case SubscriptionTarget.Kind.FOCUS_AREA:
                return self.by_focus_area.get(target.focus_area_id or 0, [])
            case SubscriptionTarget.Kind.ORGANIZATION:
                return self.by_organization.get(target.organization_id or 0, [])
        return []

    def item(self, change: _Change, language: str) -> DigestItem:
        """The change in words, in the active language (cached per language)."""
        cache_key = (language, change.key)
        item = self._items.get(cache_key)
        if item is None:
            item = _item_for(change)
            self._items[cache_key] = item
        return item


@dataclass
class _InitiativeLinks:
    focus_areas: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    partners: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))


def _load_links(initiative_ids: set[int]) -> _InitiativeLinks:
    links = _InitiativeLinks()
    if not initiative_ids:
        return links
    through: Any = Initiative.focus_areas.through
    for initiative_id, focus_area_id in through.objects.filter(
        initiative_id__in=initiative_ids
    ).values_list("initiative_id", "focusarea_id"):
        links.focus_areas[initiative_id].add(focus_area_id)
    for initiative_id, organization_id in Partnership.objects.filter(
        initiative_id__in=initiative_ids
    ).values_list("initiative_id", "organization_id"):
        links.partners[initiative_id].add(organization_id)
    return links


def _is_public(event: ChangeEvent) -> bool:
    # A record archived (or sent back to draft) since the event is no longer shown.
    if event.initiative_id is not None:
        return event.initiative is not None and event.initiative.is_public
    if event.plan_id is not None:
        return event.plan is not None and event.plan.publication_state == PublicationState.PUBLISHED
    return True


def _event_key(event: ChangeEvent) -> tuple[Any, ...]:
    # A record published twice in one period (archived and brought back) is one change.
    if event.kind in _PUBLISHED_KINDS:
        return ("published", event.kind, event.initiative_id, event.plan_id)
    return ("event", event.pk)


def load_changes(period: Period, *, now: datetime.datetime | None = None) -> PeriodChanges:
    """
    The period's public changes: four queries, however many there are.

    ``now`` matters for a period still running (a preview): only milestones already
    overdue at ``now`` count.
    """
    now = now or timezone.now()
    events = (
        ChangeEvent.objects.filter(
            kind__in=REPORTED_KINDS, occurred_at__gte=period.start, occurred_at__lt=period.end
        )
        .select_related("jurisdiction", "initiative", "plan")
        .order_by("-occurred_at", "-pk")
    )
    # A milestone is overdue the day after its due date.
    overdue_before = min(period.end, now).astimezone(datetime.UTC).date()
    milestones = (
        Milestone.objects.filter(
            completed_on__isnull=True,
            due_date__gte=period.first_day,
            due_date__lt=overdue_before,
            initiative__publication_state=PublicationState.PUBLISHED,
        )
        .select_related("initiative__jurisdiction")
        .defer("initiative__search_document")
        .order_by("-due_date", "-pk")
    )
    changes: list[_Change] = []
    seen: set[tuple[Any, ...]] = set()
    for event in events:
        key = _event_key(event)
        if key in seen or not _is_public(event):
            continue
        seen.add(key)
        changes.append(
            _Change(
                key=key,
                when=event.occurred_at,
                order=event.pk,
                jurisdiction_id=event.jurisdiction_id,
                jurisdiction_path=event.jurisdiction.path,
                initiative=event.initiative,
                event=event,
            )
        )
    for milestone in milestones:
        initiative = milestone.initiative
        changes.append(
            _Change(
                key=(MILESTONE_OVERDUE, milestone.pk),
                # Sorted as of the end of its due day, the last moment it was on time.
                when=datetime.datetime.combine(
                    milestone.due_date or period.first_day, datetime.time.max, tzinfo=datetime.UTC
                ),
                order=milestone.pk,
                jurisdiction_id=initiative.jurisdiction_id,
                jurisdiction_path=initiative.jurisdiction.path,
                initiative=initiative,
                milestone=milestone,
            )
        )
    changes.sort(key=lambda change: (change.when, change.order), reverse=True)
    initiative_ids = {c.initiative_id for c in changes if c.initiative_id is not None}
    return PeriodChanges(period, changes, _load_links(initiative_ids))


def _format_date(value: datetime.date | str | None) -> str:
    """A date in the active language's format; details keep dates as ISO strings."""
    if not value:
        return ""
    if isinstance(value, datetime.date):
        return date_format(value, "DATE_FORMAT")
    try:
        return date_format(datetime.date.fromisoformat(value), "DATE_FORMAT")
    except ValueError:
        return value


def _choice_label(choices: Any, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


def _item_for(change: _Change) -> DigestItem:
    """Put a change in words, in the active language."""
    if change.milestone is not None:
        milestone = change.milestone
        initiative = milestone.initiative
        return DigestItem(
            kind=MILESTONE_OVERDUE,
            label=_("Milestone overdue"),
            title=initiative.title,
            url=site_url(initiative.get_absolute_url()),
            when=change.when,
            details=_("%(milestone)s was due on %(date)s.")
            % {"milestone": milestone.title, "date": _format_date(milestone.due_date)},
            day=_format_date(milestone.due_date),
        )
    event = change.event
    if event is None:
        raise ValueError("A change is an event or an overdue milestone.")
    info: dict[str, Any] = event.details or {}
    kind = ChangeEvent.Kind(event.kind)
    record = event.initiative or event.plan
    # The title as it was when the change happened; the record's own when missing.
    title = str(info.get("title") or record or "")
    url = site_url(record.get_absolute_url()) if record is not None else ""
    details = ""
    match kind:
        case ChangeEvent.Kind.INITIATIVE_PUBLISHED:
            if info.get("status"):
                details = _("Status: %(status)s.") % {
                    "status": _choice_label(Initiative.Status, info["status"])
                }
        case ChangeEvent.Kind.STATUS_CHANGED:
            details = _("From %(old)s to %(new)s.") % {
                "old": _choice_label(Initiative.Status, info.get("old_status")),
                "new": _choice_label(Initiative.Status, info.get("new_status")),
            }
        case ChangeEvent.Kind.MILESTONE_COMPLETED:
            details = _("%(milestone)s, completed on %(date)s.") % {
                "milestone": info.get("milestone", ""),
                "date": _format_date(info.get("completed_on")),
            }
        case ChangeEvent.Kind.COALITION_MEMBER_ADDED:
            # A coalition is shown on its jurisdiction's page.
            url = site_url(event.jurisdiction.get_absolute_url() + "#coalition")
            details = _("%(organization)s joined as %(role)s.") % {
                "organization": info.get("organization", ""),
                "role": _choice_label(CoalitionMembership.Role, info.get("role")).lower(),
            }
    return DigestItem(
        kind=kind.value,
        label=str(kind.label),
        title=title,
        url=url,
        when=change.when,
        details=details,
        day=_format_date(change.when.astimezone(datetime.UTC).date()),
    )


def _language(subscription: Subscription) -> str:
    languages = {code for code, _name in settings.LANGUAGES}
    return subscription.language if subscription.language in languages else settings.LANGUAGE_CODE


def _group_for(target: SubscriptionTarget, items: list[DigestItem]) -> DigestGroup:
    record: Any = target.target
    return DigestGroup(
        label=str(record),
        url=site_url(record.get_absolute_url()),
        kind=target.kind,
        items=items,
    )


def _digest(
    subscription: Subscription,
    targets: Sequence[SubscriptionTarget],
    changes: PeriodChanges,
) -> Digest:
    language = _language(subscription)
    groups: list[DigestGroup] = []
    seen: set[tuple[Any, ...]] = set()
    with translation.override(language):
        for target in targets:
            items = []
            for change in changes.matching(target):
                # Under the first target that matches it, and nowhere else.
                if change.key in seen:
                    continue
                seen.add(change.key)
                items.append(changes.item(change, language))
            if items:
                groups.append(_group_for(target, items))
    return Digest(
        subscription=subscription, period=changes.period, language=language, groups=groups
    )


def _targets_of(subscriptions: Sequence[Subscription]) -> dict[int, list[SubscriptionTarget]]:
    by_subscription: dict[int, list[SubscriptionTarget]] = defaultdict(list)
    if not subscriptions:
        return by_subscription
    targets = (
        SubscriptionTarget.objects.filter(subscription__in=[s.pk for s in subscriptions])
        .select_related("jurisdiction", "initiative", "focus_area", "organization")
        .order_by("subscription_id", "pk")
    )
    for target in targets:
        by_subscription[target.subscription_id].append(target)
    return by_subscription


def build_digests_for(
    subscriptions: Iterable[Subscription],
    period: Period,
    *,
    changes: PeriodChanges | None = None,
    now: datetime.datetime | None = None,
) -> list[Digest]:
    """
    The digests of ``subscriptions`` for ``period``, in the order given.

    Costs one query for the targets plus, unless ``changes`` is passed, four for the
    period's changes: the same for 1 subscription or 1,000. A run over many chunks
    loads the changes once (``load_changes``) and passes them to every chunk.
    Subscriptions are taken as given: whether they are active is the caller's call.
    """
    subscriptions = list(subscriptions)
    if changes is None:
        changes = load_changes(period, now=now)
    elif changes.period != period:
        raise ValueError("The changes were loaded for another period.")
    targets = _targets_of(subscriptions)
    return [_digest(s, targets.get(s.pk, []), changes) for s in subscriptions]


def build_digest(
    *, subscription: Subscription, period: Period, now: datetime.datetime | None = None
) -> Digest:
    """What changed in ``period`` for what ``subscription`` follows, grouped by target."""
    return build_digests_for([subscription], period, now=now)[0]


# ------------------------------------------------------------------------------
# The email
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str


def _digest_context(
    digest: Digest, *, subscription: Subscription, unsubscribe_url: str, manage_url: str
) -> dict[str, Any]:
    period = digest.period
    return {
        "digest": digest,
        "subscription": subscription,
        "period": period,
        "daily": period.frequency == Frequency.DAILY,
        "first_day": period.first_day,
        "last_day": period.last_day,
        "unsubscribe_url": unsubscribe_url,
        "manage_url": manage_url,
        "home_url": site_url("/" + digest.language + "/"),
        "language": digest.language,
    }


def digest_html_body(
    digest: Digest, *, subscription: Subscription, unsubscribe_url: str = "", manage_url: str = ""
) -> SafeString:
    """The digest email's HTML without its document wrapper, to show inside a page."""
    context = _digest_context(
        digest, subscription=subscription, unsubscribe_url=unsubscribe_url, manage_url=manage_url
    )
    with translation.override(digest.language):
        return SafeString(render_to_string("emails/digest.html#body", context))


def render_digest(
    digest: Digest, *, subscription: Subscription, unsubscribe_url: str, manage_url: str
) -> EmailContent:
    """
    The digest as an email in the subscriber's language: subject, plain text and HTML.

    ``unsubscribe_url`` and ``manage_url`` are the subscriber's own signed links, made
    by whoever sends; an empty one is left out (the staff preview has none).
    """
    context = _digest_context(
        digest, subscription=subscription, unsubscribe_url=unsubscribe_url, manage_url=manage_url
    )
    with translation.override(digest.language):
        subject = render_to_string("emails/digest_subject.txt", context)
        return EmailContent(
            # Header injection and stray template newlines: a subject is one line.
            subject=" ".join(subject.split()),
            text=render_to_string("emails/digest.txt", context),
            html=render_to_string("emails/digest.html", context),
        )


class DigestRenderer:
    """
    Renders digests for one batch, each distinct digest once.

    Subscribers who follow the same things in the same language get the same email
    but for their personal links, so a digest is rendered once with a marker in place
    of each link, and each copy gets its own links by substitution: in the HTML
    escaped as the template would escape them, in the text as they are. The digest
    templates use nothing else of the subscriber; ``tests/digests`` holds the copies
    to what rendering each one would give.
    """

    def __init__(self) -> None:
        # Unguessable, so no change's text can contain one; letters, digits and hyphens
        # only, so autoescaping leaves them as they are.
        mark = secrets.token_hex(8)
        self._unsubscribe_mark = f"atlas-{mark}-unsubscribe"
        self._manage_mark = f"atlas-{mark}-manage"
        self._rendered: dict[tuple[Any, ...], EmailContent] = {}

    def render(
        self, digest: Digest, *, subscription: Subscription, unsubscribe_url: str, manage_url: str
    ) -> EmailContent:
        """What ``render_digest`` gives for these arguments."""
        if not unsubscribe_url or not manage_url:
            # A missing link leaves out a paragraph; rare enough to render in full.
            return render_digest(
                digest,
                subscription=subscription,
                unsubscribe_url=unsubscribe_url,
                manage_url=manage_url,
            )
        key = (
            digest.language,
            digest.period,
            tuple((g.label, g.url, g.kind, tuple(g.items)) for g in digest.groups),
        )
        shared = self._rendered.get(key)
        if shared is None:
            shared = render_digest(
                digest,
                subscription=subscription,
                unsubscribe_url=self._unsubscribe_mark,
                manage_url=self._manage_mark,
            )
            self._rendered[key] = shared
        return EmailContent(
            subject=shared.subject,
            text=shared.text.replace(self._unsubscribe_mark, unsubscribe_url).replace(
                self._manage_mark, manage_url
            ),
            html=shared.html.replace(self._unsubscribe_mark, escape(unsubscribe_url)).replace(
                self._manage_mark, escape(manage_url)
            ),
        )


# ------------------------------------------------------------------------------
# The staff preview
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestPreview:
    """One digest as the staff preview shows it: the email and its HTML body."""

    digest: Digest
    email: EmailContent
    body: SafeString


@dataclass(frozen=True)
class SubscriptionPreview:
    subscription: Subscription
    targets: list[SubscriptionTarget]
    running: DigestPreview
    last: DigestPreview


def subscriptions_of(email: str) -> list[Subscription]:
    """Every subscription of an address, cancelled and unconfirmed ones too, oldest first."""
    return list(Subscription.objects.filter(email__iexact=email.strip()).order_by("pk"))


def preview_digests(
    *, subscriptions: Sequence[Subscription], now: datetime.datetime
) -> list[SubscriptionPreview]:
    """
    Each subscription's next digest as of ``now``: the period still running (so far)
    and the last one that ended. The personal links are left out: only the sender
    signs them, for the subscriber.
    """

    def preview(digest: Digest) -> DigestPreview:
        subscription = digest.subscription
        return DigestPreview(
            digest=digest,
            email=render_digest(
                digest, subscription=subscription, unsubscribe_url="", manage_url=""
            ),
            body=digest_html_body(digest, subscription=subscription),
        )

    targets = _targets_of(subscriptions)
    running: dict[int, Digest] = {}
    last: dict[int, Digest] = {}
    for frequency in Frequency:
        chosen = [s for s in subscriptions if s.frequency == frequency]
        if not chosen:
            continue
        for period, built in (
            (period_containing(frequency, now), running),
            (period_for(frequency, now), last),
        ):
            changes = load_changes(period, now=now)
            for subscription in chosen:
                built[subscription.pk] = _digest(
                    subscription, targets.get(subscription.pk, []), changes
                )
    return [
        SubscriptionPreview(
            subscription=subscription,
            targets=targets.get(subscription.pk, []),
            running=preview(running[subscription.pk]),
            last=preview(last[subscription.pk]),
        )
        for subscription in subscriptions
        if subscription.pk in running
    ]
