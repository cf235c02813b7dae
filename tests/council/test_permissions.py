"""The permission predicates, read as a table: who may do what, where."""

import pytest
from django.contrib.auth.models import AnonymousUser

from council import permissions
from tests.factories import (
    CoalitionFactory,
    InitiativeFactory,
    MeasurementFactory,
    MilestoneFactory,
    OrganizationFactory,
)

pytestmark = pytest.mark.django_db


def test_the_illinois_editor_may_edit_chicago_and_not_new_york(illinois_editor, atlas_map):
    assert permissions.can_edit(illinois_editor, atlas_map.chicago)
    assert permissions.can_edit(illinois_editor, atlas_map.illinois)
    assert not permissions.can_edit(illinois_editor, atlas_map.nyc)
    assert not permissions.can_edit(illinois_editor, atlas_map.new_york)
    assert not permissions.can_edit(illinois_editor, atlas_map.us)


def test_the_chicago_reviewer_may_not_edit_illinois(chicago_reviewer, atlas_map):
    assert not permissions.can_edit(chicago_reviewer, atlas_map.illinois)
    assert not permissions.can_review(chicago_reviewer, atlas_map.illinois)


def test_the_chicago_reviewer_reviews_chicago_but_does_not_edit_it(chicago_reviewer, atlas_map):
    initiative = InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    assert permissions.can_review(chicago_reviewer, initiative)
    assert not permissions.can_edit(chicago_reviewer, initiative)


def test_the_chicago_editor_does_not_reach_its_sibling(chicago_editor, atlas_map):
    assert permissions.can_edit(chicago_editor, atlas_map.chicago)
    assert not permissions.can_edit(chicago_editor, atlas_map.springfield)
    assert not permissions.can_edit(chicago_editor, atlas_map.illinois)


def test_a_chair_edits_reviews_and_manages_their_council(chicago_chair, atlas_map):
    assert permissions.can_edit(chicago_chair, atlas_map.chicago)
    assert permissions.can_review(chicago_chair, atlas_map.chicago)
    assert permissions.can_manage_council(chicago_chair, atlas_map.chicago)
    assert not permissions.can_manage_council(chicago_chair, atlas_map.illinois)


def test_staff_act_everywhere(staff_user, atlas_map):
    for jurisdiction in (atlas_map.us, atlas_map.chicago, atlas_map.nyc):
        assert permissions.can_edit(staff_user, jurisdiction)
        assert permissions.can_review(staff_user, jurisdiction)
        assert permissions.can_manage_council(staff_user, jurisdiction)


def test_an_inactive_superuser_acts_nowhere(staff_user, atlas_map):
    staff_user.is_active = False
    assert not permissions.can_edit(staff_user, atlas_map.chicago)


@pytest.mark.parametrize("who", ["anonymous", "outsider"])
def test_people_without_a_role_edit_nothing(who, request, atlas_map):
    user = AnonymousUser() if who == "anonymous" else request.getfixturevalue("outsider")
    assert not permissions.can_edit(user, atlas_map.chicago)
    assert not permissions.can_review(user, atlas_map.chicago)
    assert not permissions.editable_jurisdictions(user).exists()


def test_related_rows_follow_their_initiatives_jurisdiction(illinois_editor, atlas_map):
    chicago_initiative = InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    nyc_initiative = InitiativeFactory.create(jurisdiction=atlas_map.nyc)
    assert permissions.can_edit(
        illinois_editor, MilestoneFactory.create(initiative=chicago_initiative)
    )
    assert not permissions.can_edit(
        illinois_editor, MilestoneFactory.create(initiative=nyc_initiative)
    )
    assert permissions.can_edit(
        illinois_editor, MeasurementFactory.create(indicator__initiative=chicago_initiative)
    )
    assert permissions.can_edit(
        illinois_editor, CoalitionFactory.create(jurisdiction=atlas_map.chicago)
    )


def test_an_organization_without_a_jurisdiction_is_staffs_alone(
    illinois_editor, staff_user, atlas_map
):
    organization = OrganizationFactory.create(jurisdiction=None)
    assert not permissions.can_edit(illinois_editor, organization)
    assert permissions.can_edit(staff_user, organization)


def test_editable_jurisdictions_is_the_subtree(illinois_editor, atlas_map):
    assert set(permissions.editable_jurisdictions(illinois_editor)) == {
        atlas_map.illinois,
        atlas_map.chicago,
        atlas_map.springfield,
    }


def test_reviewable_jurisdictions_exclude_editor_roles(chicago_reviewer, atlas_map):
    assert set(permissions.reviewable_jurisdictions(chicago_reviewer)) == {atlas_map.chicago}
    assert not permissions.editable_jurisdictions(chicago_reviewer).exists()


def test_many_questions_cost_one_query(illinois_editor, atlas_map, django_assert_num_queries):
    """Memberships are read once per user object, whatever the number of checks."""
    targets = [atlas_map.chicago, atlas_map.springfield, atlas_map.nyc, atlas_map.illinois]
    with django_assert_num_queries(1):
        results = [permissions.can_edit(illinois_editor, j) for j in targets * 5]
    assert results[:4] == [True, True, False, True]


@pytest.mark.parametrize(
    ("state", "editor", "reviewer", "chair"),
    [
        ("draft", True, False, True),
        ("review", False, False, True),
        ("published", False, False, True),
        ("archived", True, False, True),
    ],
)
def test_changing_in_place_what_the_public_sees_takes_both_rights(
    atlas_map, chicago_editor, chicago_reviewer, chicago_chair, state, editor, reviewer, chair
):
    from council.permissions import can_change_in_place
    from tests.factories import InitiativeFactory

    initiative = InitiativeFactory.create(jurisdiction=atlas_map.chicago, publication_state=state)
    assert can_change_in_place(chicago_editor, initiative) is editor
    assert can_change_in_place(chicago_reviewer, initiative) is reviewer
    assert can_change_in_place(chicago_chair, initiative) is chair
