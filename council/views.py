from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from council import selectors
from initiatives.selectors import initiative_list


def organization_detail(request: HttpRequest, slug: str) -> HttpResponse:
    organization = selectors.organization_get(slug=slug)
    initiatives = list(initiative_list(user=request.user).filter(partners=organization).distinct())
    return render(
        request,
        "council/organization_detail.html",
        {"organization": organization, "initiatives": initiatives},
    )
