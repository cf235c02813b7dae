"""
The admin asks for the same one-time code as the council pages.

Chairs and reviewers, and anyone who has set up an authenticator app (staff
included), reach /admin/ only once their session has given a code; until then
the admin sends them to the code prompt, or to set up an app, and back.
"""

from urllib.parse import parse_qs, quote, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from council.models import CouncilMembership
from initiatives.models import Initiative
from tests.conftest import AtlasMap, app_for, code_for, verify_second_factor
from tests.factories import CouncilMembershipFactory, InitiativeFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
ADMIN = "/en/admin/"
ADMIN_LOGIN = "/en/admin/login/"
CHANGELIST = "/en/admin/initiatives/initiative/"
SETUP = "/en/accounts/two-factor/"
VERIFY = "/en/accounts/two-factor/verify/"


def next_to(url: str) -> str:
    return f"?next={quote(url, safe='')}"


def target(url: str) -> tuple[str, str | None]:
    """Where a redirect leads and the ``next`` it carries, however ``next`` is quoted."""
    parts = urlsplit(url)
    return parts.path, parse_qs(parts.query).get("next", [None])[0]


@pytest.fixture
def chicago_wifi(atlas_map: AtlasMap) -> Initiative:
    return InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Chicago Wi-Fi")


def test_the_routes_the_tests_name_are_the_real_ones() -> None:
    """The paths written out below are where the admin and the code prompt live."""
    assert reverse("admin:index") == ADMIN
    assert reverse("admin:login") == ADMIN_LOGIN
    assert reverse("admin:initiatives_initiative_changelist") == CHANGELIST
    assert reverse("council:second-factor-setup") == SETUP
    assert reverse("council:second-factor-verify") == VERIFY


# ------------------------------------------------------------------------------
# A password alone
# ------------------------------------------------------------------------------


def test_a_reviewer_with_only_a_password_is_sent_from_the_admin_to_the_code_prompt(
    client, chicago_reviewer
):
    """force_login is a password sign-in: the admin sends the reviewer to give a code first."""
    app_for(chicago_reviewer)
    client.force_login(chicago_reviewer)

    index = client.get(ADMIN)
    login = client.get(index.url)

    assert index.status_code == 302
    assert target(index.url) == (ADMIN_LOGIN, ADMIN)
    assert login.status_code == 302
    assert target(login.url) == (VERIFY, ADMIN)


def test_a_reviewer_with_only_a_password_cannot_see_a_changelist(
    client, chicago_reviewer, chicago_wifi
):
    """Every hop leads away from the changelist, and the Chicago initiative is never shown."""
    app_for(chicago_reviewer)
    client.force_login(chicago_reviewer)

    response = client.get(CHANGELIST, follow=True)

    assert [target(url) for url, _status in response.redirect_chain] == [
        (ADMIN_LOGIN, CHANGELIST),
        (VERIFY, CHANGELIST),
    ]
    assert response.status_code == 200
    assert "Chicago Wi-Fi" not in response.content.decode()


def test_a_chair_with_only_a_password_cannot_change_a_record(client, chicago_chair, chicago_wifi):
    """A change posted to the admin without the code is turned away and saves nothing."""
    app_for(chicago_chair)
    client.force_login(chicago_chair)
    url = reverse("admin:initiatives_initiative_change", args=[chicago_wifi.pk])

    response = client.post(url, {"title": "Changed without a code"})

    assert response.status_code == 302
    assert target(response.url)[0] == ADMIN_LOGIN
    chicago_wifi.refresh_from_db()
    assert chicago_wifi.title == "Chicago Wi-Fi"


def test_a_chair_without_an_app_is_sent_to_set_one_up(client, chicago_chair):
    client.force_login(chicago_chair)

    response = client.get(ADMIN_LOGIN + next_to(CHANGELIST))

    assert response.status_code == 302
    assert target(response.url) == (SETUP, CHANGELIST)


def test_the_admin_sign_in_form_leads_a_reviewer_to_the_code_prompt(client, chicago_reviewer):
    """Signing in on the admin's own form with the right password still ends at the prompt."""
    app_for(chicago_reviewer)

    response = client.post(
        ADMIN_LOGIN + next_to(CHANGELIST),
        {"username": "chicago-reviewer", "password": PASSWORD, "next": CHANGELIST},
        follow=True,
    )

    assert target(response.redirect_chain[-1][0]) == (VERIFY, CHANGELIST)
    assert response.status_code == 200
    assert "_auth_user_id" in client.session


def test_a_next_leading_off_the_site_is_replaced_by_the_admin_index(client, chicago_reviewer):
    app_for(chicago_reviewer)
    client.force_login(chicago_reviewer)

    response = client.get(ADMIN_LOGIN + next_to("https://elsewhere.example/admin/"))

    assert target(response.url) == (VERIFY, ADMIN)


# ------------------------------------------------------------------------------
# With the code
# ------------------------------------------------------------------------------


def test_after_giving_a_code_the_reviewer_reaches_the_changelist(
    client, chicago_reviewer, chicago_wifi
):
    """The code prompt sends the reviewer back where the admin sent them from."""
    device = app_for(chicago_reviewer)
    client.force_login(chicago_reviewer)
    prompt = client.get(CHANGELIST, follow=True).redirect_chain[-1][0]

    verified = client.post(prompt, {"token": code_for(device), "next": CHANGELIST})
    changelist = client.get(CHANGELIST)

    assert verified.status_code == 302
    assert verified.url == CHANGELIST
    assert changelist.status_code == 200
    titles = {initiative.title for initiative in changelist.context["cl"].result_list}
    assert titles == {"Chicago Wi-Fi"}
    assert client.get(ADMIN).status_code == 200


def test_a_verified_reviewer_on_the_admin_sign_in_page_goes_on_to_the_admin(
    client, chicago_reviewer
):
    """Django's own rule stays: a user the admin admits is sent on from its sign-in page."""
    client.force_login(chicago_reviewer)
    verify_second_factor(client, chicago_reviewer)

    response = client.get(ADMIN_LOGIN + next_to(CHANGELIST))

    assert response.status_code == 302
    assert response.url == CHANGELIST


# ------------------------------------------------------------------------------
# Who is not asked
# ------------------------------------------------------------------------------


def test_an_editor_without_an_app_reaches_the_admin_without_a_code(client, chicago_editor):
    client.force_login(chicago_editor)

    assert client.get(ADMIN).status_code == 200
    assert client.get(CHANGELIST).status_code == 200


def test_an_editor_with_an_app_gives_its_code_first(client, chicago_editor):
    """An editor's app is optional, but once set up it guards the admin like a chair's."""
    app_for(chicago_editor)
    client.force_login(chicago_editor)

    response = client.get(ADMIN, follow=True)

    assert target(response.redirect_chain[-1][0]) == (VERIFY, ADMIN)


def test_staff_without_an_app_reach_the_admin_without_a_code(client, staff_user):
    client.force_login(staff_user)

    assert client.get(ADMIN).status_code == 200


def test_staff_with_an_app_give_its_code_first(client, staff_user):
    """Staff hold no council role; an app they set up is still asked for, as for anyone."""
    app_for(staff_user)
    client.force_login(staff_user)

    refused = client.get(ADMIN, follow=True)
    verify_second_factor(client, staff_user)
    admitted = client.get(ADMIN)

    assert target(refused.redirect_chain[-1][0]) == (VERIFY, ADMIN)
    assert admitted.status_code == 200


def test_a_reviewer_who_is_not_staff_sees_the_admin_refusal_not_the_prompt(client, atlas_map):
    """A code would not open the admin to a non-staff account, so it is not asked for."""
    reviewer = UserFactory.create(username="not-staff-reviewer", is_staff=False)
    CouncilMembershipFactory.create(
        user=reviewer, jurisdiction=atlas_map.chicago, role=CouncilMembership.Role.REVIEWER
    )
    app_for(reviewer)
    client.force_login(reviewer)

    response = client.get(ADMIN_LOGIN + next_to(ADMIN))

    assert response.status_code == 200
    assert "not authorized to access this page" in response.content.decode()


def test_the_admin_sign_in_form_still_shows_to_visitors(client: Client) -> None:
    response = client.get(ADMIN_LOGIN)

    assert response.status_code == 200
    assert 'name="password"' in response.content.decode()
