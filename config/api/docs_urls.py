"""Schema, documentation and open-data dumps under /api/v1/."""

from django.urls import URLPattern, URLResolver, path
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.api.dump_views import DumpDownloadView, DumpListView

# Imported for its side effect as well: it registers the API-key security scheme.
from config.api.schema import LocalRedocView
from config.security import api_docs_policy

# Under production's Content Security Policy the documentation pages may use inline
# styles (their UI libraries write them); the split Swagger view serves its start-up
# script from this origin, so no inline script is needed anywhere.
docs_policy = csp_override(api_docs_policy())

urlpatterns: list[URLPattern | URLResolver] = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "docs/",
        docs_policy(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path("redoc/", docs_policy(LocalRedocView.as_view(url_name="api-schema")), name="api-redoc"),
    path("dumps/", DumpListView.as_view(), name="api-dumps"),
    # <path:> rather than <str:>, so a name with a slash still reaches the view's
    # strict check and gets a problem 404 rather than the site's HTML one.
    path("dumps/<path:name>", DumpDownloadView.as_view(), name="api-dump"),
]
