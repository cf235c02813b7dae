"""Request ids: one per request, written on every log line and carried into Celery tasks.

A client or proxy may send its own X-Request-ID so that its logs and ours can be joined; it is
kept only when it looks like an id, since it ends up in every log line (no newlines, no markup,
no megabyte strings). Anything else is replaced by a fresh one. The id lives in a ContextVar,
so threads and asyncio tasks each see their own request's id.
"""

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_META_KEY = "HTTP_X_REQUEST_ID"
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._-]{8,64}")
# Log lines written outside any request (management commands, beat, a task enqueued by beat).
NO_REQUEST = "-"

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def clean_request_id(value: object) -> str | None:
    """The value when it is acceptable as a request id, else None."""
    if isinstance(value, str) and _ACCEPTABLE.fullmatch(value):
        return value
    return None


def get_request_id() -> str | None:
    return request_id_var.get()


class RequestIdMiddleware:
    """Gives each request an id (the client's, when acceptable) and returns it in X-Request-ID.

    It belongs first in MIDDLEWARE, so that what every other middleware logs carries the id.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = clean_request_id(request.META.get(_META_KEY)) or new_request_id()
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            # Worker threads serve many requests: the next one must not inherit this id.
            request_id_var.reset(token)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record, so formatters may always name it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get() or NO_REQUEST
        return True
