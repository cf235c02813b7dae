"""
How the API knows who is asking: API keys (``Authorization: Bearer atl_<prefix>_<secret>``),
or the session of a signed-in user for the browsable API.
"""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.authentication import SessionScheme
from rest_framework.authentication import (
    BaseAuthentication,
    SessionAuthentication,
    get_authorization_header,
)
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request

from council import permissions
from council.models import ApiKey


class ApiKeyAuthentication(BaseAuthentication):
    """
    Authenticates a request as the owner of the API key it carries.

    A request without a Bearer header is left to the next authenticator (the
    session, for the browsable API). A Bearer header that does not name a usable
    key is refused with 401 rather than served anonymously, so a client with a
    broken key finds out. A read-only key is refused for unsafe methods here, so
    no view can forget to check. A write key acts with its owner's rights, which
    council.permissions decides like anywhere else.
    """

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, ApiKey] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(
                _("Malformed Authorization header: send “Bearer <key>”."), code="malformed_key"
            )
        try:
            split = ApiKey.split(parts[1].decode("ascii"))
        except UnicodeDecodeError:
            split = None
        if split is None:
            raise AuthenticationFailed(_("Malformed API key."), code="malformed_key")
        prefix, secret = split

        key = ApiKey.objects.select_related("user").filter(prefix=prefix).first()
        if key is None or not key.matches(secret):
            raise AuthenticationFailed(_("Unknown API key."), code="unknown_key")
        # Only the key's holder gets this far, so telling why it fails leaks nothing.
        now = timezone.now()
        if key.revoked_at is not None:
            raise AuthenticationFailed(_("This API key has been revoked."), code="key_revoked")
        if key.is_expired(now):
            raise AuthenticationFailed(_("This API key has expired."), code="key_expired")
        if not key.user.is_active:
            raise AuthenticationFailed(_("This API key's owner is inactive."), code="inactive")
        if key.read_only and request.method not in SAFE_METHODS:
            raise PermissionDenied(_("This key is read-only."), code="read_only_key")

        key.touch(now)
        return key.user, key

    def authenticate_header(self, request: Request) -> str:
        # Naming a scheme makes DRF answer 401 (with WWW-Authenticate), not 403.
        return 'Bearer realm="api"'


class SecondFactorSessionAuthentication(SessionAuthentication):
    """
    The session, as DRF reads it, once the session has given any one-time code it owes.

    A chair or reviewer who signed in with a password alone may not reach the council
    pages or the admin (``permissions.second_factor_missing``); the browsable API must
    not let that session publish or read drafts either. Such a request is served as
    anonymous rather than refused, like any visitor without a session, so public
    reads keep working. API keys are not sessions and are unaffected.
    """

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, None] | None:
        # Asked before the CSRF check: a session that does not count needs no token.
        if permissions.second_factor_missing(getattr(request._request, "user", None)):
            return None
        return super().authenticate(request)


class SecondFactorSessionScheme(SessionScheme):
    """Describes the session in the schema as drf-spectacular does for DRF's own class."""

    # drf-spectacular matches authenticators by exact class; without this the schema
    # would drop the cookie scheme and warn.
    target_class = "config.api.authentication.SecondFactorSessionAuthentication"
