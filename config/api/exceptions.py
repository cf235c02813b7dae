"""
The API's one exception handler: every error becomes an application/problem+json response.

DRF's own exceptions keep their status codes; Django's exceptions that views and
services raise (Http404, PermissionDenied, ValidationError, ProtectedError,
RequestDataTooBig) are translated to theirs, and anything unforeseen is logged
and answered as a 500 problem rather than an HTML page. Messages are translated
into the language LocaleMiddleware picked from Accept-Language.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core import exceptions as django_exceptions
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.fields import get_error_detail
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from config.api.problem import PROBLEM_KINDS, PROBLEM_MEDIA_TYPE, ProblemJSONRenderer, problem

logger = logging.getLogger("atlas.api")


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("The request conflicts with the current state of the record.")
    default_code = "conflict"


class Archived(exceptions.NotFound):
    # Not 410 Gone: archiving is not final, a council can restore the record.
    default_detail = gettext_lazy("This record was archived.")


class ContentTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The request body is too large.")
    default_code = "content_too_large"


# Validation errors whose every code is one of these are not malformed input but
# a request that is well formed and refused: the client may not write there (403),
# or the record's current state stands in the way (409). The field errors are kept.
FORBIDDING_CODES = frozenset({"out_of_scope"})
CONFLICTING_CODES = frozenset({"unique", "illegal_transition", "slug_fixed"})


class FieldPermissionDenied(exceptions.ValidationError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "permission_denied"


class FieldConflict(exceptions.ValidationError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def _codes(detail: Any) -> set[str]:
    if isinstance(detail, dict):
        return {code for value in detail.values() for code in _codes(value)}
    if isinstance(detail, list):
        return {code for value in detail for code in _codes(value)}
    return {str(detail)}


def classify_validation_error(exc: exceptions.ValidationError) -> exceptions.ValidationError:
    """A 400, or the 403 or 409 it really is when every error is a refusal or a conflict."""
    if type(exc) is not exceptions.ValidationError:
        return exc
    codes = _codes(exc.get_codes())
    kind: type[exceptions.ValidationError] | None = None
    if codes and codes <= FORBIDDING_CODES | CONFLICTING_CODES:
        # Refused and conflicting at once: the refusal is what the writer must hear first.
        kind = FieldPermissionDenied if codes & FORBIDDING_CODES else FieldConflict
    if kind is None:
        return exc
    classified = kind(exc.detail)
    classified.detail = exc.detail
    return classified


def as_api_exception(exc: Exception) -> exceptions.APIException:
    """``exc`` as the DRF exception whose status and message it deserves."""
    match exc:
        case exceptions.ValidationError():
            return classify_validation_error(exc)
        case exceptions.APIException():
            return exc
        case Http404():
            # Django's message names the model ("No Initiative matches..."); the
            # generic one says no more than a missing URL would.
            return exceptions.NotFound()
        case django_exceptions.PermissionDenied():
            return exceptions.PermissionDenied(*exc.args)
        case django_exceptions.ValidationError():
            return classify_validation_error(exceptions.ValidationError(_validation_detail(exc)))
        case ProtectedError() | RestrictedError():
            return Conflict(_("The record is still referred to by other records."))
        case IntegrityError():
            # Validation should have caught it; a concurrent write can still get here.
            logger.warning("Integrity error under the API", exc_info=exc)
            return Conflict()
        case django_exceptions.RequestDataTooBig():
            return ContentTooLarge()
    logger.error("Unhandled API error", exc_info=exc)
    return exceptions.APIException()


def _validation_detail(exc: django_exceptions.ValidationError) -> Any:
    detail = get_error_detail(exc)
    if isinstance(detail, dict):
        return {
            (
                api_settings.NON_FIELD_ERRORS_KEY
                if field == django_exceptions.NON_FIELD_ERRORS
                else field
            ): messages
            for field, messages in detail.items()
        }
    return detail


def _plain(detail: Any) -> Any:
    """DRF's error details (ErrorDetail strings in dicts and lists) as plain JSON values."""
    if isinstance(detail, dict):
        return {str(key): _plain(value) for key, value in detail.items()}
    if isinstance(detail, list | tuple):
        return [_plain(item) for item in detail]
    return str(detail)


def _code(exc: exceptions.APIException) -> str:
    """A specific code given with the detail (such as ``read_only_key``), else the class's."""
    detail_code = getattr(exc.detail, "code", None)
    if isinstance(detail_code, str) and detail_code in PROBLEM_KINDS:
        return detail_code
    return str(exc.default_code)


def problem_body(exc: exceptions.APIException, *, instance: str) -> dict[str, Any]:
    """The problem document for a DRF exception."""
    if isinstance(exc, exceptions.ValidationError):
        errors = _plain(exc.detail)
        if not isinstance(errors, dict):
            errors = {api_settings.NON_FIELD_ERRORS_KEY: errors}
        non_field = errors.get(api_settings.NON_FIELD_ERRORS_KEY)
        if len(errors) == 1 and isinstance(non_field, list) and len(non_field) == 1:
            detail = str(non_field[0])
        elif exc.status_code == status.HTTP_403_FORBIDDEN:
            detail = _("You may not write these values; see errors.")
        elif exc.status_code == status.HTTP_409_CONFLICT:
            detail = _("These values conflict with existing records; see errors.")
        else:
            detail = _("Some fields are not valid; see errors.")
        return problem(
            code="invalid" if exc.status_code == status.HTTP_400_BAD_REQUEST else _code(exc),
            status=exc.status_code,
            detail=detail,
            instance=instance,
            errors=errors,
        )
    # Only ValidationError carries structure in DRF; anything else is flattened.
    message = " ".join(_flatten(_plain(exc.detail)))
    return problem(code=_code(exc), status=exc.status_code, detail=message, instance=instance)


def _flatten(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in _flatten(item)]
    if isinstance(value, list):
        return [text for item in value for text in _flatten(item)]
    return [str(value)]


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """REST_FRAMEWORK's EXCEPTION_HANDLER: a problem+json response for any exception."""
    api_exc = as_api_exception(exc)
    request: Request | None = context.get("request")
    instance = request.path if request is not None else ""

    headers: dict[str, str] = {}
    auth_header = getattr(api_exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    wait = getattr(api_exc, "wait", None)
    if wait:
        headers["Retry-After"] = f"{int(wait)}"

    if request is not None and not isinstance(
        getattr(request, "accepted_renderer", None), BrowsableAPIRenderer
    ):
        # Errors answer in problem+json whatever was negotiated for success (CSV,
        # GeoJSON...); people in the browsable API keep seeing it in their page.
        request.accepted_renderer = ProblemJSONRenderer()
        request.accepted_media_type = PROBLEM_MEDIA_TYPE

    set_rollback()
    return Response(
        problem_body(api_exc, instance=instance), status=api_exc.status_code, headers=headers
    )
