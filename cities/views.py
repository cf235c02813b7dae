from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import get_template
from django.utils.safestring import SafeString

from cities import selectors
from cities.models import Jurisdiction
from initiatives.models import FocusArea, Initiative


def _error_dict(error: ValidationError, *, field: str) -> dict[str, list[str]]:
    """A ValidationError as field → messages, for the error summary."""
    if hasattr(error, "error_dict"):
        return {name: list(messages) for name, messages in error.message_dict.items()}
    return {field: list(error.messages)}


@dataclass(frozen=True)
class RenderedStatusGroup:
    """A status group of the jurisdiction page with its list items already rendered."""

    status: str
    label: str
    items: list[SafeString]


@dataclass(frozen=True)
class RenderedFocusAreaGroup:
    focus_area: FocusArea | None
    count: int
    statuses: list[RenderedStatusGroup]


def _grouped_items(
    initiatives: Sequence[Initiative],
    focus_areas: Sequence[FocusArea],
    *,
    jurisdiction: Jurisdiction,
) -> list[RenderedFocusAreaGroup]:
    """
    The page's initiative groups, each initiative's list item rendered once.

    An initiative shows under every one of its focus areas, and a city can hold
    a thousand: rendering its item once and repeating the markup costs a
    fraction of an include per appearance. The item reads nothing but the
    initiative and the jurisdiction, so the markup is the same wherever it shows.
    """
    item = get_template("cities/_initiative_item.html")
    rendered = {
        initiative.pk: SafeString(
            item.render({"initiative": initiative, "jurisdiction": jurisdiction})
        )
        for initiative in initiatives
    }
    return [
        RenderedFocusAreaGroup(
            focus_area=group.focus_area,
            count=group.count,
            statuses=[
                RenderedStatusGroup(
                    status=status_group.status,
                    label=status_group.label,
                    items=[rendered[initiative.pk] for initiative in status_group.initiatives],
                )
                for status_group in group.statuses
            ],
        )
        for group in selectors.group_initiatives(initiatives, focus_areas)
    ]


def home(request: HttpRequest) -> HttpResponse:
    jurisdictions = list(selectors.jurisdiction_list_featured().defer("boundary"))
    return render(
        request,
        "cities/home.html",
        {
            "counts": selectors.atlas_counts(),
            "recent": selectors.initiative_list_recent(),
            "jurisdictions": jurisdictions,
            "feature_collection": selectors.jurisdiction_feature_collection(jurisdictions),
            "focus_area_reach": selectors.focus_area_reach(),
        },
    )


def jurisdiction_detail(request: HttpRequest, slug: str) -> HttpResponse:
    jurisdiction = selectors.jurisdiction_get(slug=slug)
    focus_areas = selectors.focus_areas_ordered()
    profile = selectors.jurisdiction_profile(
        jurisdiction=jurisdiction, user=request.user, focus_areas=focus_areas
    )
    errors: dict[str, list[str]] = {}
    page = None
    try:
        page = selectors.jurisdiction_initiatives(
            jurisdiction=jurisdiction,
            user=request.user,
            filters=request.GET,
            page=request.GET.get("page"),
            total=profile.initiative_total,
        )
    except ValidationError as error:
        errors = _error_dict(error, field="focus_area")
    initiatives: list[Initiative] = list(page.object_list) if page is not None else []
    return render(
        request,
        "cities/jurisdiction_detail.html",
        {
            "jurisdiction": jurisdiction,
            "profile": profile,
            "groups": _grouped_items(initiatives, focus_areas, jurisdiction=jurisdiction),
            "page": page,
            "page_range": (
                list(page.paginator.get_elided_page_range(page.number)) if page is not None else []
            ),
            "initiative_count": page.paginator.count if page is not None else 0,
            "errors": errors,
            "focus_areas": focus_areas,
            "sectors": selectors.sectors_ordered(),
            "statuses": Initiative.Status.choices,
            "selected": {
                "focus_area": request.GET.get("focus_area", ""),
                "status": request.GET.get("status", ""),
                "sector": request.GET.get("sector", ""),
                "include_descendants": request.GET.get("include_descendants", "true"),
            },
            "filtered": any(request.GET.get(key) for key in selectors.LIST_FILTERS),
        },
        status=400 if errors else 200,
    )


def compare(request: HttpRequest) -> HttpResponse:
    slugs = request.GET.getlist("j")
    focus_areas = selectors.focus_areas_ordered()
    errors: dict[str, list[str]] = {}
    comparison = None
    if "j" in request.GET:
        try:
            jurisdictions = selectors.jurisdictions_to_compare(slugs=slugs)
        except ValidationError as error:
            errors = _error_dict(error, field="j")
        else:
            comparison = selectors.comparison(
                jurisdictions=jurisdictions, user=request.user, focus_areas=focus_areas
            )
    return render(
        request,
        "cities/compare.html",
        {
            "choices": selectors.comparison_choices(user=request.user),
            "selected_slugs": slugs,
            "comparison": comparison,
            "errors": errors,
            "compare_min": selectors.COMPARE_MIN,
            "compare_max": selectors.COMPARE_MAX,
        },
        status=400 if errors else 200,
    )


def coverage(request: HttpRequest) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    matrix = None
    try:
        kind = selectors.coverage_kind(request.GET.get("kind"))
    except ValidationError as error:
        errors = _error_dict(error, field="kind")
        kind = ""
    else:
        matrix = selectors.coverage_matrix(
            kind=kind, user=request.user, focus_areas=selectors.focus_areas_ordered()
        )
    return render(
        request,
        "cities/coverage.html",
        {"matrix": matrix, "kind": kind, "kinds": Jurisdiction.Kind.choices, "errors": errors},
        status=400 if errors else 200,
    )
