"""
Conditional GET for API views: ETag, Last-Modified, and 304 Not Modified.

The ETag is strong: a hash of the exact bytes sent together with their media
type, so each representation (JSON, CSV, GeoJSON, JSON-LD, with or without
``?fields=``) has its own tag, identical bodies share one, and any change to
a body changes it. Hashing the rendered body costs a render that happens
anyway and needs no knowledge of the resource; a 304 still runs the query,
but saves the transfer.

Last-Modified is the newest ``updated_at`` among the records in the body
(the page's records, for a list), read from the serialised data, so no extra
query is made. HTTP dates have one-second precision and a list's newest
record says nothing about rows that left the list, so clients should prefer
``If-None-Match``; when both are sent, RFC 9110 has If-None-Match decide.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.http import HttpResponseBase
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.dateparse import parse_datetime
from django.utils.http import http_date, quote_etag
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response

if TYPE_CHECKING:
    from rest_framework.views import APIView

    _Base = APIView
else:
    _Base = object

VARY_ON = ("Accept", "Accept-Language", "Authorization", "Cookie")


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _("The resource does not match the request's preconditions.")
    default_code = "precondition_failed"


class ConditionalResponseMixin(_Base):
    """
    Adds validators to successful GET and HEAD responses and answers 304 to matching requests.

    Put it first among a view's bases so its ``finalize_response`` wraps the
    others. It acts on the viewset actions named in ``conditional_actions``
    (list and retrieve), or on every GET of a view without actions; unsafe
    methods and error responses pass through untouched. Every response of the
    view varies on Accept, Accept-Language, Authorization and Cookie.
    """

    conditional_actions: tuple[str, ...] = ("list", "retrieve")

    # A 304 has neither body nor renderer, so it is a plain Django response, not a DRF one.
    def finalize_response(  # type: ignore[override]
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)
        patch_vary_headers(response, VARY_ON)
        if not isinstance(response, Response) or not self._is_conditional(request, response):
            return response

        response.render()
        if not response.has_header("ETag"):
            response["ETag"] = representation_etag(response)
        last_modified = newest_update(response.data)
        if last_modified is not None and not response.has_header("Last-Modified"):
            response["Last-Modified"] = http_date(last_modified.timestamp())

        conditional = get_conditional_response(
            request._request,
            etag=response["ETag"],
            last_modified=int(last_modified.timestamp()) if last_modified else None,
            response=response,
        )
        if conditional is None:
            return response
        if conditional.status_code == status.HTTP_412_PRECONDITION_FAILED:
            # Django answers 412 with an empty body; send it through the API's error shape.
            failed = self.handle_exception(PreconditionFailed())
            failed = super().finalize_response(request, failed, *args, **kwargs)
            patch_vary_headers(failed, VARY_ON)
            return failed
        return conditional

    def _is_conditional(self, request: Request, response: Response) -> bool:
        if request.method not in ("GET", "HEAD") or response.status_code != status.HTTP_200_OK:
            return False
        action = getattr(self, "action", None)
        return action is None or action in self.conditional_actions


def representation_etag(response: Response) -> str:
    """A strong ETag over the media type and the exact rendered bytes."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(str(response.get("Content-Type", "")).encode())
    digest.update(b"\n")
    digest.update(response.content)
    return quote_etag(digest.hexdigest())


def newest_update(data: Any) -> dt.datetime | None:
    """The latest ``updated_at`` among the records of a body: a page, a list or one object."""
    records: Iterable[Any]
    if isinstance(data, Mapping) and isinstance(data.get("results"), list):
        records = data["results"]
    elif isinstance(data, list):
        records = data
    else:
        records = [data]
    newest: dt.datetime | None = None
    for record in records:
        value = record.get("updated_at") if isinstance(record, Mapping) else None
        if isinstance(value, str):
            try:
                value = parse_datetime(value)
            except ValueError:
                continue
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            continue
        if newest is None or value > newest:
            newest = value
    return newest
