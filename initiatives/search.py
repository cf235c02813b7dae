"""
Search over initiatives, jurisdictions and organizations, with facet counts.

Initiatives are matched by full text. On PostgreSQL the document weighs the
title (A) above the summary (B) and the description (C), once through the
English and once through the French text-search configuration, since records
come in both languages; the query is read with ``websearch_to_tsquery`` in
both configurations and ORed, so "numériques" finds "numérique" and
"libraries" finds "library". The document is stored, in the generated column
``Initiative.search_document`` (see ``initiatives.models.SearchDocument``),
and the GIN index ``initiative_search`` (migration initiatives 0007) holds
it: matching reads the index and ranking reads the column, so neither parses
the text again.

Jurisdiction and organization names are matched by substring and, on
PostgreSQL, by trigram similarity (pg_trgm), so "Chicgo" still finds Chicago;
the trigram GIN indexes on ``UPPER(name)`` serve both.

Other databases fall back to case-insensitive substring matches: every word of
the query must appear in the title, summary or description, and a crude rank
prefers title matches. The facets are the same everywhere.

Facets count over the current result set, each one leaving out its own filter
(picking "Active" does not hide the other statuses' counts). Every count is one
GROUP BY query, whatever the number of initiatives or facet values.

A common word matches a large share of the catalogue, and counting all of its
matches would read every one of them, once per count. So the page counts its
results up to COUNT_LIMIT and says "more than" past it, and each facet counts
the first FACET_SAMPLE initiatives of its set, with a note on the page when a
count may be cut short. Past COUNT_LIMIT matches, relevance is judged among
the COUNT_LIMIT most recently updated ones (see CappedPaginator), and the page
says so; up to it, and in every other order, all matches are sorted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from django.contrib.postgres.search import (
    SearchQuery,
    SearchQueryCombinable,
    SearchRank,
    TrigramSimilarity,
)
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    Model,
    OrderBy,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import ExtractYear, Greatest, Lower, Upper
from django.http import QueryDict
from django.utils.functional import cached_property
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from cities.models import PATH_SEPARATOR, Jurisdiction
from council.models import Organization
from initiatives.models import TEXT_SEARCH_CONFIGS, FocusArea, Initiative, Partnership, Sector

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

    from initiatives.filters import InitiativeFilterSet
    from initiatives.selectors import Viewer

MAX_QUERY_LENGTH = 200
PAGE_SIZE = 20
NAME_MATCH_LIMIT = 5
# Facets with an open-ended list of values show the largest few.
JURISDICTION_FACET_LIMIT = 40
ORGANIZATION_FACET_LIMIT = 15
# Counting or ranking every match of a common word reads every matching row: the
# page counts up to COUNT_LIMIT and says "more than" beyond (a hundred pages),
# ranks the COUNT_LIMIT most recent matches past it, and each facet counts at most
# FACET_SAMPLE of its initiatives; the page says so each time.
COUNT_LIMIT = 2_000
FACET_SAMPLE = 2_000
# Names are also matched word by word, so "broadband in Chicago" lists Chicago;
# short words ("in", "de") would match too much.
NAME_WORD_MIN_LENGTH = 4
NAME_WORD_LIMIT = 5
FALLBACK_WORD_LIMIT = 10
WORD = re.compile(r"\w+")


def _is_postgresql(queryset: QuerySet[Any]) -> bool:
    return connections[queryset.db].vendor == "postgresql"


def clip_query(text: str) -> str:
    """The part of a query that counts: trimmed, at most MAX_QUERY_LENGTH characters."""
    return text.strip()[:MAX_QUERY_LENGTH].strip()


# ------------------------------------------------------------------------------
# Initiatives: full text
# ------------------------------------------------------------------------------


def initiative_query(text: str) -> SearchQueryCombinable:
    """The query in web-search syntax, read in each configuration and ORed."""
    queries = [
        SearchQuery(text, config=config, search_type="websearch") for config in TEXT_SEARCH_CONFIGS
    ]
    combined: SearchQueryCombinable = queries[0]
    for query in queries[1:]:
        combined = combined | query
    return combined


def search_initiatives(queryset: QuerySet[Initiative], text: str) -> QuerySet[Initiative]:
    """
    Initiatives of ``queryset`` that match ``text``, annotated with ``search_rank``.

    A higher ``search_rank`` is a better match. An empty text leaves the
    queryset as it is; text with no word to look for (only punctuation, or on
    PostgreSQL only stop words such as "the") matches nothing.
    """
    text = clip_query(text)
    if not text:
        return queryset
    if _is_postgresql(queryset):
        query = initiative_query(text)
        return queryset.filter(search_document=query).annotate(
            search_rank=SearchRank(F("search_document"), query)
        )
    return _search_initiatives_by_substring(queryset, text)


def _search_initiatives_by_substring(
    queryset: QuerySet[Initiative], text: str
) -> QuerySet[Initiative]:
    words = WORD.findall(text)[:FALLBACK_WORD_LIMIT]
    if not words:
        return queryset.none().annotate(search_rank=Value(0.0, output_field=FloatField()))
    match = Q()
    rank: Any = Value(0.0)
    for word in words:
        match &= (
            Q(title__icontains=word) | Q(summary__icontains=word) | Q(description__icontains=word)
        )
        # The weights of PostgreSQL's ts_rank for A, B and C.
        rank = rank + Case(
            When(title__icontains=word, then=Value(1.0)),
            When(summary__icontains=word, then=Value(0.4)),
            default=Value(0.2),
            output_field=FloatField(),
        )
    return queryset.filter(match).annotate(search_rank=rank)


# ------------------------------------------------------------------------------
# Jurisdictions and organizations: names
# ------------------------------------------------------------------------------


def match_names[M: Model](queryset: QuerySet[M], text: str) -> QuerySet[M]:
    """The rows of ``queryset`` whose name matches ``text``: the best NAME_MATCH_LIMIT."""
    text = clip_query(text)
    if not text:
        return queryset.none()
    words = [word for word in WORD.findall(text) if len(word) >= NAME_WORD_MIN_LENGTH]
    words = words[:NAME_WORD_LIMIT] if len(words) > 1 else []
    if _is_postgresql(queryset):
        # UPPER(name), as the trigram indexes hold it: LIKE needs one case, and
        # trigrams ignore case anyway.
        needle = text.upper()
        condition = Q(upper_name__contains=needle) | Q(upper_name__trigram_similar=needle)
        similarities: list[Any] = [TrigramSimilarity("upper_name", needle)]
        for word in words:
            condition |= Q(upper_name__trigram_similar=word.upper())
            similarities.append(TrigramSimilarity("upper_name", word.upper()))
        similarity = Greatest(*similarities) if len(similarities) > 1 else similarities[0]
        return (
            queryset.alias(upper_name=Upper("name"))
            .filter(condition)
            .annotate(similarity=similarity)
            .order_by("-similarity", "name", "pk")[:NAME_MATCH_LIMIT]
        )
    condition = Q(name__icontains=text)
    for word in words:
        condition |= Q(name__icontains=word)
    return queryset.filter(condition).order_by("name", "pk")[:NAME_MATCH_LIMIT]


def jurisdictions_named(text: str) -> list[Jurisdiction]:
    """Jurisdictions whose name matches ``text``, tolerating typos on PostgreSQL."""
    return list(match_names(Jurisdiction.objects.select_related("parent"), text))


def organizations_named(text: str) -> list[Organization]:
    """Organizations whose name matches ``text``, tolerating typos on PostgreSQL."""
    return list(match_names(Organization.objects.select_related("jurisdiction"), text))


# ------------------------------------------------------------------------------
# Facets
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FacetOption:
    """One value of a facet: what the query string carries, what the reader sees, how many."""

    value: str
    label: str
    count: int
    selected: bool


@dataclass
class JurisdictionNode:
    """A jurisdiction of the facet; ``count`` takes in its descendants' initiatives."""

    jurisdiction: Jurisdiction
    count: int
    selected: bool
    children: list[JurisdictionNode] = field(default_factory=list)
    # Depth within the facet's tree (0 for its roots), for indenting a flat list.
    level: int = 0


@dataclass(frozen=True)
class YearBucket:
    """The initiatives that started in one year, as a start-date range to filter on."""

    year: int
    count: int
    selected: bool

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 1, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.year, 12, 31)


@dataclass
class Facets:
    selected_jurisdiction: Jurisdiction | None
    jurisdictions: list[JurisdictionNode]
    jurisdictions_left_out: int
    focus_areas: list[FacetOption]
    sectors: list[FacetOption]
    statuses: list[FacetOption]
    selected_organization: Organization | None
    organizations: list[FacetOption]
    organizations_left_out: int
    start_years: list[YearBucket]
    undated: int
    # True when some counts may cover only FACET_SAMPLE of their initiatives.
    sampled: bool = False

    @property
    def jurisdiction_rows(self) -> list[JurisdictionNode]:
        """The jurisdiction tree, depth first, each parent before its children."""
        rows: list[JurisdictionNode] = []

        def walk(nodes: list[JurisdictionNode], level: int) -> None:
            for node in nodes:
                node.level = level
                rows.append(node)
                walk(node.children, level + 1)

        walk(self.jurisdictions, 0)
        return rows


# Each facet leaves out the filters that would narrow it to its own selection.
FACET_FILTERS: Mapping[str, frozenset[str]] = {
    "jurisdiction": frozenset({"jurisdiction", "include_descendants"}),
    "focus_area": frozenset({"focus_area"}),
    "sector": frozenset({"sector"}),
    "status": frozenset({"status"}),
    "organization": frozenset({"organization"}),
    "start_date": frozenset({"start_date_after", "start_date_before"}),
}


# Facets whose own set cannot be sized from their counts once their filter is on.
UNSIZED_FACETS = ("jurisdiction", "focus_area", "sector", "organization")


def initiative_facets(
    filterset: InitiativeFilterSet, *, base: QuerySet[Initiative], matches: int
) -> Facets:
    """
    Facet counts for the initiatives ``filterset`` leaves of ``base``.

    Costs eight queries, whatever the data: two for jurisdictions and two for
    organizations, one for each other facet. Each counts the first
    FACET_SAMPLE initiatives found, not all of them, so that a common word
    does not cost a pass over a large part of the catalogue per facet.
    ``matches`` is the number of results (as far as it was counted); the
    facets are marked ``sampled`` when any count may have been cut short.
    """

    def ids(facet: str) -> QuerySet[Any]:
        rows = filterset.filter_queryset_without(base, FACET_FILTERS[facet])
        return rows.order_by().values("pk")[:FACET_SAMPLE]

    cleaned = filterset.form.cleaned_data
    jurisdictions, jurisdictions_left_out = _jurisdiction_facet(
        ids("jurisdiction"), selected=cleaned.get("jurisdiction")
    )
    organizations, organizations_left_out = _organization_facet(
        ids("organization"), selected=cleaned.get("organization")
    )
    start_years, undated = _start_year_facet(
        ids("start_date"),
        after=cleaned.get("start_date_after"),
        before=cleaned.get("start_date_before"),
    )
    statuses = _status_facet(ids("status"), selected=cleaned.get("status") or [])
    # A facet leaves its own filter out, so its set can be larger than the
    # results: statuses and start years each count every initiative once, which
    # sizes their sets; the others' sets are the results' unless their filter is on.
    sampled = (
        matches >= FACET_SAMPLE
        or sum(option.count for option in statuses) >= FACET_SAMPLE
        or sum(bucket.count for bucket in start_years) + undated >= FACET_SAMPLE
        or any(cleaned.get(name) for name in UNSIZED_FACETS)
    )
    return Facets(
        selected_jurisdiction=cleaned.get("jurisdiction"),
        jurisdictions=jurisdictions,
        jurisdictions_left_out=jurisdictions_left_out,
        focus_areas=_taxon_facet(
            FocusArea.objects.filter(initiatives__in=ids("focus_area")),
            selected=cleaned.get("focus_area") or [],
        ),
        sectors=_taxon_facet(
            Sector.objects.filter(initiatives__in=ids("sector")),
            selected=cleaned.get("sector") or [],
        ),
        statuses=statuses,
        selected_organization=cleaned.get("organization"),
        organizations=organizations,
        organizations_left_out=organizations_left_out,
        start_years=start_years,
        undated=undated,
        sampled=sampled,
    )


def _taxon_facet(
    queryset: QuerySet[FocusArea] | QuerySet[Sector], *, selected: Sequence[FocusArea | Sector]
) -> list[FacetOption]:
    # filter() before annotate(): the count runs over the same join, so only matching rows.
    counted = {taxon.slug: taxon for taxon in queryset.annotate(facet_count=Count("initiatives"))}
    chosen = {taxon.slug for taxon in selected}
    taxa: list[Any] = list(counted.values())
    taxa += [taxon for taxon in selected if taxon.slug not in counted]
    taxa.sort(key=lambda taxon: (taxon.position, taxon.slug))
    return [
        FacetOption(
            value=taxon.slug,
            label=taxon.name,
            count=getattr(taxon, "facet_count", 0),
            selected=taxon.slug in chosen,
        )
        for taxon in taxa
    ]


def _status_facet(ids: QuerySet[Any], *, selected: Sequence[str]) -> list[FacetOption]:
    rows = Initiative.objects.filter(pk__in=ids).values("status").annotate(n=Count("pk")).order_by()
    counts = {row["status"]: row["n"] for row in rows}
    return [
        FacetOption(
            value=status.value,
            label=str(status.label),
            count=counts.get(status.value, 0),
            selected=status.value in selected,
        )
        for status in Initiative.Status
        if status.value in counts or status.value in selected
    ]


def _organization_facet(
    ids: QuerySet[Any], *, selected: Organization | None
) -> tuple[list[FacetOption], int]:
    """
    Organizations leading or partnering in the initiatives, each initiative counted once.

    Lead organizations and partners are two GROUP BY queries. A partnership of
    the initiative's own lead is left out of the second, so that no initiative
    counts twice for one organization.
    """
    counts: Counter[str] = Counter()
    names: dict[str, str] = {}
    led = (
        Initiative.objects.filter(pk__in=ids, lead_organization__isnull=False)
        .values("lead_organization__slug", "lead_organization__name")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in led:
        counts[row["lead_organization__slug"]] += row["n"]
        names[row["lead_organization__slug"]] = row["lead_organization__name"]
    partnered = (
        Partnership.objects.filter(initiative__in=ids)
        .filter(
            Q(initiative__lead_organization__isnull=True)
            | ~Q(organization=F("initiative__lead_organization"))
        )
        .values("organization__slug", "organization__name")
        .annotate(n=Count("initiative", distinct=True))
        .order_by()
    )
    for partner in partnered:
        counts[partner["organization__slug"]] += partner["n"]
        names[partner["organization__slug"]] = partner["organization__name"]
    ranked = sorted(counts, key=lambda slug: (-counts[slug], names[slug].casefold(), slug))
    shown = ranked[:ORGANIZATION_FACET_LIMIT]
    if selected is not None and selected.slug not in shown:
        shown.append(selected.slug)
        names[selected.slug] = selected.name
    chosen = selected.slug if selected is not None else None
    options = [
        FacetOption(value=slug, label=names[slug], count=counts[slug], selected=slug == chosen)
        for slug in shown
    ]
    return options, max(len(ranked) - ORGANIZATION_FACET_LIMIT, 0)


def _jurisdiction_facet(
    ids: QuerySet[Any], *, selected: Jurisdiction | None
) -> tuple[list[JurisdictionNode], int]:
    """
    Jurisdictions as a tree, each counting its own initiatives and its descendants'.

    One GROUP BY per jurisdiction that leads initiatives; its materialised path
    names every ancestor, so the roll-up to states and countries needs no
    query. A second query loads the jurisdictions shown.
    """
    rows = (
        Initiative.objects.filter(pk__in=ids)
        .values("jurisdiction__path")
        .annotate(n=Count("pk"))
        .order_by()
    )
    totals: Counter[int] = Counter()
    depth: dict[int, int] = {}
    parent: dict[int, int | None] = {}
    for row in rows:
        chain = [int(part) for part in row["jurisdiction__path"].split(PATH_SEPARATOR) if part]
        for level, pk in enumerate(chain):
            totals[pk] += row["n"]
            depth[pk] = level
            parent[pk] = chain[level - 1] if level else None
    # Shallow levels first, so a shown jurisdiction's ancestors are shown too.
    ranked = sorted(totals, key=lambda pk: (depth[pk], -totals[pk], pk))
    shown = ranked[:JURISDICTION_FACET_LIMIT]
    if selected is not None and selected.pk not in shown:
        shown.append(selected.pk)
    if not shown:
        return [], 0
    loaded = Jurisdiction.objects.in_bulk(shown)
    if selected is not None:
        loaded[selected.pk] = selected
    nodes = {
        pk: JurisdictionNode(
            jurisdiction=loaded[pk],
            count=totals.get(pk, 0),
            selected=selected is not None and pk == selected.pk,
        )
        for pk in shown
        if pk in loaded
    }
    roots: list[JurisdictionNode] = []
    for pk, node in nodes.items():
        parent_pk = parent.get(pk)
        if parent_pk is not None and parent_pk in nodes:
            nodes[parent_pk].children.append(node)
        else:
            roots.append(node)

    def order(siblings: list[JurisdictionNode]) -> None:
        siblings.sort(key=lambda node: (-node.count, node.jurisdiction.name.casefold()))
        for node in siblings:
            order(node.children)

    order(roots)
    return roots, max(len(ranked) - JURISDICTION_FACET_LIMIT, 0)


def _start_year_facet(
    ids: QuerySet[Any], *, after: dt.date | None, before: dt.date | None
) -> tuple[list[YearBucket], int]:
    rows = (
        Initiative.objects.filter(pk__in=ids)
        .values(year=ExtractYear("start_date"))
        .annotate(n=Count("pk"))
        .order_by("year")
    )
    buckets: list[YearBucket] = []
    undated = 0
    for row in rows:
        if row["year"] is None:
            undated = row["n"]
            continue
        year = int(row["year"])
        selected = after == dt.date(year, 1, 1) and before == dt.date(year, 12, 31)
        buckets.append(YearBucket(year=year, count=row["n"], selected=selected))
    return buckets, undated


# ------------------------------------------------------------------------------
# The search page
# ------------------------------------------------------------------------------


SORTS: Mapping[str, _StrPromise] = {
    "relevance": _("Best match"),
    "updated": _("Recently updated"),
    "title": _("Title (A to Z)"),
    "start_date": _("Start date (newest first)"),
}
ORDERINGS: Mapping[str, tuple[str | OrderBy | Lower, ...]] = {
    "relevance": ("-search_rank", "-updated_at", "-pk"),
    "updated": ("-updated_at", "-pk"),
    "title": (Lower("title").asc(), "pk"),
    "start_date": (F("start_date").desc(nulls_last=True), "-pk"),
}


@dataclass
class SearchOutcome:
    """What the search page shows, and what was wrong with the request."""

    query: str
    query_was_clipped: bool
    sort: str
    page: Page[Initiative]
    facets: Facets
    jurisdictions: list[Jurisdiction]
    organizations: list[Organization]
    # Field name -> messages, in the order of the form; the page links each to #id_<field>.
    errors: dict[str, list[str]]
    # The request's parameters as the search ran them: clipped query, no page.
    params: QueryDict


def initiative_search(*, data: QueryDict, user: Viewer = None) -> SearchOutcome:
    """
    Run the search page: matching initiatives (a page of them), names, and facets.

    ``data`` is the query string. Malformed filters, sort or page are reported
    in ``errors`` and left out; the rest of the search still runs.
    """
    from initiatives.filters import InitiativeFilterSet
    from initiatives.selectors import visible_initiatives

    params = data.copy()
    params.pop("page", None)
    raw_query = data.get("q", "")
    query = clip_query(raw_query)
    clipped = len(raw_query.strip()) > MAX_QUERY_LENGTH
    if "q" in params:
        params["q"] = query

    base = visible_initiatives(user=user)
    filterset = InitiativeFilterSet(params, queryset=base)
    errors: dict[str, list[str]] = {
        name: [f"{filterset.form.fields[name].label}: {message}" for message in messages]
        for name, messages in filterset.errors.items()
    }
    if "q" in errors:
        # A query the form refused (it holds a NUL) is not searched for names either.
        query = ""

    sort = data.get("sort", "")
    if sort and sort not in SORTS:
        errors["sort"] = [gettext("Sort by: choose one of the listed orders.")]
        sort = ""
    if sort == "relevance" and not query:
        sort = ""
    sort = sort or ("relevance" if query and "q" not in errors else "updated")

    results = (
        filterset.filter_queryset_without(base)
        .select_related("jurisdiction", "lead_organization")
        .prefetch_related("focus_areas")
        .order_by(*ORDERINGS[sort])
    )
    paginator = CappedPaginator(
        results, PAGE_SIZE, limit=COUNT_LIMIT, rank_recent=sort == "relevance"
    )
    page, page_error = _page(paginator, data.get("page"))
    if page_error:
        errors["page"] = [page_error]

    return SearchOutcome(
        query=query,
        query_was_clipped=clipped,
        sort=sort,
        page=page,
        facets=initiative_facets(filterset, base=base, matches=paginator.count),
        jurisdictions=jurisdictions_named(query) if query else [],
        organizations=organizations_named(query) if query else [],
        errors=errors,
        params=params,
    )


# Django's Paginator is generic only to the type checker.
if TYPE_CHECKING:
    _InitiativePaginator = Paginator[Initiative]
else:
    _InitiativePaginator = Paginator


class CappedPaginator(_InitiativePaginator):
    """
    Pages of results that counts up to ``limit`` of them, in one query.

    Past the limit, ``count`` is ``limit + 1`` and ``is_capped`` is true: the
    page says "more than" and offers the pages of the first ``limit`` results.

    With ``rank_recent``, a capped search ranks only the ``limit`` most recently
    updated matches (``ranks_recent`` says so, and the page with it). No index gives
    rows in ``ts_rank`` order, so ranking every match of a common word reads all of
    them: 380,000 rows and over a second for "broadband" at a million initiatives.
    The most recent matches are read from the ``updated_at`` index instead, checking
    each row's stored document, and stop at the limit.
    """

    def __init__(
        self,
        object_list: QuerySet[Initiative],
        per_page: int,
        *,
        limit: int,
        rank_recent: bool = False,
    ) -> None:
        super().__init__(object_list, per_page)
        self.results = object_list
        self.limit = limit
        self.rank_recent = rank_recent

    @property
    def ranks_recent(self) -> bool:
        return self.rank_recent and self.is_capped

    @cached_property
    def count(self) -> int:
        # COUNT over a LIMITed subquery: the scan stops at limit + 1 rows.
        # Neither the order nor the rank matters to a count: without them the
        # scan stops at the limit instead of ranking every match first.
        matches = self.results.order_by().values("pk")
        return matches[: self.limit + 1].count()

    @property
    def is_capped(self) -> bool:
        return self.count > self.limit

    def page(self, number: int | str) -> Page[Initiative]:
        """
        A page of results, its rows picked by a narrow query inside the page's own.

        The ordered window of ids is found first, without the joins of
        ``select_related``: otherwise every match would be joined to its
        jurisdiction and organization before the sort kept twenty of them.
        """
        page = super().page(number)
        window = cast("QuerySet[Initiative]", page.object_list).values("pk")
        if self.ranks_recent:
            recent = self.results.order_by("-updated_at", "-pk").values("pk")[: self.limit]
            bottom = (page.number - 1) * self.per_page
            window = self.results.filter(pk__in=recent).values("pk")[
                bottom : bottom + self.per_page
            ]
        page.object_list = self.results.filter(pk__in=window)
        return page

    @cached_property
    def num_pages(self) -> int:
        if self.is_capped:
            # The pages that hold the first ``limit`` results.
            return -(-self.limit // int(self.per_page))
        return super().num_pages


def _page(paginator: CappedPaginator, number: str | None) -> tuple[Page[Initiative], str]:
    """The requested page, or the first one with a message saying why not."""
    error = ""
    wanted = 1
    if number not in (None, ""):
        try:
            wanted = int(str(number).strip())
        except ValueError:
            error = gettext("Page: enter a whole number, such as 2.")
        else:
            if wanted < 1:
                error = gettext("Page: enter a whole number, such as 2.")
            elif wanted > paginator.num_pages and paginator.is_capped:
                error = gettext(
                    "Page: only the first %(pages)s pages of results can be shown; "
                    "narrow the search to see the others."
                ) % {"pages": paginator.num_pages}
            elif wanted > paginator.num_pages:
                error = ngettext(
                    "Page: there is no page %(number)s; the results fill %(pages)s page.",
                    "Page: there is no page %(number)s; the results fill %(pages)s pages.",
                    paginator.num_pages,
                ) % {"number": wanted, "pages": paginator.num_pages}
    page = paginator.page(1 if error else wanted)
    # Loaded here, so the page's queries all run before rendering.
    page.object_list = list(page.object_list)
    return page, error
