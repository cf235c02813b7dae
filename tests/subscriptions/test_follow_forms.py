"""The "Follow by email" form on public pages."""

import re

import pytest
from django.test import Client

from initiatives.models import OutgoingEmail, Sector, Subscription
from tests.subscriptions.conftest import Followable


def _follow_form(body: str) -> str:
    match = re.search(r'<section class="follow-email".*?</section>', body, re.S)
    assert match, "no follow form on the page"
    return match.group(0)


@pytest.mark.parametrize(
    ("page", "target"),
    [
        ("jurisdiction", "jurisdiction:chicago"),
        ("initiative", "initiative:library-wifi"),
        ("focus_area", "focus-area:open-government"),
        ("organization", "organization:uchicago"),
    ],
)
def test_follow_form_renders_and_subscribes(
    client: Client, followable: Followable, page: str, target: str
) -> None:
    record = {
        "jurisdiction": followable.map.chicago,
        "initiative": followable.initiative,
        "focus_area": followable.focus_area,
        "organization": followable.organization,
    }[page]
    path = record.get_absolute_url()  # type: ignore[attr-defined]
    response = client.get(f"/fr{path.removeprefix('/en')}")
    assert response.status_code == 200
    form = _follow_form(response.content.decode())
    assert f'name="target" value="{target}"' in form
    assert 'name="language" value="fr"' in form
    assert 'name="csrfmiddlewaretoken"' in form
    assert 'name="website"' in form

    action = re.search(r'action="([^"]+)"', form)
    assert action is not None
    sent = client.post(
        action.group(1),
        {
            "target": target,
            "language": "fr",
            "email": "ana@example.org",
            "frequency": "daily",
            "website": "",
        },
    )
    assert sent.status_code == 302
    subscription = Subscription.objects.get()
    assert (subscription.language, subscription.frequency) == ("fr", "daily")
    assert subscription.targets.get().target == record
    assert OutgoingEmail.objects.filter(to="ana@example.org").count() == 1


def test_sectors_have_no_follow_form(client: Client, followable: Followable) -> None:
    sector = Sector.objects.first()
    assert sector is not None
    response = client.get(sector.get_absolute_url())
    assert response.status_code == 200
    assert 'class="follow-email"' not in response.content.decode()


def test_a_draft_previewed_by_staff_has_no_follow_form(
    client: Client, followable: Followable, staff_user: object
) -> None:
    followable.initiative.publication_state = "draft"
    followable.initiative.save(update_fields=["publication_state"])
    client.force_login(staff_user)  # type: ignore[arg-type]
    response = client.get(followable.initiative.get_absolute_url())
    assert response.status_code == 200, "staff preview drafts"
    assert 'class="follow-email"' not in response.content.decode()
