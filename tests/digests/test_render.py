"""The digest as an email: subject, plain text and HTML, in the subscriber's language."""

from __future__ import annotations

import pytest

from initiatives.digests import build_digest, period_from_key, render_digest
from initiatives.models import ChangeEvent
from initiatives.outbox import site_url
from tests.conftest import AtlasMap
from tests.digests.helpers import at, event, subscribe
from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db

Kind = ChangeEvent.Kind
DAY = period_from_key("daily", "2026-11-20")
UNSUBSCRIBE = "https://atlas.example/unsubscribe/signed-token/"
MANAGE = "https://atlas.example/manage/signed-token/"


def render(subscription):
    digest = build_digest(subscription=subscription, period=DAY, now=at(27))
    return render_digest(
        digest, subscription=subscription, unsubscribe_url=UNSUBSCRIBE, manage_url=MANAGE
    )


@pytest.fixture
def wifi(atlas_map: AtlasMap):
    wifi = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, slug="wifi", title="Wi-Fi <b>for all</b>"
    )
    event(Kind.INITIATIVE_PUBLISHED, at(20, 9), initiative=wifi, status="active")
    event(
        Kind.MILESTONE_COMPLETED,
        at(20, 10),
        initiative=wifi,
        milestone="Pilot",
        completed_on="2026-11-19",
    )
    return wifi


def test_english_email_has_subject_text_and_html(atlas_map: AtlasMap, wifi) -> None:
    email = render(subscribe(atlas_map.chicago))

    assert email.subject == "Digital Leadership Atlas, Nov. 20, 2026: 2 changes"
    assert "\n" not in email.subject
    # Plain text: group, items newest first, absolute links, personal links.
    text = email.text
    assert "== Chicago ==" in text
    assert text.index("Milestone completed: Wi-Fi <b>for all</b>") < text.index(
        "Initiative published: Wi-Fi <b>for all</b>"
    )
    assert "Pilot, completed on Nov. 19, 2026." in text
    assert site_url("/en/initiatives/wifi/") in text
    assert UNSUBSCRIBE in text
    assert MANAGE in text
    # HTML: a whole document, escaped, inline styles only, no outside resources.
    html = email.html
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in html
    assert "Wi-Fi &lt;b&gt;for all&lt;/b&gt;" in html
    assert "<b>for all</b>" not in html
    assert f'href="{site_url("/en/initiatives/wifi/")}"' in html
    assert f'href="{UNSUBSCRIBE}"' in html
    assert "<link" not in html
    assert "<img" not in html
    assert "<script" not in html


def test_french_subscription_gets_a_french_email(atlas_map: AtlasMap, wifi) -> None:
    email = render(subscribe(atlas_map.chicago, language="fr"))

    assert '<html lang="fr">' in email.html
    for content in (email.text, email.html):
        # Strings the French catalogue holds, French dates and French links.
        assert "Bonjour," in content
        assert "Jalon réalisé" in content
        assert "Initiative publiée" in content
        assert "Atlas du leadership numérique" in content
        assert "20 novembre 2026" in content
        assert site_url("/fr/initiatives/wifi/") in content
    assert "20 novembre 2026" in email.subject


def test_weekly_email_names_the_week(atlas_map: AtlasMap, wifi) -> None:
    subscription = subscribe(atlas_map.chicago, frequency="weekly")
    week = period_from_key("weekly", "2026-W47")
    digest = build_digest(subscription=subscription, period=week, now=at(27))
    email = render_digest(digest, subscription=subscription, unsubscribe_url="", manage_url="")
    assert email.subject == "Digital Leadership Atlas, week of Nov. 16, 2026: 2 changes"
    assert "from Nov. 16, 2026 to Nov. 22, 2026" in email.text
    # Without personal links (the staff preview), their lines are left out.
    assert "Stop this digest" not in email.text
    assert "Stop this digest" not in email.html


def test_rendering_leaves_the_active_language_alone(atlas_map: AtlasMap, wifi) -> None:
    from django.utils import translation

    render(subscribe(atlas_map.chicago, language="fr"))
    assert translation.get_language() == "en"
