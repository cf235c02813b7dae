from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cities import selectors
from initiatives.selectors import initiative_list


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "cities/home.html",
        {"jurisdictions": list(selectors.jurisdiction_list_featured())},
    )


def jurisdiction_detail(request: HttpRequest, slug: str) -> HttpResponse:
    jurisdiction = selectors.jurisdiction_get(slug=slug)
    return render(
        request,
        "cities/jurisdiction_detail.html",
        {
            "jurisdiction": jurisdiction,
            "ancestors": list(jurisdiction.ancestors()),
            "children": list(jurisdiction.children.order_by("name")[:100]),
            "initiatives": list(
                initiative_list(user=request.user).filter(jurisdiction=jurisdiction)
            ),
        },
    )
