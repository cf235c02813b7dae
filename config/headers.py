"""Response headers Django has no setting for."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from config.security import PERMISSIONS_POLICY


class PermissionsPolicyMiddleware:
    """Denies the browser features the Atlas never uses (config.security.PERMISSIONS_POLICY)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        # A view that needs a feature may set its own header.
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
