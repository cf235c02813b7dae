"""A record's timeline: its versions, newest first, with field-level diffs of it and its rows."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.urls import reverse

from council.history import record_timeline
from council.models import Organization
from initiatives import workflow
from initiatives.models import Initiative
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

# Tomorrow morning: after the fixtures (made now), and well within a session's life.
T0 = datetime.datetime.combine(
    datetime.datetime.now(datetime.UTC).date() + datetime.timedelta(days=1),
    datetime.time(9),
    tzinfo=datetime.UTC,
)


def at(hours: float) -> Any:
    """Travel to ``hours`` after T0, the clock running, so each step is its own version."""
    return time_machine.travel(T0 + datetime.timedelta(hours=hours), tick=True)


def history_url(kind: str, slug: str) -> str:
    return reverse("council:history:record-history", kwargs={"kind": kind, "slug": slug})


def make_initiative(
    actor: User, jurisdiction: Any, *, partner: Organization, slug: str = "wifi"
) -> Initiative:
    """A draft with one milestone and one partner, as the editing forms would make it."""
    record = workflow.record_create(
        model=Initiative,
        values={"jurisdiction": jurisdiction, "slug": slug, "title": "Wi-Fi for all"},
        data={
            "fields": {"title": "Wi-Fi for all", "description": "Free Wi-Fi.\nIn libraries."},
            "milestones": [
                {
                    "id": None,
                    "title": "Launch portal",
                    "due_date": "2026-01-01",
                    "completed_on": None,
                }
            ],
            "partnerships": [{"id": None, "organization": partner.pk, "role": "implementer"}],
        },
        actor=actor,
    )
    assert isinstance(record, Initiative)
    return record


def edit(record: Initiative, actor: User, change: Any) -> None:
    """Change the working copy with ``change`` and save it as the editor would."""
    record.refresh_from_db()
    data = workflow.working_snapshot(record)
    change(data)
    workflow.record_save_changes(record=record, data=data, actor=actor)


def second_version(data: dict[str, Any], *, new_partner: Organization) -> None:
    data["fields"]["title"] = "Wi-Fi for every library"
    data["fields"]["description"] = "Free Wi-Fi.\nIn every library."
    data["milestones"][0]["due_date"] = "2026-03-01"
    data["partnerships"] = [{"id": None, "organization": new_partner.pk, "role": "funder"}]


@pytest.fixture
def partners(atlas_map: Any) -> tuple[Organization, Organization]:
    return (
        OrganizationFactory.create(name="City Colleges", jurisdiction=atlas_map.chicago),
        OrganizationFactory.create(name="Library Foundation", jurisdiction=atlas_map.chicago),
    )


@pytest.fixture
def wifi(atlas_map: Any, chicago_editor: User, partners: Any) -> Initiative:
    """Three versions: created; retitled, milestone moved and partner swapped; milestone removed."""
    first, second = partners
    with at(0):
        record = make_initiative(chicago_editor, atlas_map.chicago, partner=first)
    with at(1):
        edit(record, chicago_editor, lambda d: second_version(d, new_partner=second))
    with at(2):
        edit(record, chicago_editor, lambda d: d.update(milestones=[]))
    record.refresh_from_db()
    return record


def headings(version: Any) -> list[str]:
    return [change.heading for change in version.changes]


def fields(version: Any, heading: str) -> dict[str, tuple[str, str]]:
    change = next(c for c in version.changes if c.heading == heading)
    return {f.label: (f.before, f.after) for f in change.fields}


def test_versions_group_rows_of_one_operation_newest_first(wifi):
    """Each save is one version, though it wrote the record and several child rows."""
    versions = record_timeline(record=wifi).versions
    assert len(versions) == 3
    assert [v.is_current for v in versions] == [True, False, False]
    assert versions[0].when > versions[1].when > versions[2].when
    assert {v.actor_name for v in versions} == {"chicago-editor"}
    assert "Created" in [c.heading for c in versions[2].changes if c.action == "added"]
    assert "created" in versions[2].reasons


def test_record_field_diff_uses_verbose_names(wifi):
    second = record_timeline(record=wifi).versions[1]
    own = fields(second, "")
    assert own["Title"] == ("Wi-Fi for all", "Wi-Fi for every library")
    assert "edited" in second.reasons


def test_markdown_fields_get_a_line_diff(wifi):
    second = record_timeline(record=wifi).versions[1]
    change = next(c for c in second.changes if c.heading == "")
    description = next(f for f in change.fields if f.label == "Description")
    assert [(line.op, line.text) for line in description.lines if line.op in "+-"] == [
        ("-", "In libraries."),
        ("+", "In every library."),
    ]


def test_milestone_field_diff_is_labelled_with_its_title(wifi):
    second = record_timeline(record=wifi).versions[1]
    assert fields(second, "Milestone “Launch portal”") == {"Due date": ("2026-01-01", "2026-03-01")}


def test_partner_added_and_removed_are_named(wifi):
    second = record_timeline(record=wifi).versions[1]
    assert "Partner added: Library Foundation (Funder)" in headings(second)
    assert "Partner removed: City Colleges (Implementer)" in headings(second)


def test_milestone_removed(wifi):
    newest = record_timeline(record=wifi).versions[0]
    assert headings(newest) == ["Milestone removed: Launch portal"]


def test_focus_area_changes_show_by_name(wifi, chicago_editor):
    from initiatives.models import FocusArea

    area = FocusArea.objects.create(slug="libraries", name_en="Libraries", name_fr="Bibliothèques")
    with at(3):
        edit(wifi, chicago_editor, lambda d: d.update(focus_areas=[area.pk]))
    newest = record_timeline(record=wifi).versions[0]
    assert fields(newest, "")["Focus areas"] == ("", "Libraries")


def test_choices_and_foreign_keys_show_by_label_and_name(wifi, chicago_editor, partners):
    def change(data: dict[str, Any]) -> None:
        data["fields"]["status"] = "planned"
        data["fields"]["lead_organization"] = partners[0].pk

    with at(3):
        edit(wifi, chicago_editor, change)
    own = fields(record_timeline(record=wifi).versions[0], "")
    assert own["Status"] == ("Idea", "Planned")
    assert own["Lead organization"] == ("", "City Colleges")


def test_timeline_page_shows_the_diffs_escaped(client, wifi, chicago_editor, partners):
    partners[1].name = "<b>Bold</b> Foundation"
    partners[1].save()
    client.force_login(chicago_editor)
    response = client.get(history_url("initiatives", wifi.slug))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Milestone “Launch portal”" in html
    assert "2026-01-01" in html
    assert "2026-03-01" in html
    assert "Partner added: &lt;b&gt;Bold&lt;/b&gt; Foundation (Funder)" in html
    assert "<b>Bold</b>" not in html
    assert "Milestone removed: Launch portal" in html
    # Every version but the current one can be restored, each with its own form.
    assert html.count("Restore this version") == 2
    assert html.count('name="csrfmiddlewaretoken"') >= 2


def test_timeline_links_back_to_the_record(client, atlas_map, chicago_editor):
    org = OrganizationFactory.create(jurisdiction=atlas_map.chicago)
    client.force_login(chicago_editor)
    response = client.get(history_url("organizations", org.slug))
    assert response.status_code == 200
    assert f'href="{org.get_absolute_url()}"' in response.content.decode()


def test_draft_has_no_public_link(client, wifi, chicago_editor):
    client.force_login(chicago_editor)
    response = client.get(history_url("initiatives", wifi.slug))
    assert f'href="{wifi.get_absolute_url()}"' not in response.content.decode()


def test_other_jurisdictions_timeline_is_not_found(client, wifi, nyc_editor):
    client.force_login(nyc_editor)
    assert client.get(history_url("initiatives", wifi.slug)).status_code == 404


def test_unknown_kind_is_not_found(client, wifi, chicago_editor):
    client.force_login(chicago_editor)
    assert client.get(history_url("milestones", wifi.slug)).status_code == 404


def test_anonymous_visitors_sign_in_first(client, wifi):
    response = client.get(history_url("initiatives", wifi.slug))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_timeline_is_paginated(atlas_map, chicago_editor, partners):
    with at(0):
        record = make_initiative(chicago_editor, atlas_map.chicago, partner=partners[0])
    for n in range(1, 25):
        with at(n):
            edit(record, chicago_editor, lambda d, n=n: d["fields"].update(title=f"Title {n}"))
    first = record_timeline(record=record, page=1)
    second = record_timeline(record=record, page=2)
    assert len(first.versions) == 20
    assert len(second.versions) == 5
    assert first.versions[0].is_current
    assert not any(v.is_current for v in second.versions)


def _many_versions(
    atlas_map: Any, editor: User, partners: Any, count: int, slug: str
) -> Initiative:
    with at(0):
        record = make_initiative(editor, atlas_map.chicago, partner=partners[0], slug=slug)
    for n in range(1, count):

        def change(data: dict[str, Any], n: int = n) -> None:
            data["fields"]["title"] = f"Title {n}"
            data["milestones"].append(
                {"id": None, "title": f"Step {n}", "due_date": None, "completed_on": None}
            )
            data["partnerships"] = [
                {"id": None, "organization": partners[n % 2].pk, "role": "implementer"}
            ]

        with at(n):
            edit(record, editor, change)
    return record


@pytest.mark.parametrize("count", [3, 30])
def test_timeline_queries_do_not_grow_with_versions(
    client, atlas_map, chicago_editor, partners, django_assert_max_num_queries, count
):
    record = _many_versions(atlas_map, chicago_editor, partners, count, slug=f"many-{count}")
    client.force_login(chicago_editor)
    with django_assert_max_num_queries(16):
        response = client.get(history_url("initiatives", record.slug))
    assert response.status_code == 200
    assert response.content.decode().count('class="history-version') == min(count, 20)
