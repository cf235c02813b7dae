"""Jurisdictions: reading the tree, and editors extending it within their scope."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from cities.models import Jurisdiction

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_throttles() -> None:
    """Each test starts with empty rate-limit counters, however fast the suite runs."""
    cache.clear()


EVANSTON = {
    "name": "Evanston",
    "slug": "evanston",
    "kind": "place",
    "ocd_id": "ocd-division/country:us/state:il/place:evanston",
}


@pytest.fixture
def client() -> APIClient:
    return APIClient()


def test_anyone_lists_jurisdictions(client, atlas_map):
    response = client.get("/api/v1/jurisdictions/")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 6


def test_jurisdictions_list_by_name(client, atlas_map):
    names = [item["name"] for item in client.get("/api/v1/jurisdictions/").json()["results"]]
    assert names == sorted(names)


def test_anyone_retrieves_a_jurisdiction_by_slug(client, atlas_map):
    item = client.get("/api/v1/jurisdictions/chicago/").json()
    assert item["ocd_id"] == "ocd-division/country:us/state:il/place:chicago"
    assert item["url"] == "http://testserver/api/v1/jurisdictions/chicago/"
    assert item["web_url"] == f"http://testserver{atlas_map.chicago.get_absolute_url()}"


def test_a_jurisdiction_has_top_level_coordinates(client, atlas_map):
    atlas_map.chicago.latitude, atlas_map.chicago.longitude = 41.88, -87.63
    atlas_map.chicago.save()
    item = client.get("/api/v1/jurisdictions/chicago/").json()
    assert (item["latitude"], item["longitude"]) == (41.88, -87.63)


def test_the_parent_reads_as_a_compact_object(client, atlas_map):
    item = client.get("/api/v1/jurisdictions/chicago/").json()
    assert item["parent"] == {
        "slug": "illinois",
        "name": "Illinois",
        "ocd_id": "ocd-division/country:us/state:il",
    }


def test_a_root_has_a_null_parent(client, atlas_map):
    assert client.get("/api/v1/jurisdictions/united-states/").json()["parent"] is None


def test_expand_parent_gives_the_whole_parent(client, atlas_map):
    item = client.get("/api/v1/jurisdictions/chicago/?expand=parent").json()
    assert item["parent"]["url"] == "http://testserver/api/v1/jurisdictions/illinois/"
    assert item["parent"]["parent"]["slug"] == "united-states"


def test_the_boundary_is_left_out_unless_expanded(client, atlas_map):
    square = {"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]]}
    atlas_map.chicago.boundary = square
    atlas_map.chicago.save()
    assert "boundary" not in client.get("/api/v1/jurisdictions/chicago/").json()
    expanded = client.get("/api/v1/jurisdictions/chicago/?expand=boundary").json()
    assert expanded["boundary"] == square


def test_an_unknown_jurisdiction_is_a_404(client, atlas_map):
    assert client.get("/api/v1/jurisdictions/atlantis/").status_code == 404


# ---------------------------------------------------------------- writes


def test_an_editor_adds_a_jurisdiction_below_their_own(client, atlas_map, chicago_editor):
    client.force_authenticate(chicago_editor)
    response = client.post(
        "/api/v1/jurisdictions/", {**EVANSTON, "parent": "chicago"}, format="json"
    )
    assert response.status_code == 201, response.content
    created = Jurisdiction.objects.get(slug="evanston")
    assert created.parent == atlas_map.chicago
    assert created.history.first().history_user == chicago_editor


def test_an_editor_cannot_add_a_jurisdiction_outside_their_scope(client, atlas_map, chicago_editor):
    client.force_authenticate(chicago_editor)
    response = client.post(
        "/api/v1/jurisdictions/", {**EVANSTON, "parent": "illinois"}, format="json"
    )
    assert response.status_code == 403
    assert "parent" in response.json()["errors"]
    assert not Jurisdiction.objects.filter(slug="evanston").exists()


def test_an_editor_cannot_add_a_top_level_jurisdiction(client, atlas_map, chicago_editor):
    client.force_authenticate(chicago_editor)
    response = client.post("/api/v1/jurisdictions/", EVANSTON, format="json")
    assert response.status_code == 403
    assert "parent" in response.json()["errors"]


def test_staff_add_a_top_level_jurisdiction(client, atlas_map, staff_user):
    client.force_authenticate(staff_user)
    response = client.post(
        "/api/v1/jurisdictions/",
        {
            "name": "Canada",
            "slug": "canada",
            "kind": "country",
            "ocd_id": "ocd-division/country:ca",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert Jurisdiction.objects.get(slug="canada").parent is None


def test_an_editor_changes_their_own_jurisdiction(client, atlas_map, chicago_editor):
    client.force_authenticate(chicago_editor)
    response = client.patch(
        "/api/v1/jurisdictions/chicago/", {"population": 2_700_000}, format="json"
    )
    assert response.status_code == 200, response.content
    atlas_map.chicago.refresh_from_db()
    assert atlas_map.chicago.population == 2_700_000
    assert atlas_map.chicago.history.first().history_user == chicago_editor


def test_an_editor_may_resend_the_unchanged_parent(client, atlas_map, chicago_editor):
    client.force_authenticate(chicago_editor)
    response = client.patch("/api/v1/jurisdictions/chicago/", {"parent": "illinois"}, format="json")
    assert response.status_code == 200, response.content


def test_an_editor_cannot_move_their_jurisdiction_under_another(client, atlas_map, chicago_editor):
    client.force_authenticate(chicago_editor)
    response = client.patch("/api/v1/jurisdictions/chicago/", {"parent": "new-york"}, format="json")
    assert response.status_code == 403
    assert "parent" in response.json()["errors"]


def test_an_editor_cannot_change_the_parent_jurisdiction(client, atlas_map, chicago_editor):
    client.force_authenticate(chicago_editor)
    response = client.patch("/api/v1/jurisdictions/illinois/", {"population": 1}, format="json")
    assert response.status_code == 404


def test_an_editor_cannot_change_a_sibling_jurisdiction(client, atlas_map, chicago_editor):
    client.force_authenticate(chicago_editor)
    assert (
        client.patch(
            "/api/v1/jurisdictions/springfield/", {"population": 1}, format="json"
        ).status_code
        == 404
    )


def test_a_state_editor_changes_the_states_cities(client, atlas_map, illinois_editor):
    client.force_authenticate(illinois_editor)
    response = client.patch(
        "/api/v1/jurisdictions/springfield/", {"population": 114_000}, format="json"
    )
    assert response.status_code == 200


def test_a_cycle_is_refused(client, atlas_map, illinois_editor):
    client.force_authenticate(illinois_editor)
    response = client.patch("/api/v1/jurisdictions/illinois/", {"parent": "chicago"}, format="json")
    assert response.status_code == 400


def test_jurisdictions_cannot_be_deleted(client, atlas_map, staff_user):
    client.force_authenticate(staff_user)
    assert client.delete("/api/v1/jurisdictions/springfield/").status_code == 405
    assert Jurisdiction.objects.filter(slug="springfield").exists()


def test_a_reviewer_cannot_add_jurisdictions(client, atlas_map, chicago_reviewer):
    client.force_authenticate(chicago_reviewer)
    response = client.post(
        "/api/v1/jurisdictions/", {**EVANSTON, "parent": "chicago"}, format="json"
    )
    assert response.status_code == 403


def test_anonymous_users_cannot_add_jurisdictions(client, atlas_map):
    response = client.post(
        "/api/v1/jurisdictions/", {**EVANSTON, "parent": "chicago"}, format="json"
    )
    assert response.status_code in (401, 403)


def test_path_and_depth_are_read_only(client, atlas_map, chicago_editor):
    client.force_authenticate(chicago_editor)
    response = client.post(
        "/api/v1/jurisdictions/",
        {**EVANSTON, "parent": "chicago", "depth": 0, "path": "1/"},
        format="json",
    )
    assert response.status_code == 201
    created = Jurisdiction.objects.get(slug="evanston")
    assert created.depth == 3
    assert created.is_within(atlas_map.chicago)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("population", "114000"),
        ("population", True),
        ("population", 1.5),
        ("latitude", False),
        ("latitude", "39.8"),
        ("is_illustrative", 1),
    ],
)
def test_numbers_and_booleans_must_be_json_numbers_and_booleans(
    client, atlas_map, illinois_editor, field, value
):
    client.force_authenticate(illinois_editor)
    payload = {field: value, "longitude": -89.6} if field == "latitude" else {field: value}
    response = client.patch("/api/v1/jurisdictions/springfield/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_whole_float_is_a_whole_number(client, atlas_map, illinois_editor):
    client.force_authenticate(illinois_editor)
    response = client.patch(
        "/api/v1/jurisdictions/springfield/", {"population": 114000.0}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["population"] == 114000
