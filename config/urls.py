from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from config.api.dump_views import CatalogView
from config.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("config.api.urls")),
    path("api/v1/", include("config.api.docs_urls")),
    path("catalog.jsonld", CatalogView.as_view(), name="dcat-catalog"),
    path("i18n/", include("django.conf.urls.i18n")),
]

urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("", include("cities.urls")),
    path("", include("initiatives.urls")),
    path("", include("council.urls")),
    prefix_default_language=True,
)
