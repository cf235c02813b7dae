"""Fixtures for subscriptions: a clean rate-limit cache, and things to follow."""

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache

from council.models import Organization
from initiatives.models import FocusArea, Initiative, OutgoingEmail
from tests.conftest import AtlasMap
from tests.factories import InitiativeFactory, OrganizationFactory


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    """The rate limit counts in the cache, which outlives each test's database."""
    cache.clear()
    yield
    cache.clear()


@dataclass
class Followable:
    map: AtlasMap
    initiative: Initiative
    focus_area: FocusArea
    organization: Organization


@pytest.fixture
def followable(atlas_map: AtlasMap) -> Followable:
    return Followable(
        map=atlas_map,
        initiative=InitiativeFactory.create(
            jurisdiction=atlas_map.chicago, slug="library-wifi", title="Library Wi-Fi"
        ),
        focus_area=FocusArea.objects.get(slug="open-government"),
        organization=OrganizationFactory.create(slug="uchicago", name="University of Chicago"),
    )


def link_in(email: OutgoingEmail) -> str:
    """The path of the first link to this site in an email's text."""
    for word in email.body.split():
        if word.startswith("http://") or word.startswith("https://"):
            return urlsplit(word).path
    raise AssertionError(f"no link in {email.body!r}")
