"""Request body parsing for the API: JSON through orjson, with a size limit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

import orjson
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser

from config.api.renderers import ORJSONRenderer


class RequestBodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "request_too_large"


class ORJSONParser(BaseParser):
    """
    Parses a JSON body; malformed JSON is a ParseError (400), an oversized body a 413.

    DRF reads the body from the raw request stream, which bypasses Django's
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` check, so the limit is enforced here.
    NaN and Infinity are refused, as with DRF's strict JSON parser.
    """

    media_type = "application/json"
    renderer_class = ORJSONRenderer

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(body) > limit:
            raise RequestBodyTooLarge()
        # Django fills in the charset from the Content-Type header.
        charset = str((parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET)
        try:
            if charset.lower().replace("-", "") != "utf8":
                body = body.decode(charset).encode()
            return orjson.loads(body)
        except (LookupError, UnicodeDecodeError) as error:
            raise ParseError(_("The request body is not in the declared character set.")) from error
        except orjson.JSONDecodeError as error:
            raise ParseError(
                _("The request body is not valid JSON: %(error)s") % {"error": error}
            ) from error
