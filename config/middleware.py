"""Middleware of the Atlas's own."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from config.api.problem import is_problem, problem_response

API_PATH_PREFIX = "/api/"


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class ApiProblemMiddleware:
    """
    Answers in problem+json for what goes wrong under /api/ before or outside an API view.

    - A body larger than DATA_UPLOAD_MAX_MEMORY_SIZE is refused with 413 before
      anything reads it. Django checks that limit only when ``request.body`` is
      read, and DRF's parsers read the stream instead, so without this check the
      limit would not hold for the API at all.
    - A 404 that no API view produced (an unknown URL) becomes a problem too.

    It belongs after LocaleMiddleware, so its messages follow Accept-Language.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(API_PATH_PREFIX):
            return self.get_response(request)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and _declared_length(request) > limit:
            return problem_response(
                code="content_too_large",
                status=413,
                detail=_("The request body is larger than %(limit)d bytes.") % {"limit": limit},
                instance=request.path,
            )
        response = self.get_response(request)
        if response.status_code == 404 and not is_problem(response):
            return problem_response(
                code="not_found",
                status=404,
                detail=_("No API resource lives at this address."),
                instance=request.path,
            )
        return response
