from django.urls import path

from council import views

app_name = "council"
urlpatterns = [
    path("organizations/<slug:slug>/", views.organization_detail, name="organization-detail"),
]
