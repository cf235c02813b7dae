"""The stored search document, and what the search page counts of a large result set."""

from typing import Any

import pytest
from django.db import connection
from django.db.models import TextField
from django.db.models.functions import Cast
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from initiatives import search
from initiatives.models import Initiative, SearchDocument
from initiatives.selectors import visible_initiatives
from tests.factories import InitiativeFactory
from tests.site.test_search import SEARCH_QUERIES

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="text search is PostgreSQL's"
)
fallback_only = pytest.mark.skipif(
    connection.vendor == "postgresql", reason="the substring fallback of other databases"
)


def stored_and_fresh(initiative: Initiative) -> tuple[str, str]:
    """The stored document and the same expression computed now, as text."""
    row = (
        Initiative.objects.filter(pk=initiative.pk)
        .annotate(
            stored=Cast("search_document", TextField()),
            fresh=Cast(SearchDocument(), TextField()),
        )
        .values_list("stored", "fresh")
        .get()
    )
    return row[0], row[1]


def run(**params: str) -> search.SearchOutcome:
    data = QueryDict(mutable=True)
    for key, value in params.items():
        data[key] = value
    return search.initiative_search(data=data)


# ---------------------------------------------------------------- the stored document


@postgresql_only
def test_the_stored_document_is_the_expression_for_a_new_initiative(atlas_map: Any) -> None:
    initiative = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        title="Broadband for every block",
        summary="Fibre de la ville.",
        description="Rooftop mesh nodes.",
    )
    stored, fresh = stored_and_fresh(initiative)
    assert stored == fresh
    assert "'broadband':1A" in stored


@postgresql_only
def test_the_stored_document_follows_a_save_and_a_queryset_update(atlas_map: Any) -> None:
    """Both ways of writing keep the column, and a search finds the new words at once."""
    initiative = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, title="Open data", summary="", description=""
    )
    initiative.title = "Library hotspots"
    initiative.save()
    stored, fresh = stored_and_fresh(initiative)
    assert stored == fresh
    assert "hotspot" in stored
    Initiative.objects.filter(pk=initiative.pk).update(description="Rooftop antennas.")
    stored, fresh = stored_and_fresh(initiative)
    assert stored == fresh
    assert list(search.search_initiatives(visible_initiatives(), "antennas")) == [initiative]


@postgresql_only
def test_ranking_reads_the_stored_column_not_the_text(atlas_map: Any) -> None:
    """Parsing the text of every match again is what made common words slow."""
    sql = str(search.search_initiatives(visible_initiatives(), "broadband").query)
    assert '"search_document" @@' in sql
    assert 'ts_rank("initiatives_initiative"."search_document"' in sql
    assert "to_tsvector" not in sql


@postgresql_only
def test_a_title_match_ranks_above_a_summary_and_a_description_match(atlas_map: Any) -> None:
    for slug, fields in [
        ("in-description", {"title": "Rooftops", "summary": "", "description": "A mesh."}),
        ("in-title", {"title": "Mesh network", "summary": "", "description": ""}),
        ("in-summary", {"title": "Nodes", "summary": "A city-wide mesh.", "description": ""}),
    ]:
        InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug=slug, **fields)
    # Annotated at run time: the type checker knows no search_rank.
    found: Any = search.search_initiatives(visible_initiatives(), "mesh")
    rows = list(found.order_by("-search_rank").values_list("slug", "search_rank"))
    assert [slug for slug, _rank in rows] == ["in-title", "in-summary", "in-description"]
    assert rows[0][1] > rows[1][1] > rows[2][1]


@postgresql_only
def test_the_gin_index_holds_the_stored_column(db: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'initiative_search'"
            " AND tablename = 'initiatives_initiative'"
        )
        (definition,) = cursor.fetchone()
    assert "USING gin (search_document)" in definition


@fallback_only
def test_elsewhere_the_column_is_empty_and_search_matches_substrings(atlas_map: Any) -> None:
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, slug="title", title="Broadband", summary=""
    )
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        slug="summary",
        title="Fibre",
        summary="Broadband for blocks",
    )
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug="other", title="Open data")
    assert set(Initiative.objects.values_list("search_document", flat=True)) == {None}
    found: Any = search.search_initiatives(visible_initiatives(), "roadband")
    assert list(found.order_by("-search_rank").values_list("slug", flat=True)) == [
        "title",
        "summary",
    ]


# ---------------------------------------------------------------- counting a large result set


@pytest.fixture
def five_matches(atlas_map: Any) -> list[Initiative]:
    statuses = ["active", "active", "planned", "planned", "idea"]
    return [
        InitiativeFactory.create(
            jurisdiction=atlas_map.chicago,
            slug=f"library-{n}",
            title=f"Library branch {n}",
            status=status,
        )
        for n, status in enumerate(statuses)
    ]


def test_the_count_stops_past_the_limit(five_matches: list[Initiative]) -> None:
    results = search.search_initiatives(visible_initiatives(), "library").order_by("pk")
    capped = search.CappedPaginator(results, 2, limit=3)
    assert (capped.count, capped.is_capped, capped.num_pages) == (4, True, 2)
    whole = search.CappedPaginator(results, 2, limit=5)
    assert (whole.count, whole.is_capped, whole.num_pages) == (5, False, 3)


def test_a_capped_count_says_more_than_and_costs_no_extra_query(
    client: Any, five_matches: list[Initiative], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "COUNT_LIMIT", 4)
    monkeypatch.setattr(search, "PAGE_SIZE", 2)
    with CaptureQueriesContext(connection) as context:
        response = client.get("/en/search/", {"q": "library"})
    assert response.status_code == 200
    assert len(context.captured_queries) == SEARCH_QUERIES
    html = response.content.decode()
    assert "More than 4 initiatives match “library”." in html
    assert "Page 1 of the first 2" in html


def test_a_page_past_the_counted_ones_is_refused_with_the_reason(
    client: Any, five_matches: list[Initiative], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "COUNT_LIMIT", 4)
    monkeypatch.setattr(search, "PAGE_SIZE", 2)
    response = client.get("/en/search/", {"q": "library", "page": "3"})
    assert response.status_code == 400
    assert "only the first 2 pages of results can be shown" in response.content.decode()


def test_facets_of_few_matches_are_exact_and_carry_no_note(
    client: Any, five_matches: list[Initiative]
) -> None:
    outcome = run(q="library")
    assert not outcome.facets.sampled
    assert {option.value: option.count for option in outcome.facets.statuses} == {
        "active": 2,
        "planned": 2,
        "idea": 1,
    }
    assert 'id="facet-sample"' not in client.get("/en/search/", {"q": "library"}).content.decode()


def test_facets_of_many_matches_count_a_sample_and_say_so(
    client: Any, five_matches: list[Initiative], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "FACET_SAMPLE", 3)
    outcome = run(q="library")
    assert outcome.facets.sampled
    assert sum(option.count for option in outcome.facets.statuses) == 3
    html = client.get("/en/search/", {"q": "library"}).content.decode()
    assert "may count only the first 3 initiatives found" in html


def test_a_facet_wider_than_the_results_is_still_flagged(
    five_matches: list[Initiative], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two active results, but the status facet leaves its filter out and sees all five."""
    monkeypatch.setattr(search, "FACET_SAMPLE", 3)
    outcome = run(q="library", status="active")
    assert outcome.page.paginator.count == 2
    assert outcome.facets.sampled


def test_the_sample_takes_the_other_filters_into_account(
    five_matches: list[Initiative], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Planned initiatives only: the year facet's sample holds nothing else."""
    monkeypatch.setattr(search, "FACET_SAMPLE", 3)
    outcome = run(q="library", status="planned")
    years = sum(bucket.count for bucket in outcome.facets.start_years) + outcome.facets.undated
    assert years == 2


def _ranked_world(atlas_map: Any) -> Initiative:
    """Five matches; the best one (the word in its title) is the least recently updated."""
    best = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, slug="mesh-best", title="Rooftop mesh network"
    )
    for n in range(4):
        InitiativeFactory.create(
            jurisdiction=atlas_map.chicago,
            slug=f"mesh-{n}",
            title=f"Neighbourhood program {n}",
            summary="",
            description=f"Volunteers maintain a mesh of routers, phase {n}.",
        )
    Initiative.objects.filter(pk=best.pk).update(updated_at=best.updated_at.replace(year=2001))
    return best


def test_a_capped_relevance_search_ranks_the_most_recent_matches_and_says_so(
    client: Any, atlas_map: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    best = _ranked_world(atlas_map)
    monkeypatch.setattr(search, "COUNT_LIMIT", 3)
    with CaptureQueriesContext(connection) as context:
        response = client.get("/en/search/", {"q": "mesh"})
    assert response.status_code == 200
    assert len(context.captured_queries) == SEARCH_QUERIES
    page = response.context["page_obj"]
    assert page.paginator.ranks_recent
    shown = [initiative.slug for initiative in page.object_list]
    assert best.slug not in shown
    assert len(shown) == 3
    assert 'id="rank-recent"' in response.content.decode()


def test_an_uncapped_relevance_search_ranks_every_match(client: Any, atlas_map: Any) -> None:
    best = _ranked_world(atlas_map)
    response = client.get("/en/search/", {"q": "mesh"})
    page = response.context["page_obj"]
    assert not page.paginator.ranks_recent
    assert page.object_list[0].slug == best.slug
    assert 'id="rank-recent"' not in response.content.decode()


def test_other_orders_are_not_limited_to_recent_matches(
    client: Any, atlas_map: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ranked_world(atlas_map)
    monkeypatch.setattr(search, "COUNT_LIMIT", 3)
    response = client.get("/en/search/", {"q": "mesh", "sort": "title"})
    page = response.context["page_obj"]
    assert not page.paginator.ranks_recent
    assert page.object_list[0].slug == "mesh-0"
