"""The workspace's edit pages, under /<lang>/council/."""

from django.urls import path

from council import edit_views as views

app_name = "editing"
urlpatterns = [
    path(
        "jurisdictions/<slug:slug>/records/",
        views.jurisdiction_records,
        name="jurisdiction-records",
    ),
    path(
        "jurisdictions/<slug:jurisdiction_slug>/initiatives/new/",
        views.initiative_create,
        name="initiative-create",
    ),
    path(
        "jurisdictions/<slug:jurisdiction_slug>/plans/new/", views.plan_create, name="plan-create"
    ),
    path(
        "jurisdictions/<slug:slug>/profile/",
        views.jurisdiction_profile,
        name="jurisdiction-profile",
    ),
    path("initiatives/<slug:slug>/edit/", views.initiative_edit, name="initiative-edit"),
    path("plans/<slug:slug>/edit/", views.plan_edit, name="plan-edit"),
    path("organizations/new/", views.organization_create_view, name="organization-create"),
    path("organizations/<slug:slug>/edit/", views.organization_edit, name="organization-edit"),
    path("coalitions/<slug:slug>/edit/", views.coalition_edit, name="coalition-edit"),
    path("markdown-preview/", views.markdown_preview, name="markdown-preview"),
]
