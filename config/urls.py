from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path
from django.views.generic import TemplateView

from config.api.dump_views import CatalogView
from config.sitemaps import SITEMAPS
from config.views import healthz, readyz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("api/v1/", include("config.api.urls")),
    path("api/v1/", include("config.api.docs_urls")),
    path("catalog.jsonld", CatalogView.as_view(), name="dcat-catalog"),
    path("i18n/", include("django.conf.urls.i18n")),
    # Outside the language prefix: crawlers look for both at the root.
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path(
        "robots.txt",
        TemplateView.as_view(template_name="robots.txt", content_type="text/plain"),
        name="robots-txt",
    ),
]

urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("", include("cities.urls")),
    path("", include("initiatives.urls")),
    path("", include("council.urls")),
    path("subscriptions/", include("initiatives.subscription_urls")),
    prefix_default_language=True,
)
