"""The jurisdiction page: figures, coverage against peers, freshness, timeline, council."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from cities.models import Jurisdiction
from council.models import CoalitionMembership, CouncilMembership, Organization
from initiatives.models import (
    FocusArea,
    Indicator,
    Initiative,
    Measurement,
    Milestone,
    Partnership,
    PublicationState,
)
from tests.factories import (
    CoalitionFactory,
    CoalitionMembershipFactory,
    CouncilMembershipFactory,
    IndicatorFactory,
    InitiativeFactory,
    JurisdictionFactory,
    MeasurementFactory,
    MilestoneFactory,
    OrganizationFactory,
    PlanFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def build_portfolio(
    jurisdiction: Jurisdiction, count: int, *, prefix: str = ""
) -> list[Initiative]:
    """
    ``count`` published initiatives in ``jurisdiction``, each in a focus area, with
    a partner, an overdue and an upcoming milestone, and an indicator with two
    measurements: every kind of row the pages read grows with ``count``.
    """
    prefix = prefix or jurisdiction.slug
    areas = list(FocusArea.objects.order_by("position", "slug")[:3])
    statuses = [Initiative.Status.ACTIVE, Initiative.Status.PLANNED, Initiative.Status.COMPLETED]
    initiatives = Initiative.objects.bulk_create(
        Initiative(
            jurisdiction=jurisdiction,
            title=f"{prefix} initiative {i}",
            slug=f"{prefix}-initiative-{i}",
            status=statuses[i % 3],
            publication_state=PublicationState.PUBLISHED,
            budget_amount=1000,
            budget_currency="USD",
        )
        for i in range(count)
    )
    Initiative.focus_areas.through.objects.bulk_create(
        Initiative.focus_areas.through(initiative=initiative, focusarea=areas[i % 3])
        for i, initiative in enumerate(initiatives)
    )
    organizations = Organization.objects.bulk_create(
        Organization(name=f"{prefix} org {i}", slug=f"{prefix}-org-{i}", kind="university")
        for i in range(count)
    )
    Partnership.objects.bulk_create(
        Partnership(initiative=initiative, organization=org, role="implementer")
        for initiative, org in zip(initiatives, organizations, strict=True)
    )
    today = timezone.localdate()
    Milestone.objects.bulk_create(
        [
            *(
                Milestone(initiative=i, title="Late", due_date=today - datetime.timedelta(days=5))
                for i in initiatives
            ),
            *(
                Milestone(initiative=i, title="Soon", due_date=today + datetime.timedelta(days=5))
                for i in initiatives
            ),
            *(
                Milestone(
                    initiative=i,
                    title="Done",
                    due_date=today - datetime.timedelta(days=50),
                    completed_on=today - datetime.timedelta(days=60),
                )
                for i in initiatives
            ),
        ]
    )
    indicators = Indicator.objects.bulk_create(
        Indicator(initiative=i, name="Households connected", unit="%") for i in initiatives
    )
    Measurement.objects.bulk_create(
        Measurement(indicator=indicator, measured_on=datetime.date(2024, month, 1), value=month)
        for indicator in indicators
        for month in (1, 2)
    )
    return initiatives


def build_page_world(count: int) -> Jurisdiction:
    """A city with ``count`` initiatives, a plan, a coalition, a council, a child and peers."""
    state = JurisdictionFactory.create(kind=Jurisdiction.Kind.STATE, name="State", slug="state")
    city = JurisdictionFactory.create(name="Metropolis", slug="metropolis", parent=state)
    district = JurisdictionFactory.create(
        kind=Jurisdiction.Kind.DISTRICT, name="Downtown", slug="downtown", parent=city
    )
    build_portfolio(city, count)
    build_portfolio(district, 1)
    for n in range(2):
        peer = JurisdictionFactory.create(name=f"Peer {n}", slug=f"peer-{n}")
        build_portfolio(peer, 1)
    PlanFactory.create(jurisdiction=city)
    coalition = CoalitionFactory.create(jurisdiction=city)
    for _ in range(3):
        CoalitionMembershipFactory.create(coalition=coalition)
    CouncilMembershipFactory.create(jurisdiction=city, role="chair", public_name="Ada Chair")
    return city


# ------------------------------------------------------------------------------
# Query counts
# ------------------------------------------------------------------------------

JURISDICTION_PAGE_QUERIES = 21


@pytest.mark.parametrize("count", [1, 10, 200])
def test_the_page_runs_a_fixed_number_of_queries(client, django_assert_num_queries, count):
    """The jurisdiction page costs the same queries with 1, 10 or 200 initiatives."""
    city = build_page_world(count)
    with django_assert_num_queries(JURISDICTION_PAGE_QUERIES):
        response = client.get(city.get_absolute_url())
    assert response.status_code == 200
    assert response.content.decode().count('data-chart="line"') == min(count + 1, 20)


@pytest.mark.parametrize("count", [1, 10, 200])
def test_a_filtered_page_runs_a_fixed_number_of_queries(client, django_assert_num_queries, count):
    """Filtering by status and focus area costs a fixed number of queries too."""
    city = build_page_world(count)
    area = FocusArea.objects.order_by("position", "slug").first()
    assert area is not None
    url = f"{city.get_absolute_url()}?status=active&focus_area={area.slug}"
    # One more than unfiltered: the FilterSet looks up the focus area's slug.
    with django_assert_num_queries(JURISDICTION_PAGE_QUERIES + 1):
        response = client.get(url)
    assert response.status_code == 200


# ------------------------------------------------------------------------------
# Content
# ------------------------------------------------------------------------------


def test_key_figures_count_statuses_budgets_partners_and_plans(client):
    city = build_page_world(3)
    html = client.get(city.get_absolute_url()).content.decode()
    # 3 in the city and 1 in its district: the subtree counts.
    assert "<strong>4</strong> initiatives" in html
    assert "<strong>4,000 USD</strong>" in html or "<strong>4000 USD</strong>" in html
    assert "<strong>4</strong> partner organizations" in html
    assert "<strong>1</strong> plan" in html


def test_drafts_are_not_shown_to_the_public(client, atlas_map):
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Public wifi")
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, title="Secret draft", publication_state="draft"
    )
    html = client.get(atlas_map.chicago.get_absolute_url()).content.decode()
    assert "Public wifi" in html
    assert "Secret draft" not in html
    assert "<strong>1</strong> initiative" in html


def test_the_chicago_editor_sees_chicago_drafts(client, atlas_map, chicago_editor):
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, title="Secret draft", publication_state="draft"
    )
    client.force_login(chicago_editor)
    html = client.get(atlas_map.chicago.get_absolute_url()).content.decode()
    assert "Secret draft" in html


def test_initiatives_are_grouped_by_focus_area_and_status(client, atlas_map):
    open_gov = FocusArea.objects.get(slug="open-government")
    access = FocusArea.objects.get(slug="technology-access")
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, title="Open data portal", focus_areas=[open_gov]
    )
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        title="Library hotspots",
        status="planned",
        focus_areas=[access],
    )
    html = client.get(atlas_map.chicago.get_absolute_url()).content.decode()
    section = html[html.index('id="initiatives-heading"') :]
    assert section.index(access.name_en) < section.index("Library hotspots")
    assert section.index(open_gov.name_en) < section.index("Open data portal")
    assert 'badge-planned">Planned' in section


def test_filters_narrow_the_list_to_a_status(client, atlas_map):
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Running thing")
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Future thing", status="planned")
    html = client.get(atlas_map.chicago.get_absolute_url() + "?status=planned").content.decode()
    section = html[html.index('id="initiatives-heading"') :]
    assert "Future thing" in section
    assert "Running thing" not in section


def test_a_state_lists_its_cities_initiatives_unless_asked_not_to(client, atlas_map):
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Chicago thing")
    url = atlas_map.illinois.get_absolute_url()
    assert "Chicago thing" in client.get(url).content.decode()
    html = client.get(url + "?include_descendants=false").content.decode()
    assert "Chicago thing" not in html[html.index('id="initiatives-heading"') :]


@pytest.mark.parametrize(
    "query",
    ["?status=flying", "?focus_area=no-such-area", "?include_descendants=maybe", "?sector=%00"],
)
def test_malformed_filters_give_an_error_summary_not_a_500(client, atlas_map, query):
    InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    response = client.get(atlas_map.chicago.get_absolute_url() + query)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert "There is a problem" in html
    assert "<h1>Chicago</h1>" in html


def test_an_unknown_jurisdiction_is_404(client, db):
    assert client.get("/fr/jurisdictions/atlantis/").status_code == 404


def test_sub_jurisdictions_show_their_counts(client, atlas_map):
    InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    html = client.get(atlas_map.illinois.get_absolute_url()).content.decode()
    section = html[html.index('id="children-heading"') :]
    assert "Chicago</a>" in section
    assert "2 initiatives" in section
    assert "0 initiatives" in section  # Springfield


def test_coverage_panel_sets_gaps_against_peers(client, db):
    """Not covered here but covered by peers: the panel says by how many."""
    open_gov = FocusArea.objects.get(slug="open-government")
    access = FocusArea.objects.get(slug="technology-access")
    city = JurisdictionFactory.create(name="Gotham", slug="gotham")
    InitiativeFactory.create(jurisdiction=city, focus_areas=[access])
    for n in range(9):
        peer = JurisdictionFactory.create(name=f"Peer {n}", slug=f"peer-{n}")
        InitiativeFactory.create(jurisdiction=peer, focus_areas=[open_gov] if n < 7 else [access])
    # Not a city: not a peer.
    state = JurisdictionFactory.create(kind="state", name="Some State", slug="some-state")
    InitiativeFactory.create(jurisdiction=state, focus_areas=[open_gov])

    html = client.get(city.get_absolute_url()).content.decode()
    panel = html[html.index('id="coverage-heading"') : html.index('id="plans-heading"')]
    open_gov_row = panel[panel.index('data-focus-area="open-government"') :]
    open_gov_row = open_gov_row[: open_gov_row.index("</tr>")]
    assert "Not covered; covered by 7 of 9 peers" in open_gov_row
    assert "neglected" in open_gov_row
    access_row = panel[panel.index('data-focus-area="technology-access"') :]
    access_row = access_row[: access_row.index("</tr>")]
    assert 'class="covered"' in access_row
    assert "2 / 9" in access_row
    assert "Covers 1 of" in panel
    assert "Neglected here" in panel


def test_coverage_counts_descendants(client, atlas_map):
    open_gov = FocusArea.objects.get(slug="open-government")
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, focus_areas=[open_gov])
    html = client.get(atlas_map.illinois.get_absolute_url()).content.decode()
    row = html[html.index('data-focus-area="open-government"') :]
    assert 'class="covered"' in row[: row.index("</tr>")]


def test_freshness_reports_the_latest_change(client, atlas_map):
    with time_machine.travel(datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC), tick=False):
        atlas_map.chicago.save()
        InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    with time_machine.travel(datetime.datetime(2026, 1, 4, tzinfo=datetime.UTC), tick=False):
        html = client.get(atlas_map.chicago.get_absolute_url()).content.decode()
    assert "Updated 3\xa0days ago" in html
    assert '<time datetime="2026-01-01T00:00:00+0000">' in html
    assert "badge-fresh" in html
    assert "may be out of date" not in html


def test_freshness_turns_stale_after_half_a_year(client, atlas_map):
    with time_machine.travel(datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC), tick=False):
        atlas_map.chicago.save()
        InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    with time_machine.travel(datetime.datetime(2025, 8, 1, tzinfo=datetime.UTC), tick=False):
        html = client.get(atlas_map.chicago.get_absolute_url()).content.decode()
    assert "badge-stale" in html
    assert "may be out of date" in html
    assert "Updated 7\xa0months ago" in html


def test_milestones_split_into_overdue_and_upcoming(client, atlas_map):
    today = timezone.localdate()
    initiative = InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    MilestoneFactory.create(
        initiative=initiative, title="Late launch", due_date=today - datetime.timedelta(days=3)
    )
    MilestoneFactory.create(
        initiative=initiative, title="Next pilot", due_date=today + datetime.timedelta(days=30)
    )
    MilestoneFactory.create(
        initiative=initiative,
        title="Finished thing",
        due_date=today - datetime.timedelta(days=3),
        completed_on=today - datetime.timedelta(days=4),
    )
    MilestoneFactory.create(
        initiative=initiative, title="Far future", due_date=today + datetime.timedelta(days=300)
    )
    html = client.get(atlas_map.chicago.get_absolute_url()).content.decode()
    overdue = html[html.index("milestones-overdue") :]
    overdue = overdue[: overdue.index("</ol>")]
    upcoming = html[html.index("milestones-upcoming") :]
    upcoming = upcoming[: upcoming.index("</ol>")]
    assert "Late launch" in overdue
    assert "Next pilot" not in overdue
    assert "Next pilot" in upcoming
    assert "Late launch" not in upcoming
    assert "Finished thing" not in html
    assert "Far future" not in html


def test_milestones_of_drafts_stay_hidden(client, atlas_map):
    draft = InitiativeFactory.create(jurisdiction=atlas_map.chicago, publication_state="draft")
    MilestoneFactory.create(
        initiative=draft,
        title="Hidden milestone",
        due_date=timezone.localdate() - datetime.timedelta(days=1),
    )
    assert (
        "Hidden milestone" not in client.get(atlas_map.chicago.get_absolute_url()).content.decode()
    )


def test_council_shows_public_names_and_roles_but_no_email(client, atlas_map):
    named = UserFactory.create(
        username="jdoe", email="jdoe@example.org", first_name="Jane", last_name="Doe"
    )
    anonymous = UserFactory.create(username="quiet", email="quiet@example.org")
    CouncilMembershipFactory.create(
        user=named, jurisdiction=atlas_map.chicago, role=CouncilMembership.Role.CHAIR
    )
    CouncilMembershipFactory.create(
        user=anonymous,
        jurisdiction=atlas_map.chicago,
        role=CouncilMembership.Role.EDITOR,
        public_name="Ward Office",
    )
    nameless = UserFactory.create(username="nameless-account", email="n@example.org")
    CouncilMembershipFactory.create(
        user=nameless, jurisdiction=atlas_map.chicago, role=CouncilMembership.Role.REVIEWER
    )
    html = client.get(atlas_map.chicago.get_absolute_url()).content.decode()
    council = html[html.index('id="council-heading"') :]
    council = council[: council.index("</section>")]
    assert "Jane Doe · Chair" in council
    assert "Ward Office · Editor" in council
    # Without a public or full name, the account name still stays private.
    assert "Name not published · Reviewer" in council
    assert "@example.org" not in html
    assert "jdoe" not in council
    assert "quiet" not in council
    assert "nameless-account" not in html


def test_coalition_groups_members_by_kind_and_sets_former_members_apart(client, atlas_map):
    coalition = CoalitionFactory.create(jurisdiction=atlas_map.chicago, name="Chicago Council")
    CoalitionMembershipFactory.create(
        coalition=coalition,
        organization=OrganizationFactory.create(name="Big University", kind="university"),
        role=CoalitionMembership.Role.CONVENER,
    )
    CoalitionMembershipFactory.create(
        coalition=coalition,
        organization=OrganizationFactory.create(name="Startup Hub", kind="incubator"),
    )
    CoalitionMembershipFactory.create(
        coalition=coalition,
        organization=OrganizationFactory.create(name="Gone Bank", kind="company"),
        until=timezone.localdate() - datetime.timedelta(days=10),
    )
    html = client.get(atlas_map.chicago.get_absolute_url()).content.decode()
    section = html[html.index('id="coalition-heading"') :]
    section = section[: section.index("</section>")]
    assert "Big University</a> · Convener" in section
    assert section.index("Incubator") < section.index("Startup Hub")
    assert section.index("Former members") < section.index("Gone Bank")


def test_indicators_are_drawn_from_a_line_chart_table(client, atlas_map):
    indicator = IndicatorFactory.create(
        initiative=InitiativeFactory.create(jurisdiction=atlas_map.chicago), name="Homes online"
    )
    MeasurementFactory.create(
        indicator=indicator, measured_on=datetime.date(2024, 1, 1), value=12.5
    )
    MeasurementFactory.create(indicator=indicator, measured_on=datetime.date(2024, 2, 1), value=20)
    html = client.get(atlas_map.chicago.get_absolute_url()).content.decode()
    assert html.count('data-chart="line"') == 1
    assert 'data-value="12.5000"' in html
    assert "Homes online" in html


def test_page_links_its_feed_and_a_comparison_with_peers(client, atlas_map):
    InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    InitiativeFactory.create(jurisdiction=atlas_map.nyc)
    html = client.get(atlas_map.chicago.get_absolute_url()).content.decode()
    assert "/en/feeds/jurisdictions/chicago.atom" in html
    assert "/en/compare/?j=chicago&amp;j=new-york-city" in html


def test_page_speaks_french_under_fr(client, atlas_map):
    InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    response = client.get("/fr/jurisdictions/chicago/")
    assert response.status_code == 200
    assert '<html lang="fr">' in response.content.decode()


def test_page_carries_json_ld_for_the_place(client, atlas_map):
    html = client.get(atlas_map.chicago.get_absolute_url()).content.decode()
    assert "application/ld+json" in html
    assert "Chicago" in html[html.index("application/ld+json") :]


@pytest.mark.parametrize("count", [1, 10, 200])
def test_a_council_member_page_runs_a_fixed_number_of_queries(
    client, django_assert_num_queries, count
):
    """Signed in, the page adds only the session, the user and their memberships."""
    city = build_page_world(count)
    editor = UserFactory.create(username="metropolis-editor")
    CouncilMembershipFactory.create(user=editor, jurisdiction=city, role="editor")
    client.force_login(editor)
    with django_assert_num_queries(JURISDICTION_PAGE_QUERIES + 3):
        response = client.get(city.get_absolute_url())
    assert response.status_code == 200
