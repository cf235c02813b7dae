"""
The browsable API's session counts only once it has given the one-time code it owes.

A chair or reviewer signed in with a password alone is anonymous to /api/v1/:
drafts of their jurisdiction stay hidden and writes are refused as from a
visitor. API keys do not depend on the session and keep working.
"""

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.http import HttpResponseBase
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from council.services import api_key_create
from initiatives.models import Initiative, PublicationState
from tests.conftest import AtlasMap, verify_second_factor
from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db

DRAFT = "/api/v1/initiatives/chicago-draft/"
VERIFY = "/en/accounts/two-factor/verify/"


@pytest.fixture(autouse=True)
def fresh_throttles() -> None:
    """Each test starts with empty rate-limit counters, however fast the suite runs."""
    cache.clear()


@pytest.fixture
def chicago_draft(atlas_map: AtlasMap) -> Initiative:
    return InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        slug="chicago-draft",
        title="Chicago draft",
        publication_state=PublicationState.DRAFT,
    )


def app_for(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def code_for(device: TOTPDevice) -> str:
    """The code an authenticator app holding the device's key shows now."""
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def rename(client: Client, title: str, headers: dict[str, str] | None = None) -> HttpResponseBase:
    """Ask to retitle the Chicago draft through the API."""
    return client.patch(DRAFT, {"title": title}, content_type="application/json", headers=headers)


# ------------------------------------------------------------------------------
# A password alone
# ------------------------------------------------------------------------------


def test_a_reviewer_with_only_a_password_does_not_see_their_jurisdictions_draft(
    client, chicago_reviewer, chicago_draft
):
    """force_login is a password sign-in; the API treats the session as a visitor's."""
    app_for(chicago_reviewer)
    client.force_login(chicago_reviewer)

    assert client.get(DRAFT).status_code == 404
    slugs = {item["slug"] for item in client.get("/api/v1/initiatives/").json()["results"]}
    assert "chicago-draft" not in slugs


def test_a_chair_with_only_a_password_cannot_write(client, chicago_chair, chicago_draft):
    """The write is refused as unauthenticated, and nothing changes."""
    app_for(chicago_chair)
    client.force_login(chicago_chair)

    response = rename(client, "Renamed without a code")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    chicago_draft.refresh_from_db()
    assert chicago_draft.title == "Chicago draft"


def test_a_chair_without_an_app_is_anonymous_too(client, chicago_chair, chicago_draft):
    """Having no app set up yet does not excuse the code: the chair must set one up."""
    client.force_login(chicago_chair)

    assert client.get(DRAFT).status_code == 404
    assert rename(client, "Renamed without an app").status_code == 401


def test_public_reads_still_work_for_a_session_without_its_code(
    client, atlas_map, chicago_reviewer
):
    """Served as a visitor, not refused: published records stay readable."""
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug="chicago-wifi")
    client.force_login(chicago_reviewer)

    response = client.get("/api/v1/initiatives/chicago-wifi/")

    assert response.status_code == 200


# ------------------------------------------------------------------------------
# With the code
# ------------------------------------------------------------------------------


def test_after_giving_a_code_the_reviewer_sees_the_draft(client, chicago_reviewer, chicago_draft):
    device = app_for(chicago_reviewer)
    client.force_login(chicago_reviewer)
    assert client.get(DRAFT).status_code == 404

    assert client.post(VERIFY, {"token": code_for(device)}).status_code == 302
    response = client.get(DRAFT)

    assert response.status_code == 200
    assert response.json()["title"] == "Chicago draft"


def test_a_verified_chair_writes_through_the_session(client, chicago_chair, chicago_draft):
    client.force_login(chicago_chair)
    verify_second_factor(client, chicago_chair)

    response = rename(client, "Renamed with a code")

    assert response.status_code == 200
    chicago_draft.refresh_from_db()
    assert chicago_draft.title == "Renamed with a code"
    assert chicago_draft.updated_by == chicago_chair


def test_a_session_still_needs_its_csrf_token_once_it_counts(chicago_chair, chicago_draft):
    """The session check keeps DRF's CSRF check for sessions that do authenticate."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(chicago_chair)
    verify_second_factor(client, chicago_chair)

    response = rename(client, "Renamed without a token")

    assert response.status_code == 403
    chicago_draft.refresh_from_db()
    assert chicago_draft.title == "Chicago draft"


# ------------------------------------------------------------------------------
# Who is not asked
# ------------------------------------------------------------------------------


def test_an_editor_without_an_app_writes_through_the_session(client, chicago_editor, chicago_draft):
    client.force_login(chicago_editor)

    assert client.get(DRAFT).status_code == 200
    assert rename(client, "Renamed by the editor").status_code == 200


def test_an_api_key_works_whatever_the_session(client, chicago_chair, chicago_draft):
    """A chair's key writes even from a client whose session has given no code."""
    app_for(chicago_chair)
    _key, secret = api_key_create(user=chicago_chair, read_only=False, actor=chicago_chair)
    client.force_login(chicago_chair)

    response = rename(client, "Renamed with a key", {"Authorization": f"Bearer {secret}"})

    assert response.status_code == 200
    chicago_draft.refresh_from_db()
    assert chicago_draft.title == "Renamed with a key"


def test_the_schema_still_describes_the_session_cookie(client, settings):
    """drf-spectacular knows the session class by name; the subclass keeps its scheme."""
    schema = client.get("/api/v1/schema/", {"format": "json"}).json()

    assert schema["components"]["securitySchemes"]["cookieAuth"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": settings.SESSION_COOKIE_NAME,
    }
