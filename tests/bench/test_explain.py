"""
No public endpoint counts a whole large table: every statement each one issues is EXPLAINed
on PostgreSQL and its plan inspected (bench.run.whole_table_counts, the check `make bench`
runs on the 1,000,000-initiative set).
"""

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.run import whole_table_counts
from initiatives.models import FocusArea, Initiative, PublicationState
from tests.conftest import AtlasMap
from tests.factories import InitiativeFactory, OrganizationFactory, PlanFactory

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="EXPLAIN plans are PostgreSQL's"
)


def scan(relation: str, **conditions: str) -> dict[str, Any]:
    return {"Node Type": "Seq Scan", "Relation Name": relation, "Plan Rows": 100, **conditions}


def aggregate(*children: dict[str, Any], mode: str = "Simple") -> dict[str, Any]:
    return {"Node Type": "Aggregate", "Partial Mode": mode, "Plans": list(children)}


def test_a_count_over_an_unconditioned_scan_is_caught() -> None:
    plan = aggregate(scan("initiatives_initiative"))
    assert whole_table_counts(plan) == [
        "aggregate over every row of initiatives_initiative (Seq Scan)"
    ]


def test_a_parallel_count_is_caught_through_its_gather() -> None:
    partial = aggregate(scan("cities_jurisdiction"), mode="Partial")
    plan = aggregate({"Node Type": "Gather", "Plans": [partial]}, mode="Finalize")
    assert len(whole_table_counts(plan)) == 1


def test_a_filtered_count_passes_unless_it_keeps_most_of_the_table() -> None:
    plan = aggregate(scan("initiatives_initiative", Filter="(jurisdiction_id = 7)"))
    assert whole_table_counts(plan) == []
    most = aggregate(scan("initiatives_initiative", Filter="(publication_state = 'published')"))
    most["Plans"][0]["Plan Rows"] = 900_000
    assert whole_table_counts(most, table_rows={"initiatives_initiative": 1_000_000}) == [
        "aggregate over 900,000 of 1,000,000 rows of initiatives_initiative"
    ]


def test_small_tables_and_joins_are_not_counted_as_whole_table_counts() -> None:
    assert whole_table_counts(aggregate(scan("initiatives_focusarea"))) == []
    join = {"Node Type": "Hash Join", "Plans": [scan("initiatives_initiative"), scan("x")]}
    assert whole_table_counts(aggregate(join)) == []


def test_a_count_with_no_where_is_caught_from_the_sql_alone() -> None:
    sql = 'SELECT COUNT(*) AS "__count" FROM "council_organization"'
    assert whole_table_counts({"Node Type": "Result"}, sql=sql) == [
        "COUNT with no WHERE over council_organization"
    ]


@pytest.fixture
def published(atlas_map: AtlasMap) -> Initiative:
    lead = OrganizationFactory.create()
    plan = PlanFactory.create(jurisdiction=atlas_map.chicago)
    areas = list(FocusArea.objects.order_by("position")[:2])
    for number in range(6):
        InitiativeFactory.create(
            jurisdiction=atlas_map.chicago if number % 2 else atlas_map.nyc,
            lead_organization=lead,
            plan=plan,
            summary="Broadband for every household.",
            focus_areas=areas,
        )
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, publication_state=PublicationState.DRAFT
    )
    return Initiative.objects.published().order_by("pk").first() or Initiative()


ENDPOINTS = [
    "/api/v1/initiatives/?page_size=2",
    "/api/v1/initiatives/{slug}/",
    "/api/v1/jurisdictions/",
    "/api/v1/organizations/",
    "/api/v1/plans/",
    "/en/jurisdictions/chicago/",
    "/en/search/?q=broadband",
    "/en/search/",
    "/en/compare/?j=chicago&j=new-york-city",
    "/en/coverage/",
    "/en/initiatives/{slug}/",
    "/en/focus-areas/{area}/",
    "/en/feeds/updates.atom",
    "/en/",
]


@needs_postgresql
@pytest.mark.django_db
@pytest.mark.parametrize("path", ENDPOINTS)
def test_no_public_endpoint_counts_a_whole_large_table(
    client: Client, published: Initiative, path: str
) -> None:
    area = FocusArea.objects.order_by("position").first()
    url = path.format(slug=published.slug, area=area.slug if area else "")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    # The cursor page, too: the API's next link.
    if url.startswith("/api/v1/initiatives/?"):
        with CaptureQueriesContext(connection) as more:
            assert client.get(json.loads(response.content)["next"]).status_code == 200
        captured.captured_queries.extend(more.captured_queries)
    offences = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            raw = cursor.fetchone()[0]
            plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
            offences += [f"{reason}: {sql[:200]}" for reason in whole_table_counts(plan, sql=sql)]
    assert offences == []


def test_a_count_through_a_join_that_reads_most_of_a_big_table_is_caught() -> None:
    big = scan("initiatives_initiative_focus_areas")
    big["Plan Rows"] = 2_000_000
    join = {"Node Type": "Hash Join", "Plans": [big, scan("initiatives_focusarea")]}
    sizes = {"initiatives_initiative_focus_areas": 2_000_000}
    assert whole_table_counts(aggregate(join), table_rows=sizes) == [
        "aggregate over 2,000,000 of 2,000,000 rows of initiatives_initiative_focus_areas"
    ]


def test_a_parallel_scans_rows_are_counted_for_every_process() -> None:
    part = scan("initiatives_initiative", Filter="(publication_state = 'published')")
    part.update({"Plan Rows": 300_000, "Parallel Aware": True})
    gather = {
        "Node Type": "Gather",
        "Workers Planned": 2,
        "Plans": [aggregate(part, mode="Partial")],
    }
    plan = aggregate(gather, mode="Finalize")
    assert whole_table_counts(plan, table_rows={"initiatives_initiative": 1_000_000}) == [
        "aggregate over 900,000 of 1,000,000 rows of initiatives_initiative"
    ]


def test_a_scan_under_a_limit_keeps_no_more_than_the_limit() -> None:
    """A facet counted over the first 2,000 matches reads 2,000 rows, whatever the estimate."""
    matches = scan("initiatives_initiative", Filter="(search_document @@ query)")
    matches["Plan Rows"] = 590_000
    sample = {"Node Type": "Limit", "Plan Rows": 2_000, "Plans": [matches]}
    join = {"Node Type": "Hash Semi Join", "Plans": [scan("x"), sample]}
    sizes = {"initiatives_initiative": 1_000_000}
    assert whole_table_counts(aggregate(join), table_rows=sizes) == []
    unlimited = {"Node Type": "Hash Semi Join", "Plans": [scan("x"), matches]}
    assert whole_table_counts(aggregate(unlimited), table_rows=sizes) == [
        "aggregate over 590,000 of 1,000,000 rows of initiatives_initiative"
    ]
