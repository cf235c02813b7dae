"""Atlas staff's preview of a subscriber's next digest, at /<lang>/council/digests/preview/."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from initiatives.digests import period_containing, period_for
from initiatives.models import ChangeEvent
from tests.conftest import AtlasMap, verify_second_factor
from tests.digests.helpers import event, subscribe
from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db

URL = reverse("council:digests:preview")


def signed_in(user, *, second_factor: bool = True) -> Client:
    client = Client()
    client.force_login(user)
    if second_factor:
        verify_second_factor(client, user)
    return client


def test_the_preview_lives_in_the_council_workspace() -> None:
    assert URL == "/en/council/digests/preview/"


def test_anonymous_visitors_are_sent_to_sign_in(db: None) -> None:
    response = Client().get(URL)
    assert response.status_code == 302
    assert reverse("council:login") in response["Location"]


def test_council_members_do_not_find_the_page(chicago_chair, chicago_editor) -> None:
    assert signed_in(chicago_chair).get(URL).status_code == 404
    assert signed_in(chicago_editor, second_factor=False).get(URL).status_code == 404


def test_staff_see_the_form(staff_user) -> None:
    response = signed_in(staff_user).get(URL)
    assert response.status_code == 200
    assert 'name="email"' in response.content.decode()


def test_staff_see_each_subscriptions_digests(
    staff_user, atlas_map: AtlasMap, django_assert_max_num_queries
) -> None:
    now = timezone.now()
    wifi = InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Library Wi-Fi")
    permits = InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Online permits")
    last_day = period_for("daily", now)
    event(
        ChangeEvent.Kind.INITIATIVE_PUBLISHED,
        last_day.start + datetime.timedelta(hours=1),
        initiative=wifi,
    )
    running = period_containing("daily", now)
    event(ChangeEvent.Kind.INITIATIVE_PUBLISHED, running.start, initiative=permits)
    subscribe(atlas_map.chicago, email="reader@example.org", language="fr")
    subscribe(atlas_map.nyc, email="reader@example.org", frequency="weekly")
    subscribe(atlas_map.chicago, email="someone-else@example.org")
    client = signed_in(staff_user)

    with django_assert_max_num_queries(40):
        response = client.get(URL, {"email": "Reader@Example.org"})

    assert response.status_code == 200
    html = response.content.decode()
    # Both of the address's subscriptions, none of another's.
    assert html.count('class="workspace-panel digest-preview"') == 2
    assert "Library Wi-Fi" in html
    assert "Online permits" in html
    assert running.key in html
    assert last_day.key in html
    # The HTML body is shown in the page, not as a nested document; the text version too.
    assert '<div lang="fr"' in html
    assert "<!DOCTYPE html>" not in html.split("<body", 1)[1]
    assert "Jalon" not in html  # nothing completed
    assert "Initiative publiée" in html
    assert "no email would be sent" in html  # the weekly New York one is empty


def test_an_unknown_address_is_a_form_error(staff_user, db: None) -> None:
    response = signed_in(staff_user).get(URL, {"email": "nobody@example.org"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "No subscription uses this address." in html
    assert 'value="nobody@example.org"' in html


def test_a_malformed_address_is_a_form_error(staff_user, db: None) -> None:
    response = signed_in(staff_user).get(URL, {"email": "not an address"})
    assert response.status_code == 400
    assert "error-summary" in response.content.decode()


def test_the_page_takes_no_post(staff_user, db: None) -> None:
    assert signed_in(staff_user).post(URL, {"email": "x@example.org"}).status_code == 405
