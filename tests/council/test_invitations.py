"""Accepting an invitation: signed in, or with a new account; never twice, late or revoked."""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils import timezone

from council.members import InvitationUnusable, invitation_accept, invitation_create
from council.models import CouncilMembership, Invitation
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

Role = CouncilMembership.Role


@pytest.fixture
def invited(chicago_chair, atlas_map):
    """An open invitation to Chicago's council as reviewer, and its plain token."""
    return invitation_create(
        jurisdiction=atlas_map.chicago,
        email="newcomer@example.org",
        role=Role.REVIEWER,
        actor=chicago_chair,
    )


def url(token: str) -> str:
    return f"/en/council/invitations/{token}/"


def account(**overrides: str) -> dict[str, str]:
    data = {
        "username": "newcomer",
        "email": "newcomer@example.org",
        "password1": "a long and unusual passphrase 42",
        "password2": "a long and unusual passphrase 42",
    }
    data.update(overrides)
    return data


# ------------------------------------------------------------------ signed in


def test_a_signed_in_user_accepts_with_a_post(client, outsider, invited, atlas_map):
    invitation, token = invited
    client.force_login(outsider)

    page = client.get(url(token))
    assert page.status_code == 200
    assert "Accept as outsider" in page.content.decode()
    assert not CouncilMembership.objects.filter(user=outsider).exists()

    response = client.post(url(token))
    assert response.status_code == 302
    membership = CouncilMembership.objects.get(user=outsider)
    assert (membership.jurisdiction, membership.role) == (atlas_map.chicago, Role.REVIEWER)
    assert membership.history.get().history_user == outsider
    invitation.refresh_from_db()
    assert invitation.accepted_by == outsider
    assert invitation.accepted_at is not None


def test_an_existing_member_gets_the_invited_role(chicago_editor, invited):
    _, token = invited
    membership = invitation_accept(token=token, user=chicago_editor)
    assert CouncilMembership.objects.filter(user=chicago_editor).count() == 1
    assert membership.role == Role.REVIEWER


def test_an_invitation_works_once(client, outsider, invited):
    _, token = invited
    client.force_login(outsider)
    client.post(url(token))
    again = client.post(url(token))
    assert again.status_code == 400
    assert "already been accepted" in again.content.decode()
    assert client.get(url(token)).status_code == 400
    with pytest.raises(InvitationUnusable):
        invitation_accept(token=token, user=UserFactory.create())
    assert (
        CouncilMembership.objects.filter(jurisdiction__slug="chicago", role="reviewer").count() == 1
    )


# ------------------------------------------------------------------ new account


def test_a_visitor_creates_an_account_and_joins(client, invited, atlas_map):
    invitation, token = invited
    page = client.get(url(token)).content.decode()
    assert 'value="newcomer@example.org"' in page

    response = client.post(url(token), account())

    assert response.status_code == 302
    user = User.objects.get(username="newcomer")
    assert user.check_password("a long and unusual passphrase 42")
    assert user.email == "newcomer@example.org"
    assert CouncilMembership.objects.get(user=user).role == Role.REVIEWER
    assert client.session["_auth_user_id"] == str(user.pk)
    invitation.refresh_from_db()
    assert invitation.accepted_by == user


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"password1": "short", "password2": "short"}, "too short"),
        ({"password1": "12345678901234", "password2": "12345678901234"}, "entirely numeric"),
        ({"password2": "something else entirely"}, "The two passwords differ."),
        ({"username": "chicago-chair"}, "This username is taken."),
        ({"username": "bad name!"}, "Enter a valid username"),
    ],
)
def test_a_bad_account_is_refused_and_keeps_what_was_typed(client, invited, overrides, message):
    _, token = invited
    response = client.post(url(token), account(email="typed@example.org", **overrides))
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert 'value="typed@example.org"' in html
    assert f'value="{overrides.get("username", "newcomer")}"' in html.replace("&#x27;", "'")
    assert not User.objects.filter(email="typed@example.org").exists()
    assert Invitation.objects.get().accepted_at is None


# ------------------------------------------------------------------ unusable links


def test_an_expired_invitation_is_refused(client, outsider, invited, settings):
    _, token = invited
    later = timezone.now() + datetime.timedelta(days=settings.ATLAS_INVITATION_DAYS, minutes=1)
    client.force_login(outsider)
    with time_machine.travel(later, tick=False):
        response = client.post(url(token))
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert not CouncilMembership.objects.filter(user=outsider).exists()


def test_a_revoked_invitation_is_refused(client, invited):
    invitation, token = invited
    Invitation.objects.filter(pk=invitation.pk).update(revoked_at=timezone.now())
    response = client.post(url(token), account())
    assert response.status_code == 400
    assert "withdrawn" in response.content.decode()
    assert not User.objects.filter(username="newcomer").exists()


def test_an_unknown_token_is_404(client, invited):
    _, token = invited
    response = client.get(url(token[:-1] + ("A" if token[-1] != "A" else "B")))
    assert response.status_code == 404
    assert "No invitation matches this link" in response.content.decode()
    assert client.post(url("nothing-here"), account()).status_code == 404
    assert not User.objects.filter(username="newcomer").exists()


# ------------------------------------------------------------------ chairs and races


def test_an_invitation_never_demotes_a_chair(client, chicago_chair, invited):
    """Accepting a reviewer invitation as a chair is refused; the chair stays chair."""
    invitation, token = invited
    with pytest.raises(ValidationError) as refused:
        invitation_accept(token=token, user=chicago_chair)
    assert refused.value.code == "would_demote"
    assert CouncilMembership.objects.get(user=chicago_chair).role == Role.CHAIR
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_the_demotion_refusal_is_a_clear_page(client, chicago_chair, invited):
    _invitation, token = invited
    client.force_login(chicago_chair)
    response = client.post(url(token))
    assert response.status_code == 400
    assert "You chair this council already" in response.content.decode()
    assert CouncilMembership.objects.get(user=chicago_chair).role == Role.CHAIR


def test_a_role_change_by_invitation_runs_the_last_chair_guard(
    chicago_chair, atlas_map, monkeypatch
):
    from council import members

    guarded = []
    monkeypatch.setattr(members, "_guard_last_chair", lambda m: guarded.append(m.pk))
    editor = UserFactory.create(username="second")
    membership = CouncilMembership.objects.create(
        user=editor, jurisdiction=atlas_map.chicago, role=Role.EDITOR
    )
    _invitation, token = invitation_create(
        jurisdiction=atlas_map.chicago,
        email="second@example.org",
        role=Role.REVIEWER,
        actor=chicago_chair,
    )
    invitation_accept(token=token, user=editor)
    assert guarded == [membership.pk]
    membership.refresh_from_db()
    assert membership.role == Role.REVIEWER


def test_a_membership_made_meanwhile_is_a_refusal_not_a_500(client, outsider, invited, monkeypatch):
    """Two invitations accepted at the same moment: the second save hits the unique key."""
    from django.db import IntegrityError

    _invitation, token = invited

    def clash(self, *args, **kwargs):
        raise IntegrityError("UNIQUE constraint failed: council_councilmembership")

    monkeypatch.setattr(CouncilMembership, "save", clash)
    client.force_login(outsider)
    response = client.post(url(token))
    assert response.status_code == 400
    assert "at the same moment" in response.content.decode()
    assert not Invitation.objects.filter(accepted_at__isnull=False).exists()


def test_a_username_taken_meanwhile_is_a_form_error(client, invited, monkeypatch):
    """The name is free when the form checks it and taken when the account is made."""
    from django.db import IntegrityError

    _invitation, token = invited

    def taken(*args, **kwargs):
        raise IntegrityError("UNIQUE constraint failed: auth_user.username")

    monkeypatch.setattr(User.objects, "create_user", taken)
    response = client.post(url(token), account())
    assert response.status_code == 400
    html = response.content.decode()
    assert "This username was taken a moment ago. Choose another." in html
    assert 'value="newcomer"' in html
    assert not CouncilMembership.objects.filter(user__username="newcomer").exists()
