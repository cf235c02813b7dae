"""The search page: matches, facets with counts, sorting, pagination and bad input."""

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cities.models import Jurisdiction
from council.models import Organization
from initiatives import search
from initiatives.models import FocusArea, Initiative, Partnership, PublicationState, Sector
from tests.factories import InitiativeFactory, OrganizationFactory, PartnershipFactory

pytestmark = pytest.mark.django_db

URL = "/en/search/"

# Matching initiatives: count and page; focus areas of the page; facets: jurisdiction
# paths and names, focus areas, sectors, statuses, lead and partner organizations,
# start years; names: jurisdictions and organizations.
SEARCH_QUERIES = 13
# Without a query no names are searched.
BROWSE_QUERIES = 11


def run(**params: Any) -> search.SearchOutcome:
    data = QueryDict(mutable=True)
    for key, value in params.items():
        if isinstance(value, list):
            data.setlist(key, value)
        else:
            data[key] = value
    return search.initiative_search(data=data)


def titles(outcome: search.SearchOutcome) -> list[str]:
    return [initiative.title for initiative in outcome.page]


def counts(options: list[search.FacetOption]) -> dict[str, int]:
    return {option.value: option.count for option in options}


def tree_counts(outcome: search.SearchOutcome) -> dict[str, int]:
    return {node.jurisdiction.slug: node.count for node in outcome.facets.jurisdiction_rows}


@pytest.fixture
def spread(atlas_map: Any) -> dict[str, Initiative]:
    """Four initiatives across the map, with taxonomies, organizations and start dates."""
    access = FocusArea.objects.get(slug="technology-access")
    open_gov = FocusArea.objects.get(slug="open-government")
    library = OrganizationFactory.create(name="Chicago Public Library", slug="cpl")
    university = OrganizationFactory.create(name="University of Illinois", slug="uiuc")
    found = {
        "chicago": InitiativeFactory.create(
            jurisdiction=atlas_map.chicago,
            title="Broadband for every block",
            slug="chi-broadband",
            summary="Municipal fibre.",
            status=Initiative.Status.ACTIVE,
            start_date=dt.date(2023, 5, 1),
            lead_organization=library,
            focus_areas=[access],
        ),
        "springfield": InitiativeFactory.create(
            jurisdiction=atlas_map.springfield,
            title="Springfield open data",
            slug="spr-data",
            summary="A broadband map among the datasets.",
            status=Initiative.Status.PLANNED,
            start_date=dt.date(2024, 2, 1),
            focus_areas=[open_gov],
        ),
        "illinois": InitiativeFactory.create(
            jurisdiction=atlas_map.illinois,
            title="Connect Illinois",
            slug="il-connect",
            summary="Statewide grants.",
            description="Broadband grants for rural counties.",
            status=Initiative.Status.ACTIVE,
            start_date=dt.date(2024, 8, 15),
            lead_organization=university,
            focus_areas=[access, open_gov],
        ),
        "nyc": InitiativeFactory.create(
            jurisdiction=atlas_map.nyc,
            title="Open data week",
            slug="nyc-data",
            summary="A week of civic hacking.",
            status=Initiative.Status.COMPLETED,
            focus_areas=[open_gov],
        ),
    }
    found["springfield"].sectors.add(Sector.objects.get(slug="government"))
    found["illinois"].sectors.add(Sector.objects.get(slug="government"))
    # The library partners in Illinois's initiative, and in its own (as lead too).
    PartnershipFactory.create(initiative=found["illinois"], organization=library)
    PartnershipFactory.create(
        initiative=found["chicago"], organization=library, role=Partnership.Role.LEAD
    )
    return found


# ---------------------------------------------------------------- matches


def test_a_query_lists_the_initiatives_that_mention_it(client, spread):
    """Title, summary and description all count."""
    response = client.get(URL, {"q": "broadband"})

    assert response.status_code == 200
    html = response.content.decode()
    for slug in ("chi-broadband", "spr-data", "il-connect"):
        assert f'href="/en/initiatives/{slug}/"' in html
    assert "/en/initiatives/nyc-data/" not in html


def test_every_word_of_the_query_must_match(spread):
    assert titles(run(q="broadband grants")) == ["Connect Illinois"]


def test_initiative_titles_are_marked_with_their_language(client, spread):
    Initiative.objects.filter(pk=spread["nyc"].pk).update(
        language="fr", title="Semaine des données ouvertes"
    )
    html = client.get(URL, {"q": "données"}).content.decode()
    assert 'lang="fr">Semaine des données ouvertes</a>' in html


def test_matching_jurisdictions_and_organizations_are_listed_above(client, spread):
    html = client.get(URL, {"q": "chicago"}).content.decode()

    assert 'href="/en/jurisdictions/chicago/">Chicago</a>' in html
    assert 'href="/en/organizations/cpl/">Chicago Public Library</a>' in html
    assert html.index("matching-jurisdictions") < html.index("matching-initiatives")


def test_names_match_any_long_word_of_the_query(spread):
    outcome = run(q="broadband in Springfield")
    assert [j.slug for j in outcome.jurisdictions] == ["springfield"]


def test_drafts_are_neither_found_nor_counted(spread):
    Initiative.objects.filter(pk=spread["chicago"].pk).update(
        publication_state=PublicationState.DRAFT
    )
    outcome = run(q="broadband")
    assert "Broadband for every block" not in titles(outcome)
    assert "chicago" not in tree_counts(outcome)


def test_the_api_q_parameter_runs_the_same_search(client, spread):
    response = client.get("/api/v1/initiatives/", {"q": "broadband grants"})
    assert [item["slug"] for item in response.json()["results"]] == ["il-connect"]


# ---------------------------------------------------------------- facets


def test_jurisdictions_count_their_descendants_initiatives(spread):
    """Illinois counts Chicago's and Springfield's; the United States counts all four."""
    assert tree_counts(run()) == {
        "united-states": 4,
        "illinois": 3,
        "chicago": 1,
        "springfield": 1,
        "new-york": 1,
        "new-york-city": 1,
    }


def test_the_jurisdiction_facet_is_a_tree_parents_before_children(spread):
    rows = run().facets.jurisdiction_rows
    levels = {node.jurisdiction.slug: node.level for node in rows}
    assert levels["united-states"] == 0
    assert levels["illinois"] == 1
    assert levels["chicago"] == 2
    slugs = [node.jurisdiction.slug for node in rows]
    assert slugs.index("illinois") < slugs.index("chicago") < slugs.index("new-york")


def test_facets_count_over_the_query_results(spread):
    facets = run(q="broadband").facets
    assert counts(facets.focus_areas) == {"technology-access": 2, "open-government": 2}
    assert counts(facets.statuses) == {"active": 2, "planned": 1}
    assert counts(facets.sectors) == {"government": 2}


def test_each_facet_leaves_out_its_own_filter(spread):
    """Picking "active" keeps the other statuses' counts, but narrows the other facets."""
    facets = run(status="active").facets
    assert counts(facets.statuses) == {"active": 2, "planned": 1, "completed": 1}
    assert [option.value for option in facets.statuses if option.selected] == ["active"]
    assert counts(facets.focus_areas) == {"technology-access": 2, "open-government": 1}


def test_a_jurisdiction_filter_narrows_other_facets_but_not_its_own(spread):
    outcome = run(jurisdiction="illinois", include_descendants="true")
    assert sorted(titles(outcome)) == [
        "Broadband for every block",
        "Connect Illinois",
        "Springfield open data",
    ]
    assert tree_counts(outcome)["new-york-city"] == 1
    assert counts(outcome.facets.statuses) == {"active": 2, "planned": 1}
    assert outcome.facets.selected_jurisdiction is not None


def test_organizations_count_each_initiative_once_whether_lead_or_partner(spread):
    """The library leads and partners in its own initiative, and partners in Illinois's."""
    assert counts(run().facets.organizations) == {"cpl": 2, "uiuc": 1}


def test_the_organization_filter_matches_leads_and_partners(spread):
    assert sorted(titles(run(organization="cpl"))) == [
        "Broadband for every block",
        "Connect Illinois",
    ]


def test_start_dates_are_counted_by_year(spread):
    facets = run().facets
    assert [(bucket.year, bucket.count) for bucket in facets.start_years] == [
        (2023, 1),
        (2024, 2),
    ]
    assert facets.undated == 1


def test_a_selected_value_stays_listed_even_with_no_initiatives(spread):
    facets = run(q="fibre", focus_area="open-government").facets
    assert [(o.value, o.count, o.selected) for o in facets.focus_areas] == [
        ("technology-access", 1, False),
        ("open-government", 0, True),
    ]


def test_facets_are_plain_get_form_controls(client, spread):
    html = client.get(URL, {"q": "broadband", "status": "active"}).content.decode()
    assert re.search(r'<form method="get" action="/en/search/" id="search-filters"', html)
    form = html[html.index('id="search-filters"') :]
    assert re.search(
        r'<input type="checkbox" name="status" value="active" id="[^"]+" checked>', form
    )
    assert 'name="focus_area" value="technology-access"' in form
    assert 'name="jurisdiction" value="illinois"' in form
    assert 'name="organization" value="cpl"' in form
    assert 'type="date" id="id_start_date_after" name="start_date_after"' in form
    # Illinois counts Chicago's active initiative and its own.
    assert 'Illinois <span class="count">(2)</span>' in form


def test_a_year_links_to_its_start_date_range(client, spread):
    html = client.get(URL, {"q": "broadband"}).content.decode()
    assert "start_date_after=2024-01-01&amp;start_date_before=2024-12-31" in html


# ---------------------------------------------------------------- the date range filters


def test_the_start_date_range_is_inclusive(spread):
    found = run(start_date_after="2024-02-01", start_date_before="2024-08-15")
    assert sorted(titles(found)) == ["Connect Illinois", "Springfield open data"]


def test_the_api_shares_the_start_date_filters(client, spread):
    response = client.get("/api/v1/initiatives/", {"start_date_before": "2023-12-31"})
    assert [item["slug"] for item in response.json()["results"]] == ["chi-broadband"]
    assert client.get("/api/v1/initiatives/", {"start_date_after": "soon"}).status_code == 400


# ---------------------------------------------------------------- sorting


def _touch(initiative: Initiative, days_ago: int) -> None:
    Initiative.objects.filter(pk=initiative.pk).update(
        updated_at=timezone.now() - dt.timedelta(days=days_ago)
    )


def test_without_a_query_the_most_recently_updated_come_first(spread):
    for days_ago, key in enumerate(["nyc", "illinois", "chicago", "springfield"]):
        _touch(spread[key], days_ago)
    outcome = run()
    assert outcome.sort == "updated"
    assert titles(outcome) == [
        "Open data week",
        "Connect Illinois",
        "Broadband for every block",
        "Springfield open data",
    ]


def test_with_a_query_the_best_match_comes_first(spread):
    """A title match outranks a summary match, which outranks a description match."""
    outcome = run(q="broadband")
    assert outcome.sort == "relevance"
    assert titles(outcome) == [
        "Broadband for every block",
        "Springfield open data",
        "Connect Illinois",
    ]


def test_sort_by_title(spread):
    assert titles(run(sort="title")) == [
        "Broadband for every block",
        "Connect Illinois",
        "Open data week",
        "Springfield open data",
    ]


def test_sort_by_start_date_puts_the_newest_first_and_the_undated_last(spread):
    assert titles(run(sort="start_date")) == [
        "Connect Illinois",
        "Springfield open data",
        "Broadband for every block",
        "Open data week",
    ]


def test_the_sort_order_is_offered_as_a_select(client, spread):
    html = client.get(URL, {"q": "broadband", "sort": "title"}).content.decode()
    assert '<option value="title" selected>' in html
    assert '<option value="relevance">' in html


# ---------------------------------------------------------------- pagination


@pytest.fixture
def many(atlas_map: Any) -> None:
    Initiative.objects.bulk_create(
        InitiativeFactory.build(
            jurisdiction=atlas_map.chicago, title=f"Library {n:02d}", slug=f"library-{n}"
        )
        for n in range(45)
    )


def test_results_come_twenty_to_a_page(client, many):
    first = run(sort="title")
    third = run(sort="title", page="3")
    assert first.page.paginator.num_pages == 3
    assert len(first.page) == 20
    assert titles(third) == [f"Library {n}" for n in range(40, 45)]


def test_page_links_keep_the_query_and_filters(client, many):
    html = client.get(URL, {"q": "library", "status": "active", "page": "2"}).content.decode()
    assert 'href="?q=library&amp;status=active&amp;page=3" rel="next"' in html
    assert 'href="?q=library&amp;status=active&amp;page=1" rel="prev"' in html


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ("abc", "enter a whole number"),
        ("0", "enter a whole number"),
        ("-1", "enter a whole number"),
        ("1.5", "enter a whole number"),
        ("99", "there is no page 99; the results fill 3 pages"),
        ("9" * 40, "there is no page"),
    ],
)
def test_a_bad_page_gives_the_first_page_back_with_a_message(client, many, page, message):
    response = client.get(URL, {"page": page})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'class="error-summary"' in html
    assert '<a href="#id_page">' in html
    assert 'id="id_page"' in html
    assert message in html
    assert html.count('<h3><a href="/en/initiatives/') == 20


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "query",
    [
        "' OR 1=1 --",
        "<script>alert(1)</script>",
        '"unbalanced',
        "&|!:*()",
        "broadband' ; DROP TABLE initiatives_initiative; --",
        "%_%",
        "-",
        "or",
        "\\",
        "Ω≈ç√ 日本語 🚀",
    ],
)
def test_odd_queries_never_fail_and_are_escaped(client, spread, query):
    response = client.get(URL, {"q": query})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert" not in html
    assert Initiative.objects.count() == 4


def test_a_script_in_the_query_is_shown_escaped(client, spread):
    html = client.get(URL, {"q": "<script>alert(1)</script>"}).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_an_empty_query_shows_everything(client, spread):
    response = client.get(URL, {"q": "   "})
    assert response.status_code == 200
    assert response.content.decode().count('<h3><a href="/en/initiatives/') == 4


def test_a_very_long_query_is_cut_with_a_message(client, spread):
    query = "broadband " + "x" * 500
    response = client.get(URL, {"q": query})
    html = response.content.decode()
    assert response.status_code == 200
    assert "only its first 200 characters were used" in html
    assert f'value="{query[:200]}"' in html


def test_a_nul_in_the_query_is_refused_not_a_crash(client, spread):
    response = client.get(URL, {"q": "broad\x00band"})
    assert response.status_code == 400
    assert '<a href="#id_q">' in response.content.decode()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"focus_area": "no-such-area"}, "focus_area"),
        ({"sector": "no-such-sector"}, "sector"),
        ({"status": "dormant"}, "status"),
        ({"jurisdiction": "atlantis"}, "jurisdiction"),
        ({"include_descendants": "maybe"}, "include_descendants"),
        ({"organization": "<b>acme</b>"}, "organization"),
        ({"start_date_after": "2024-13-01"}, "start_date_after"),
        ({"start_date_before": "yesterday"}, "start_date_before"),
        ({"updated_since": "last-tuesday"}, "updated_since"),
        ({"plan": "no-such-plan"}, "plan"),
        ({"sort": "sideways"}, "sort"),
    ],
)
def test_a_malformed_filter_is_listed_in_an_error_summary(client, spread, params, field):
    response = client.get(URL, {"q": "broadband", **params})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'class="error-summary"' in html
    assert f'<a href="#id_{field}">' in html
    assert f'id="id_{field}"' in html
    assert "<b>acme</b>" not in html
    # The rest of the search still runs.
    assert 'href="/en/initiatives/chi-broadband/"' in html


def test_a_malformed_filter_is_left_out_and_the_others_still_apply(spread):
    outcome = run(status="active", start_date_after="not-a-date")
    assert set(outcome.errors) == {"start_date_after"}
    assert sorted(titles(outcome)) == ["Broadband for every block", "Connect Illinois"]


def test_the_french_page_speaks_french(client, spread):
    response = client.get("/fr/search/", {"q": "broadband", "page": "x"})
    html = response.content.decode()
    assert response.status_code == 400
    assert '<html lang="fr">' in html
    assert "Accès aux technologies et infrastructures" in html


# ---------------------------------------------------------------- query counts


def _populate(jurisdictions: list[Jurisdiction], size: int) -> None:
    """``size`` initiatives spread over jurisdictions, taxonomies, organizations and years."""
    areas = list(FocusArea.objects.all()[:4])
    sectors = list(Sector.objects.all()[:3])
    organizations = Organization.objects.bulk_create(
        OrganizationFactory.build(slug=f"org-{n}", name=f"Organization {n}") for n in range(5)
    )
    statuses = list(Initiative.Status)
    initiatives = Initiative.objects.bulk_create(
        InitiativeFactory.build(
            jurisdiction=jurisdictions[n % len(jurisdictions)],
            title=f"Library Wi-Fi {n}",
            slug=f"library-wifi-{n}",
            status=statuses[n % len(statuses)],
            start_date=dt.date(2015 + n % 10, 1, 1) if n % 3 else None,
            lead_organization=organizations[n % 5] if n % 2 else None,
        )
        for n in range(size)
    )
    Initiative.focus_areas.through.objects.bulk_create(
        Initiative.focus_areas.through(initiative_id=i.pk, focusarea_id=areas[n % 4].pk)
        for n, i in enumerate(initiatives)
    )
    Initiative.sectors.through.objects.bulk_create(
        Initiative.sectors.through(initiative_id=i.pk, sector_id=sectors[n % 3].pk)
        for n, i in enumerate(initiatives)
    )
    Partnership.objects.bulk_create(
        Partnership(initiative=i, organization=organizations[(n + 1) % 5], role="funder")
        for n, i in enumerate(initiatives)
    )


def _queries(client: Any, params: dict[str, str]) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(URL, params)
    assert response.status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "library"}, SEARCH_QUERIES),
        ({}, BROWSE_QUERIES),
        ({"q": "branch", "sort": "title", "page": "1"}, SEARCH_QUERIES),
    ],
)
def test_the_page_costs_the_same_queries_for_1_10_and_200_initiatives(
    client, atlas_map, params, expected
):
    places = [atlas_map.chicago, atlas_map.springfield, atlas_map.nyc, atlas_map.illinois]
    seen = []
    created = 0
    for size in (1, 10, 200):
        Initiative.objects.all().delete()
        Organization.objects.all().delete()
        _populate(places, size)
        created = Initiative.objects.count()
        seen.append(_queries(client, params))
    assert created == 200
    assert seen == [expected] * 3


def test_each_filter_adds_one_query_to_check_its_value(client, atlas_map):
    """A slug filter looks its value up once; the count still does not grow with the data."""
    _populate([atlas_map.chicago], 10)
    params = {"q": "library", "jurisdiction": "illinois", "include_descendants": "true"}
    assert _queries(client, params) == SEARCH_QUERIES + 1
    params["focus_area"] = FocusArea.objects.first().slug  # type: ignore[union-attr]
    assert _queries(client, params) == SEARCH_QUERIES + 2
