"""Application configs the project supplies for Django's own apps."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class AtlasAdminConfig(AdminConfig):
    """Django's admin, with the Atlas's site as ``admin.site``."""

    default_site = "config.admin_site.AtlasAdminSite"
