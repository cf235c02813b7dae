"""What a digest holds: the period's public changes to what the subscription follows."""

from __future__ import annotations

import datetime

import pytest

from initiatives.digests import (
    MILESTONE_OVERDUE,
    build_digest,
    build_digests_for,
    load_changes,
    period_from_key,
)
from initiatives.models import ChangeEvent, FocusArea, PublicationState
from initiatives.outbox import site_url
from tests.conftest import AtlasMap
from tests.digests.helpers import at, event, labels, subscribe, titles
from tests.factories import (
    InitiativeFactory,
    MilestoneFactory,
    OrganizationFactory,
    PartnershipFactory,
    PlanFactory,
)

pytestmark = pytest.mark.django_db

Kind = ChangeEvent.Kind
DAY = period_from_key("daily", "2026-11-20")
WEEK = period_from_key("weekly", "2026-W47")  # 16 to 23 November
LATER = at(27)


def focus_area(slug: str = "connectivity") -> FocusArea:
    return FocusArea.objects.create(
        slug=slug, name_en=f"{slug} en", name_fr=f"{slug} fr", position=1
    )


def test_groups_follow_target_order_and_items_are_newest_first(atlas_map: AtlasMap) -> None:
    wifi = InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Wi-Fi")
    permits = InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Permits")
    subway = InitiativeFactory.create(jurisdiction=atlas_map.nyc, title="Subway")
    event(Kind.INITIATIVE_PUBLISHED, at(20, 9), initiative=wifi)
    event(Kind.STATUS_CHANGED, at(20, 15), initiative=permits)
    event(Kind.INITIATIVE_PUBLISHED, at(20, 11), initiative=subway)
    subscription = subscribe(atlas_map.nyc, atlas_map.chicago)

    digest = build_digest(subscription=subscription, period=DAY, now=LATER)

    assert labels(digest) == ["New York City", "Chicago"]
    assert titles(digest) == [["Subway"], ["Permits", "Wi-Fi"]]
    assert not digest.is_empty
    assert digest.item_count == 3


def test_a_change_matching_two_targets_shows_under_the_first_only(atlas_map: AtlasMap) -> None:
    wifi = InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Wi-Fi")
    permits = InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Permits")
    event(
        Kind.STATUS_CHANGED, at(20, 9), initiative=wifi, old_status="planned", new_status="active"
    )
    event(Kind.INITIATIVE_PUBLISHED, at(20, 10), initiative=permits)
    subscription = subscribe(wifi, atlas_map.illinois, atlas_map.chicago)

    digest = build_digest(subscription=subscription, period=DAY, now=LATER)

    # Chicago matched too, but everything was told already: no empty group either.
    assert labels(digest) == ["Wi-Fi", "Illinois"]
    assert titles(digest) == [["Wi-Fi"], ["Permits"]]


def test_a_record_published_twice_in_a_period_is_one_change(atlas_map: AtlasMap) -> None:
    wifi = InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Wi-Fi")
    event(Kind.INITIATIVE_PUBLISHED, at(20, 9), initiative=wifi)
    event(Kind.INITIATIVE_PUBLISHED, at(20, 17), initiative=wifi)
    digest = build_digest(subscription=subscribe(atlas_map.chicago), period=DAY, now=LATER)
    assert titles(digest) == [["Wi-Fi"]]
    assert digest.groups[0].items[0].when == at(20, 17)


def test_descendants_are_included_only_when_asked(atlas_map: AtlasMap) -> None:
    state_plan = PlanFactory.create(jurisdiction=atlas_map.illinois, title="Illinois road map")
    city = InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Chicago Wi-Fi")
    elsewhere = InitiativeFactory.create(jurisdiction=atlas_map.nyc, title="NYC Wi-Fi")
    event(Kind.PLAN_PUBLISHED, at(20, 8), plan=state_plan)
    event(Kind.INITIATIVE_PUBLISHED, at(20, 9), initiative=city)
    event(Kind.INITIATIVE_PUBLISHED, at(20, 10), initiative=elsewhere)

    with_places = build_digest(
        subscription=subscribe((atlas_map.illinois, True)), period=DAY, now=LATER
    )
    alone = build_digest(subscription=subscribe((atlas_map.illinois, False)), period=DAY, now=LATER)

    assert titles(with_places) == [["Chicago Wi-Fi", "Illinois road map"]]
    assert titles(alone) == [["Illinois road map"]]


def test_a_focus_area_matches_its_initiatives_anywhere(atlas_map: AtlasMap) -> None:
    connectivity = focus_area()
    tagged = InitiativeFactory.create(
        jurisdiction=atlas_map.nyc, title="Tagged", focus_areas=[connectivity]
    )
    untagged = InitiativeFactory.create(jurisdiction=atlas_map.nyc, title="Untagged")
    event(
        Kind.MILESTONE_COMPLETED,
        at(20),
        initiative=tagged,
        milestone="Pilot",
        completed_on="2026-11-19",
    )
    event(Kind.INITIATIVE_PUBLISHED, at(20), initiative=untagged)

    digest = build_digest(subscription=subscribe(connectivity), period=DAY, now=LATER)

    assert titles(digest) == [["Tagged"]]
    item = digest.groups[0].items[0]
    assert item.kind == Kind.MILESTONE_COMPLETED
    assert item.details == "Pilot, completed on Nov. 19, 2026."
    assert digest.groups[0].label == "connectivity en"


def test_an_organization_matches_what_it_leads_partners_in_or_joins(atlas_map: AtlasMap) -> None:
    university = OrganizationFactory.create(name="City University")
    led = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, title="Led", lead_organization=university
    )
    partnered = InitiativeFactory.create(jurisdiction=atlas_map.nyc, title="Partnered")
    PartnershipFactory.create(initiative=partnered, organization=university)
    other = InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Other")
    event(Kind.INITIATIVE_PUBLISHED, at(20, 8), initiative=led)
    event(
        Kind.STATUS_CHANGED,
        at(20, 9),
        initiative=partnered,
        old_status="active",
        new_status="paused",
    )
    event(Kind.INITIATIVE_PUBLISHED, at(20, 10), initiative=other)
    event(
        Kind.COALITION_MEMBER_ADDED,
        at(20, 11),
        jurisdiction=atlas_map.chicago,
        organization=university,
        details={
            "title": "Chicago Digital Council",
            "coalition": "chicago-digital-council",
            "organization": "City University",
            "role": "founding_member",
        },
    )

    digest = build_digest(subscription=subscribe(university), period=DAY, now=LATER)

    assert titles(digest) == [["Chicago Digital Council", "Partnered", "Led"]]
    joined, paused, _published = digest.groups[0].items
    assert joined.url == site_url(atlas_map.chicago.get_absolute_url() + "#coalition")
    assert joined.details == "City University joined as founding member."
    assert paused.details == "From Active to Paused."


def test_archived_and_unpublished_records_are_left_out(atlas_map: AtlasMap) -> None:
    archived = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        title="Archived",
        publication_state=PublicationState.ARCHIVED,
    )
    draft_plan = PlanFactory.create(
        jurisdiction=atlas_map.chicago,
        title="Back to draft",
        publication_state=PublicationState.DRAFT,
    )
    live = InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Live")
    event(Kind.INITIATIVE_PUBLISHED, at(20, 9), initiative=archived)
    event(Kind.PLAN_PUBLISHED, at(20, 10), plan=draft_plan)
    event(Kind.INITIATIVE_PUBLISHED, at(20, 11), initiative=live)

    digest = build_digest(subscription=subscribe(atlas_map.chicago), period=DAY, now=LATER)

    assert titles(digest) == [["Live"]]


def test_updates_are_not_news(atlas_map: AtlasMap) -> None:
    wifi = InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    plan = PlanFactory.create(jurisdiction=atlas_map.chicago)
    event(Kind.INITIATIVE_UPDATED, at(20), initiative=wifi)
    event(Kind.PLAN_UPDATED, at(20), plan=plan)
    digest = build_digest(subscription=subscribe(atlas_map.chicago), period=DAY, now=LATER)
    assert digest.is_empty
    assert digest.groups == []


def test_overdue_milestones_are_computed_from_due_dates(atlas_map: AtlasMap) -> None:
    wifi = InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Wi-Fi")
    archived = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, publication_state=PublicationState.ARCHIVED
    )
    MilestoneFactory.create(initiative=wifi, title="Tender", due_date=datetime.date(2026, 11, 17))
    MilestoneFactory.create(initiative=wifi, title="Pilot", due_date=datetime.date(2026, 11, 22))
    # Done, due after the week, due before it, or of an archived initiative: not news.
    MilestoneFactory.create(
        initiative=wifi,
        title="Done",
        due_date=datetime.date(2026, 11, 18),
        completed_on=datetime.date(2026, 11, 18),
    )
    MilestoneFactory.create(
        initiative=wifi, title="Next week", due_date=datetime.date(2026, 11, 23)
    )
    MilestoneFactory.create(initiative=wifi, title="Long ago", due_date=datetime.date(2026, 11, 15))
    MilestoneFactory.create(
        initiative=archived, title="Archived", due_date=datetime.date(2026, 11, 19)
    )

    digest = build_digest(
        subscription=subscribe(atlas_map.illinois, frequency="weekly"), period=WEEK, now=LATER
    )

    items = digest.groups[0].items
    assert [item.kind for item in items] == [MILESTONE_OVERDUE, MILESTONE_OVERDUE]
    assert [item.details for item in items] == [
        "Pilot was due on Nov. 22, 2026.",
        "Tender was due on Nov. 17, 2026.",
    ]
    assert all(item.title == "Wi-Fi" for item in items)


def test_a_running_period_counts_only_milestones_already_overdue(atlas_map: AtlasMap) -> None:
    wifi = InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    MilestoneFactory.create(
        initiative=wifi, title="Yesterday", due_date=datetime.date(2026, 11, 18)
    )
    MilestoneFactory.create(initiative=wifi, title="Today", due_date=datetime.date(2026, 11, 19))
    digest = build_digest(
        subscription=subscribe(wifi, frequency="weekly"), period=WEEK, now=at(19, 15)
    )
    assert [item.details for item in digest.groups[0].items] == [
        "Yesterday was due on Nov. 18, 2026."
    ]


def test_an_event_at_the_end_belongs_to_the_next_period(atlas_map: AtlasMap) -> None:
    wifi = InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Wi-Fi")
    event(Kind.INITIATIVE_PUBLISHED, DAY.end, initiative=wifi)
    event(Kind.STATUS_CHANGED, DAY.start, initiative=wifi, old_status="active", new_status="paused")
    subscription = subscribe(wifi)

    this_day = build_digest(subscription=subscription, period=DAY, now=LATER)
    next_day = build_digest(
        subscription=subscription, period=period_from_key("daily", "2026-11-21"), now=LATER
    )

    assert [i.kind for i in this_day.groups[0].items] == [Kind.STATUS_CHANGED]
    assert [i.kind for i in next_day.groups[0].items] == [Kind.INITIATIVE_PUBLISHED]


def test_nothing_to_say_is_an_empty_digest(atlas_map: AtlasMap) -> None:
    wifi = InitiativeFactory.create(jurisdiction=atlas_map.nyc)
    event(Kind.INITIATIVE_PUBLISHED, at(20), initiative=wifi)
    digest = build_digest(subscription=subscribe(atlas_map.chicago), period=DAY, now=LATER)
    assert digest.is_empty
    assert digest.item_count == 0


def test_items_link_to_the_record_in_the_subscribers_language(atlas_map: AtlasMap) -> None:
    wifi = InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug="wifi", title="Wi-Fi")
    event(Kind.INITIATIVE_PUBLISHED, at(20), initiative=wifi, status="active")
    digest = build_digest(
        subscription=subscribe(atlas_map.chicago, language="fr"), period=DAY, now=LATER
    )
    group = digest.groups[0]
    item = group.items[0]
    assert digest.language == "fr"
    assert item.url == site_url("/fr/initiatives/wifi/")
    assert group.url.startswith(site_url("/fr/"))
    # Labels that the French catalogue already has.
    assert item.label == "Initiative publiée"


def test_the_title_is_the_one_recorded_with_the_change(atlas_map: AtlasMap) -> None:
    wifi = InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="New name")
    event(Kind.INITIATIVE_PUBLISHED, at(20), initiative=wifi, title="Old name")
    digest = build_digest(subscription=subscribe(wifi), period=DAY, now=LATER)
    assert digest.groups[0].label == "New name"
    assert titles(digest) == [["Old name"]]


# ------------------------------------------------------------------------------
# Query counts
# ------------------------------------------------------------------------------


def _world(atlas_map: AtlasMap, n: int) -> list:
    """``n`` initiatives across the map, each with a focus area, a partner and an event."""
    places = [atlas_map.chicago, atlas_map.springfield, atlas_map.nyc]
    targets: list = []
    for i in range(n):
        area = focus_area(f"area-{i}")
        initiative = InitiativeFactory.create(jurisdiction=places[i % 3], focus_areas=[area])
        organization = OrganizationFactory.create()
        PartnershipFactory.create(initiative=initiative, organization=organization)
        MilestoneFactory.create(initiative=initiative, due_date=datetime.date(2026, 11, 20))
        event(Kind.INITIATIVE_PUBLISHED, at(20, 1 + i % 20), initiative=initiative)
        targets.append([initiative, area, organization, places[i % 3]][i % 4])
    return targets


@pytest.mark.parametrize("n", [1, 10])
def test_one_digest_costs_the_same_queries_for_1_or_10_targets_and_events(
    atlas_map: AtlasMap, django_assert_max_num_queries, n: int
) -> None:
    subscription = subscribe(*_world(atlas_map, n))
    with django_assert_max_num_queries(5):
        digest = build_digest(subscription=subscription, period=DAY, now=LATER)
    assert digest.item_count == 2 * n


@pytest.mark.parametrize("n", [1, 20])
def test_many_digests_cost_the_same_queries_as_one(
    atlas_map: AtlasMap, django_assert_max_num_queries, n: int
) -> None:
    targets = _world(atlas_map, 10)
    subscriptions = [
        subscribe(*targets[i % 10 :], email=f"r{i}@example.org", language=["en", "fr"][i % 2])
        for i in range(n)
    ]
    with django_assert_max_num_queries(5):
        digests = build_digests_for(subscriptions, DAY, now=LATER)
    assert [d.subscription for d in digests] == subscriptions
    assert digests[0].item_count == 20

    changes = load_changes(DAY, now=LATER)
    with django_assert_max_num_queries(1):
        again = build_digests_for(subscriptions, DAY, changes=changes)
    assert [d.groups for d in again] == [d.groups for d in digests]


def test_changes_of_another_period_are_refused(atlas_map: AtlasMap) -> None:
    changes = load_changes(DAY, now=LATER)
    with pytest.raises(ValueError, match="another period"):
        build_digests_for([subscribe(atlas_map.chicago)], WEEK, changes=changes)
