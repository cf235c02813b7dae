"""Reads about organizations and coalitions."""

from django.shortcuts import get_object_or_404

from council.models import Organization


def organization_get(*, slug: str) -> Organization:
    return get_object_or_404(Organization.objects.select_related("jurisdiction"), slug=slug)
