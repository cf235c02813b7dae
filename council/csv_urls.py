from django.urls import path

from council import csv_views

app_name = "csv"
urlpatterns = [
    path("jurisdictions/<slug:slug>/import/", csv_views.import_upload, name="import"),
    path(
        "jurisdictions/<slug:slug>/import/confirm/",
        csv_views.import_confirm,
        name="import-confirm",
    ),
    path("jurisdictions/<slug:slug>/export.csv", csv_views.export, name="export"),
]
