"""Search on PostgreSQL: weighted ranking, English and French stemming, trigrams, GIN indexes."""

from typing import Any

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from cities.models import Jurisdiction
from council.models import Organization
from initiatives import search
from initiatives.models import Initiative
from initiatives.selectors import visible_initiatives
from tests.factories import InitiativeFactory, OrganizationFactory
from tests.site.test_search import SEARCH_QUERIES, _populate

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


def found(text: str) -> list[str]:
    data = QueryDict(mutable=True)
    data["q"] = text
    return [initiative.slug for initiative in search.initiative_search(data=data).page]


def plan_of(queryset: QuerySet[Any]) -> str:
    return queryset.explain()


@pytest.fixture
def no_seqscan() -> None:
    """Make a sequential scan the planner's last resort until the test's transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")


# ---------------------------------------------------------------- ranking and stemming


def test_a_title_match_outranks_a_summary_match_outranks_a_description_match(atlas_map):
    for slug, fields in [
        ("in-description", {"title": "Rooftops", "summary": "", "description": "A mesh."}),
        ("in-title", {"title": "Mesh network", "summary": ""}),
        ("in-summary", {"title": "Nodes", "summary": "A city-wide mesh."}),
    ]:
        InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug=slug, **fields)
    assert found("mesh") == ["in-title", "in-summary", "in-description"]


def test_french_words_are_stemmed(atlas_map):
    """ "numériques" finds "numérique", and the other way round."""
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        slug="strategie",
        title="Stratégie numérique de Lyon",
        summary="",
        language="fr",
    )
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug="other", title="Open data")
    assert found("numériques") == ["strategie"]
    assert found("stratégies") == ["strategie"]


def test_english_words_are_stemmed(atlas_map):
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, slug="wifi", title="Library Wi-Fi", summary=""
    )
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, slug="other", title="Open data", summary=""
    )
    assert found("libraries") == ["wifi"]
    assert found("connecting the library") == []
    assert found("library OR connecting") == ["wifi"]


def test_english_stop_words_do_not_hide_a_match(atlas_map):
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, slug="wifi", title="Wi-Fi for the libraries", summary=""
    )
    assert found("the library") == ["wifi"]


def test_the_api_q_parameter_is_the_same_full_text_search(client, atlas_map):
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, slug="strategie", title="Stratégie numérique"
    )
    response = client.get("/api/v1/initiatives/", {"q": "numériques"})
    assert [item["slug"] for item in response.json()["results"]] == ["strategie"]


# ---------------------------------------------------------------- names and trigrams


def test_a_misspelt_jurisdiction_name_still_finds_it(atlas_map):
    assert [j.slug for j in search.jurisdictions_named("Chicgo")] == ["chicago"]
    assert [j.slug for j in search.jurisdictions_named("Sprinfield")] == ["springfield"]


def test_a_jurisdiction_named_inside_a_longer_query_is_found(atlas_map):
    assert [j.slug for j in search.jurisdictions_named("broadband grants in chicago")] == [
        "chicago"
    ]


def test_a_misspelt_organization_name_still_finds_it(db):
    OrganizationFactory.create(name="Chicago Public Library", slug="cpl")
    OrganizationFactory.create(name="World Business Chicago", slug="wbc")
    assert search.organizations_named("Chicago Pubic Libary")[0].slug == "cpl"


def test_the_closest_name_comes_first(atlas_map):
    assert [j.slug for j in search.jurisdictions_named("New York")][:2] == [
        "new-york",
        "new-york-city",
    ]


# ---------------------------------------------------------------- indexes


@pytest.fixture
def thousands(atlas_map: Any) -> None:
    """A few thousand initiatives, jurisdictions and organizations, analysed."""
    Initiative.objects.bulk_create(
        InitiativeFactory.build(
            jurisdiction=atlas_map.chicago,
            slug=f"initiative-{n}",
            # One in five hundred is about broadband: a selective query, as most are.
            title=f"Initiative {n}" + (" about broadband" if n % 500 == 0 else ""),
            description=f"Words {n} and more words",
        )
        for n in range(3000)
    )
    Jurisdiction.objects.bulk_create(
        Jurisdiction(
            kind=Jurisdiction.Kind.PLACE,
            name=f"Town {n}",
            slug=f"town-{n}",
            ocd_id=f"ocd-division/country:us/state:zz/place:town_{n}",
            path=f"{atlas_map.us.pk}/{n}/",
        )
        for n in range(3000)
    )
    Organization.objects.bulk_create(
        OrganizationFactory.build(name=f"Company {n}", slug=f"company-{n}") for n in range(3000)
    )
    with connection.cursor() as cursor:
        # Rows inserted since the index was built wait in its pending list until a
        # vacuum merges them; a catalogue at rest has them merged.
        cursor.execute("SELECT gin_clean_pending_list('initiative_search'::regclass)")
        for table in ("initiatives_initiative", "cities_jurisdiction", "council_organization"):
            cursor.execute(f"ANALYZE {table}")


def test_the_full_text_search_uses_the_gin_index(thousands, no_seqscan):
    """The filter reads the stored document, which the GIN index holds."""
    queryset = search.search_initiatives(visible_initiatives(), "broadband")
    assert "initiative_search" in plan_of(queryset)


def test_the_search_page_results_use_the_gin_index(thousands, no_seqscan):
    outcome = search.initiative_search(data=QueryDict("q=broadband&status=active"))
    assert outcome.page.paginator.count == 6
    results = outcome.page.paginator.object_list
    assert "initiative_search" in plan_of(results)  # type: ignore[arg-type]


def test_jurisdiction_names_use_the_trigram_index(thousands, no_seqscan):
    queryset = search.match_names(Jurisdiction.objects.all(), "Chicgo")
    assert "jurisdiction_name_trgm" in plan_of(queryset)


def test_organization_names_use_the_trigram_index(thousands, no_seqscan):
    queryset = search.match_names(Organization.objects.all(), "Compny 12")
    assert "organization_name_trgm" in plan_of(queryset)


# ---------------------------------------------------------------- the page


@pytest.mark.parametrize(
    "query",
    ["' OR 1=1 --", "<script>", '"unbalanced', "&|!:*()", "a <-> b", "!!", "-", "or", "\\:*"],
)
def test_odd_queries_never_fail(client, atlas_map, query):
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug="wifi", title="Library Wi-Fi")
    response = client.get("/en/search/", {"q": query})
    assert response.status_code == 200


def test_the_page_costs_the_same_queries_for_1_10_and_200_initiatives(client, atlas_map):
    places = [atlas_map.chicago, atlas_map.springfield, atlas_map.nyc, atlas_map.illinois]
    seen = []
    for size in (1, 10, 200):
        Initiative.objects.all().delete()
        Organization.objects.all().delete()
        _populate(places, size)
        with CaptureQueriesContext(connection) as context:
            response = client.get("/en/search/", {"q": "libraries"})
        assert response.status_code == 200
        assert response.context["page_obj"].paginator.count == size
        seen.append(len(context.captured_queries))
    assert seen == [SEARCH_QUERIES] * 3
