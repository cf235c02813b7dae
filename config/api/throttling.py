"""
Rate limits: per IP for anonymous requests, per key for API keys, per user for sessions.

Rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] (scopes ``anon``,
``key`` and ``user``) and are read on every request rather than once at import
as DRF's throttles do, so a changed setting (a test's, say) takes effect at
once. Counts live in the default cache: Redis in deployments, so every worker
shares them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from council.models import ApiKey

if TYPE_CHECKING:
    # rest_framework.views imports the throttles named in the settings at import time.
    from rest_framework.views import APIView


class AtlasRateThrottle(SimpleRateThrottle):
    """A throttle whose rate is looked up in the settings when the request arrives."""

    def get_rate(self) -> str | None:
        rates = api_settings.DEFAULT_THROTTLE_RATES
        if self.scope not in rates:
            raise ImproperlyConfigured(f"No throttle rate set for the {self.scope!r} scope.")
        rate = rates[self.scope]
        return None if rate is None else str(rate)


class AnonymousRateThrottle(AtlasRateThrottle):
    """Anonymous requests, counted per client IP."""

    scope = "anon"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if request.user is not None and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ApiKeyRateThrottle(AtlasRateThrottle):
    """Requests made with an API key, counted per key, so one consumer's keys do not share."""

    scope = "key"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if not isinstance(request.auth, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class UserRateThrottle(AtlasRateThrottle):
    """Signed-in users of the browsable API, counted per user."""

    scope = "user"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if request.user is None or not request.user.is_authenticated:
            return None
        if isinstance(request.auth, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
