"""
Reads about jurisdictions. Views call these instead of building querysets.

The public pages' reads live here too, even where they touch initiatives or
council records, because each one answers a question about a jurisdiction.
Every read aggregates in the database or loads rows in a fixed number of
queries, so a page costs the same number of queries whatever it shows.

Coverage and counts include a jurisdiction's descendants: a state covers a
focus area when it or any place within it runs an initiative there.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce
from operator import or_
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import (
    BigIntegerField,
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast
from django.http import QueryDict
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from cities.models import PATH_SEPARATOR, Jurisdiction
from council import permissions
from council.models import Coalition, CoalitionMembership, CouncilMembership, Organization
from initiatives.models import (
    FocusArea,
    Indicator,
    Initiative,
    Measurement,
    Milestone,
    Partnership,
    Plan,
    PublicationState,
    Sector,
)
from initiatives.selectors import (
    Viewer,
    indicator_list,
    initiative_list,
    milestone_list,
    plan_list,
    visibility,
    visible_initiatives,
)

# A record untouched for this long is flagged as stale on the public pages.
STALE_AFTER = datetime.timedelta(days=180)
# How far ahead the milestone timeline looks.
UPCOMING_WINDOW = datetime.timedelta(days=90)
TIMELINE_LIMIT = 50
INDICATOR_LIMIT = 20
RECENT_LIMIT = 10
COMPARE_MIN = 2
COMPARE_MAX = 4
SLUG_PATTERN = re.compile(r"[-a-zA-Z0-9_]{1,120}")
# "city" is what readers type; the taxonomy calls it a place.
KIND_ALIASES = {"city": Jurisdiction.Kind.PLACE}
DEFAULT_COVERAGE_KIND = Jurisdiction.Kind.PLACE

# What an initiative's list item on the jurisdiction page shows, and what groups it.
LIST_ITEM_FIELDS = (
    "slug",
    "title",
    "summary",
    "language",
    "status",
    "publication_state",
    "is_illustrative",
    "jurisdiction__slug",
    "jurisdiction__name",
    "jurisdiction__path",
)

# The heatmap has shades 1 to HEAT_LEVELS for non-zero counts (CSS classes heat-0 to heat-5).
HEAT_LEVELS = 5


def jurisdiction_list_featured() -> QuerySet[Jurisdiction]:
    """Jurisdictions with at least one published initiative, busiest first."""
    return (
        Jurisdiction.objects.annotate(
            published_initiatives=Count(
                "initiatives", filter=Q(initiatives__publication_state="published")
            )
        )
        .filter(published_initiatives__gt=0)
        .select_related("parent")
        .order_by("-published_initiatives", "name")
    )


def jurisdiction_get(*, slug: str) -> Jurisdiction:
    return get_object_or_404(Jurisdiction.objects.select_related("parent"), slug=slug)


def jurisdiction_list(*, filters: Mapping[str, Any] | None = None) -> QuerySet[Jurisdiction]:
    """
    Every jurisdiction, with its parent: the map itself is public.

    ``filters`` (a query dict) runs through JurisdictionFilterSet; malformed
    filters raise ValidationError.
    """
    from cities.filters import JurisdictionFilterSet

    queryset = Jurisdiction.objects.select_related("parent")
    if filters is None:
        return queryset
    filterset = JurisdictionFilterSet(filters, queryset=queryset)
    if not filterset.is_valid():
        raise ValidationError(filterset.errors.as_data())
    return filterset.qs


def jurisdiction_expand(
    queryset: QuerySet[Jurisdiction], *, expand: Collection[str]
) -> QuerySet[Jurisdiction]:
    """Load what the ``?expand=`` names need; the boundary is deferred unless asked for."""
    if "parent" in expand:
        queryset = queryset.select_related("parent__parent")
    if "boundary" not in expand:
        queryset = queryset.defer("boundary")
    return queryset


# ------------------------------------------------------------------------------
# Building blocks
# ------------------------------------------------------------------------------


def _subquery_count(queryset: QuerySet[Any]) -> Subquery:
    """The number of rows of a correlated queryset, as a scalar subquery (0 when none)."""
    # A plain COUNT, not an aggregate, so that Django adds no GROUP BY to the subquery.
    counted = queryset.order_by().annotate(_n=Func(F("pk"), function="COUNT")).values("_n")
    return Subquery(counted, output_field=IntegerField())


def _path_ids(path: str) -> list[int]:
    return [int(part) for part in path.split(PATH_SEPARATOR) if part]


def _subtree_initiatives(user: Viewer, jurisdiction: Jurisdiction) -> QuerySet[Initiative]:
    return visible_initiatives(user=user).filter(jurisdiction__path__startswith=jurisdiction.path)


def _with_visible_initiatives(
    queryset: QuerySet[Jurisdiction], user: Viewer
) -> QuerySet[Jurisdiction]:
    """The jurisdictions of ``queryset`` with a visible initiative in their subtree."""
    if connections[queryset.db].vendor != "postgresql":
        return queryset.filter(
            Exists(
                visible_initiatives(user=user).filter(
                    jurisdiction__path__startswith=OuterRef("path")
                )
            )
        )
    # A correlated "path LIKE outer.path || '%'" cannot use an index, so PostgreSQL
    # would compare every jurisdiction with every initiative's (seconds at a million
    # rows). Instead: the jurisdictions that themselves lead a visible initiative
    # (one index probe each), and every id on their paths, which are exactly the
    # jurisdictions with such an initiative somewhere below.
    leading = Jurisdiction.objects.filter(
        Exists(visible_initiatives(user=user).filter(jurisdiction=OuterRef("pk")))
    )
    # string_to_array turns the path's trailing empty part into NULL, which matches nothing.
    path_ids = Cast(
        Func(
            Func(F("path"), Value(PATH_SEPARATOR), Value(""), function="string_to_array"),
            function="unnest",
        ),
        output_field=BigIntegerField(),
    )
    return queryset.filter(pk__in=leading.annotate(path_id=path_ids).values("path_id"))


def _within(jurisdictions: Iterable[Jurisdiction], *, prefix: str) -> Q:
    conditions = [Q(**{f"{prefix}path__startswith": j.path}) for j in jurisdictions]
    return reduce(or_, conditions) if conditions else Q(pk__in=[])


def _focus_area_counts(
    user: Viewer,
    roots: Sequence[Jurisdiction],
    *,
    by_status: bool = False,
    restrict: bool = False,
) -> dict[int, dict[int, dict[str, int]]]:
    """
    Visible initiatives per root jurisdiction (subtree included), focus area and status.

    One query grouped by (focus area, jurisdiction path[, status]); the rows are
    then rolled up into the roots. An initiative sits in exactly one
    jurisdiction, so adding up a subtree's rows counts each initiative once.
    Without ``by_status`` every count is filed under the status "".
    """
    through = Initiative.focus_areas.through
    queryset = through.objects.filter(visibility(user, prefix="initiative__"))
    if restrict:
        queryset = queryset.filter(_within(roots, prefix="initiative__jurisdiction__"))
    group = ["focusarea_id", "initiative__jurisdiction__path"]
    if by_status:
        group.append("initiative__status")
    rows = queryset.values(*group).annotate(n=Count("initiative_id")).order_by()
    roots_by_id = {root.pk: root for root in roots}
    result: dict[int, dict[int, dict[str, int]]] = {root.pk: {} for root in roots}
    for row in rows:
        status = row.get("initiative__status", "")
        for pk in _path_ids(row["initiative__jurisdiction__path"]):
            if pk in roots_by_id:
                statuses = result[pk].setdefault(row["focusarea_id"], {})
                statuses[status] = statuses.get(status, 0) + row["n"]
    return result


def _initiative_totals(
    user: Viewer, roots: Sequence[Jurisdiction]
) -> dict[int, tuple[int, datetime.datetime | None]]:
    """Per root: visible initiatives in its subtree and when the latest one changed."""
    rows = (
        visible_initiatives(user=user)
        .filter(_within(roots, prefix="jurisdiction__"))
        .values("jurisdiction__path")
        .annotate(n=Count("pk"), latest=Max("updated_at"))
        .order_by()
    )
    totals: dict[int, tuple[int, datetime.datetime | None]] = {root.pk: (0, None) for root in roots}
    for row in rows:
        for pk in _path_ids(row["jurisdiction__path"]):
            if pk in totals:
                count, latest = totals[pk]
                totals[pk] = (count + row["n"], _latest(latest, row["latest"]))
    return totals


def _latest(*moments: datetime.datetime | None) -> datetime.datetime | None:
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else None


def focus_areas_ordered() -> list[FocusArea]:
    return list(FocusArea.objects.order_by("position", "slug"))


def sectors_ordered() -> list[Sector]:
    return list(Sector.objects.order_by("position", "slug"))


# ------------------------------------------------------------------------------
# Freshness
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Freshness:
    """When a jurisdiction's records last changed, and whether that is long ago."""

    updated_at: datetime.datetime | None
    now: datetime.datetime

    @property
    def is_stale(self) -> bool:
        return self.updated_at is None or self.now - self.updated_at > STALE_AFTER

    @property
    def age(self) -> str:
        """A short human age such as "3 days", in the active language."""
        if self.updated_at is None:
            return ""
        return timesince(self.updated_at, self.now, depth=1)


# ------------------------------------------------------------------------------
# Home
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AtlasCounts:
    jurisdictions: int
    initiatives: int
    organizations: int
    plans: int


@dataclass(frozen=True)
class FocusAreaReach:
    focus_area: FocusArea
    initiatives: int
    jurisdictions: int


def atlas_counts() -> AtlasCounts:
    """Public totals: published initiatives and plans, and where the initiatives are."""
    initiatives = Initiative.objects.published().aggregate(
        initiatives=Count("pk"), jurisdictions=Count("jurisdiction", distinct=True)
    )
    return AtlasCounts(
        jurisdictions=initiatives["jurisdictions"],
        initiatives=initiatives["initiatives"],
        organizations=Organization.objects.count(),
        plans=Plan.objects.published().count(),
    )


def initiative_list_recent(*, limit: int = RECENT_LIMIT) -> list[Initiative]:
    """The most recently changed published initiatives."""
    return list(
        Initiative.objects.published()
        .select_related("jurisdiction")
        .order_by("-updated_at", "-pk")[:limit]
    )


def focus_area_reach() -> list[FocusAreaReach]:
    """Each focus area with its published initiatives and the jurisdictions that run them."""
    published = Q(initiatives__publication_state=PublicationState.PUBLISHED)
    focus_areas = FocusArea.objects.annotate(
        initiative_count=Count("initiatives", filter=published, distinct=True),
        jurisdiction_count=Count("initiatives__jurisdiction", filter=published, distinct=True),
    ).order_by("position", "slug")
    return [
        FocusAreaReach(
            focus_area=area,
            initiatives=area.initiative_count,
            jurisdictions=area.jurisdiction_count,
        )
        for area in focus_areas
    ]


def jurisdiction_feature_collection(jurisdictions: Iterable[Jurisdiction]) -> dict[str, Any]:
    """
    A GeoJSON FeatureCollection with a point per located jurisdiction.

    Each jurisdiction needs a ``published_initiatives`` annotation, as
    ``jurisdiction_list_featured()`` gives.
    """
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [j.longitude, j.latitude]},
            "properties": {
                "name": j.name,
                "url": j.get_absolute_url(),
                "count": j.published_initiatives,  # type: ignore[attr-defined]
            },
        }
        for j in jurisdictions
        if j.latitude is not None and j.longitude is not None
    ]
    return {"type": "FeatureCollection", "features": features}


# ------------------------------------------------------------------------------
# Jurisdiction page
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusGroup:
    status: str
    label: str
    initiatives: list[Initiative]


@dataclass(frozen=True)
class FocusAreaGroup:
    """Initiatives under one focus area (None: those with none), by status."""

    focus_area: FocusArea | None
    statuses: list[StatusGroup]

    @property
    def count(self) -> int:
        return sum(len(group.initiatives) for group in self.statuses)


@dataclass(frozen=True)
class CoalitionMembers:
    """A coalition's current members by organization kind, and its former members apart."""

    coalition: Coalition
    by_kind: list[tuple[str, list[CoalitionMembership]]]
    former: list[CoalitionMembership]


@dataclass(frozen=True)
class CouncilSeat:
    """A council member as the public sees them: a public name and a role, nothing else."""

    name: str
    role: str


@dataclass(frozen=True)
class CoverageRow:
    """One focus area of a jurisdiction, set against its peers."""

    focus_area: FocusArea
    count: int
    peers_covering: int
    peer_total: int
    peer_median: float

    @property
    def covered(self) -> bool:
        return self.count > 0

    @property
    def peer_share(self) -> int:
        """Percentage of peers covering this area."""
        return round(100 * self.peers_covering / self.peer_total) if self.peer_total else 0

    @property
    def neglected(self) -> bool:
        """Not covered here, though at least half the peers cover it."""
        return (
            not self.covered and self.peer_total > 0 and 2 * self.peers_covering >= self.peer_total
        )


@dataclass(frozen=True)
class JurisdictionProfile:
    """Everything the jurisdiction page shows beside its filtered initiative list."""

    jurisdiction: Jurisdiction
    ancestors: list[Jurisdiction]
    children: list[Jurisdiction]
    status_counts: list[tuple[str, int]]
    initiative_total: int
    budgets: list[tuple[str, Decimal]]
    partner_count: int
    plans: list[Plan]
    coalitions: list[CoalitionMembers]
    council: list[CouncilSeat]
    overdue: list[Milestone]
    upcoming: list[Milestone]
    indicators: list[Indicator]
    coverage: list[CoverageRow]
    peers: list[Jurisdiction]
    freshness: Freshness
    today: datetime.date
    upcoming_until: datetime.date = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "upcoming_until", self.today + UPCOMING_WINDOW)

    @property
    def covered_count(self) -> int:
        return sum(1 for row in self.coverage if row.covered)

    @property
    def neglected(self) -> list[CoverageRow]:
        return [row for row in self.coverage if row.neglected]


def jurisdiction_children(*, jurisdiction: Jurisdiction, user: Viewer) -> list[Jurisdiction]:
    """Direct children, each with ``initiative_count``: visible initiatives in its subtree."""
    in_subtree = visible_initiatives(user=user).filter(
        jurisdiction__path__startswith=OuterRef("path")
    )
    return list(
        jurisdiction.children.defer("boundary")
        .annotate(initiative_count=_subquery_count(in_subtree))
        .order_by("name")
    )


def _status_and_budget(
    user: Viewer, jurisdiction: Jurisdiction
) -> tuple[list[tuple[str, int]], list[tuple[str, Decimal]], datetime.datetime | None]:
    """Initiatives by status, budget totals by currency and the latest change: one query."""
    rows = (
        _subtree_initiatives(user, jurisdiction)
        .values("status", "budget_currency")
        .annotate(n=Count("pk"), total=Sum("budget_amount"), latest=Max("updated_at"))
        .order_by()
    )
    by_status: dict[str, int] = defaultdict(int)
    budgets: dict[str, Decimal] = defaultdict(Decimal)
    latest: datetime.datetime | None = None
    for row in rows:
        by_status[row["status"]] += row["n"]
        if row["budget_currency"] and row["total"] is not None:
            budgets[row["budget_currency"]] += row["total"]
        latest = _latest(latest, row["latest"])
    status_counts = [
        (str(label), by_status[value])
        for value, label in Initiative.Status.choices
        if by_status[value]
    ]
    return status_counts, sorted(budgets.items()), latest


def _partner_count(user: Viewer, jurisdiction: Jurisdiction) -> int:
    """Distinct organizations leading or partnering in the subtree's visible initiatives."""
    initiatives = _subtree_initiatives(user, jurisdiction)
    partnered = Partnership.objects.filter(initiative__in=initiatives.values("pk"))
    return Organization.objects.filter(
        Q(pk__in=partnered.values("organization_id"))
        | Q(pk__in=initiatives.values("lead_organization_id"))
    ).count()


def _plans(user: Viewer, jurisdiction: Jurisdiction) -> list[Plan]:
    """The jurisdiction's own plans, each with ``initiative_count`` of visible initiatives."""
    return list(
        plan_list(user=user)
        .filter(jurisdiction=jurisdiction)
        .annotate(
            initiative_count=Count(
                "initiatives", filter=visibility(user, prefix="initiatives__"), distinct=True
            )
        )
        .order_by(F("published_on").desc(nulls_last=True), "title")
    )


def coalition_members(
    *, jurisdiction: Jurisdiction, today: datetime.date
) -> list[CoalitionMembers]:
    """
    The jurisdiction's coalitions: current members grouped by organization kind,
    former members (whose membership ended before today) listed apart.
    """
    coalitions = Coalition.objects.filter(jurisdiction=jurisdiction).prefetch_related(
        Prefetch(
            "memberships",
            queryset=CoalitionMembership.objects.select_related("organization").order_by(
                "organization__kind", "organization__name", "role", "pk"
            ),
        )
    )
    kind_labels = dict(Organization.Kind.choices)
    result = []
    for coalition in coalitions:
        by_kind: dict[str, list[CoalitionMembership]] = {}
        former: list[CoalitionMembership] = []
        for membership in coalition.memberships.all():
            if membership.until is not None and membership.until < today:
                former.append(membership)
            else:
                kind = membership.organization.kind
                by_kind.setdefault(str(kind_labels.get(kind, kind)), []).append(membership)
        result.append(
            CoalitionMembers(coalition=coalition, by_kind=list(by_kind.items()), former=former)
        )
    return result


def council_seats(*, jurisdiction: Jurisdiction) -> list[CouncilSeat]:
    """
    The jurisdiction's council as the public sees it.

    The public name, else the person's full name; an account name or address
    is never shown, so neither is even read.
    """
    memberships = (
        CouncilMembership.objects.filter(jurisdiction=jurisdiction)
        .select_related("user")
        .only("role", "public_name", "user__first_name", "user__last_name")
        .order_by("role", "public_name", "pk")
    )
    order = {value: index for index, value in enumerate(CouncilMembership.Role.values)}
    seats = []
    for membership in sorted(memberships, key=lambda m: order.get(m.role, len(order))):
        user = membership.user
        name = membership.public_name.strip() or (f"{user.first_name} {user.last_name}".strip())
        seats.append(
            CouncilSeat(
                name=name or str(_("Name not published")), role=membership.get_role_display()
            )
        )
    return seats


def milestone_timeline(
    *, jurisdiction: Jurisdiction, user: Viewer, today: datetime.date
) -> tuple[list[Milestone], list[Milestone]]:
    """
    Open milestones of the subtree's visible initiatives: overdue ones (due before
    today) and upcoming ones (due within ``UPCOMING_WINDOW``). Milestones of
    cancelled initiatives are left out: nobody will complete them.
    """
    open_milestones = (
        milestone_list(user=user)
        .filter(
            initiative__jurisdiction__path__startswith=jurisdiction.path,
            completed_on__isnull=True,
        )
        .exclude(initiative__status=Initiative.Status.CANCELLED)
        .select_related("initiative__jurisdiction")
        .order_by("due_date", "pk")
    )
    overdue = list(open_milestones.filter(due_date__lt=today)[:TIMELINE_LIMIT])
    upcoming = list(
        open_milestones.filter(due_date__gte=today, due_date__lte=today + UPCOMING_WINDOW)[
            :TIMELINE_LIMIT
        ]
    )
    return overdue, upcoming


def indicator_charts(*, jurisdiction: Jurisdiction, user: Viewer) -> list[Indicator]:
    """Indicators with at least one measurement, of the subtree's visible initiatives."""
    return list(
        indicator_list(user=user)
        .filter(initiative__jurisdiction__path__startswith=jurisdiction.path)
        .filter(Exists(Measurement.objects.filter(indicator=OuterRef("pk"))))
        .order_by("initiative__title", "pk")[:INDICATOR_LIMIT]
    )


def peer_list(*, jurisdiction: Jurisdiction, user: Viewer) -> list[Jurisdiction]:
    """
    Other jurisdictions of the same kind with at least one visible initiative in
    their subtree. Divisions imported without any record would only dilute the
    comparison, so they are not peers.
    """
    return list(
        _with_visible_initiatives(
            Jurisdiction.objects.filter(kind=jurisdiction.kind).exclude(pk=jurisdiction.pk), user
        )
        # Thousands of places can be peers; the page names two and counts the rest.
        .only("name", "slug", "kind", "path")
        .order_by("name")
    )


def coverage_against_peers(
    *,
    jurisdiction: Jurisdiction,
    peers: Sequence[Jurisdiction],
    focus_areas: Sequence[FocusArea],
    user: Viewer,
) -> list[CoverageRow]:
    """Every focus area: this jurisdiction's count, how many peers cover it, the peer median."""
    counts = _peer_focus_area_counts(user, jurisdiction, peers)
    # Thousands of peers, most with nothing in a given area: collect only the
    # non-zero counts per area and account for the zeros in the median.
    covering: dict[int, list[int]] = defaultdict(list)
    for peer in peers:
        for area_pk, statuses in counts.get(peer.pk, {}).items():
            total = sum(statuses.values())
            if total:
                covering[area_pk].append(total)
    own = counts.get(jurisdiction.pk, {})
    return [
        CoverageRow(
            focus_area=area,
            count=sum(own.get(area.pk, {}).values()),
            peers_covering=len(covering[area.pk]),
            peer_total=len(peers),
            peer_median=_median_with_zeros(covering[area.pk], total=len(peers)),
        )
        for area in focus_areas
    ]


def _median_with_zeros(values: list[int], *, total: int) -> float:
    """
    The median of ``values`` padded with zeros to ``total`` items, as
    ``statistics.median`` gives it (0 when there is nothing), without building the list.
    """
    if not total:
        return 0
    ordered = sorted(values)
    zeros = total - len(ordered)

    def at(index: int) -> int:
        return 0 if index < zeros else ordered[index - zeros]

    middle = total // 2
    if total % 2:
        return at(middle)
    return (at(middle - 1) + at(middle)) / 2


def _visibility_scope(user: Viewer) -> str | None:
    """A name for what ``user`` sees, shared by many readers; None when it is the user's own."""
    if permissions.is_atlas_staff(user):
        return "staff"
    if permissions.is_council_member(user):
        return None
    return "public"


def _peer_focus_area_counts(
    user: Viewer, jurisdiction: Jurisdiction, peers: Sequence[Jurisdiction]
) -> dict[int, dict[int, dict[str, int]]]:
    """
    Focus-area counts of the jurisdiction and its peers, in one query either way.

    The peers' counts take in every initiative of every jurisdiction of the kind,
    a scan of the whole catalogue, so with ``ATLAS_PEER_COVERAGE_TTL`` set they are
    shared for that many seconds between the readers who see the same records
    (the public, or staff). The jurisdiction's own counts are always live: the page
    never contradicts its own initiative list, and only the peer figures may lag.
    """
    ttl = getattr(settings, "ATLAS_PEER_COVERAGE_TTL", 0)
    scope = _visibility_scope(user)
    if not ttl or scope is None:
        return _focus_area_counts(user, [jurisdiction, *peers])
    key = f"cities:peer-coverage:{scope}:{jurisdiction.kind}"
    shared: dict[int, dict[int, dict[str, int]]] | None = cache.get(key)
    if shared is None:
        counts = _focus_area_counts(user, [jurisdiction, *peers])
        cache.set(key, counts, ttl)
        return counts
    own = _focus_area_counts(user, [jurisdiction], restrict=True)
    # A peer that gained its first initiative since the figures were taken counts as none.
    return {**{peer.pk: shared.get(peer.pk, {}) for peer in peers}, **own}


def jurisdiction_profile(
    *, jurisdiction: Jurisdiction, user: Viewer, focus_areas: Sequence[FocusArea]
) -> JurisdictionProfile:
    """What the jurisdiction page shows, in a fixed number of queries."""
    now = timezone.now()
    today = timezone.localdate(now)
    status_counts, budgets, latest_initiative = _status_and_budget(user, jurisdiction)
    plans = _plans(user, jurisdiction)
    overdue, upcoming = milestone_timeline(jurisdiction=jurisdiction, user=user, today=today)
    peers = peer_list(jurisdiction=jurisdiction, user=user)
    return JurisdictionProfile(
        jurisdiction=jurisdiction,
        ancestors=list(jurisdiction.ancestors()),
        children=jurisdiction_children(jurisdiction=jurisdiction, user=user),
        status_counts=status_counts,
        initiative_total=sum(n for _label, n in status_counts),
        budgets=budgets,
        partner_count=_partner_count(user, jurisdiction),
        plans=plans,
        coalitions=coalition_members(jurisdiction=jurisdiction, today=today),
        council=council_seats(jurisdiction=jurisdiction),
        overdue=overdue,
        upcoming=upcoming,
        indicators=indicator_charts(jurisdiction=jurisdiction, user=user),
        coverage=coverage_against_peers(
            jurisdiction=jurisdiction, peers=peers, focus_areas=focus_areas, user=user
        ),
        peers=peers,
        freshness=Freshness(
            updated_at=_latest(
                jurisdiction.updated_at,
                latest_initiative,
                *(plan.updated_at for plan in plans),
            ),
            now=now,
        ),
        today=today,
    )


def jurisdiction_initiatives(
    *, jurisdiction: Jurisdiction, user: Viewer, filters: Mapping[str, Any]
) -> list[Initiative]:
    """
    The visible initiatives of a jurisdiction, through the shared InitiativeFilterSet.

    Only ``focus_area``, ``status``, ``sector`` and ``include_descendants`` are
    taken from ``filters``; the jurisdiction is always this one, and its
    subtree is included unless ``include_descendants`` says otherwise.
    Malformed filters raise ValidationError.
    """
    scoped = QueryDict(mutable=True)
    for key in ("focus_area", "status", "sector"):
        getlist = getattr(filters, "getlist", None)
        values = getlist(key) if getlist else filters.get(key, [])
        scoped.setlist(key, [values] if isinstance(values, str) else list(values))
    scoped["include_descendants"] = filters.get("include_descendants") or "true"
    scoped["jurisdiction"] = jurisdiction.slug
    # A city can hold a thousand initiatives: load only what a list item and the
    # grouping read (no description), and taxa as bare ids.
    bare_taxa = (
        Prefetch("focus_areas", queryset=FocusArea.objects.only("pk")),
        Prefetch("sectors", queryset=Sector.objects.only("pk")),
    )
    queryset = (
        initiative_list(user=user, filters=scoped)
        .select_related(None)
        .select_related("jurisdiction")
        .prefetch_related(None)
        .prefetch_related(*bare_taxa)
        .only(*LIST_ITEM_FIELDS)
        .order_by("title", "pk")
    )
    return list(queryset)


def group_initiatives(
    initiatives: Sequence[Initiative], focus_areas: Sequence[FocusArea]
) -> list[FocusAreaGroup]:
    """
    Initiatives under each focus area, then by status, in taxonomy and status order.

    An initiative with several focus areas appears under each; one with none
    goes in a last group. Needs ``focus_areas`` prefetched.
    """
    by_area: dict[int | None, dict[str, list[Initiative]]] = defaultdict(lambda: defaultdict(list))
    for initiative in initiatives:
        areas: list[int | None] = [area.pk for area in initiative.focus_areas.all()] or [None]
        for pk in areas:
            by_area[pk][initiative.status].append(initiative)
    groups = []
    for area in [*focus_areas, None]:
        key = area.pk if area is not None else None
        if key not in by_area:
            continue
        statuses = [
            StatusGroup(status=value, label=str(label), initiatives=by_area[key][value])
            for value, label in Initiative.Status.choices
            if by_area[key].get(value)
        ]
        groups.append(FocusAreaGroup(focus_area=area, statuses=statuses))
    return groups


# ------------------------------------------------------------------------------
# Compare
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatrixCell:
    count: int
    statuses: list[tuple[str, int]]


@dataclass(frozen=True)
class ComparisonColumn:
    jurisdiction: Jurisdiction
    initiative_total: int
    milestones_done: int
    milestones_total: int
    focus_areas_covered: int
    freshness: Freshness

    @property
    def completion(self) -> int | None:
        """Percentage of milestones completed; None without milestones."""
        if not self.milestones_total:
            return None
        return round(100 * self.milestones_done / self.milestones_total)


@dataclass(frozen=True)
class Comparison:
    columns: list[ComparisonColumn]
    matrix: list[tuple[FocusArea, list[MatrixCell]]]
    coalition_kinds: list[tuple[str, list[int]]]


def jurisdictions_to_compare(*, slugs: Sequence[str]) -> list[Jurisdiction]:
    """
    The jurisdictions named by ``slugs``, in the order given, duplicates dropped.

    Raises ValidationError (code ``too_few``, ``too_many`` or ``unknown``) unless
    they name between COMPARE_MIN and COMPARE_MAX known jurisdictions.
    """
    wanted = list(dict.fromkeys(slug.strip() for slug in slugs if slug.strip()))
    if len(wanted) < COMPARE_MIN:
        raise ValidationError(
            _("Choose at least %(min)d jurisdictions to compare."),
            code="too_few",
            params={"min": COMPARE_MIN},
        )
    if len(wanted) > COMPARE_MAX:
        raise ValidationError(
            _("Choose at most %(max)d jurisdictions to compare."),
            code="too_many",
            params={"max": COMPARE_MAX},
        )
    # Only well-formed slugs reach the database: PostgreSQL refuses a NUL outright.
    well_formed = [slug for slug in wanted if SLUG_PATTERN.fullmatch(slug)]
    found = {
        j.slug: j
        for j in Jurisdiction.objects.filter(slug__in=well_formed).defer("boundary", "description")
    }
    unknown = [slug for slug in wanted if slug not in found]
    if unknown:
        raise ValidationError(
            _("No jurisdiction is called %(slugs)s."),
            code="unknown",
            params={"slugs": ", ".join(unknown)},
        )
    return [found[slug] for slug in wanted]


def comparison_choices(*, user: Viewer) -> list[Jurisdiction]:
    """Jurisdictions worth comparing: those with a visible initiative in their subtree."""
    return list(
        _with_visible_initiatives(Jurisdiction.objects.all(), user)
        .only("name", "slug", "kind")
        .order_by("kind", "name")
    )


def comparison(
    *, jurisdictions: Sequence[Jurisdiction], user: Viewer, focus_areas: Sequence[FocusArea]
) -> Comparison:
    """Focus-area matrix, coalition breadth, milestone completion and freshness, side by side."""
    now = timezone.now()
    today = timezone.localdate(now)
    status_labels = dict(Initiative.Status.choices)
    counts = _focus_area_counts(user, jurisdictions, by_status=True, restrict=True)
    matrix = []
    for area in focus_areas:
        cells = []
        for j in jurisdictions:
            statuses = counts[j.pk].get(area.pk, {})
            cells.append(
                MatrixCell(
                    count=sum(statuses.values()),
                    statuses=[
                        (str(label), statuses[value])
                        for value, label in status_labels.items()
                        if statuses.get(value)
                    ],
                )
            )
        matrix.append((area, cells))

    totals = _initiative_totals(user, jurisdictions)

    milestone_rows = (
        milestone_list(user=user)
        .filter(_within(jurisdictions, prefix="initiative__jurisdiction__"))
        .values("initiative__jurisdiction__path")
        .annotate(total=Count("pk"), done=Count("pk", filter=Q(completed_on__isnull=False)))
        .order_by()
    )
    milestones: dict[int, list[int]] = {j.pk: [0, 0] for j in jurisdictions}
    for row in milestone_rows:
        for pk in _path_ids(row["initiative__jurisdiction__path"]):
            if pk in milestones:
                milestones[pk][0] += row["done"]
                milestones[pk][1] += row["total"]

    plan_latest = dict(
        plan_list(user=user)
        .filter(jurisdiction__in=jurisdictions)
        .values("jurisdiction_id")
        .annotate(latest=Max("updated_at"))
        .order_by()
        .values_list("jurisdiction_id", "latest")
    )

    # Current memberships only: an organization that left is no longer part of the breadth.
    kind_rows = (
        CoalitionMembership.objects.filter(coalition__jurisdiction__in=jurisdictions)
        .filter(Q(until__isnull=True) | Q(until__gte=today))
        .values("coalition__jurisdiction_id", "organization__kind")
        .annotate(n=Count("organization", distinct=True))
        .order_by()
    )
    kinds: dict[str, dict[int, int]] = defaultdict(dict)
    for kind_row in kind_rows:
        jurisdiction_id = kind_row["coalition__jurisdiction_id"]
        kinds[kind_row["organization__kind"]][jurisdiction_id] = kind_row["n"]
    coalition_kinds = [
        (str(label), [kinds[value].get(j.pk, 0) for j in jurisdictions])
        for value, label in Organization.Kind.choices
        if value in kinds
    ]

    columns = [
        ComparisonColumn(
            jurisdiction=j,
            initiative_total=totals[j.pk][0],
            milestones_done=milestones[j.pk][0],
            milestones_total=milestones[j.pk][1],
            focus_areas_covered=sum(1 for _area, cells in matrix if cells[index].count),
            freshness=Freshness(
                updated_at=_latest(j.updated_at, totals[j.pk][1], plan_latest.get(j.pk)),
                now=now,
            ),
        )
        for index, j in enumerate(jurisdictions)
    ]
    return Comparison(columns=columns, matrix=matrix, coalition_kinds=coalition_kinds)


# ------------------------------------------------------------------------------
# Coverage matrix
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeatCell:
    count: int
    level: int


@dataclass(frozen=True)
class CoverageMatrix:
    kind: str
    kind_label: str
    focus_areas: list[FocusArea]
    rows: list[tuple[Jurisdiction, list[HeatCell]]]
    without_initiatives: int
    maximum: int

    @property
    def legend(self) -> list[tuple[HeatCell, int, int]]:
        """Each shade with the range of counts it stands for."""
        items = [(HeatCell(count=0, level=0), 0, 0)]
        levels = HEAT_LEVELS
        for level in range(1, levels + 1):
            low = max(1, (level - 1) * self.maximum // levels + 1)
            high = level * self.maximum // levels
            if high >= low:
                items.append((HeatCell(count=high, level=level), low, high))
        return items


def coverage_kind(value: str | None) -> str:
    """
    The jurisdiction kind a coverage request names, with "city" read as a place.

    Raises ValidationError (code ``invalid_kind``) for a kind that does not exist.
    """
    if not value:
        return DEFAULT_COVERAGE_KIND
    value = value.strip().lower()
    value = KIND_ALIASES.get(value, value)
    if value not in Jurisdiction.Kind.values:
        raise ValidationError(
            _("Choose a kind of jurisdiction from the list."), code="invalid_kind"
        )
    return value


def heat_level(count: int, maximum: int) -> int:
    """Shade 0 for nothing, then 1 to 5 in proportion to the busiest cell."""
    if count <= 0 or maximum <= 0:
        return 0
    levels = HEAT_LEVELS
    return max(1, min(levels, -(-count * levels // maximum)))


def coverage_matrix(*, kind: str, user: Viewer, focus_areas: Sequence[FocusArea]) -> CoverageMatrix:
    """Jurisdictions of ``kind`` with visible initiatives by focus area, counts as heat."""
    jurisdictions = list(
        _with_visible_initiatives(Jurisdiction.objects.filter(kind=kind), user)
        .only("name", "slug", "kind", "path")
        .order_by("name")
    )
    all_of_kind = Jurisdiction.objects.filter(kind=kind).count()
    counts = _focus_area_counts(user, jurisdictions)
    values = {
        (j.pk, area.pk): sum(counts[j.pk].get(area.pk, {}).values())
        for j in jurisdictions
        for area in focus_areas
    }
    maximum = max(values.values(), default=0)
    rows = [
        (
            j,
            [
                HeatCell(
                    count=values[j.pk, area.pk], level=heat_level(values[j.pk, area.pk], maximum)
                )
                for area in focus_areas
            ],
        )
        for j in jurisdictions
    ]
    return CoverageMatrix(
        kind=kind,
        kind_label=str(Jurisdiction.Kind(kind).label),
        focus_areas=list(focus_areas),
        rows=rows,
        without_initiatives=all_of_kind - len(jurisdictions),
        maximum=maximum,
    )
