import re

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cities.filters import TRUE_VALUES
from initiatives import search as engine

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Typed values handed back as sent, so a reader can correct a refused one.
RAW_FIELDS = ("start_date_after", "start_date_before", "plan", "updated_since")


def search(request: HttpRequest) -> HttpResponse:
    """Full text over initiatives, jurisdictions and organizations, with facets; GET only."""
    outcome = engine.initiative_search(data=request.GET, user=request.user)
    context = {
        "search": outcome,
        "page_obj": outcome.page,
        "errors": outcome.errors,
        "sorts": engine.SORTS,
        "max_query_length": engine.MAX_QUERY_LENGTH,
        "facet_sample": engine.FACET_SAMPLE,
        "raw": {name: request.GET.get(name, "") for name in RAW_FIELDS},
        # A date input cannot hold what is not an ISO date; a text box shows it back for correction.
        "date_as_text": [
            name
            for name in ("start_date_after", "start_date_before")
            if name in outcome.errors
            or not ISO_DATE.fullmatch(request.GET.get(name) or "2000-01-01")
        ],
        # The jurisdiction facet counts descendants, so picking one includes them unless unticked.
        "include_descendants": not request.GET.get("jurisdiction")
        or request.GET.get("include_descendants", "") in TRUE_VALUES,
    }
    # Refused input gets the page back with its error summary, as a form would.
    status = 400 if outcome.errors else 200
    return render(request, "initiatives/search.html", context, status=status)
