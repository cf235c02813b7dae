"""Schema, documentation and open-data dumps under /api/v1/."""

from django.urls import URLPattern, URLResolver, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.api.dump_views import DumpDownloadView, DumpListView

# Imported for its side effect as well: it registers the API-key security scheme.
from config.api.schema import LocalRedocView

urlpatterns: list[URLPattern | URLResolver] = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", LocalRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("dumps/", DumpListView.as_view(), name="api-dumps"),
    # <path:> rather than <str:>, so a name with a slash still reaches the view's
    # strict check and gets a problem 404 rather than the site's HTML one.
    path("dumps/<path:name>", DumpDownloadView.as_view(), name="api-dump"),
]
