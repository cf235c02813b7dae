"""A council's members and invitations, and the page an invitation link leads to."""

from django.urls import path

from council import member_views as views

app_name = "members"
urlpatterns = [
    path("jurisdictions/<slug:slug>/members/", views.member_list, name="list"),
    path("jurisdictions/<slug:slug>/members/invite/", views.member_invite, name="invite"),
    path(
        "jurisdictions/<slug:slug>/members/<int:pk>/role/",
        views.member_change_role,
        name="change-role",
    ),
    path(
        "jurisdictions/<slug:slug>/members/<int:pk>/remove/",
        views.member_remove,
        name="remove",
    ),
    path(
        "jurisdictions/<slug:slug>/invitations/<int:pk>/revoke/",
        views.invitation_revoke,
        name="invitation-revoke",
    ),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation-accept"),
]
