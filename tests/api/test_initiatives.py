"""Reading initiatives: lists, details, visibility, the point, ?fields= and ?expand=."""

import re
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from initiatives.models import Initiative, InitiativeLink, PublicationState
from tests.factories import (
    IndicatorFactory,
    InitiativeFactory,
    MeasurementFactory,
    MilestoneFactory,
    OrganizationFactory,
    PartnershipFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_throttles() -> None:
    """Each test starts with empty rate-limit counters, however fast the suite runs."""
    cache.clear()


ALL_EXPANSIONS = (
    "milestones,indicators,partners,sources,links,jurisdiction,lead_organization,"
    "focus_areas,sectors"
)


def slugs(response: Any) -> set[str]:
    return {item["slug"] for item in response.json()["results"]}


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.fixture
def wifi(atlas_map) -> Initiative:
    return InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, slug="chicago-wifi", title="Library Wi-Fi"
    )


def test_anyone_lists_published_initiatives(client, wifi):
    response = client.get("/api/v1/initiatives/")
    assert response.status_code == 200
    assert slugs(response) == {"chicago-wifi"}


def test_anyone_retrieves_a_published_initiative_by_slug(client, wifi):
    response = client.get("/api/v1/initiatives/chicago-wifi/")
    assert response.status_code == 200
    assert response.json()["title"] == "Library Wi-Fi"


def test_an_item_carries_its_id_api_url_and_web_url(client, wifi):
    item = client.get("/api/v1/initiatives/chicago-wifi/").json()
    assert item["id"] == wifi.pk
    assert item["url"] == "http://testserver/api/v1/initiatives/chicago-wifi/"
    assert item["web_url"] == f"http://testserver{wifi.get_absolute_url()}"


def test_jurisdiction_reads_as_a_compact_object(client, wifi):
    item = client.get("/api/v1/initiatives/chicago-wifi/").json()
    assert item["jurisdiction"] == {
        "slug": "chicago",
        "name": "Chicago",
        "ocd_id": "ocd-division/country:us/state:il/place:chicago",
    }


def test_point_is_the_jurisdictions_location(client, atlas_map, wifi):
    atlas_map.chicago.latitude, atlas_map.chicago.longitude = 41.88, -87.63
    atlas_map.chicago.save()
    item = client.get("/api/v1/initiatives/chicago-wifi/").json()
    assert item["point"] == {"latitude": 41.88, "longitude": -87.63}


def test_point_is_null_when_the_jurisdiction_has_no_location(client, wifi):
    assert client.get("/api/v1/initiatives/chicago-wifi/").json()["point"] is None


def test_taxonomies_and_lead_organization_read_as_slugs(client, wifi):
    from initiatives.models import FocusArea, Sector

    lead = OrganizationFactory.create(slug="uic")
    wifi.lead_organization = lead
    wifi.save()
    wifi.focus_areas.set([FocusArea.objects.get(slug="technology-access")])
    wifi.sectors.set([Sector.objects.get(slug="health-care")])
    item = client.get("/api/v1/initiatives/chicago-wifi/").json()
    assert item["focus_areas"] == ["technology-access"]
    assert item["sectors"] == ["health-care"]
    assert item["lead_organization"] == "uic"


def test_drafts_are_invisible_to_anonymous_readers(client, atlas_map):
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, slug="draft", publication_state=PublicationState.DRAFT
    )
    assert slugs(client.get("/api/v1/initiatives/")) == set()
    assert client.get("/api/v1/initiatives/draft/").status_code == 404


def test_drafts_are_invisible_to_signed_in_outsiders(client, atlas_map, outsider):
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, slug="draft", publication_state=PublicationState.DRAFT
    )
    client.force_authenticate(outsider)
    assert client.get("/api/v1/initiatives/draft/").status_code == 404


def test_drafts_are_visible_to_the_jurisdictions_editor(client, atlas_map, chicago_editor):
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, slug="draft", publication_state=PublicationState.DRAFT
    )
    client.force_authenticate(chicago_editor)
    assert slugs(client.get("/api/v1/initiatives/")) == {"draft"}
    assert client.get("/api/v1/initiatives/draft/").status_code == 200


def test_drafts_are_visible_to_the_jurisdictions_reviewer(client, atlas_map, chicago_reviewer):
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, slug="draft", publication_state=PublicationState.DRAFT
    )
    client.force_authenticate(chicago_reviewer)
    assert client.get("/api/v1/initiatives/draft/").status_code == 200


def test_another_jurisdictions_drafts_stay_hidden_from_an_editor(client, atlas_map, nyc_editor):
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, slug="draft", publication_state=PublicationState.DRAFT
    )
    client.force_authenticate(nyc_editor)
    assert client.get("/api/v1/initiatives/draft/").status_code == 404


def test_a_state_editor_sees_drafts_of_the_states_cities(client, atlas_map, illinois_editor):
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, slug="draft", publication_state=PublicationState.DRAFT
    )
    client.force_authenticate(illinois_editor)
    assert slugs(client.get("/api/v1/initiatives/")) == {"draft"}


def test_staff_see_every_draft(client, atlas_map, staff_user):
    InitiativeFactory.create(
        jurisdiction=atlas_map.nyc, slug="draft", publication_state=PublicationState.DRAFT
    )
    client.force_authenticate(staff_user)
    assert slugs(client.get("/api/v1/initiatives/")) == {"draft"}


def test_archived_initiatives_are_invisible_to_anonymous_readers(client, atlas_map):
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, slug="old", publication_state=PublicationState.ARCHIVED
    )
    assert client.get("/api/v1/initiatives/old/").status_code == 404


def test_lists_are_newest_change_first(client, atlas_map):
    first = InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug="first")
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug="second")
    first.title = "Touched"
    first.save()
    results = client.get("/api/v1/initiatives/").json()["results"]
    assert [item["slug"] for item in results] == ["first", "second"]


def test_ordering_by_title_is_offered(client, atlas_map):
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug="b", title="Beta")
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug="a", title="Alpha")
    results = client.get("/api/v1/initiatives/?ordering=title").json()["results"]
    assert [item["slug"] for item in results] == ["a", "b"]


def test_descending_and_combined_orderings_are_offered(client, atlas_map):
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug="b", title="Same")
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug="a", title="Same")
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug="c", title="Other")
    results = client.get("/api/v1/initiatives/?ordering=-title,id").json()["results"]
    assert [item["slug"] for item in results] == ["b", "a", "c"]


@pytest.mark.parametrize("ordering", ["colour", "title,colour", "-", "title,", "password"])
def test_an_unknown_ordering_is_a_400_naming_the_choices(client, db, ordering):
    response = client.get("/api/v1/initiatives/", {"ordering": ordering})
    assert response.status_code == 400
    message = response.json()["errors"]["ordering"][0]
    assert "updated_at" in message


def test_the_schema_pattern_for_ordering_matches_what_the_server_accepts(client, db):
    schema = client.get("/api/v1/schema/?format=json").json()
    parameters = schema["paths"]["/api/v1/initiatives/"]["get"]["parameters"]
    pattern = re.compile(
        next(p for p in parameters if p["name"] == "ordering")["schema"]["pattern"]
    )
    for accepted in ("title", "-updated_at,id", ""):
        assert pattern.fullmatch(accepted)
    for refused in ("colour", "title,", "-", "title,,id"):
        assert not pattern.fullmatch(refused)


# ---------------------------------------------------------------- ?fields=


def test_fields_keeps_only_the_named_fields(client, wifi):
    item = client.get("/api/v1/initiatives/chicago-wifi/?fields=slug,title").json()
    assert item == {"slug": "chicago-wifi", "title": "Library Wi-Fi"}


def test_fields_applies_to_every_item_of_a_list(client, wifi):
    results = client.get("/api/v1/initiatives/?fields=slug").json()["results"]
    assert results == [{"slug": "chicago-wifi"}]


def test_fields_accepts_repeated_parameters(client, wifi):
    item = client.get("/api/v1/initiatives/chicago-wifi/?fields=slug&fields=status").json()
    assert set(item) == {"slug", "status"}


def test_an_unknown_field_is_a_400_listing_the_allowed_ones(client, wifi):
    response = client.get("/api/v1/initiatives/?fields=slug,colour")
    assert response.status_code == 400
    message = response.json()["errors"]["fields"][0]
    assert "colour" in message
    assert "title" in message


def test_fields_keeps_expanded_fields(client, wifi):
    MilestoneFactory.create(initiative=wifi)
    item = client.get("/api/v1/initiatives/chicago-wifi/?fields=slug&expand=milestones").json()
    assert set(item) == {"slug", "milestones"}


# ---------------------------------------------------------------- ?expand=


def test_children_are_left_out_unless_expanded(client, wifi):
    MilestoneFactory.create(initiative=wifi)
    item = client.get("/api/v1/initiatives/chicago-wifi/").json()
    assert not {"milestones", "indicators", "partners", "sources", "links"} & set(item)


def test_expand_milestones_nests_them(client, wifi):
    MilestoneFactory.create(initiative=wifi, title="Pilot branch online")
    item = client.get("/api/v1/initiatives/chicago-wifi/?expand=milestones").json()
    assert [m["title"] for m in item["milestones"]] == ["Pilot branch online"]


def test_expand_indicators_nests_them_with_measurements(client, wifi):
    indicator = IndicatorFactory.create(initiative=wifi)
    MeasurementFactory.create(indicator=indicator, value=42)
    item = client.get("/api/v1/initiatives/chicago-wifi/?expand=indicators").json()
    assert item["indicators"][0]["measurements"][0]["value"] == "42.0000"


def test_expand_partners_names_organizations_and_roles(client, wifi):
    PartnershipFactory.create(
        initiative=wifi, organization=OrganizationFactory.create(slug="uic", name="UIC")
    )
    item = client.get("/api/v1/initiatives/chicago-wifi/?expand=partners").json()
    assert item["partners"] == [{"organization": "uic", "name": "UIC", "role": "implementer"}]


def test_expand_sources_nests_them(client, wifi):
    SourceFactory.create(initiative=wifi, title="Press release")
    item = client.get("/api/v1/initiatives/chicago-wifi/?expand=sources").json()
    assert item["sources"][0]["title"] == "Press release"


def test_expand_links_hides_links_to_unseen_drafts(client, atlas_map, wifi):
    public = InitiativeFactory.create(jurisdiction=atlas_map.nyc, slug="nyc-wifi")
    draft = InitiativeFactory.create(
        jurisdiction=atlas_map.nyc, slug="nyc-draft", publication_state=PublicationState.DRAFT
    )
    InitiativeLink.objects.create(
        from_initiative=wifi, to_initiative=public, kind=InitiativeLink.Kind.INSPIRED_BY
    )
    InitiativeLink.objects.create(
        from_initiative=wifi, to_initiative=draft, kind=InitiativeLink.Kind.ADAPTED_FROM
    )
    item = client.get("/api/v1/initiatives/chicago-wifi/?expand=links").json()
    assert item["links"] == [{"kind": "inspired_by", "initiative": "nyc-wifi", "note": ""}]


def test_expand_jurisdiction_gives_the_whole_jurisdiction(client, wifi):
    item = client.get("/api/v1/initiatives/chicago-wifi/?expand=jurisdiction").json()
    assert item["jurisdiction"]["url"] == "http://testserver/api/v1/jurisdictions/chicago/"
    assert item["jurisdiction"]["parent"]["slug"] == "illinois"


def test_expand_lead_organization_gives_the_organization(client, wifi):
    wifi.lead_organization = OrganizationFactory.create(slug="uic", name="UIC")
    wifi.save()
    item = client.get("/api/v1/initiatives/chicago-wifi/?expand=lead_organization").json()
    assert item["lead_organization"]["name"] == "UIC"


def test_expand_focus_areas_gives_bilingual_names(client, wifi):
    from initiatives.models import FocusArea

    wifi.focus_areas.set([FocusArea.objects.get(slug="technology-access")])
    item = client.get("/api/v1/initiatives/chicago-wifi/?expand=focus_areas").json()
    assert set(item["focus_areas"][0]) >= {"slug", "name_en", "name_fr"}


def test_expand_of_a_null_relation_is_null(client, wifi):
    item = client.get("/api/v1/initiatives/chicago-wifi/?expand=lead_organization").json()
    assert item["lead_organization"] is None


def test_an_unknown_expansion_is_a_400_listing_the_allowed_ones(client, wifi):
    response = client.get("/api/v1/initiatives/?expand=milestones,budget")
    assert response.status_code == 400
    message = response.json()["errors"]["expand"][0]
    assert "budget" in message
    assert "milestones" in message


def test_everything_expands_at_once(client, wifi):
    response = client.get(f"/api/v1/initiatives/?expand={ALL_EXPANSIONS}")
    assert response.status_code == 200
