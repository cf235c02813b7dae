"""Atom feeds: all updates, per jurisdiction (with what lies below it), per focus area."""

import datetime

import feedparser  # type: ignore[import-untyped]
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from initiatives.models import FocusArea, Initiative
from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db


def parse(client, url: str) -> feedparser.FeedParserDict:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def titles(feed) -> list[str]:
    return [entry.title for entry in feed.entries]


@pytest.fixture
def open_government(db):
    return FocusArea.objects.get(slug="open-government")


@pytest.fixture
def initiatives(atlas_map, open_government):
    chicago = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        title="Chicago Data Portal",
        summary="Open <data> & more",
        focus_areas=[open_government],
    )
    illinois = InitiativeFactory.create(jurisdiction=atlas_map.illinois, title="Illinois Broadband")
    nyc = InitiativeFactory.create(
        jurisdiction=atlas_map.nyc, title="NYC Open Data", focus_areas=[open_government]
    )
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        title="Chicago Draft",
        publication_state="draft",
        focus_areas=[open_government],
    )
    # Distinct change times, so the order is known: NYC newest, then Illinois, then Chicago.
    now = timezone.now()
    for offset, initiative in enumerate([nyc, illinois, chicago]):
        Initiative.objects.filter(pk=initiative.pk).update(
            updated_at=now - datetime.timedelta(hours=offset)
        )
    return chicago


def test_the_updates_feed_lists_published_initiatives_newest_first(client, initiatives):
    feed = parse(client, "/en/feeds/updates.atom")
    assert titles(feed) == ["NYC Open Data", "Illinois Broadband", "Chicago Data Portal"]
    assert feed.feed.title == "Digital Leadership Atlas: latest initiatives"


def test_an_entry_carries_link_summary_dates_and_the_council_as_author(client, initiatives):
    feed = parse(client, "/en/feeds/updates.atom")
    entry = next(e for e in feed.entries if e.title == "Chicago Data Portal")
    assert entry.link == "http://testserver/en/initiatives/" + initiatives.slug + "/"
    # Escaped once by the feed, so the reader shows the summary's own characters as text.
    assert entry.summary == "Open &lt;data&gt; &amp; more"
    assert entry.author == "Council of Chicago"
    assert entry.updated_parsed is not None
    assert entry.published_parsed is not None
    assert [tag.term for tag in entry.tags] == ["Open government / government 2.0"]


def test_the_jurisdiction_feed_includes_places_below_it(client, initiatives):
    feed = parse(client, "/en/feeds/jurisdictions/illinois.atom")
    assert titles(feed) == ["Illinois Broadband", "Chicago Data Portal"]
    assert feed.feed.title == "Initiatives in Illinois"
    assert titles(parse(client, "/en/feeds/jurisdictions/chicago.atom")) == ["Chicago Data Portal"]


def test_the_focus_area_feed_spans_jurisdictions(client, initiatives):
    feed = parse(client, "/en/feeds/focus-areas/open-government.atom")
    assert titles(feed) == ["NYC Open Data", "Chicago Data Portal"]


def test_feeds_never_show_drafts_even_to_editors(client, initiatives, chicago_editor):
    client.force_login(chicago_editor)
    for url in (
        "/en/feeds/updates.atom",
        "/en/feeds/jurisdictions/chicago.atom",
        "/en/feeds/focus-areas/open-government.atom",
    ):
        assert "Chicago Draft" not in titles(parse(client, url))


def test_feed_titles_speak_french_under_fr(client, initiatives):
    feed = parse(client, "/fr/feeds/focus-areas/open-government.atom")
    assert feed.feed.title.startswith("Initiatives")
    assert "Gouvernement ouvert" in feed.feed.title
    entry = feed.entries[0]
    assert entry.link.startswith("http://testserver/fr/initiatives/")


def test_the_updates_feed_stops_at_fifty(client, atlas_map):
    Initiative.objects.bulk_create(
        Initiative(
            jurisdiction=atlas_map.chicago,
            title=f"Item {n}",
            slug=f"item-{n}",
            publication_state="published",
        )
        for n in range(60)
    )
    assert len(parse(client, "/en/feeds/updates.atom").entries) == 50


@pytest.mark.parametrize(
    "url",
    [
        "/en/feeds/jurisdictions/atlantis.atom",
        "/fr/feeds/jurisdictions/atlantis.atom",
        "/en/feeds/focus-areas/atlantis.atom",
        "/fr/feeds/focus-areas/atlantis.atom",
    ],
)
def test_an_unknown_slug_is_404(client, db, url):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("size", [1, 10, 200])
def test_feeds_run_a_fixed_number_of_queries(client, atlas_map, open_government, size):
    created = Initiative.objects.bulk_create(
        Initiative(
            jurisdiction=atlas_map.chicago,
            title=f"Item {n}",
            slug=f"item-{n}",
            publication_state="published",
        )
        for n in range(size)
    )
    through = Initiative.focus_areas.through
    through.objects.bulk_create(
        through(initiative_id=i.pk, focusarea_id=open_government.pk) for i in created
    )
    # The items and their focus areas; the jurisdiction or focus area first, where named.
    for url, expected in (
        ("/en/feeds/updates.atom", 2),
        ("/en/feeds/jurisdictions/illinois.atom", 3),
        ("/en/feeds/focus-areas/open-government.atom", 3),
    ):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        assert len(queries) == expected, url
