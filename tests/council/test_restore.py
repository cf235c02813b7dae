"""Restoring an earlier version: one click, a new version, and nothing lost from the history."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from council.history import (
    coalition_restore,
    history_model,
    jurisdiction_restore,
    organization_restore,
    record_timeline,
    version_times,
)
from council.models import Coalition, CoalitionMembership, Organization
from initiatives import workflow
from initiatives.models import Initiative, Milestone, Partnership
from initiatives.services import delete_with_history, save_with_history
from tests.conftest import verify_second_factor
from tests.council.test_history import T0, at, edit, history_url, make_initiative, second_version
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def restore_url(kind: str, slug: str) -> str:
    return reverse("council:history:restore", kwargs={"kind": kind, "slug": slug})


def post_restore(client: Client, record: Any, kind: str, token: str) -> Any:
    return client.post(restore_url(kind, record.slug), {"version": token})


def all_history_ids() -> set[tuple[str, int]]:
    ids: set[tuple[str, int]] = set()
    for model in (Initiative, Milestone, Partnership):
        ids |= {
            (model.__name__, pk)
            for pk in history_model(model)._default_manager.values_list("history_id", flat=True)
        }
    return ids


@pytest.fixture
def partners(atlas_map: Any) -> tuple[Organization, Organization]:
    return (
        OrganizationFactory.create(name="City Colleges", jurisdiction=atlas_map.chicago),
        OrganizationFactory.create(name="Library Foundation", jurisdiction=atlas_map.chicago),
    )


@pytest.fixture
def draft(atlas_map: Any, chicago_editor: User, partners: Any) -> Initiative:
    """A draft in three versions: made; retitled with partners swapped; its milestone deleted."""
    with at(0):
        record = make_initiative(chicago_editor, atlas_map.chicago, partner=partners[0])
    with at(1):
        edit(record, chicago_editor, lambda d: second_version(d, new_partner=partners[1]))
    with at(2):
        edit(record, chicago_editor, lambda d: d.update(milestones=[]))
    record.refresh_from_db()
    return record


def publish(record: Initiative, editor: User, reviewer: User) -> None:
    workflow.record_submit(record=record, actor=editor)
    workflow.record_publish(record=record, actor=reviewer)


@pytest.fixture
def published(atlas_map, chicago_editor, chicago_reviewer, partners) -> Initiative:
    """Published as "Wi-Fi for all", then its reviewed changes published as a new title."""
    with at(0):
        record = make_initiative(chicago_editor, atlas_map.chicago, partner=partners[0])
        publish(record, chicago_editor, chicago_reviewer)
    with at(1):
        edit(record, chicago_editor, lambda d: second_version(d, new_partner=partners[1]))
        workflow.record_submit(record=record, actor=chicago_editor)
        record.refresh_from_db()
        workflow.record_publish(record=record, actor=chicago_reviewer)
    record.refresh_from_db()
    assert record.title == "Wi-Fi for every library"
    return record


def test_restore_brings_back_fields_children_and_partners(client, draft, chicago_editor, partners):
    first_milestone = history_model(Milestone).objects.filter(title="Launch portal").first()  # type: ignore[attr-defined]
    before_ids = all_history_ids()
    first_version = version_times(draft)[-1]
    client.force_login(chicago_editor)
    with at(3):
        response = post_restore(client, draft, "initiatives", first_version.isoformat())
    assert response.status_code == 302
    assert response["Location"] == history_url("initiatives", draft.slug)
    draft.refresh_from_db()
    assert draft.title == "Wi-Fi for all"
    milestone = draft.milestones.get()
    assert (milestone.pk, milestone.title, str(milestone.due_date)) == (
        first_milestone.id,
        "Launch portal",
        "2026-01-01",
    )
    assert {(p.organization, p.role) for p in draft.partnerships.all()} == {
        (partners[0], "implementer")
    }
    # Nothing earlier is gone, and the restore is the new current version.
    assert before_ids < all_history_ids()
    newest = record_timeline(record=draft).versions[0]
    assert newest.is_current
    assert newest.reasons == (f"restored the version of {T0:%Y-%m-%d %H:%M:%S}",)
    assert len(version_times(draft)) == 4


def test_restore_shows_a_message_on_the_timeline(client, draft, chicago_editor):
    client.force_login(chicago_editor)
    with at(3):
        response = post_restore(client, draft, "initiatives", version_times(draft)[1].isoformat())
    page = client.get(response["Location"])
    assert "is restored" in page.content.decode()


def test_restoring_a_published_initiative_changes_its_public_page(
    client, published, chicago_reviewer
):
    assert "Wi-Fi for every library" in client.get(published.get_absolute_url()).content.decode()
    client.force_login(chicago_reviewer)
    verify_second_factor(client, chicago_reviewer)
    first = version_times(published)[-1]
    with at(2):
        response = post_restore(client, published, "initiatives", first.isoformat())
    assert response.status_code == 302
    public = Client().get(published.get_absolute_url()).content.decode()
    assert "Wi-Fi for all" in public
    assert "Wi-Fi for every library" not in public
    published.refresh_from_db()
    assert published.publication_state == "published"


def test_an_editor_cannot_restore_a_published_record(client, published, chicago_editor):
    client.force_login(chicago_editor)
    token = version_times(published)[-1].isoformat()
    assert post_restore(client, published, "initiatives", token).status_code == 403
    published.refresh_from_db()
    assert published.title == "Wi-Fi for every library"


def test_an_editor_sees_no_restore_button_on_a_published_record(client, published, chicago_editor):
    client.force_login(chicago_editor)
    response = client.get(history_url("initiatives", published.slug))
    assert "Restore this version" not in response.content.decode()


def test_an_editor_may_restore_a_draft(client, draft, chicago_editor):
    client.force_login(chicago_editor)
    token = version_times(draft)[1].isoformat()
    with at(3):
        assert post_restore(client, draft, "initiatives", token).status_code == 302


def test_another_jurisdiction_gets_not_found(client, draft, nyc_editor):
    client.force_login(nyc_editor)
    token = version_times(draft)[1].isoformat()
    assert post_restore(client, draft, "initiatives", token).status_code == 404


def test_restore_only_by_post(client, draft, chicago_editor):
    client.force_login(chicago_editor)
    assert client.get(restore_url("initiatives", draft.slug)).status_code == 405


@pytest.mark.parametrize(
    "token", ["", "yesterday", "2026-02-02T09:00:00", "2020-01-01T00:00:00+00:00"]
)
def test_a_version_that_is_not_one_is_refused(client, draft, chicago_editor, token):
    client.force_login(chicago_editor)
    response = post_restore(client, draft, "initiatives", token)
    assert response.status_code == 400
    assert "error-summary" in response.content.decode()
    assert len(version_times(draft)) == 3


def test_the_current_version_is_not_restored_again(client, draft, chicago_editor):
    client.force_login(chicago_editor)
    response = post_restore(client, draft, "initiatives", version_times(draft)[0].isoformat())
    assert response.status_code == 400
    assert "current version already" in response.content.decode()


def test_restore_of_a_plan(client, atlas_map, chicago_editor):
    from initiatives.models import Plan

    with at(0):
        plan = workflow.record_create(
            model=Plan,
            values={"jurisdiction": atlas_map.chicago, "slug": "road-map", "title": "Road map"},
            data={"fields": {"title": "Road map"}},
            actor=chicago_editor,
        )
    with at(1):
        workflow.record_save_changes(
            record=plan, data={"fields": {"title": "New road map"}}, actor=chicago_editor
        )
    client.force_login(chicago_editor)
    with at(2):
        response = post_restore(client, plan, "plans", version_times(plan)[-1].isoformat())
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.title == "Road map"


# ------------------------------------------------------------------------------
# Organizations, coalitions, jurisdictions
# ------------------------------------------------------------------------------


def test_restore_of_an_organization(client, atlas_map, chicago_editor):
    with at(0):
        org = save_with_history(
            Organization(
                name="City Colleges",
                slug="city-colleges",
                kind="university",
                jurisdiction=atlas_map.chicago,
            ),
            actor=chicago_editor,
        )
    with at(1):
        org.name = "City Colleges of Chicago"
        org.kind = "non_profit"
        save_with_history(org, actor=chicago_editor)
    history_rows = org.history.count()
    client.force_login(chicago_editor)
    with at(2):
        response = post_restore(client, org, "organizations", version_times(org)[-1].isoformat())
    assert response.status_code == 302
    org.refresh_from_db()
    assert (org.name, org.kind) == ("City Colleges", "university")
    assert org.history.count() == history_rows + 1
    newest = record_timeline(record=org).versions[0]
    labels = {f.label: (f.before, f.after) for c in newest.changes for f in c.fields}
    assert labels["Kind"] == ("Non-profit", "University")


def test_restoring_an_organization_into_another_jurisdiction_is_refused(
    atlas_map, chicago_editor, staff_user
):
    with at(0):
        org = save_with_history(
            Organization(
                name="Wanderer", slug="wanderer", kind="company", jurisdiction=atlas_map.nyc
            ),
            actor=staff_user,
        )
    with at(1):
        org.jurisdiction = atlas_map.chicago
        save_with_history(org, actor=staff_user)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        organization_restore(organization=org, when=version_times(org)[-1], actor=chicago_editor)
    org.refresh_from_db()
    assert org.jurisdiction == atlas_map.chicago


@pytest.fixture
def coalition(atlas_map, chicago_editor) -> tuple[Coalition, dict[str, Organization]]:
    """Two versions: A (member) and B (convener); then B gone, C added, A a funder."""
    orgs = {
        name: OrganizationFactory.create(name=name, jurisdiction=atlas_map.chicago)
        for name in ("A", "B", "C")
    }
    with at(0):
        coalition = save_with_history(
            Coalition(jurisdiction=atlas_map.chicago, name="Digital Council", slug="council"),
            actor=chicago_editor,
        )
        for name, role in (("A", "member"), ("B", "convener")):
            save_with_history(
                CoalitionMembership(coalition=coalition, organization=orgs[name], role=role),
                actor=chicago_editor,
            )
    with at(1):
        membership_b = coalition.memberships.get(organization=orgs["B"])
        delete_with_history(instance=membership_b, actor=chicago_editor)
        membership_a = coalition.memberships.get(organization=orgs["A"])
        membership_a.role = "funder"
        save_with_history(membership_a, actor=chicago_editor)
        save_with_history(
            CoalitionMembership(coalition=coalition, organization=orgs["C"], role="member"),
            actor=chicago_editor,
        )
        coalition.name = "Digital Leadership Council"
        save_with_history(coalition, actor=chicago_editor)
    return coalition, orgs


def memberships_of(coalition: Coalition) -> set[tuple[str, str]]:
    return {
        (m.organization.name, m.role) for m in coalition.memberships.select_related("organization")
    }


def test_coalition_timeline_shows_membership_changes(coalition):
    record, _orgs = coalition
    versions = record_timeline(record=record).versions
    assert len(versions) == 2
    headings = [c.heading for c in versions[0].changes]
    assert "Member removed: B (Convener)" in headings
    assert "Member added: C (Member)" in headings
    assert "Member “A (Funder)”" in headings


def test_restore_of_a_coalition_with_memberships(client, coalition, chicago_editor):
    record, orgs = coalition
    b_id = (
        history_model(CoalitionMembership)
        ._default_manager.get(organization_id=orgs["B"].pk, history_type="+")
        .id  # type: ignore[attr-defined]
    )
    client.force_login(chicago_editor)
    with at(2):
        response = post_restore(client, record, "coalitions", version_times(record)[-1].isoformat())
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.name == "Digital Council"
    assert memberships_of(record) == {("A", "member"), ("B", "convener")}
    assert record.memberships.get(organization=orgs["B"]).pk == b_id
    newest = record_timeline(record=record).versions[0]
    assert newest.is_current
    assert newest.actor_name == "chicago-editor"
    assert len(version_times(record)) == 3


def test_restoring_a_coalition_as_it_is_writes_nothing(coalition, chicago_editor):
    record, _orgs = coalition
    rows = record.history.count()
    coalition_restore(coalition=record, when=version_times(record)[0], actor=chicago_editor)
    assert record.history.count() == rows


def test_restore_of_a_jurisdiction_profile(client, atlas_map, chicago_editor):
    chicago = atlas_map.chicago
    with at(0):
        chicago.description = "The Windy City."
        save_with_history(chicago, actor=chicago_editor)
    with at(1):
        chicago.description = "Vandalised."
        save_with_history(chicago, actor=chicago_editor)
    client.force_login(chicago_editor)
    token = version_times(chicago)[1].isoformat()
    with at(2):
        response = post_restore(client, chicago, "jurisdictions", token)
    assert response.status_code == 302
    chicago.refresh_from_db()
    assert chicago.description == "The Windy City."
    assert chicago.parent == atlas_map.illinois


def test_a_chicago_editor_cannot_restore_illinois(client, atlas_map, chicago_editor):
    client.force_login(chicago_editor)
    response = post_restore(
        client, atlas_map.illinois, "jurisdictions", "2026-01-01T00:00:00+00:00"
    )
    assert response.status_code == 404


def _renamed_chicago(atlas_map, staff_user):
    """Chicago with a described version, then renamed (a staff edit) and vandalised."""
    chicago = atlas_map.chicago
    with at(0):
        chicago.description = "The Windy City."
        save_with_history(chicago, actor=staff_user)
    with at(1):
        chicago.name = "Chicago, Illinois"
        chicago.iso_code = "US-IL"
        chicago.description = "Vandalised."
        save_with_history(chicago, actor=staff_user)
    return chicago, version_times(chicago)[1]


def test_a_council_editor_restores_only_the_profile_fields(atlas_map, chicago_editor, staff_user):
    """Name, slug and identifiers are the staff's: restoring leaves them as they are."""
    chicago, when = _renamed_chicago(atlas_map, staff_user)
    with at(2):
        jurisdiction_restore(jurisdiction=chicago, when=when, actor=chicago_editor)
    chicago.refresh_from_db()
    assert chicago.description == "The Windy City."
    assert chicago.name == "Chicago, Illinois"
    assert chicago.iso_code == "US-IL"


def test_staff_restore_every_field_of_a_jurisdiction(atlas_map, staff_user):
    chicago, when = _renamed_chicago(atlas_map, staff_user)
    name, iso_code = (
        history_model(type(chicago))._default_manager.filter(id=chicago.pk).order_by("history_date")
    ).values_list("name", "iso_code")[0]
    with at(2):
        jurisdiction_restore(jurisdiction=chicago, when=when, actor=staff_user)
    chicago.refresh_from_db()
    assert chicago.description == "The Windy City."
    assert (chicago.name, chicago.iso_code) == (name, iso_code)
    assert chicago.parent == atlas_map.illinois
