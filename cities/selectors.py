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

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import (
    BigIntegerField,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
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
    Window,
)
from django.db.models.functions import Cast, Coalesce
from django.http import QueryDict
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from cities.models import PATH_SEPARATOR, AtlasTotal, Coverage, CoverageSpread, Jurisdiction
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
# Up to this many initiatives, a subtree's milestones are read from its initiatives.
SMALL_SUBTREE = 50_000
INDICATOR_LIMIT = 20
RECENT_LIMIT = 10
# Initiatives per page of the jurisdiction page's list.
INITIATIVES_PER_PAGE = 50
# The busiest jurisdictions the home page lists and maps; the rest are a search away.
FEATURED_LIMIT = 200
# How many peers the jurisdiction page names (the compare link takes them).
PEERS_NAMED = 2
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


def jurisdiction_list_featured(*, limit: int = FEATURED_LIMIT) -> QuerySet[Jurisdiction]:
    """
    The ``limit`` jurisdictions with the most published initiatives of their own,
    busiest first, each with ``published_initiatives``; from the coverage summary.
    """
    return (
        Jurisdiction.objects.filter(coverage__focus_area__isnull=True, coverage__own__gt=0)
        .annotate(published_initiatives=F("coverage__own"))
        .select_related("parent")
        .order_by("-published_initiatives", "name")[:limit]
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


def _own_spread() -> QuerySet[CoverageSpread]:
    return CoverageSpread.objects.filter(scope=CoverageSpread.Scope.OWN)


def atlas_counts() -> AtlasCounts:
    """
    Public totals: published initiatives and plans, where the initiatives are, and
    organizations. The first two come from the coverage summary's few hundred
    spread rows (each jurisdiction with n initiatives of its own adds n), the
    organizations from their maintained total: no page counts the catalogue.
    """
    initiatives = _own_spread().filter(focus_area__isnull=True)
    totals = initiatives.aggregate(
        initiatives=Sum(F("initiatives") * F("jurisdictions")), jurisdictions=Sum("jurisdictions")
    )
    organizations = (
        AtlasTotal.objects.filter(name=AtlasTotal.Name.ORGANIZATIONS)
        .values_list("value", flat=True)
        .first()
    )
    return AtlasCounts(
        jurisdictions=totals["jurisdictions"] or 0,
        initiatives=totals["initiatives"] or 0,
        organizations=organizations or 0,
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
    """
    Each focus area with its published initiatives and the jurisdictions that run
    them, from the coverage summary's spread rows.
    """

    def total(expression: Any) -> Subquery:
        summed = (
            _own_spread()
            .filter(focus_area=OuterRef("pk"))
            .order_by()
            .annotate(_total=Func(expression, function="SUM"))
            .values("_total")
        )
        return Subquery(summed, output_field=IntegerField())

    focus_areas = FocusArea.objects.annotate(
        initiative_total=total(F("initiatives") * F("jurisdictions")),
        jurisdiction_total=total(F("jurisdictions")),
    ).order_by("position", "slug")
    return [
        FocusAreaReach(
            focus_area=area,
            initiatives=area.initiative_total or 0,
            jurisdictions=area.jurisdiction_total or 0,
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
class PeerGroup:
    """
    The other jurisdictions of a kind with published initiatives in their subtree:
    how many, and the first few by name.
    """

    count: int
    named: list[Jurisdiction]

    def __len__(self) -> int:
        return self.count


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
    peers: PeerGroup
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
    count: Subquery | Coalesce
    if _sees_only_published(user):
        # The summary holds exactly what the public sees: one index probe per child
        # instead of counting a state's whole subtree.
        published = Coverage.objects.filter(
            jurisdiction=OuterRef("pk"), focus_area__isnull=True
        ).values("subtree")
        count = Coalesce(Subquery(published, output_field=IntegerField()), 0)
    else:
        in_subtree = visible_initiatives(user=user).filter(
            jurisdiction__path__startswith=OuterRef("path")
        )
        count = _subquery_count(in_subtree)
    return list(
        jurisdiction.children.defer("boundary").annotate(initiative_count=count).order_by("name")
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
    partners = Partnership.objects.filter(initiative__in=initiatives.values("pk")).values(
        "organization_id"
    )
    leads = initiatives.filter(lead_organization__isnull=False).values("lead_organization_id")
    # UNION drops the ids found twice; counting them needs no visit to the organizations,
    # which the planner otherwise read nearly whole to test their ids against both lists.
    return partners.order_by().union(leads.order_by()).count()


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
    *,
    jurisdiction: Jurisdiction,
    user: Viewer,
    today: datetime.date,
    initiative_total: int | None = None,
) -> tuple[list[Milestone], list[Milestone]]:
    """
    Open milestones of the subtree's visible initiatives: overdue ones (due before
    today) and upcoming ones (due within ``UPCOMING_WINDOW``). Milestones of
    cancelled initiatives are left out: nobody will complete them.

    ``initiative_total``, the subtree's visible initiatives when known, picks the
    plan: see below.
    """
    order: list[Any] = ["due_date", "pk"]
    small = initiative_total is not None and initiative_total <= SMALL_SUBTREE
    if small and connections[Milestone.objects.db].vendor == "postgresql":
        # Asked for the first 50 by due date, PostgreSQL walks the due-date index
        # of every milestone in the Atlas and keeps the few of this subtree: over
        # a second at a million initiatives for a city. Ordering by an expression
        # the index cannot serve makes it start from the subtree's initiatives
        # instead, which for a city or county is a few thousand rows to sort.
        # A country keeps the index walk, which finds its many rows quickly.
        order = [ExpressionWrapper(F("due_date") + Value(0), output_field=DateField()), "pk"]
    open_milestones = (
        milestone_list(user=user)
        .filter(
            initiative__jurisdiction__path__startswith=jurisdiction.path,
            completed_on__isnull=True,
        )
        .exclude(initiative__status=Initiative.Status.CANCELLED)
        .select_related("initiative__jurisdiction")
        .order_by(*order)
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


@dataclass(frozen=True)
class PeerFigures:
    """What the coverage panel and the peer count read, fetched in one query."""

    # Per focus area (None: all): subtree count → how many jurisdictions of the kind have it.
    spread: dict[int | None, dict[int, int]]
    # The jurisdiction's own published subtree counts, per focus area (None: all).
    published: dict[int | None, int]
    # The jurisdiction's subtree counts per focus area as the viewer sees them.
    visible: dict[int, int]

    @property
    def peer_total(self) -> int:
        """Jurisdictions of the kind with published initiatives, this one left out."""
        everyone = sum(self.spread.get(None, {}).values())
        return everyone - (1 if self.published.get(None) else 0)


def peer_figures(*, jurisdiction: Jurisdiction, user: Viewer) -> PeerFigures:
    """
    From the coverage summary, the spread of the jurisdiction's kind and its own
    published counts; for a viewer who sees more than the published records
    (a council, staff), its live counts too. One query, however many peers.
    """
    spread_rows = CoverageSpread.objects.filter(
        scope=CoverageSpread.Scope.SUBTREE, kind=jurisdiction.kind
    ).values_list("focus_area_id", "initiatives", "jurisdictions")
    # A spread row counts at least one jurisdiction; 0 and -1 mark the other branches.
    own_rows = (
        Coverage.objects.filter(jurisdiction=jurisdiction)
        .annotate(branch=Value(0))
        .values_list("focus_area_id", "subtree", "branch")
    )
    branches: list[QuerySet[Any, Any]] = [own_rows]
    public = _sees_only_published(user)
    if not public:
        through = Initiative.focus_areas.through
        live_rows: QuerySet[Any, Any] = (
            through.objects.filter(visibility(user, prefix="initiative__"))
            .filter(initiative__jurisdiction__path__startswith=jurisdiction.path)
            .values("focusarea_id")
            .annotate(n=Count("initiative_id"), branch=Value(-1))
            .values_list("focusarea_id", "n", "branch")  # type: ignore[misc]
            .order_by()
        )
        branches.append(live_rows)
    spread: dict[int | None, dict[int, int]] = defaultdict(dict)
    published: dict[int | None, int] = {}
    visible: dict[int, int] = {}
    for area_pk, initiatives, marker in spread_rows.union(*branches, all=True):
        if marker > 0:
            spread[area_pk][initiatives] = marker
        elif marker == 0:
            published[area_pk] = initiatives
        else:
            visible[area_pk] = initiatives
    if public:
        # What the public sees is what the summary counts.
        visible = {area: n for area, n in published.items() if area is not None}
    return PeerFigures(spread=spread, published=published, visible=visible)


def _sees_only_published(user: Viewer) -> bool:
    """Whether ``user`` sees published records only, as the coverage summary counts them."""
    return not permissions.is_atlas_staff(user) and not permissions.is_council_member(user)


def peer_group(*, jurisdiction: Jurisdiction, figures: PeerFigures | None = None) -> PeerGroup:
    """
    Other jurisdictions of the same kind with a published initiative in their
    subtree. Divisions imported without any record would only dilute the
    comparison, so they are not peers.

    Counted from the coverage summary: tens of thousands of places can be peers,
    and the page names the first two.
    """
    if figures is None:
        figures = peer_figures(jurisdiction=jurisdiction, user=None)
    named = list(
        Jurisdiction.objects.filter(kind=jurisdiction.kind)
        .exclude(pk=jurisdiction.pk)
        .filter(
            Exists(
                Coverage.objects.filter(
                    jurisdiction=OuterRef("pk"), focus_area__isnull=True, subtree__gt=0
                )
            )
        )
        .only("name", "slug", "kind", "path")
        .order_by("name")[:PEERS_NAMED]
    )
    return PeerGroup(count=figures.peer_total, named=named)


def coverage_against_peers(
    *,
    jurisdiction: Jurisdiction,
    focus_areas: Sequence[FocusArea],
    user: Viewer,
    figures: PeerFigures | None = None,
) -> list[CoverageRow]:
    """
    Every focus area: this jurisdiction's count, how many peers cover it, the peer median.

    The jurisdiction's own counts are what ``user`` sees (a council sees its
    drafts), so the panel agrees with the initiative list. The peer figures are
    published records for everyone: the kind's spread less this jurisdiction's
    own published entry, exact however many peers there are.
    """
    if figures is None:
        figures = peer_figures(jurisdiction=jurisdiction, user=user)
    peer_total = figures.peer_total
    rows = []
    for area in focus_areas:
        among_peers = dict(figures.spread.get(area.pk, {}))
        mine = figures.published.get(area.pk, 0)
        if mine and among_peers.get(mine):
            among_peers[mine] -= 1
        rows.append(
            CoverageRow(
                focus_area=area,
                count=figures.visible.get(area.pk, 0),
                peers_covering=sum(among_peers.values()),
                peer_total=peer_total,
                peer_median=_median_of_spread(among_peers, total=peer_total),
            )
        )
    return rows


def _median_of_spread(spread: Mapping[int, int], *, total: int) -> float:
    """
    The median of ``total`` values of which ``spread`` gives the non-zero ones
    (value → how many) and the rest are zeros, as ``statistics.median`` gives it
    (0 when there is nothing).
    """
    if total <= 0:
        return 0
    ordered = sorted((value, n) for value, n in spread.items() if n > 0)
    zeros = total - sum(n for _value, n in ordered)

    def at(index: int) -> int:
        if index < zeros:
            return 0
        index -= zeros
        for value, n in ordered:
            if index < n:
                return value
            index -= n
        return ordered[-1][0] if ordered else 0

    middle = total // 2
    if total % 2:
        return at(middle)
    return (at(middle - 1) + at(middle)) / 2


def jurisdiction_profile(
    *, jurisdiction: Jurisdiction, user: Viewer, focus_areas: Sequence[FocusArea]
) -> JurisdictionProfile:
    """What the jurisdiction page shows, in a fixed number of queries."""
    now = timezone.now()
    today = timezone.localdate(now)
    status_counts, budgets, latest_initiative = _status_and_budget(user, jurisdiction)
    plans = _plans(user, jurisdiction)
    overdue, upcoming = milestone_timeline(
        jurisdiction=jurisdiction,
        user=user,
        today=today,
        initiative_total=sum(n for _label, n in status_counts),
    )
    figures = peer_figures(jurisdiction=jurisdiction, user=user)
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
            jurisdiction=jurisdiction,
            focus_areas=focus_areas,
            user=user,
            figures=figures,
        ),
        peers=peer_group(jurisdiction=jurisdiction, figures=figures),
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


class KnownCountPaginator(Paginator):
    """A Paginator told its count when the caller already has it, saving a COUNT query."""

    def __init__(self, object_list: Any, per_page: int, *, count: int | None = None) -> None:
        super().__init__(object_list, per_page)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        if self.known_count is not None:
            return self.known_count
        return super().count


LIST_FILTERS = ("focus_area", "status", "sector")


def jurisdiction_list_filtered(filters: Mapping[str, Any]) -> bool:
    """Whether ``filters`` narrow the jurisdiction page's list below the whole subtree."""
    return any(filters.get(key) for key in LIST_FILTERS) or (
        filters.get("include_descendants") == "false"
    )


def jurisdiction_initiatives(
    *,
    jurisdiction: Jurisdiction,
    user: Viewer,
    filters: Mapping[str, Any],
    page: Any = None,
    total: int | None = None,
) -> Page[Initiative]:
    """
    One page of the visible initiatives of a jurisdiction, through the shared
    InitiativeFilterSet, INITIATIVES_PER_PAGE at a time.

    Only ``focus_area``, ``status``, ``sector`` and ``include_descendants`` are
    taken from ``filters``; the jurisdiction is always this one, and its
    subtree is included unless ``include_descendants`` says otherwise.
    Malformed filters raise ValidationError. A ``page`` that is not a positive
    number gives the first page, one past the end the last. ``total``, when the
    caller knows how many initiatives the unfiltered list holds, spares counting.
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
    known = None if jurisdiction_list_filtered(filters) else total
    number = _page_number(page)
    rows, counted = _page_rows(queryset, number)
    if not rows and number > 1:
        # Past the end, as an old link after deletions: the last page instead.
        count = known if known is not None else queryset.count()
        number = max(1, -(-count // INITIATIVES_PER_PAGE))
        rows, counted = _page_rows(queryset, number)
    paginator = KnownCountPaginator(
        queryset, INITIATIVES_PER_PAGE, count=known if known is not None else counted
    )
    return Page(rows, number, paginator)


def _page_number(value: Any) -> int:
    """A page number from a query string: anything but a positive integer is page 1."""
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return 1
    # More pages than any list holds; the cap keeps the OFFSET a sane integer.
    return min(max(number, 1), 1_000_000)


def _page_rows(queryset: QuerySet[Initiative], number: int) -> tuple[list[Initiative], int]:
    """
    One page of ``queryset``'s rows and the whole list's count, in a single query.

    The count rides along as a window over the filtered rows, so a filtered page
    costs no separate COUNT; it is 0 when the page is empty.
    """
    start = (number - 1) * INITIATIVES_PER_PAGE
    counted = queryset.annotate(list_total=Window(Count("pk")))
    rows: list[Initiative] = list(counted[start : start + INITIATIVES_PER_PAGE])
    return rows, (getattr(rows[0], "list_total", 0) if rows else 0)


def group_initiatives(
    initiatives: Sequence[Initiative], focus_areas: Sequence[FocusArea]
) -> list[FocusAreaGroup]:
    """
    Initiatives under each focus area, then by status, in taxonomy and status order
    (the jurisdiction page groups the page it shows).

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


def _with_initiatives(queryset: QuerySet[Jurisdiction], user: Viewer) -> QuerySet[Jurisdiction]:
    """
    The jurisdictions of ``queryset`` with an initiative ``user`` sees in their subtree;
    for the public, read from the coverage summary rather than the catalogue.
    """
    if not _sees_only_published(user):
        return _with_visible_initiatives(queryset, user)
    return queryset.filter(
        Exists(
            Coverage.objects.filter(
                jurisdiction=OuterRef("pk"), focus_area__isnull=True, subtree__gt=0
            )
        )
    )


def comparison_choices(*, user: Viewer) -> list[Jurisdiction]:
    """Jurisdictions worth comparing: those with a visible initiative in their subtree."""
    return list(
        _with_initiatives(Jurisdiction.objects.all(), user)
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
    # The matrix still counts the catalogue: a bulk write that skipped the summary
    # shows here at once. It can read Coverage the way comparison_choices does
    # once every bulk path rebuilds the summary.
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
