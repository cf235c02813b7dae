"""Public suggestions and comments, their confirmation, and the moderation queue."""

from django.urls import path

from council import contribution_views as views

app_name = "contributions"
urlpatterns = [
    path("suggest/<slug:jurisdiction_slug>/", views.suggest, name="suggest"),
    path("initiatives/<slug:slug>/comment/", views.comment, name="comment"),
    path("contributions/sent/", views.sent, name="sent"),
    path("contributions/confirm/<str:token>/", views.confirm, name="confirm"),
    path("council/moderation/", views.moderation_queue, name="moderation-queue"),
    path(
        "council/moderation/<int:pk>/accept/",
        views.moderation_accept,
        name="moderation-accept",
    ),
    path(
        "council/moderation/<int:pk>/reject/",
        views.moderation_reject,
        name="moderation-reject",
    ),
]
