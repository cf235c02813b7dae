from django.urls import path

from cities import views

app_name = "cities"
urlpatterns = [
    path("", views.home, name="home"),
    path("jurisdictions/<slug:slug>/", views.jurisdiction_detail, name="jurisdiction-detail"),
    path("compare/", views.compare, name="compare"),
    path("coverage/", views.coverage, name="coverage"),
]
