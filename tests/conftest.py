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
from django.test import Client
from django.utils import translation
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from cities.models import Jurisdiction
from council.models import CouncilMembership

# Autouse: the coverage summary follows each write at once, since a test's transaction
# never commits (see the module).
from tests.cities.coverage_fixtures import coverage_summary_follows_writes  # noqa: F401
from tests.factories import CouncilMembershipFactory, JurisdictionFactory, UserFactory

REPO_ROOT = Path(__file__).resolve().parent.parent
OCD_DATA = REPO_ROOT.parent / "shared" / "data" / "ocd-division-ids"


def code_for(device: TOTPDevice) -> str:
    """The code an authenticator app holding the device's key shows now."""
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def app_for(user: User) -> TOTPDevice:
    """A confirmed authenticator app for ``user``."""
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def verify_second_factor(client: Client, user: User) -> TOTPDevice:
    """
    Mark ``client``'s session, already signed in as ``user``, as having given a one-time code.

    The user gets a confirmed authenticator app if they have none. The session then holds the
    device's id as django_otp.login leaves it after a right code, which is what OTPMiddleware
    reads; tests about the code prompt itself post real codes instead.
    """
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


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
