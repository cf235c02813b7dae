"""The public pages of initiatives, plans, focus areas and sectors."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from council.contributions import initiative_contributions
from initiatives import selectors
from initiatives.models import Indicator, Initiative, InitiativeLink, PublicationState

PAGE_SIZE = 50

# How an incoming link reads from the side of the initiative it points at.
INCOMING_LINK_LABELS = {
    InitiativeLink.Kind.INSPIRED_BY: gettext_lazy("Inspired by this initiative"),
    InitiativeLink.Kind.ADAPTED_FROM: gettext_lazy("Adapted from this initiative"),
    InitiativeLink.Kind.SUCCESSOR_OF: gettext_lazy("Succeeds this initiative"),
}


@dataclass(frozen=True)
class Listing:
    """One page of a long list, and what went wrong reading the page number, if anything."""

    page: Page[Any]
    errors: dict[str, list[str]]

    @property
    def status(self) -> int:
        return 400 if self.errors else 200

    def context(self) -> dict[str, Any]:
        return {
            "page_obj": self.page,
            "errors": self.errors,
        }


def paginate(request: HttpRequest, queryset: QuerySet[Any]) -> Listing:
    """
    Cut ``queryset`` into pages of PAGE_SIZE, read ``?page=``.

    A page number that is not a whole number, or lies past the end, gives the
    first page back with a message rather than an error page.
    """
    paginator = Paginator(queryset, PAGE_SIZE)
    raw = request.GET.get("page", "1").strip() or "1"
    number = int(raw) if raw.isdecimal() and len(raw) < 10 else 0
    if 1 <= number <= paginator.num_pages:
        return Listing(page=paginator.page(number), errors={})
    message = _("Enter a page number from 1 to %(last)d.") % {"last": paginator.num_pages}
    return Listing(page=paginator.page(1), errors={"page": [message]})


def budget_display(initiative: Initiative) -> str:
    """The budget with digit grouping in the page's language, followed by its currency code."""
    if initiative.budget_amount is None:
        return ""
    amount = initiative.budget_amount
    decimals = 0 if amount == amount.to_integral_value() else 2
    return _("%(amount)s %(currency)s") % {
        "amount": number_format(amount, decimal_pos=decimals, force_grouping=True),
        "currency": initiative.budget_currency,
    }


@dataclass(frozen=True)
class ChartRow:
    """One measurement as a chart's data table shows it."""

    measured_on: datetime.date
    value: str  # plain digits with "." for the chart script
    display: str  # localised for readers


@dataclass(frozen=True)
class IndicatorChart:
    indicator: Indicator
    rows: list[ChartRow]
    baseline: str
    target: str


def plain_number(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 10.5000 gives "10.5", 1E+1 gives "10"."""
    return format(value.normalize(), "f")


def local_number(value: Decimal | None) -> str:
    if value is None:
        return ""
    return number_format(Decimal(plain_number(value)), force_grouping=True)


def indicator_charts(indicators: list[Indicator]) -> list[IndicatorChart]:
    return [
        IndicatorChart(
            indicator=indicator,
            rows=[
                ChartRow(
                    measured_on=measurement.measured_on,
                    value=plain_number(measurement.value),
                    display=local_number(measurement.value),
                )
                for measurement in indicator.measurements.all()
            ],
            baseline=local_number(indicator.baseline),
            target=local_number(indicator.target),
        )
        for indicator in indicators
    ]


def initiative_detail(request: HttpRequest, slug: str) -> HttpResponse:
    initiative = selectors.initiative_page(slug=slug, user=request.user)
    milestones = list(initiative.milestones.all())
    completed = sum(1 for milestone in milestones if milestone.is_done)
    incoming = [
        (link, INCOMING_LINK_LABELS.get(InitiativeLink.Kind(link.kind), link.get_kind_display()))
        for link in initiative.incoming_links.all()
    ]
    plan = initiative.plan
    # The public's part: accepted comments and who suggested the initiative, one query.
    contributed = initiative_contributions(initiative=initiative)
    return render(
        request,
        "initiatives/initiative_detail.html",
        {
            "initiative": initiative,
            "plan": plan if plan and plan.publication_state == PublicationState.PUBLISHED else None,
            "budget": budget_display(initiative),
            "milestones": milestones,
            "milestones_completed": completed,
            "partnerships": list(initiative.partnerships.all()),
            "charts": indicator_charts(list(initiative.indicators.all())),
            "sources": list(initiative.sources.all()),
            "focus_areas": list(initiative.focus_areas.all()),
            "sectors": list(initiative.sectors.all()),
            "outgoing_links": list(initiative.outgoing_links.all()),
            "incoming_links": incoming,
            "changes": selectors.initiative_change_summary(initiative=initiative),
            "comments": contributed.comments,
            "suggested_by": contributed.suggested_by,
            "og_title": initiative.title,
            "og_description": initiative.summary,
            "og_type": "article",
        },
    )


def plan_detail(request: HttpRequest, slug: str) -> HttpResponse:
    plan = selectors.plan_page(slug=slug, user=request.user)
    listing = paginate(request, selectors.plan_initiatives(plan=plan, user=request.user))
    return render(
        request,
        "initiatives/plan_detail.html",
        {
            "plan": plan,
            **listing.context(),
            "og_title": plan.title,
            "og_description": plan.summary,
        },
        status=listing.status,
    )


def focus_area_detail(request: HttpRequest, slug: str) -> HttpResponse:
    focus_area = selectors.focus_area_get(slug=slug)
    initiatives = selectors.focus_area_initiatives(focus_area=focus_area, user=request.user)
    return _taxon_page(request, focus_area, initiatives, is_focus_area=True)


def sector_detail(request: HttpRequest, slug: str) -> HttpResponse:
    sector = selectors.sector_get(slug=slug)
    initiatives = selectors.sector_initiatives(sector=sector, user=request.user)
    return _taxon_page(request, sector, initiatives, is_focus_area=False)


def _taxon_page(
    request: HttpRequest, taxon: Any, initiatives: QuerySet[Initiative], *, is_focus_area: bool
) -> HttpResponse:
    listing = paginate(request, initiatives)
    return render(
        request,
        "initiatives/taxon_detail.html",
        {
            "taxon": taxon,
            "is_focus_area": is_focus_area,
            **listing.context(),
            "jurisdiction_counts": selectors.initiative_counts_by_jurisdiction(initiatives),
            "og_title": taxon.name,
            "og_description": taxon.description,
        },
        status=listing.status,
    )
