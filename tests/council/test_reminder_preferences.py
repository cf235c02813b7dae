"""Each council member says how often they are reminded, and in which language."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from council.models import ReminderPreference

pytestmark = pytest.mark.django_db

URL = reverse("council:workspace:reminders")


def test_weekly_in_the_page_language_until_said_otherwise(
    client: Client, chicago_editor: User
) -> None:
    client.force_login(chicago_editor)
    response = client.get(reverse("council:workspace:reminders"))
    assert response.status_code == 200
    assert response.context["form"]["frequency"].value() == "weekly"
    assert not ReminderPreference.objects.exists()


def test_a_member_changes_their_preference(client: Client, chicago_editor: User) -> None:
    client.force_login(chicago_editor)
    response = client.post(URL, {"frequency": "daily", "language": "fr"})
    assert response.status_code == 302
    preference = ReminderPreference.objects.get(user=chicago_editor)
    assert (preference.frequency, preference.language) == ("daily", "fr")
    assert preference.history.first().history_user == chicago_editor

    client.post(URL, {"frequency": "never", "language": "fr"})
    preference.refresh_from_db()
    assert preference.frequency == "never"
    assert ReminderPreference.objects.count() == 1


def test_a_bad_choice_keeps_the_form_and_changes_nothing(
    client: Client, chicago_editor: User
) -> None:
    client.force_login(chicago_editor)
    response = client.post(URL, {"frequency": "hourly", "language": "en"})
    assert response.status_code == 400
    assert b"error-summary" in response.content
    assert not ReminderPreference.objects.exists()


def test_signed_out_visitors_are_sent_to_sign_in(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
