"""
Writes through the API: council members change their own jurisdictions' records,
every write lands in the history with its actor, and nothing else gets through.
"""

import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from council.models import Coalition, CoalitionMembership, Organization
from initiatives.models import (
    FocusArea,
    Indicator,
    Initiative,
    Measurement,
    Milestone,
    Plan,
    PublicationState,
)
from tests.factories import (
    CoalitionFactory,
    CoalitionMembershipFactory,
    IndicatorFactory,
    InitiativeFactory,
    MeasurementFactory,
    MilestoneFactory,
    OrganizationFactory,
    PartnershipFactory,
    PlanFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_throttles() -> None:
    """Each test starts with empty rate-limit counters, however fast the suite runs."""
    cache.clear()


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.fixture
def chicago_wifi(atlas_map) -> Initiative:
    return InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        slug="chicago-wifi",
        status=Initiative.Status.PLANNED,
    )


@pytest.fixture
def nyc_mesh(atlas_map) -> Initiative:
    return InitiativeFactory.create(jurisdiction=atlas_map.nyc, slug="nyc-mesh")


def as_user(client: APIClient, user: Any) -> APIClient:
    client.force_authenticate(user)
    return client


NEW_INITIATIVE = {
    "title": "Digital navigators",
    "slug": "digital-navigators",
    "jurisdiction": "chicago",
    "status": "idea",
    "focus_areas": ["technology-access"],
}


# ---------------------------------------------------------------- initiatives: create


def test_an_editor_creates_an_initiative_in_their_jurisdiction(client, chicago_editor):
    response = as_user(client, chicago_editor).post(
        "/api/v1/initiatives/", NEW_INITIATIVE, format="json"
    )
    assert response.status_code == 201, response.content
    created = Initiative.objects.get(slug="digital-navigators")
    assert list(created.focus_areas.values_list("slug", flat=True)) == ["technology-access"]
    assert response.json()["url"].endswith("/api/v1/initiatives/digital-navigators/")


def test_a_created_initiative_starts_as_a_draft(client, chicago_editor):
    as_user(client, chicago_editor).post("/api/v1/initiatives/", NEW_INITIATIVE, format="json")
    assert Initiative.objects.get(slug="digital-navigators").publication_state == "draft"


def test_creation_is_recorded_with_the_editor_as_history_user(client, chicago_editor):
    as_user(client, chicago_editor).post("/api/v1/initiatives/", NEW_INITIATIVE, format="json")
    created = Initiative.objects.get(slug="digital-navigators")
    assert created.history.first().history_user == chicago_editor
    assert created.created_by == chicago_editor
    assert created.updated_by == chicago_editor


def test_a_state_editor_creates_initiatives_for_the_states_cities(client, illinois_editor):
    response = as_user(client, illinois_editor).post(
        "/api/v1/initiatives/", NEW_INITIATIVE, format="json"
    )
    assert response.status_code == 201


def test_an_editor_cannot_create_in_another_jurisdiction(client, chicago_editor):
    response = as_user(client, chicago_editor).post(
        "/api/v1/initiatives/", {**NEW_INITIATIVE, "jurisdiction": "new-york-city"}, format="json"
    )
    assert response.status_code == 403
    assert "jurisdiction" in response.json()["errors"]
    assert not Initiative.objects.filter(slug="digital-navigators").exists()


def test_an_editor_cannot_create_in_the_parent_jurisdiction(client, chicago_editor):
    response = as_user(client, chicago_editor).post(
        "/api/v1/initiatives/", {**NEW_INITIATIVE, "jurisdiction": "illinois"}, format="json"
    )
    assert response.status_code == 403


def test_a_duplicate_slug_is_a_409(client, chicago_editor, chicago_wifi):
    response = as_user(client, chicago_editor).post(
        "/api/v1/initiatives/", {**NEW_INITIATIVE, "slug": "chicago-wifi"}, format="json"
    )
    assert response.status_code == 409
    assert "slug" in response.json()["errors"]


def test_an_unknown_focus_area_slug_is_a_400(client, chicago_editor):
    response = as_user(client, chicago_editor).post(
        "/api/v1/initiatives/", {**NEW_INITIATIVE, "focus_areas": ["astrology"]}, format="json"
    )
    assert response.status_code == 400
    assert "focus_areas" in response.json()["errors"]


def test_a_model_constraint_is_a_400_not_a_500(client, chicago_editor):
    response = as_user(client, chicago_editor).post(
        "/api/v1/initiatives/",
        {**NEW_INITIATIVE, "budget_amount": "1000.00", "budget_currency": ""},
        format="json",
    )
    assert response.status_code == 400


def test_an_end_before_the_start_is_a_400(client, chicago_editor):
    response = as_user(client, chicago_editor).post(
        "/api/v1/initiatives/",
        {**NEW_INITIATIVE, "start_date": "2026-05-01", "end_date": "2026-01-01"},
        format="json",
    )
    assert response.status_code == 400


# ---------------------------------------------------------------- mass assignment


def test_read_only_fields_sent_on_create_are_ignored(client, chicago_editor, staff_user):
    response = as_user(client, chicago_editor).post(
        "/api/v1/initiatives/",
        {
            **NEW_INITIATIVE,
            "id": 99_999,
            "publication_state": "published",
            "published_at": "2020-01-01T00:00:00Z",
            "created_by": staff_user.pk,
            "updated_by": staff_user.pk,
            "created_at": "2000-01-01T00:00:00Z",
            "updated_at": "2000-01-01T00:00:00Z",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    created = Initiative.objects.get(slug="digital-navigators")
    assert created.pk != 99_999
    assert created.publication_state == PublicationState.DRAFT
    assert created.published_at is None
    assert created.created_by == chicago_editor
    assert created.created_at.year != 2000
    assert created.updated_at.year != 2000


def test_read_only_fields_sent_on_update_change_nothing(
    client, chicago_editor, chicago_wifi, staff_user
):
    Initiative.objects.filter(pk=chicago_wifi.pk).update(publication_state="draft")
    before = Initiative.objects.get(pk=chicago_wifi.pk)
    response = as_user(client, chicago_editor).patch(
        "/api/v1/initiatives/chicago-wifi/",
        {
            "id": 99_999,
            "publication_state": "published",
            "published_at": "2020-01-01T00:00:00Z",
            "created_by": staff_user.pk,
            "created_at": "2000-01-01T00:00:00Z",
            "updated_at": "2000-01-01T00:00:00Z",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    after = Initiative.objects.get(pk=chicago_wifi.pk)
    assert after.publication_state == PublicationState.DRAFT
    assert after.published_at is None
    assert after.created_by == before.created_by
    assert after.created_at == before.created_at
    assert after.updated_at >= before.updated_at


# ---------------------------------------------------------------- initiatives: update


def test_an_editor_updates_an_initiative_and_history_names_them(
    client, chicago_editor, chicago_wifi
):
    response = as_user(client, chicago_editor).patch(
        "/api/v1/initiatives/chicago-wifi/", {"title": "Wi-Fi in every branch"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "Wi-Fi in every branch"
    chicago_wifi.refresh_from_db()
    assert chicago_wifi.title == "Wi-Fi in every branch"
    assert chicago_wifi.updated_by == chicago_editor
    assert chicago_wifi.history.first().history_user == chicago_editor


def test_a_full_update_replaces_the_taxonomies(client, chicago_editor, chicago_wifi):
    chicago_wifi.focus_areas.set([FocusArea.objects.get(slug="technology-access")])
    response = as_user(client, chicago_editor).put(
        "/api/v1/initiatives/chicago-wifi/",
        {
            "title": "Wi-Fi",
            "slug": "chicago-wifi",
            "jurisdiction": "chicago",
            "status": "planned",
            "focus_areas": ["open-government"],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["focus_areas"] == ["open-government"]


def test_a_partial_update_keeps_unsent_taxonomies(client, chicago_editor, chicago_wifi):
    chicago_wifi.focus_areas.set([FocusArea.objects.get(slug="technology-access")])
    as_user(client, chicago_editor).patch(
        "/api/v1/initiatives/chicago-wifi/", {"title": "Wi-Fi"}, format="json"
    )
    assert list(chicago_wifi.focus_areas.values_list("slug", flat=True)) == ["technology-access"]


def test_a_legal_status_change_is_saved(client, chicago_editor, chicago_wifi):
    response = as_user(client, chicago_editor).patch(
        "/api/v1/initiatives/chicago-wifi/", {"status": "active"}, format="json"
    )
    assert response.status_code == 200
    chicago_wifi.refresh_from_db()
    assert chicago_wifi.status == "active"


def test_an_illegal_status_transition_is_a_409(client, chicago_editor, chicago_wifi):
    response = as_user(client, chicago_editor).patch(
        "/api/v1/initiatives/chicago-wifi/", {"status": "completed"}, format="json"
    )
    assert response.status_code == 409
    assert "status" in response.json()["errors"]
    chicago_wifi.refresh_from_db()
    assert chicago_wifi.status == "planned"


def test_an_unknown_status_is_a_400(client, chicago_editor, chicago_wifi):
    response = as_user(client, chicago_editor).patch(
        "/api/v1/initiatives/chicago-wifi/", {"status": "dormant"}, format="json"
    )
    assert response.status_code == 400


def test_the_chicago_editor_patching_an_nyc_initiative_gets_404(client, chicago_editor, nyc_mesh):
    response = as_user(client, chicago_editor).patch(
        "/api/v1/initiatives/nyc-mesh/", {"title": "Hijacked"}, format="json"
    )
    assert response.status_code == 404
    nyc_mesh.refresh_from_db()
    assert nyc_mesh.title != "Hijacked"


def test_the_chicago_editor_deleting_an_nyc_initiative_gets_404(client, chicago_editor, nyc_mesh):
    assert as_user(client, chicago_editor).delete("/api/v1/initiatives/nyc-mesh/").status_code == (
        404
    )


def test_moving_a_chicago_initiative_to_new_york_city_is_a_403(
    client, chicago_editor, chicago_wifi, atlas_map
):
    response = as_user(client, chicago_editor).patch(
        "/api/v1/initiatives/chicago-wifi/", {"jurisdiction": "new-york-city"}, format="json"
    )
    assert response.status_code == 403
    assert "jurisdiction" in response.json()["errors"]
    chicago_wifi.refresh_from_db()
    assert chicago_wifi.jurisdiction == atlas_map.chicago


def test_a_state_editor_moves_an_initiative_between_the_states_cities(
    client, illinois_editor, chicago_wifi, atlas_map
):
    response = as_user(client, illinois_editor).patch(
        "/api/v1/initiatives/chicago-wifi/", {"jurisdiction": "springfield"}, format="json"
    )
    assert response.status_code == 200
    chicago_wifi.refresh_from_db()
    assert chicago_wifi.jurisdiction == atlas_map.springfield


def test_the_response_honours_fields(client, chicago_editor, chicago_wifi):
    response = as_user(client, chicago_editor).patch(
        "/api/v1/initiatives/chicago-wifi/?fields=slug,title", {"title": "Wi-Fi"}, format="json"
    )
    assert response.json() == {"slug": "chicago-wifi", "title": "Wi-Fi"}


# ---------------------------------------------------------------- who may not write


def test_a_reviewer_cannot_create(client, chicago_reviewer):
    response = as_user(client, chicago_reviewer).post(
        "/api/v1/initiatives/", NEW_INITIATIVE, format="json"
    )
    assert response.status_code == 403


def test_a_reviewer_cannot_update(client, chicago_reviewer, chicago_wifi):
    response = as_user(client, chicago_reviewer).patch(
        "/api/v1/initiatives/chicago-wifi/", {"title": "Reviewed"}, format="json"
    )
    assert response.status_code == 403


def test_a_reviewer_cannot_delete(client, chicago_reviewer, chicago_wifi):
    response = as_user(client, chicago_reviewer).delete("/api/v1/initiatives/chicago-wifi/")
    assert response.status_code == 403


def test_a_chair_edits_like_an_editor(client, chicago_chair, chicago_wifi):
    response = as_user(client, chicago_chair).patch(
        "/api/v1/initiatives/chicago-wifi/", {"title": "Chaired"}, format="json"
    )
    assert response.status_code == 200


def test_an_outsider_cannot_write(client, outsider, chicago_wifi):
    response = as_user(client, outsider).patch(
        "/api/v1/initiatives/chicago-wifi/", {"title": "Mine"}, format="json"
    )
    assert response.status_code == 403


def test_anonymous_users_cannot_write(client, chicago_wifi):
    response = client.patch("/api/v1/initiatives/chicago-wifi/", {"title": "Mine"}, format="json")
    assert response.status_code in (401, 403)


def test_staff_write_anywhere(client, staff_user, nyc_mesh):
    response = as_user(client, staff_user).patch(
        "/api/v1/initiatives/nyc-mesh/", {"title": "Staffed"}, format="json"
    )
    assert response.status_code == 200


# ---------------------------------------------------------------- delete archives


def test_deleting_an_initiative_archives_it(client, chicago_editor, chicago_wifi):
    response = as_user(client, chicago_editor).delete("/api/v1/initiatives/chicago-wifi/")
    assert response.status_code == 204
    chicago_wifi.refresh_from_db()
    assert chicago_wifi.publication_state == PublicationState.ARCHIVED


def test_archiving_leaves_a_history_row_naming_the_editor(client, chicago_editor, chicago_wifi):
    as_user(client, chicago_editor).delete("/api/v1/initiatives/chicago-wifi/")
    latest = chicago_wifi.history.first()
    assert latest.publication_state == PublicationState.ARCHIVED
    assert latest.history_user == chicago_editor


def test_an_archived_initiative_is_gone_for_anonymous_readers(client, chicago_editor, chicago_wifi):
    as_user(client, chicago_editor).delete("/api/v1/initiatives/chicago-wifi/")
    client.force_authenticate(None)
    assert client.get("/api/v1/initiatives/chicago-wifi/").status_code == 404


def test_an_archived_initiative_is_not_found_even_by_its_own_council(
    client, chicago_editor, chicago_wifi
):
    """After DELETE the record answers 404 to every method, even for those who may see it."""
    editor = as_user(client, chicago_editor)
    editor.delete("/api/v1/initiatives/chicago-wifi/")

    for response in (
        editor.get("/api/v1/initiatives/chicago-wifi/"),
        editor.patch("/api/v1/initiatives/chicago-wifi/", {"title": "Back"}, format="json"),
    ):
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["detail"] == "This record was archived."
    chicago_wifi.refresh_from_db()
    assert chicago_wifi.title != "Back"


def test_deleting_an_archived_initiative_again_succeeds_without_writing(
    client, chicago_editor, chicago_wifi
):
    editor = as_user(client, chicago_editor)
    editor.delete("/api/v1/initiatives/chicago-wifi/")
    rows = chicago_wifi.history.count()

    assert editor.delete("/api/v1/initiatives/chicago-wifi/").status_code == 204
    assert chicago_wifi.history.count() == rows


def test_an_archived_initiative_stays_in_its_councils_list_as_a_tombstone(
    client, chicago_editor, chicago_wifi
):
    """Incremental sync learns of the deletion from the list."""
    editor = as_user(client, chicago_editor)
    editor.delete("/api/v1/initiatives/chicago-wifi/")

    listed = editor.get("/api/v1/initiatives/", {"jurisdiction": "chicago"}).json()["results"]
    states = {item["slug"]: item["publication_state"] for item in listed}
    assert states["chicago-wifi"] == PublicationState.ARCHIVED


def test_a_slug_conflict_and_a_bad_field_together_are_a_400(client, chicago_editor, chicago_wifi):
    """409 only when every error is a conflict; any malformed field makes it a 400."""
    response = as_user(client, chicago_editor).post(
        "/api/v1/initiatives/",
        {**NEW_INITIATIVE, "slug": "chicago-wifi", "start_date": "not a date"},
        format="json",
    )
    assert response.status_code == 400
    assert {"slug", "start_date"} <= set(response.json()["errors"])


def test_an_out_of_scope_refusal_names_the_field(client, chicago_editor):
    body = (
        as_user(client, chicago_editor)
        .post("/api/v1/initiatives/", {**NEW_INITIATIVE, "jurisdiction": "new-york"}, format="json")
        .json()
    )
    assert body["status"] == 403
    assert body["type"] == "/api/v1/problems/permission-denied"
    assert list(body["errors"]) == ["jurisdiction"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", 0),
        ("title", 1.5),
        ("summary", ["a list"]),
        ("is_illustrative", 0),
        ("is_illustrative", "true"),
        ("budget_amount", 1000),
        ("jurisdiction", 0),
        ("focus_areas", [1]),
    ],
)
def test_a_value_of_the_wrong_json_type_is_a_400(client, chicago_editor, field, value):
    """Strings are strings and booleans booleans: nothing is coerced into what the schema says."""
    response = as_user(client, chicago_editor).post(
        "/api/v1/initiatives/", {**NEW_INITIATIVE, field: value}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Initiative.objects.filter(slug=NEW_INITIATIVE["slug"]).exists()


def test_a_slug_is_fixed_once_the_record_exists(client, chicago_editor, chicago_wifi):
    editor = as_user(client, chicago_editor)

    renamed = editor.patch(
        "/api/v1/initiatives/chicago-wifi/", {"slug": "chicago-hotspots"}, format="json"
    )
    assert renamed.status_code == 409
    assert "slug" in renamed.json()["errors"]
    assert Initiative.objects.filter(slug="chicago-wifi").exists()

    resent = editor.patch(
        "/api/v1/initiatives/chicago-wifi/",
        {"slug": "chicago-wifi", "title": "Library hotspots"},
        format="json",
    )
    assert resent.status_code == 200
    assert resent.json()["title"] == "Library hotspots"


# ---------------------------------------------------------------- plans


def test_an_editor_creates_a_plan_as_a_draft(client, chicago_editor):
    response = as_user(client, chicago_editor).post(
        "/api/v1/plans/",
        {
            "title": "Chicago Digital Plan",
            "slug": "chicago-digital-plan",
            "jurisdiction": "chicago",
            "document_url": "https://example.org/plan.pdf",
            "publication_state": "published",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    plan = Plan.objects.get(slug="chicago-digital-plan")
    assert plan.publication_state == PublicationState.DRAFT
    assert plan.url == "https://example.org/plan.pdf"
    assert plan.history.first().history_user == chicago_editor


def test_an_editor_updates_a_plan(client, chicago_editor, atlas_map):
    PlanFactory.create(jurisdiction=atlas_map.chicago, slug="p")
    response = as_user(client, chicago_editor).patch(
        "/api/v1/plans/p/", {"title": "Renamed"}, format="json"
    )
    assert response.status_code == 200
    assert Plan.objects.get(slug="p").history.first().history_user == chicago_editor


def test_deleting_a_plan_archives_it(client, chicago_editor, atlas_map):
    plan = PlanFactory.create(jurisdiction=atlas_map.chicago, slug="p")
    assert as_user(client, chicago_editor).delete("/api/v1/plans/p/").status_code == 204
    plan.refresh_from_db()
    assert plan.publication_state == PublicationState.ARCHIVED
    assert plan.history.first().history_user == chicago_editor


def test_moving_a_plan_out_of_scope_is_a_403(client, chicago_editor, atlas_map):
    PlanFactory.create(jurisdiction=atlas_map.chicago, slug="p")
    response = as_user(client, chicago_editor).patch(
        "/api/v1/plans/p/", {"jurisdiction": "new-york-city"}, format="json"
    )
    assert response.status_code == 403


def test_another_jurisdictions_plan_is_a_404_for_writers(client, chicago_editor, atlas_map):
    PlanFactory.create(jurisdiction=atlas_map.nyc, slug="p")
    response = as_user(client, chicago_editor).patch(
        "/api/v1/plans/p/", {"title": "x"}, format="json"
    )
    assert response.status_code == 404


# ---------------------------------------------------------------- milestones


def test_an_editor_adds_a_milestone_to_their_initiative(client, chicago_editor, chicago_wifi):
    response = as_user(client, chicago_editor).post(
        "/api/v1/milestones/",
        {"initiative": "chicago-wifi", "title": "First branch", "due_date": "2026-06-01"},
        format="json",
    )
    assert response.status_code == 201, response.content
    milestone = Milestone.objects.get(pk=response.json()["id"])
    assert milestone.history.first().history_user == chicago_editor


def test_a_milestone_cannot_be_added_to_another_jurisdictions_initiative(
    client, chicago_editor, nyc_mesh
):
    response = as_user(client, chicago_editor).post(
        "/api/v1/milestones/", {"initiative": "nyc-mesh", "title": "Sneaky"}, format="json"
    )
    assert response.status_code == 403
    assert "initiative" in response.json()["errors"]


def test_an_editor_completes_a_milestone(client, chicago_editor, chicago_wifi):
    milestone = MilestoneFactory.create(initiative=chicago_wifi)
    response = as_user(client, chicago_editor).patch(
        f"/api/v1/milestones/{milestone.pk}/", {"completed_on": "2026-02-01"}, format="json"
    )
    assert response.status_code == 200
    milestone.refresh_from_db()
    assert milestone.completed_on == dt.date(2026, 2, 1)
    assert milestone.history.first().history_user == chicago_editor


def test_deleting_a_milestone_removes_it_and_history_keeps_it(client, chicago_editor, chicago_wifi):
    milestone = MilestoneFactory.create(initiative=chicago_wifi)
    response = as_user(client, chicago_editor).delete(f"/api/v1/milestones/{milestone.pk}/")
    assert response.status_code == 204
    assert not Milestone.objects.filter(pk=milestone.pk).exists()
    last = Milestone.history.filter(id=milestone.pk).first()
    assert last.history_type == "-"
    assert last.history_user == chicago_editor


def test_another_jurisdictions_milestone_is_a_404_for_writers(client, chicago_editor, nyc_mesh):
    milestone = MilestoneFactory.create(initiative=nyc_mesh)
    response = as_user(client, chicago_editor).delete(f"/api/v1/milestones/{milestone.pk}/")
    assert response.status_code == 404


# ---------------------------------------------------------------- indicators


def test_an_editor_creates_an_indicator_with_measurements(client, chicago_editor, chicago_wifi):
    response = as_user(client, chicago_editor).post(
        "/api/v1/indicators/",
        {
            "initiative": "chicago-wifi",
            "name": "Branches online",
            "unit": "branches",
            "target": "81",
            "measurements": [
                {"measured_on": "2026-01-01", "value": "10"},
                {"measured_on": "2026-02-01", "value": "20"},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert [m["value"] for m in response.json()["measurements"]] == ["10.0000", "20.0000"]
    indicator = Indicator.objects.get(pk=response.json()["id"])
    assert indicator.history.first().history_user == chicago_editor
    assert indicator.measurements.all()[0].history.first().history_user == chicago_editor


def test_sending_measurements_replaces_the_series(client, chicago_editor, chicago_wifi):
    indicator = IndicatorFactory.create(initiative=chicago_wifi)
    kept = MeasurementFactory.create(indicator=indicator, measured_on=dt.date(2026, 1, 1))
    MeasurementFactory.create(indicator=indicator, measured_on=dt.date(2026, 2, 1))
    response = as_user(client, chicago_editor).patch(
        f"/api/v1/indicators/{indicator.pk}/",
        {
            "measurements": [
                {"measured_on": "2026-01-01", "value": "10"},
                {"measured_on": "2026-03-01", "value": "30"},
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    days = [m["measured_on"] for m in response.json()["measurements"]]
    assert days == ["2026-01-01", "2026-03-01"]
    assert indicator.measurements.get(measured_on=dt.date(2026, 1, 1)).pk == kept.pk


def test_leaving_measurements_out_keeps_the_series(client, chicago_editor, chicago_wifi):
    indicator = IndicatorFactory.create(initiative=chicago_wifi)
    MeasurementFactory.create(indicator=indicator)
    as_user(client, chicago_editor).patch(
        f"/api/v1/indicators/{indicator.pk}/", {"name": "Renamed"}, format="json"
    )
    assert indicator.measurements.count() == 1


def test_two_measurements_on_one_day_are_a_400(client, chicago_editor, chicago_wifi):
    indicator = IndicatorFactory.create(initiative=chicago_wifi)
    response = as_user(client, chicago_editor).patch(
        f"/api/v1/indicators/{indicator.pk}/",
        {
            "measurements": [
                {"measured_on": "2026-01-01", "value": "1"},
                {"measured_on": "2026-01-01", "value": "2"},
            ]
        },
        format="json",
    )
    assert response.status_code == 400


def test_deleting_an_indicator_removes_it(client, chicago_editor, chicago_wifi):
    indicator = IndicatorFactory.create(initiative=chicago_wifi)
    response = as_user(client, chicago_editor).delete(f"/api/v1/indicators/{indicator.pk}/")
    assert response.status_code == 204
    assert not Indicator.objects.filter(pk=indicator.pk).exists()
    assert Indicator.history.filter(id=indicator.pk).first().history_user == chicago_editor


def test_a_deleted_indicators_measurements_name_the_editor_in_history(
    client, chicago_editor, chicago_wifi
):
    indicator = IndicatorFactory.create(initiative=chicago_wifi)
    measurement = MeasurementFactory.create(indicator=indicator)
    as_user(client, chicago_editor).delete(f"/api/v1/indicators/{indicator.pk}/")
    last = Measurement.history.filter(id=measurement.pk).first()
    assert last.history_type == "-"
    assert last.history_user == chicago_editor


# ---------------------------------------------------------------- organizations and coalitions


def test_an_editor_creates_an_organization_at_home(client, chicago_editor):
    response = as_user(client, chicago_editor).post(
        "/api/v1/organizations/",
        {"name": "UIC", "slug": "uic", "kind": "university", "jurisdiction": "chicago"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert Organization.objects.get(slug="uic").history.first().history_user == chicago_editor


def test_an_editor_cannot_create_an_organization_without_a_home(client, chicago_editor):
    response = as_user(client, chicago_editor).post(
        "/api/v1/organizations/",
        {"name": "UIC", "slug": "uic", "kind": "university"},
        format="json",
    )
    assert response.status_code == 403
    assert "jurisdiction" in response.json()["errors"]


def test_staff_create_an_organization_without_a_home(client, staff_user):
    response = as_user(client, staff_user).post(
        "/api/v1/organizations/",
        {"name": "W3C", "slug": "w3c", "kind": "non_profit"},
        format="json",
    )
    assert response.status_code == 201, response.content


def test_an_organization_without_a_home_is_a_404_for_editors(client, chicago_editor):
    OrganizationFactory.create(slug="w3c")
    response = as_user(client, chicago_editor).patch(
        "/api/v1/organizations/w3c/", {"name": "x"}, format="json"
    )
    assert response.status_code == 404


def test_an_unreferenced_organization_can_be_deleted(client, chicago_editor, atlas_map):
    OrganizationFactory.create(slug="uic", jurisdiction=atlas_map.chicago)
    assert as_user(client, chicago_editor).delete("/api/v1/organizations/uic/").status_code == 204
    assert not Organization.objects.filter(slug="uic").exists()


def test_deleting_a_partner_organization_is_a_409(client, chicago_editor, chicago_wifi, atlas_map):
    uic = OrganizationFactory.create(slug="uic", jurisdiction=atlas_map.chicago)
    PartnershipFactory.create(initiative=chicago_wifi, organization=uic)
    response = as_user(client, chicago_editor).delete("/api/v1/organizations/uic/")
    assert response.status_code == 409
    assert response["Content-Type"].startswith("application/problem+json")
    assert Organization.objects.filter(slug="uic").exists()


def test_deleting_a_coalition_member_organization_is_a_409(client, chicago_editor, atlas_map):
    uic = OrganizationFactory.create(slug="uic", jurisdiction=atlas_map.chicago)
    CoalitionMembershipFactory.create(organization=uic)
    assert as_user(client, chicago_editor).delete("/api/v1/organizations/uic/").status_code == 409


def test_an_editor_creates_and_updates_a_coalition(client, chicago_editor):
    as_user(client, chicago_editor)
    created = client.post(
        "/api/v1/coalitions/",
        {"name": "Chicago Council", "slug": "chicago-council", "jurisdiction": "chicago"},
        format="json",
    )
    assert created.status_code == 201, created.content
    updated = client.patch(
        "/api/v1/coalitions/chicago-council/", {"founded_on": "2025-09-01"}, format="json"
    )
    assert updated.status_code == 200
    coalition = Coalition.objects.get(slug="chicago-council")
    assert coalition.history.first().history_user == chicago_editor


def test_a_coalition_cannot_move_out_of_scope(client, chicago_editor, atlas_map):
    CoalitionFactory.create(jurisdiction=atlas_map.chicago, slug="c")
    response = as_user(client, chicago_editor).patch(
        "/api/v1/coalitions/c/", {"jurisdiction": "new-york-city"}, format="json"
    )
    assert response.status_code == 403


def test_deleting_a_coalition_removes_it(client, chicago_editor, atlas_map):
    CoalitionFactory.create(jurisdiction=atlas_map.chicago, slug="c")
    assert as_user(client, chicago_editor).delete("/api/v1/coalitions/c/").status_code == 204
    assert not Coalition.objects.filter(slug="c").exists()


def test_a_deleted_coalitions_memberships_name_the_editor_in_history(
    client, chicago_editor, atlas_map
):
    coalition = CoalitionFactory.create(jurisdiction=atlas_map.chicago, slug="c")
    membership = CoalitionMembershipFactory.create(coalition=coalition)
    as_user(client, chicago_editor).delete("/api/v1/coalitions/c/")
    last = CoalitionMembership.history.filter(id=membership.pk).first()
    assert last.history_type == "-"
    assert last.history_user == chicago_editor


# ---------------------------------------------------------------- taxonomies


def test_focus_areas_are_read_only(client, staff_user):
    response = as_user(client, staff_user).post(
        "/api/v1/focus-areas/", {"slug": "x", "name_en": "X", "name_fr": "X"}, format="json"
    )
    assert response.status_code == 405


def test_sectors_are_read_only(client, staff_user):
    response = as_user(client, staff_user).delete("/api/v1/sectors/health-care/")
    assert response.status_code == 405


# ---------------------------------------------------------------- bad bodies


def test_a_body_that_is_not_an_object_is_a_400(client, chicago_editor):
    response = as_user(client, chicago_editor).post(
        "/api/v1/initiatives/", ["not", "an", "object"], format="json"
    )
    assert response.status_code == 400


def test_a_wrongly_typed_field_is_a_400(client, chicago_editor, chicago_wifi):
    response = as_user(client, chicago_editor).patch(
        "/api/v1/initiatives/chicago-wifi/", {"focus_areas": "technology-access"}, format="json"
    )
    assert response.status_code == 400


def test_changing_focus_areas_lands_in_history_naming_the_editor(
    client, chicago_editor, chicago_wifi
):
    as_user(client, chicago_editor).patch(
        "/api/v1/initiatives/chicago-wifi/", {"focus_areas": ["open-government"]}, format="json"
    )
    latest = chicago_wifi.history.first()
    assert latest.history_user == chicago_editor
    assert [row.focusarea.slug for row in latest.focus_areas.all()] == ["open-government"]


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/a b",
        "https://example.org/?\x03",
        "https://fr.wikipedia.org/wiki/Île-de-France",
        "ftp://example.org/",
        "https://localhost/",
    ],
)
def test_a_web_address_outside_the_documented_pattern_is_a_400(client, chicago_editor, url):
    response = as_user(client, chicago_editor).post(
        "/api/v1/plans/",
        {"title": "Plan", "slug": "plan", "jurisdiction": "chicago", "source_url": url},
        format="json",
    )
    assert response.status_code == 400
    assert "source_url" in response.json()["errors"]


def test_a_percent_encoded_web_address_is_taken(client, chicago_editor):
    url = "https://fr.wikipedia.org/wiki/%C3%8Ele-de-France"
    response = as_user(client, chicago_editor).post(
        "/api/v1/plans/",
        {"title": "Plan", "slug": "plan", "jurisdiction": "chicago", "source_url": url},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["source_url"] == url


def test_an_unknown_field_is_a_400_naming_it(client, chicago_editor):
    """A typo is not silently dropped; fields of the record the API never writes still are."""
    response = as_user(client, chicago_editor).post(
        "/api/v1/initiatives/", {**NEW_INITIATIVE, "titel": "Typo"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"titel": ["Unknown field."]}
    assert not Initiative.objects.filter(slug=NEW_INITIATIVE["slug"]).exists()


def test_a_patch_replacing_measurements_needs_complete_readings(
    client, chicago_editor, chicago_wifi
):
    """A PATCH is partial, but the series it sends replaces the old one whole."""
    indicator = IndicatorFactory.create(initiative=chicago_wifi)
    response = as_user(client, chicago_editor).patch(
        f"/api/v1/indicators/{indicator.pk}/", {"measurements": [{"value": "1.5"}]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"]["measurements"] == {
        "0": {"measured_on": ["This field is required."]}
    }
