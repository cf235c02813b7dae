"""
Shared fixtures: a small fixed map and a fixed cast of users with different rights.

The map::

    United States
    ├── Illinois
    │   ├── Chicago
    │   └── Springfield        (Chicago's sibling)
    └── New York
        └── New York City
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import translation

from cities.models import Jurisdiction
from council.models import CouncilMembership
from tests.factories import CouncilMembershipFactory, JurisdictionFactory, UserFactory

REPO_ROOT = Path(__file__).resolve().parent.parent
OCD_DATA = REPO_ROOT.parent / "shared" / "data" / "ocd-division-ids"


@pytest.fixture(autouse=True)
def _reset_language() -> Iterator[None]:
    """LocaleMiddleware leaves the last request's language active; start each test in English."""
    yield
    translation.activate("en")


@pytest.fixture
def ocd_data() -> Path:
    """The shared Open Civic Data files; tests that need them skip when they are absent."""
    if not (OCD_DATA / "us_census_places.csv").exists():
        pytest.skip(f"the shared OCD division files are not beside the checkout ({OCD_DATA})")
    return OCD_DATA


@dataclass
class AtlasMap:
    us: Jurisdiction
    illinois: Jurisdiction
    chicago: Jurisdiction
    springfield: Jurisdiction
    new_york: Jurisdiction
    nyc: Jurisdiction


@pytest.fixture
def atlas_map(db: None) -> AtlasMap:
    us = JurisdictionFactory.create(
        kind=Jurisdiction.Kind.COUNTRY,
        name="United States",
        slug="united-states",
        ocd_id="ocd-division/country:us",
    )
    illinois = JurisdictionFactory.create(
        kind=Jurisdiction.Kind.STATE,
        name="Illinois",
        slug="illinois",
        ocd_id="ocd-division/country:us/state:il",
        parent=us,
    )
    new_york = JurisdictionFactory.create(
        kind=Jurisdiction.Kind.STATE,
        name="New York",
        slug="new-york",
        ocd_id="ocd-division/country:us/state:ny",
        parent=us,
    )
    return AtlasMap(
        us=us,
        illinois=illinois,
        chicago=JurisdictionFactory.create(
            name="Chicago",
            slug="chicago",
            ocd_id="ocd-division/country:us/state:il/place:chicago",
            parent=illinois,
        ),
        springfield=JurisdictionFactory.create(
            name="Springfield",
            slug="springfield",
            ocd_id="ocd-division/country:us/state:il/place:springfield",
            parent=illinois,
        ),
        new_york=new_york,
        nyc=JurisdictionFactory.create(
            name="New York City",
            slug="new-york-city",
            ocd_id="ocd-division/country:us/state:ny/place:new_york",
            parent=new_york,
        ),
    )


def _member(username: str, jurisdiction: Jurisdiction, role: str) -> User:
    user = UserFactory.create(username=username, is_staff=True)
    CouncilMembershipFactory.create(user=user, jurisdiction=jurisdiction, role=role)
    return user


@pytest.fixture
def staff_user(db: None) -> User:
    """Atlas staff: acts everywhere."""
    return UserFactory.create(username="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def outsider(db: None) -> User:
    """A signed-in user with no council role."""
    return UserFactory.create(username="outsider")


@pytest.fixture
def illinois_editor(atlas_map: AtlasMap) -> User:
    return _member("illinois-editor", atlas_map.illinois, CouncilMembership.Role.EDITOR)


@pytest.fixture
def chicago_editor(atlas_map: AtlasMap) -> User:
    return _member("chicago-editor", atlas_map.chicago, CouncilMembership.Role.EDITOR)


@pytest.fixture
def chicago_reviewer(atlas_map: AtlasMap) -> User:
    return _member("chicago-reviewer", atlas_map.chicago, CouncilMembership.Role.REVIEWER)


@pytest.fixture
def chicago_chair(atlas_map: AtlasMap) -> User:
    return _member("chicago-chair", atlas_map.chicago, CouncilMembership.Role.CHAIR)


@pytest.fixture
def nyc_editor(atlas_map: AtlasMap) -> User:
    return _member("nyc-editor", atlas_map.nyc, CouncilMembership.Role.EDITOR)
