"""The workspace's review pages, workflow actions and API keys, under /<lang>/council/."""

from django.urls import path, re_path

from council import workspace_views as views

app_name = "workspace"

# Only the two kinds the workflow knows; anything else is not a workspace URL at all.
RECORD = r"(?P<kind>initiatives|plans)/(?P<slug>[-a-zA-Z0-9_]+)"

urlpatterns = [
    path("review/", views.review_queue, name="review-queue"),
    re_path(rf"^review/{RECORD}/$", views.review_detail, name="review-detail"),
    re_path(rf"^workflow/{RECORD}/submit/$", views.submit, name="submit"),
    re_path(rf"^workflow/{RECORD}/publish/$", views.publish, name="publish"),
    re_path(rf"^workflow/{RECORD}/return/$", views.return_to_editors, name="return"),
    re_path(rf"^workflow/{RECORD}/discard/$", views.discard, name="discard"),
    re_path(rf"^workflow/{RECORD}/archive/$", views.archive, name="archive"),
    re_path(rf"^workflow/{RECORD}/unarchive/$", views.unarchive, name="unarchive"),
    path("api-keys/", views.api_keys, name="api-keys"),
    path("reminders/", views.reminder_preferences, name="reminders"),
    path("api-keys/<int:pk>/revoke/", views.api_key_revoke_view, name="api-key-revoke"),
]
