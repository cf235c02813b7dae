"""
Problem details (RFC 9457): the one shape of every API error.

A problem names its kind with ``type``, a URI under ``/api/v1/problems/``, and
a ``title`` that is the same for every occurrence of that kind; ``detail``
explains this occurrence, ``instance`` is the path that was asked for, and
validation problems add ``errors``, field by field.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from django.http import HttpResponse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rest_framework.renderers import JSONRenderer

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "/api/v1/problems/"

# Each kind of problem by the code of the exception behind it: its type's slug and title.
PROBLEM_KINDS: dict[str, tuple[str, Promise]] = {
    "invalid": ("validation-error", _("Invalid input")),
    "parse_error": ("malformed-request", _("Malformed request")),
    "authentication_failed": ("authentication-failed", _("Authentication failed")),
    "not_authenticated": ("not-authenticated", _("Authentication required")),
    "permission_denied": ("permission-denied", _("Permission denied")),
    "read_only_key": ("read-only-key", _("This key is read-only")),
    "not_found": ("not-found", _("Not found")),
    "method_not_allowed": ("method-not-allowed", _("Method not allowed")),
    "not_acceptable": ("not-acceptable", _("Not acceptable")),
    "conflict": ("conflict", _("Conflict")),
    "content_too_large": ("content-too-large", _("Content too large")),
    # config.api.parsers' name for the same problem.
    "request_too_large": ("content-too-large", _("Content too large")),
    "unsupported_media_type": ("unsupported-media-type", _("Unsupported media type")),
    "throttled": ("throttled", _("Too many requests")),
    "error": ("server-error", _("Internal server error")),
}


class ProblemJSONRenderer(JSONRenderer):
    """Renders a problem document under its own media type."""

    media_type = PROBLEM_MEDIA_TYPE
    format = "problem+json"


def problem_kind(code: str, status: int) -> tuple[str, str]:
    """The type URI and title for an error ``code``; unknown codes get their own slug."""
    known = PROBLEM_KINDS.get(code)
    if known is not None:
        slug, title = known
        return PROBLEM_TYPE_BASE + slug, str(title)
    return PROBLEM_TYPE_BASE + code.replace("_", "-"), HTTPStatus(status).phrase


def problem(
    *, code: str, status: int, detail: str, instance: str, **extensions: Any
) -> dict[str, Any]:
    """A problem document; ``extensions`` (such as ``errors``) follow the standard members."""
    type_uri, title = problem_kind(code, status)
    return {
        "type": type_uri,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        **extensions,
    }


def problem_response(*, code: str, status: int, detail: str, instance: str) -> HttpResponse:
    """A problem as a plain Django response, for errors raised outside any API view."""
    body = problem(code=code, status=status, detail=detail, instance=instance)
    return HttpResponse(json.dumps(body), status=status, content_type=PROBLEM_MEDIA_TYPE)


def is_problem(response: HttpResponse) -> bool:
    return str(response.get("Content-Type", "")).startswith(PROBLEM_MEDIA_TYPE)
