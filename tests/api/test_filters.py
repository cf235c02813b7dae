"""
The FilterSets, through the API and on their own (the site's search reuses them).

A well-formed slug or OCD id that names nothing is a 404 from the API (the
record is missing, as with a name in a path); a malformed value is a 400;
unknown parameters are ignored.
"""

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.http import QueryDict
from rest_framework.test import APIClient

from cities.filters import JurisdictionFilterSet
from council.filters import CoalitionFilterSet, OrganizationFilterSet
from initiatives import selectors
from initiatives.filters import InitiativeFilterSet
from initiatives.models import FocusArea, Initiative, PublicationState, Sector
from tests.factories import (
    CoalitionFactory,
    IndicatorFactory,
    InitiativeFactory,
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


def slugs(response: Any) -> set[str]:
    assert response.status_code == 200, response.content
    return {item["slug"] for item in response.json()["results"]}


@pytest.fixture
def spread(atlas_map) -> dict[str, Initiative]:
    """One published initiative in each of Illinois, Chicago, Springfield and New York City."""
    return {
        "illinois": InitiativeFactory.create(jurisdiction=atlas_map.illinois, slug="il-broadband"),
        "chicago": InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug="chi-wifi"),
        "springfield": InitiativeFactory.create(
            jurisdiction=atlas_map.springfield, slug="spi-portal"
        ),
        "nyc": InitiativeFactory.create(jurisdiction=atlas_map.nyc, slug="nyc-mesh"),
    }


# ---------------------------------------------------------------- initiatives: jurisdiction


def test_jurisdiction_by_slug_matches_only_that_jurisdiction(client, spread):
    assert slugs(client.get("/api/v1/initiatives/?jurisdiction=chicago")) == {"chi-wifi"}


def test_jurisdiction_by_ocd_id_matches_only_that_jurisdiction(client, spread):
    ocd_id = "ocd-division/country:us/state:il/place:chicago"
    assert slugs(client.get("/api/v1/initiatives/", {"jurisdiction": ocd_id})) == {"chi-wifi"}


def test_include_descendants_from_illinois_reaches_chicago_and_springfield(client, spread):
    response = client.get("/api/v1/initiatives/?jurisdiction=illinois&include_descendants=true")
    assert slugs(response) == {"il-broadband", "chi-wifi", "spi-portal"}


def test_include_descendants_works_with_an_ocd_id(client, spread):
    response = client.get(
        "/api/v1/initiatives/",
        {"jurisdiction": "ocd-division/country:us/state:il", "include_descendants": "true"},
    )
    assert slugs(response) == {"il-broadband", "chi-wifi", "spi-portal"}


def test_without_include_descendants_illinois_matches_only_itself(client, spread):
    response = client.get("/api/v1/initiatives/?jurisdiction=illinois&include_descendants=false")
    assert slugs(response) == {"il-broadband"}


def test_include_descendants_alone_filters_nothing(client, spread):
    assert len(slugs(client.get("/api/v1/initiatives/?include_descendants=true"))) == 4


def test_an_unknown_jurisdiction_is_a_404_naming_the_parameter(client, spread):
    response = client.get("/api/v1/initiatives/?jurisdiction=atlantis")
    assert response.status_code == 404
    assert response.json()["detail"].startswith("jurisdiction: ")


def test_a_non_boolean_include_descendants_is_a_400(client, spread):
    response = client.get("/api/v1/initiatives/?jurisdiction=illinois&include_descendants=maybe")
    assert response.status_code == 400
    assert "include_descendants" in response.json()["errors"]


# ---------------------------------------------------------------- initiatives: taxonomies


def test_focus_area_matches_initiatives_tagged_with_it(client, spread):
    spread["chicago"].focus_areas.set([FocusArea.objects.get(slug="technology-access")])
    response = client.get("/api/v1/initiatives/?focus_area=technology-access")
    assert slugs(response) == {"chi-wifi"}


def test_repeated_focus_areas_match_any_of_them_once(client, spread):
    access, government = (
        FocusArea.objects.get(slug="technology-access"),
        FocusArea.objects.get(slug="open-government"),
    )
    spread["chicago"].focus_areas.set([access, government])
    spread["nyc"].focus_areas.set([government])
    response = client.get(
        "/api/v1/initiatives/?focus_area=technology-access&focus_area=open-government"
    )
    results = [item["slug"] for item in response.json()["results"]]
    assert sorted(results) == ["chi-wifi", "nyc-mesh"]


def test_an_unknown_focus_area_is_a_404(client, spread):
    assert client.get("/api/v1/initiatives/?focus_area=astrology").status_code == 404


def test_sector_matches_initiatives_tagged_with_it(client, spread):
    spread["nyc"].sectors.set([Sector.objects.get(slug="health-care")])
    assert slugs(client.get("/api/v1/initiatives/?sector=health-care")) == {"nyc-mesh"}


def test_an_unknown_sector_is_a_404(client, spread):
    assert client.get("/api/v1/initiatives/?sector=alchemy").status_code == 404


# ---------------------------------------------------------------- initiatives: status


def test_status_matches_that_status(client, spread):
    Initiative.objects.filter(pk=spread["nyc"].pk).update(status=Initiative.Status.PLANNED)
    assert slugs(client.get("/api/v1/initiatives/?status=planned")) == {"nyc-mesh"}


def test_repeated_statuses_match_any_of_them(client, spread):
    Initiative.objects.filter(pk=spread["nyc"].pk).update(status=Initiative.Status.PLANNED)
    Initiative.objects.filter(pk=spread["chicago"].pk).update(status=Initiative.Status.IDEA)
    response = client.get("/api/v1/initiatives/?status=planned&status=idea")
    assert slugs(response) == {"nyc-mesh", "chi-wifi"}


def test_an_unknown_status_is_a_400(client, spread):
    response = client.get("/api/v1/initiatives/?status=dormant")
    assert response.status_code == 400
    assert "status" in response.json()["errors"]


# ---------------------------------------------------------------- initiatives: organization


def test_organization_matches_the_lead_organization(client, spread):
    uic = OrganizationFactory.create(slug="uic")
    Initiative.objects.filter(pk=spread["chicago"].pk).update(lead_organization=uic)
    assert slugs(client.get("/api/v1/initiatives/?organization=uic")) == {"chi-wifi"}


def test_organization_matches_partners_too(client, spread):
    uic = OrganizationFactory.create(slug="uic")
    Initiative.objects.filter(pk=spread["chicago"].pk).update(lead_organization=uic)
    PartnershipFactory.create(initiative=spread["nyc"], organization=uic)
    assert slugs(client.get("/api/v1/initiatives/?organization=uic")) == {"chi-wifi", "nyc-mesh"}


def test_an_unknown_organization_is_a_404(client, spread):
    assert client.get("/api/v1/initiatives/?organization=acme").status_code == 404


# ---------------------------------------------------------------- initiatives: updated_since


def test_updated_since_is_inclusive_and_excludes_older_rows(client, atlas_map):
    with time_machine.travel(dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC), tick=False):
        InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug="old")
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC), tick=False):
        InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug="new")
    response = client.get("/api/v1/initiatives/", {"updated_since": "2026-03-01T12:00:00Z"})
    assert slugs(response) == {"new"}


def test_updated_since_accepts_an_offset(client, atlas_map):
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC), tick=False):
        InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug="new")
    response = client.get("/api/v1/initiatives/", {"updated_since": "2026-03-01T13:00:00+02:00"})
    assert slugs(response) == {"new"}


def test_a_malformed_updated_since_is_a_400(client, spread):
    response = client.get("/api/v1/initiatives/?updated_since=last-tuesday")
    assert response.status_code == 400
    assert "updated_since" in response.json()["errors"]


# ---------------------------------------------------------------- initiatives: q and plan


def test_q_matches_words_of_the_title(client, atlas_map):
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug="a", title="Broadband for all")
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug="b", title="Open data portal")
    assert slugs(client.get("/api/v1/initiatives/?q=broadband")) == {"a"}


def test_q_matches_the_summary_and_the_description(client, atlas_map):
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, slug="a", title="One", summary="Municipal mesh network"
    )
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        slug="b",
        title="Two",
        summary="",
        description="A **mesh** of rooftop nodes.",
    )
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug="c", title="Three", summary="")
    assert slugs(client.get("/api/v1/initiatives/?q=mesh")) == {"a", "b"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ranking needs PostgreSQL")
def test_q_ranks_a_title_match_above_a_description_match(atlas_map):
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, slug="title", title="Mesh network", summary=""
    )
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        slug="description",
        title="Rooftops",
        summary="",
        description="A mesh of nodes.",
    )
    found = selectors.initiative_list(filters=QueryDict("q=mesh"))
    ranked = found.order_by("-search_rank")  # type: ignore[misc]
    assert [i.slug for i in ranked] == ["title", "description"]


def test_q_does_not_reveal_drafts(client, atlas_map):
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        slug="secret",
        title="Broadband",
        publication_state=PublicationState.DRAFT,
    )
    assert slugs(client.get("/api/v1/initiatives/?q=broadband")) == set()


def test_plan_matches_the_plans_initiatives(client, atlas_map, spread):
    plan = PlanFactory.create(jurisdiction=atlas_map.chicago, slug="chicago-digital-plan")
    Initiative.objects.filter(pk=spread["chicago"].pk).update(plan=plan)
    assert slugs(client.get("/api/v1/initiatives/?plan=chicago-digital-plan")) == {"chi-wifi"}


def test_a_draft_plan_is_as_unknown_as_a_missing_one_to_anonymous_readers(client, atlas_map):
    PlanFactory.create(
        jurisdiction=atlas_map.chicago, slug="hidden", publication_state=PublicationState.DRAFT
    )
    assert client.get("/api/v1/initiatives/?plan=hidden").status_code == 404


def test_filters_combine(client, spread):
    spread["chicago"].focus_areas.set([FocusArea.objects.get(slug="technology-access")])
    spread["nyc"].focus_areas.set([FocusArea.objects.get(slug="technology-access")])
    response = client.get(
        "/api/v1/initiatives/?jurisdiction=illinois&include_descendants=true"
        "&focus_area=technology-access"
    )
    assert slugs(response) == {"chi-wifi"}


def test_unknown_parameters_are_ignored(client, spread):
    assert len(slugs(client.get("/api/v1/initiatives/?colour=blue&jurisdiction_id=3"))) == 4


# ---------------------------------------------------------------- the FilterSets on their own


def test_the_initiative_filterset_works_without_a_request(spread):
    filterset = InitiativeFilterSet(
        QueryDict("jurisdiction=illinois&include_descendants=1"),
        queryset=Initiative.objects.all(),
    )
    assert filterset.is_valid()
    assert {i.slug for i in filterset.qs} == {"il-broadband", "chi-wifi", "spi-portal"}


def test_the_selector_applies_filters_for_the_site(spread):
    found = selectors.initiative_list(filters=QueryDict("jurisdiction=new-york-city"))
    assert [i.slug for i in found] == ["nyc-mesh"]


def test_the_selector_refuses_malformed_filters(spread):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        selectors.initiative_list(filters=QueryDict("status=dormant"))


# ---------------------------------------------------------------- jurisdictions


def test_jurisdictions_filter_by_ocd_id(client, atlas_map):
    response = client.get("/api/v1/jurisdictions/", {"ocd_id": "ocd-division/country:us/state:ny"})
    assert slugs(response) == {"new-york"}


def test_jurisdictions_filter_by_kind(client, atlas_map):
    assert slugs(client.get("/api/v1/jurisdictions/?kind=state")) == {"illinois", "new-york"}


def test_jurisdictions_filter_by_parent_slug(client, atlas_map):
    assert slugs(client.get("/api/v1/jurisdictions/?parent=illinois")) == {
        "chicago",
        "springfield",
    }


def test_jurisdictions_filter_by_parent_ocd_id(client, atlas_map):
    response = client.get("/api/v1/jurisdictions/", {"parent": "ocd-division/country:us"})
    assert slugs(response) == {"illinois", "new-york"}


def test_jurisdictions_filter_by_name(client, atlas_map):
    assert slugs(client.get("/api/v1/jurisdictions/?q=new")) == {"new-york", "new-york-city"}


def test_jurisdictions_filter_by_updated_since(client, atlas_map):
    with time_machine.travel(dt.datetime(2030, 1, 1, tzinfo=dt.UTC), tick=False):
        atlas_map.nyc.save()
    response = client.get("/api/v1/jurisdictions/", {"updated_since": "2029-12-31T00:00:00Z"})
    assert slugs(response) == {"new-york-city"}


def test_jurisdictions_filter_by_having_published_initiatives(client, spread, atlas_map):
    InitiativeFactory.create(
        jurisdiction=atlas_map.new_york, publication_state=PublicationState.DRAFT
    )
    assert slugs(client.get("/api/v1/jurisdictions/?has_initiatives=true")) == {
        "illinois",
        "chicago",
        "springfield",
        "new-york-city",
    }
    assert slugs(client.get("/api/v1/jurisdictions/?has_initiatives=false")) == {
        "united-states",
        "new-york",
    }


@pytest.mark.parametrize(
    "query",
    ["kind=planet", "updated_since=yesterday", "has_initiatives=perhaps"],
)
def test_malformed_jurisdiction_filters_are_a_400(client, atlas_map, query):
    assert client.get(f"/api/v1/jurisdictions/?{query}").status_code == 400


def test_an_unknown_parent_is_a_404(client, atlas_map):
    assert client.get("/api/v1/jurisdictions/?parent=atlantis").status_code == 404


def test_an_unknown_and_a_malformed_filter_together_are_a_400(client, atlas_map):
    assert client.get("/api/v1/jurisdictions/?parent=atlantis&kind=planet").status_code == 400


def test_the_jurisdiction_filterset_works_without_a_request(atlas_map):
    from cities.models import Jurisdiction

    filterset = JurisdictionFilterSet(
        QueryDict("parent=new-york"), queryset=Jurisdiction.objects.all()
    )
    assert [j.slug for j in filterset.qs] == ["new-york-city"]


# ---------------------------------------------------------------- other resources


def test_plans_filter_by_jurisdiction_with_descendants(client, atlas_map):
    PlanFactory.create(jurisdiction=atlas_map.chicago, slug="chicago-plan")
    PlanFactory.create(jurisdiction=atlas_map.nyc, slug="nyc-plan")
    response = client.get("/api/v1/plans/?jurisdiction=illinois&include_descendants=true")
    assert slugs(response) == {"chicago-plan"}


def test_organizations_filter_by_kind(client, atlas_map):
    OrganizationFactory.create(slug="uic", kind="university")
    OrganizationFactory.create(slug="chamber", kind="chamber_of_commerce")
    assert slugs(client.get("/api/v1/organizations/?kind=chamber_of_commerce")) == {"chamber"}


def test_organizations_filter_by_home_jurisdiction_with_descendants(client, atlas_map):
    OrganizationFactory.create(slug="uic", jurisdiction=atlas_map.chicago)
    OrganizationFactory.create(slug="cuny", jurisdiction=atlas_map.nyc)
    response = client.get("/api/v1/organizations/?jurisdiction=illinois&include_descendants=1")
    assert slugs(response) == {"uic"}


def test_organizations_refuse_an_unknown_kind(client, atlas_map):
    assert client.get("/api/v1/organizations/?kind=guild").status_code == 400


def test_coalitions_filter_by_jurisdiction(client, atlas_map):
    CoalitionFactory.create(jurisdiction=atlas_map.chicago, slug="chicago-council")
    CoalitionFactory.create(jurisdiction=atlas_map.nyc, slug="nyc-council")
    assert slugs(client.get("/api/v1/coalitions/?jurisdiction=new-york-city")) == {"nyc-council"}


def test_milestones_filter_by_initiative(client, spread):
    wanted = MilestoneFactory.create(initiative=spread["chicago"])
    MilestoneFactory.create(initiative=spread["nyc"])
    results = client.get("/api/v1/milestones/?initiative=chi-wifi").json()["results"]
    assert [item["id"] for item in results] == [wanted.pk]


def test_milestones_filter_by_jurisdiction_with_descendants(client, spread):
    wanted = MilestoneFactory.create(initiative=spread["springfield"])
    MilestoneFactory.create(initiative=spread["nyc"])
    results = client.get(
        "/api/v1/milestones/?jurisdiction=illinois&include_descendants=true"
    ).json()["results"]
    assert [item["id"] for item in results] == [wanted.pk]


def test_milestones_filter_by_completion(client, spread):
    done = MilestoneFactory.create(initiative=spread["chicago"], completed_on=dt.date(2026, 1, 5))
    MilestoneFactory.create(initiative=spread["chicago"])
    results = client.get("/api/v1/milestones/?completed=true").json()["results"]
    assert [item["id"] for item in results] == [done.pk]


def test_indicators_filter_by_initiative(client, spread):
    wanted = IndicatorFactory.create(initiative=spread["nyc"])
    IndicatorFactory.create(initiative=spread["chicago"])
    results = client.get("/api/v1/indicators/?initiative=nyc-mesh").json()["results"]
    assert [item["id"] for item in results] == [wanted.pk]


def test_a_draft_initiative_is_unknown_to_the_milestone_filter_for_anonymous(client, atlas_map):
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, slug="hidden", publication_state=PublicationState.DRAFT
    )
    assert client.get("/api/v1/milestones/?initiative=hidden").status_code == 404


def test_the_council_filtersets_work_without_a_request(atlas_map):
    from council.models import Coalition, Organization

    OrganizationFactory.create(slug="uic", jurisdiction=atlas_map.chicago)
    CoalitionFactory.create(jurisdiction=atlas_map.chicago, slug="chicago-council")
    organizations = OrganizationFilterSet(
        QueryDict("jurisdiction=chicago"), queryset=Organization.objects.all()
    )
    coalitions = CoalitionFilterSet(
        QueryDict("jurisdiction=chicago"), queryset=Coalition.objects.all()
    )
    assert [o.slug for o in organizations.qs] == ["uic"]
    assert [c.slug for c in coalitions.qs] == ["chicago-council"]


def test_a_jurisdiction_holding_a_nul_character_is_a_400(client, atlas_map):
    """PostgreSQL cannot compare such a string at all; the filter refuses it first."""
    assert client.get("/api/v1/initiatives/?jurisdiction=%00").status_code == 400
