"""Chairs manage their council: invitations, roles, removals, never the last chair."""

import re

import pytest
from django.urls import reverse

from council.members import invitation_create, membership_change_role, membership_remove
from council.models import CouncilMembership, Invitation
from tests.conftest import verify_second_factor
from tests.factories import CouncilMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/en/council/jurisdictions/chicago/members/"
INVITE_URL = "/en/council/jurisdictions/chicago/members/invite/"
Role = CouncilMembership.Role


@pytest.fixture
def chair_client(client, chicago_chair):
    client.force_login(chicago_chair)
    verify_second_factor(client, chicago_chair)
    return client


def membership_of(user) -> CouncilMembership:
    return CouncilMembership.objects.get(user=user)


# ------------------------------------------------------------------ the list


def test_the_chair_sees_members_and_invitations(chair_client, chicago_chair, chicago_editor):
    membership = membership_of(chicago_editor)
    membership.public_name = "Dana Editor"
    membership.save()
    invitation_create(
        jurisdiction=membership.jurisdiction,
        email="new@example.org",
        role="reviewer",
        actor=chicago_chair,
    )
    html = chair_client.get(LIST_URL).content.decode()
    assert "Dana Editor" in html
    assert "chicago-editor" in html
    assert "chicago-chair" in html
    assert "new@example.org" in html
    assert "Invite someone" in html


def test_any_member_may_view_but_not_change(client, chicago_editor, chicago_chair):
    """An editor of Chicago sees the list without the controls, and is refused any change."""
    client.force_login(chicago_editor)
    response = client.get(LIST_URL)
    assert response.status_code == 200
    assert "chicago-chair" in response.content.decode()
    assert "Change role" not in response.content.decode()

    chair = membership_of(chicago_chair)
    assert client.get(INVITE_URL).status_code == 403
    assert client.post(INVITE_URL, {"email": "x@example.org", "role": "chair"}).status_code == 403
    assert (
        client.post(f"{LIST_URL}{chair.pk}/role/", {f"m{chair.pk}-role": "editor"}).status_code
        == 403
    )
    assert client.post(f"{LIST_URL}{chair.pk}/remove/").status_code == 403
    assert Invitation.objects.count() == 0
    chair.refresh_from_db()
    assert chair.role == Role.CHAIR


def test_another_jurisdiction_is_404(chair_client, nyc_editor, atlas_map):
    """Chicago's chair cannot see New York's council, nor reach its members through Chicago."""
    assert chair_client.get("/en/council/jurisdictions/new-york-city/members/").status_code == 404
    assert chair_client.get("/en/council/jurisdictions/springfield/members/").status_code == 404
    assert chair_client.get("/en/council/jurisdictions/nowhere/members/").status_code == 404
    nyc = membership_of(nyc_editor)
    response = chair_client.post(f"{LIST_URL}{nyc.pk}/role/", {f"m{nyc.pk}-role": "chair"})
    assert response.status_code == 404
    assert chair_client.post(f"{LIST_URL}{nyc.pk}/remove/").status_code == 404
    assert CouncilMembership.objects.filter(pk=nyc.pk, role=Role.EDITOR).exists()


def test_outsiders_get_404(client, outsider, chicago_chair):
    client.force_login(outsider)
    assert client.get(LIST_URL).status_code == 404


def test_the_list_costs_a_fixed_number_of_queries(
    chair_client, chicago_chair, atlas_map, django_assert_max_num_queries
):
    for n in range(30):
        CouncilMembershipFactory.create(
            user=UserFactory.create(username=f"member-{n}"), jurisdiction=atlas_map.chicago
        )
        invitation_create(
            jurisdiction=atlas_map.chicago,
            email=f"i{n}@example.org",
            role="editor",
            actor=chicago_chair,
        )
    # Session, user, device, memberships, jurisdiction, members, invitations.
    with django_assert_max_num_queries(9):
        response = chair_client.get(LIST_URL)
    assert response.content.decode().count('id="member-') == 31


# ------------------------------------------------------------------ inviting


def test_inviting_sends_a_link_and_stores_only_a_digest(
    chair_client, chicago_chair, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = chair_client.post(INVITE_URL, {"email": "new@example.org", "role": "reviewer"})

    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role) == ("new@example.org", Role.REVIEWER)
    assert invitation.invited_by == chicago_chair
    assert invitation.history.get().history_user == chicago_chair
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["new@example.org"]
    found = re.search(r"/en/council/invitations/([^/\s]+)/", mailoutbox[0].body)
    assert found
    token = found[1]
    assert len(token) >= 43
    assert invitation.hashed_token == Invitation.hash_token(token)
    assert token not in str(Invitation.objects.filter(pk=invitation.pk).values().get())
    assert mailoutbox[0].alternatives[0][1] == "text/html"


def test_the_invitation_lasts_the_configured_days(chicago_chair, atlas_map, settings):
    settings.ATLAS_INVITATION_DAYS = 3
    invitation, _ = invitation_create(
        jurisdiction=atlas_map.chicago, email="a@example.org", role="editor", actor=chicago_chair
    )
    assert round((invitation.expires_at - invitation.created_at).total_seconds() / 86400) == 3


def test_an_invalid_invitation_keeps_what_was_typed(chair_client):
    response = chair_client.post(INVITE_URL, {"email": "not-an-email", "role": "reviewer"})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'value="not-an-email"' in html
    assert '<option value="reviewer" selected>' in html
    assert Invitation.objects.count() == 0


def test_the_chair_may_revoke_an_open_invitation(chair_client, chicago_chair, atlas_map):
    invitation, _ = invitation_create(
        jurisdiction=atlas_map.chicago, email="a@example.org", role="editor", actor=chicago_chair
    )
    response = chair_client.post(
        f"/en/council/jurisdictions/chicago/invitations/{invitation.pk}/revoke/"
    )
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert invitation.history.first().history_user == chicago_chair
    assert f'id="invitation-{invitation.pk}"' not in chair_client.get(LIST_URL).content.decode()


# ------------------------------------------------------------------ roles and removals


def test_the_chair_changes_a_role(chair_client, chicago_chair, chicago_editor):
    membership = membership_of(chicago_editor)
    response = chair_client.post(
        f"{LIST_URL}{membership.pk}/role/", {f"m{membership.pk}-role": "reviewer"}
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.REVIEWER
    assert membership.history.first().history_user == chicago_chair


def test_the_chair_removes_a_member(chair_client, chicago_chair, chicago_editor):
    membership = membership_of(chicago_editor)
    assert chair_client.post(f"{LIST_URL}{membership.pk}/remove/").status_code == 302
    assert not CouncilMembership.objects.filter(pk=membership.pk).exists()
    last = CouncilMembership.history.filter(id=membership.pk).first()
    assert last.history_type == "-"
    assert last.history_user == chicago_chair


def test_changes_need_a_post(chair_client, chicago_editor):
    membership = membership_of(chicago_editor)
    assert chair_client.get(f"{LIST_URL}{membership.pk}/remove/").status_code == 405
    assert chair_client.get(f"{LIST_URL}{membership.pk}/role/").status_code == 405


def test_the_last_chair_cannot_be_demoted_or_removed(chair_client, chicago_chair):
    chair = membership_of(chicago_chair)
    response = chair_client.post(f"{LIST_URL}{chair.pk}/role/", {f"m{chair.pk}-role": "editor"})
    assert response.status_code == 400
    assert "last chair" in response.content.decode()
    response = chair_client.post(f"{LIST_URL}{chair.pk}/remove/")
    assert response.status_code == 400
    assert "last chair" in response.content.decode()
    chair.refresh_from_db()
    assert chair.role == Role.CHAIR


def test_with_two_chairs_one_may_step_down(chair_client, chicago_chair, atlas_map):
    other = UserFactory.create(username="second-chair")
    CouncilMembershipFactory.create(user=other, jurisdiction=atlas_map.chicago, role=Role.CHAIR)
    chair = membership_of(chicago_chair)
    response = chair_client.post(f"{LIST_URL}{chair.pk}/role/", {f"m{chair.pk}-role": "editor"})
    assert response.status_code == 302
    chair.refresh_from_db()
    assert chair.role == Role.EDITOR
    # No longer a chair: the next change is refused at once, in the same session.
    other_membership = membership_of(other)
    response = chair_client.post(f"{LIST_URL}{other_membership.pk}/remove/")
    assert response.status_code == 403


def test_the_service_forgets_the_actors_cached_roles(chicago_chair, atlas_map):
    """After demoting themselves, the acting user object no longer counts as a chair."""
    from council import permissions

    CouncilMembershipFactory.create(
        user=UserFactory.create(username="co-chair"),
        jurisdiction=atlas_map.chicago,
        role=Role.CHAIR,
    )
    assert permissions.can_manage_council(chicago_chair, atlas_map.chicago)
    membership_change_role(
        membership=membership_of(chicago_chair), role=Role.REVIEWER, actor=chicago_chair
    )
    assert not permissions.can_manage_council(chicago_chair, atlas_map.chicago)
    assert permissions.can_review(chicago_chair, atlas_map.chicago)


def test_the_service_refuses_non_chairs(chicago_editor, chicago_chair):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        membership_remove(membership=membership_of(chicago_chair), actor=chicago_editor)
    with pytest.raises(PermissionDenied):
        membership_change_role(
            membership=membership_of(chicago_chair), role=Role.EDITOR, actor=chicago_editor
        )


def test_invitees_emails_are_shown_only_to_those_who_manage(client, atlas_map, chicago_chair,
                                                           chicago_editor):  # fmt: skip
    invitation_create(
        jurisdiction=atlas_map.chicago,
        email="invitee-secret@example.org",
        role=CouncilMembership.Role.EDITOR,
        actor=chicago_chair,
    )
    client.force_login(chicago_editor)
    page = client.get(reverse("council:members:list", kwargs={"slug": "chicago"}))
    assert page.status_code == 200
    assert "invitee-secret@example.org" not in page.content.decode()
    assert "Open invitations" not in page.content.decode()
    client.force_login(chicago_chair)
    verify_second_factor(client, chicago_chair)
    page = client.get(reverse("council:members:list", kwargs={"slug": "chicago"}))
    assert "invitee-secret@example.org" in page.content.decode()


def test_the_account_form_asks_to_confirm_the_password():
    from council.member_forms import AccountForm

    assert AccountForm().fields["password2"].label == "Confirm password"
