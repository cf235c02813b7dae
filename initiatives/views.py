from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from initiatives import selectors


def initiative_detail(request: HttpRequest, slug: str) -> HttpResponse:
    initiative = selectors.initiative_get(slug=slug, user=request.user)
    return render(request, "initiatives/initiative_detail.html", {"initiative": initiative})


def plan_detail(request: HttpRequest, slug: str) -> HttpResponse:
    plan = selectors.plan_get(slug=slug)
    initiatives = list(selectors.initiative_list(user=request.user).filter(plan=plan))
    return render(
        request, "initiatives/plan_detail.html", {"plan": plan, "initiatives": initiatives}
    )


def focus_area_detail(request: HttpRequest, slug: str) -> HttpResponse:
    focus_area = selectors.focus_area_get(slug=slug)
    initiatives = list(selectors.initiative_list(user=request.user).filter(focus_areas=focus_area))
    return render(
        request,
        "initiatives/taxon_detail.html",
        {"taxon": focus_area, "initiatives": initiatives},
    )


def sector_detail(request: HttpRequest, slug: str) -> HttpResponse:
    sector = selectors.sector_get(slug=slug)
    initiatives = list(selectors.initiative_list(user=request.user).filter(sectors=sector))
    return render(
        request, "initiatives/taxon_detail.html", {"taxon": sector, "initiatives": initiatives}
    )
