from django.urls import path

from initiatives import feeds, search_views, views

app_name = "initiatives"
urlpatterns = [
    path("initiatives/<slug:slug>/", views.initiative_detail, name="initiative-detail"),
    path("plans/<slug:slug>/", views.plan_detail, name="plan-detail"),
    path("focus-areas/<slug:slug>/", views.focus_area_detail, name="focus-area-detail"),
    path("sectors/<slug:slug>/", views.sector_detail, name="sector-detail"),
    path("search/", search_views.search, name="search"),
    path("feeds/updates.atom", feeds.UpdatesFeed(), name="feed-updates"),
    path(
        "feeds/jurisdictions/<slug:slug>.atom",
        feeds.JurisdictionFeed(),
        name="feed-jurisdiction",
    ),
    path("feeds/focus-areas/<slug:slug>.atom", feeds.FocusAreaFeed(), name="feed-focus-area"),
]
