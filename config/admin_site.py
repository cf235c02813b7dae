"""
The Atlas's admin site: Django's, with the second factor the council pages ask for.

Chairs and reviewers publish and manage, and the admin reaches the same records,
so a password alone must not open it either (``permissions.second_factor_missing``).
Atlas staff follow the same rule: a superuser who has set up an authenticator app
gives its code before the admin; one without an app is not asked for one.

Installed as the default site by ``config.apps.AtlasAdminConfig``, so
``admin.site.register`` and ``admin.site.urls`` work unchanged.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache

from council import permissions
from council.auth_views import second_factor_redirect

# The answer is kept on the request: the admin asks has_permission more than once per page
# (the view's guard and the sidebar), and an editor's answer costs a query for their devices.
# It is kept with the user it is about, as signing in on the admin's form changes the user.
_MISSING_ATTR = "_atlas_second_factor_missing"


def _second_factor_missing(request: HttpRequest) -> bool:
    cached: tuple[object, bool] | None = getattr(request, _MISSING_ATTR, None)
    if cached is not None and cached[0] == request.user.pk:
        return cached[1]
    missing = permissions.second_factor_missing(request.user)
    setattr(request, _MISSING_ATTR, (request.user.pk, missing))
    return missing


class AtlasAdminSite(admin.AdminSite):
    """Django's admin site, closed to a session that still owes a one-time code."""

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and not _second_factor_missing(request)

    @method_decorator(never_cache)
    @login_not_required
    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Every admin page sends a refused visitor here. Someone who may use the admin but
        # has not given their code yet would read "you are not authorized" and a password
        # form that cannot help them, so they go to the code prompt (or the app setup) and
        # come back. Only GET: a posted form is a sign-in attempt, left to Django.
        if (
            request.method == "GET"
            and super().has_permission(request)
            and _second_factor_missing(request)
        ):
            return second_factor_redirect(request.user, self._next_url(request))
        response: HttpResponse = super().login(request, extra_context)
        return response

    def _next_url(self, request: HttpRequest) -> str:
        """The admin page asked for, when ``next`` stays on this site, else the admin's index."""
        candidate = request.GET.get(REDIRECT_FIELD_NAME, "")
        if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return candidate
        return reverse("admin:index", current_app=self.name)
