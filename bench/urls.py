"""
The Atlas's own URLs plus the peers it is measured against (config.settings.bench).

The Atlas's patterns are appended, not included: i18n_patterns only works in the root
URLconf.
"""

from typing import cast

from django.urls import URLPattern, URLResolver, path

from bench import views
from config.urls import urlpatterns as atlas_urlpatterns

urlpatterns: list[URLPattern | URLResolver] = [
    path("bench/floor/<slug:case>", views.floor, name="bench-floor"),
    path("bench/sql/initiatives/", views.sql_initiative_list, name="bench-sql-initiative-list"),
    path(
        "bench/sql/initiatives/<slug:slug>/",
        views.sql_initiative_detail,
        name="bench-sql-initiative-detail",
    ),
    *cast(list[URLPattern | URLResolver], atlas_urlpatterns),
]
