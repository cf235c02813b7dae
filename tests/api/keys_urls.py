"""
A test-only URLconf: small API views that show who a request authenticated as,
take a validated body, and raise each kind of error the exception handler maps.

The views use the project's REST_FRAMEWORK defaults (authentication, throttles,
renderers, parsers and exception handler), so the tests see what real endpoints do.
"""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from django.http import Http404
from django.urls import include, path
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config import urls as site_urls
from council.models import ApiKey


class WhoAmIView(APIView):
    """Who the request authenticated as; writes need an authenticated user."""

    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        return Response(self.describe(request))

    def post(self, request: Request) -> Response:
        return Response(self.describe(request), status=201)

    @staticmethod
    def describe(request: Request) -> dict[str, Any]:
        key = request.auth if isinstance(request.auth, ApiKey) else None
        return {"user": request.user.get_username(), "key": key.prefix if key else None}


class AddressSerializer(serializers.Serializer):
    city = serializers.CharField()
    postcode = serializers.RegexField(r"^\d{5}$")


class ThingSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=20)
    count = serializers.IntegerField(min_value=0)
    address = AddressSerializer(required=False)


class EchoView(APIView):
    """Anyone may read, and post a body that is validated."""

    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response({"user": request.user.get_username() or None})

    def post(self, request: Request) -> Response:
        serializer = ThingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data, status=201)


class RaiseView(APIView):
    """Raises what its ``kind`` names, as views and services might."""

    permission_classes = [AllowAny]

    def get(self, request: Request, kind: str) -> Response:
        match kind:
            case "http404":
                raise Http404("No Initiative matches the given query.")
            case "django-permission-denied":
                raise DjangoPermissionDenied("You may not edit this initiative.")
            case "django-validation-error":
                raise DjangoValidationError(
                    {
                        "status": DjangoValidationError("Unknown status.", code="invalid_choice"),
                        "__all__": DjangoValidationError("Nothing fits.", code="invalid"),
                    }
                )
            case "django-validation-message":
                raise DjangoValidationError("A plain message.", code="invalid")
            case "too-big":
                raise RequestDataTooBig(
                    "Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE."
                )
            case "protected":
                raise ProtectedError("Still referred to.", set())
            case _:
                raise RuntimeError("an unforeseen bug")


api_patterns = [
    path("whoami/", WhoAmIView.as_view(), name="whoami"),
    path("echo/", EchoView.as_view(), name="echo"),
    path("raise/<slug:kind>/", RaiseView.as_view(), name="raise"),
]

# The site's own routes stay, so that pages such as the 404 template can name them.
urlpatterns = [path("api/test/", include(api_patterns)), *site_urls.urlpatterns]
