"""Atlas staff's digest preview, under /<lang>/council/digests/."""

from django.urls import path

from initiatives import digest_views as views

app_name = "digests"

urlpatterns = [
    path("digests/preview/", views.preview, name="preview"),
]
