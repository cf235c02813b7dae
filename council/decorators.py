"""The door to the council workspace: signed in, and with a second factor where one is due."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

from council import permissions


def workspace_view(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """
    Wrap a workspace view: anonymous visitors go to sign in, and anyone who owes a
    one-time code gives it first. Rights on the object are the view's to check.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from council.auth_views import second_factor_redirect

        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if permissions.second_factor_missing(request.user):
            return second_factor_redirect(request.user, request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper
