"""A record's timeline and its restore button, and each jurisdiction's audit log."""

from django.urls import path

from council import history_views as views

app_name = "history"
urlpatterns = [
    path("history/<slug:kind>/<slug:slug>/", views.record_history, name="record-history"),
    path("history/<slug:kind>/<slug:slug>/restore/", views.restore, name="restore"),
    path("jurisdictions/<slug:slug>/audit-log/", views.audit_log, name="audit-log"),
]
