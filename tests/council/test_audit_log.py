"""The audit log: every change in a jurisdiction and below it, filterable, for its council."""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import quote

import pytest
import time_machine
from django.contrib.auth.models import User
from django.urls import reverse

from council.history import AuditEntry, audit_entries, audit_page
from council.models import Coalition, CoalitionMembership, Organization
from initiatives.models import Initiative
from initiatives.services import save_with_history
from tests.council.test_history import T0, at, make_initiative
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def log_url(slug: str) -> str:
    return reverse("council:history:audit-log", kwargs={"slug": slug})


@pytest.fixture
def activity(atlas_map, chicago_editor, illinois_editor) -> dict[str, Any]:
    """
    Day 0: Chicago's editor makes an initiative in Chicago (with a milestone and a partner).
    Day 2: Illinois's editor makes one in Springfield.
    Day 4: Illinois's editor changes Illinois's own profile, and a Chicago coalition gains a member.
    """
    partner = OrganizationFactory.create(name="City Colleges", jurisdiction=atlas_map.chicago)
    with at(0):
        chicago = make_initiative(chicago_editor, atlas_map.chicago, partner=partner, slug="wifi")
    with at(48):
        springfield = make_initiative(
            illinois_editor, atlas_map.springfield, partner=partner, slug="capitol-wifi"
        )
    with at(96):
        atlas_map.illinois.description = "The Prairie State."
        save_with_history(atlas_map.illinois, actor=illinois_editor)
        coalition = save_with_history(
            Coalition(jurisdiction=atlas_map.chicago, name="Digital Council", slug="council"),
            actor=chicago_editor,
        )
        save_with_history(
            CoalitionMembership(coalition=coalition, organization=partner), actor=chicago_editor
        )
    return {"chicago": chicago, "springfield": springfield, "partner": partner}


def labels(entries: list[AuditEntry]) -> set[str]:
    return {e.record_label for e in entries}


def test_entries_carry_what_the_dashboard_shows(atlas_map, activity):
    entries = audit_entries(jurisdictions=atlas_map.chicago.descendants(include_self=True))
    initiative = next(e for e in entries if e.kind == "initiatives.initiative")
    assert initiative.actor_name == "chicago-editor"
    assert initiative.kind_label == "Initiative"
    assert initiative.record_label == "Wi-Fi for all"
    assert initiative.record_url == reverse(
        "council:history:record-history", kwargs={"kind": "initiatives", "slug": "wifi"}
    )
    milestone = next(e for e in entries if e.kind == "initiatives.milestone")
    assert milestone.record_label == "Launch portal · Wi-Fi for all"
    assert milestone.record_url == initiative.record_url
    assert milestone.action == "created"
    assert {e.action for e in entries if e.kind == "initiatives.initiative"} >= {"created"}
    # Newest first.
    assert [e.when for e in entries] == sorted((e.when for e in entries), reverse=True)


def test_limit_cuts_the_merged_list(atlas_map, activity):
    everything = audit_entries(jurisdictions=[atlas_map.chicago])
    newest = audit_entries(jurisdictions=[atlas_map.chicago], limit=2)
    assert newest == everything[:2]


def test_illinois_includes_chicago_but_chicago_excludes_springfield(atlas_map, activity):
    illinois = labels(
        audit_entries(jurisdictions=atlas_map.illinois.descendants(include_self=True))
    )
    chicago = labels(audit_entries(jurisdictions=atlas_map.chicago.descendants(include_self=True)))
    assert {
        "Wi-Fi for all",
        "Illinois",
        "Launch portal · Wi-Fi for all",
    } <= illinois
    assert "Launch portal · Wi-Fi for all" in chicago
    assert not any("Springfield" in label or label == "Illinois" for label in chicago)
    springfield_rows = [
        e
        for e in audit_entries(jurisdictions=[atlas_map.chicago])
        if e.actor_name == "illinois-editor"
    ]
    assert springfield_rows == []


def test_coalition_memberships_are_attributed(atlas_map, activity):
    entries = audit_entries(jurisdictions=[atlas_map.chicago], kind="council.coalitionmembership")
    assert [e.record_label for e in entries] == ["Member of Digital Council"]


def test_the_page_lists_entries_for_the_council(client, atlas_map, activity, illinois_editor):
    client.force_login(illinois_editor)
    response = client.get(log_url("illinois"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Wi-Fi for all" in html
    assert "The Prairie State" not in html  # the log names records, not their text
    assert "illinois-editor" in html
    assert "chicago-editor" in html


def test_filter_by_actor(client, atlas_map, activity, illinois_editor):
    client.force_login(illinois_editor)
    response = client.get(log_url("illinois"), {"actor": "chicago-editor"})
    assert response.status_code == 200
    entries = response.context["entries"]
    assert entries
    assert {e.actor_name for e in entries} == {"chicago-editor"}


def test_filter_by_date_range(client, atlas_map, activity, illinois_editor):
    client.force_login(illinois_editor)
    day2 = (T0 + datetime.timedelta(days=2)).date().isoformat()
    response = client.get(log_url("illinois"), {"since": day2, "until": day2})
    entries = response.context["entries"]
    assert entries
    assert {e.when.date().isoformat() for e in entries} == {day2}
    assert {e.actor_name for e in entries} == {"illinois-editor"}
    since_only = client.get(log_url("illinois"), {"since": day2}).context["entries"]
    assert "Illinois" in labels(since_only)
    assert not [e for e in since_only if e.record_url.endswith("/wifi/")]


def test_filter_by_kind(client, atlas_map, activity, illinois_editor):
    client.force_login(illinois_editor)
    response = client.get(log_url("illinois"), {"kind": "initiatives.milestone"})
    entries = response.context["entries"]
    assert {e.kind for e in entries} == {"initiatives.milestone"}
    assert len(entries) == 2


@pytest.mark.parametrize(
    "query",
    [
        {"since": "yesterday"},
        {"until": "2026-13-45"},
        {"since": "2026-03-01", "until": "2026-02-01"},
        {"kind": "auth.user"},
        {"before": "zero"},
        {"before": "2026-03-01T10:00:00"},
    ],
)
def test_bad_filters_are_form_errors(client, atlas_map, activity, illinois_editor, query):
    client.force_login(illinois_editor)
    response = client.get(log_url("illinois"), query)
    assert response.status_code == 400
    html = response.content.decode()
    assert "error-summary" in html
    for value in query.values():
        if value != "zero" and "T" not in value:
            assert f'value="{value}"' in html or f'<option value="{value}"' not in html


def test_the_log_is_paginated(client, atlas_map, chicago_editor, illinois_editor):
    for n in range(60):
        with at(n):
            save_with_history(
                Organization(
                    name=f"Org {n}", slug=f"org-{n}", kind="company", jurisdiction=atlas_map.chicago
                ),
                actor=chicago_editor,
            )
    client.force_login(chicago_editor)
    first = client.get(log_url("chicago"), {"kind": "council.organization"})
    cursor = first.context["next_before"]
    second = client.get(log_url("chicago"), {"kind": "council.organization", "before": cursor})
    assert len(first.context["entries"]) == 50
    assert len(second.context["entries"]) == 10
    assert first.context["entries"][0].record_label == "Org 59"
    assert cursor == first.context["entries"][-1].when.isoformat()
    assert second.context["entries"][0].record_label == "Org 9"
    assert second.context["entries"][-1].record_label == "Org 0"
    assert second.context["next_before"] is None
    assert f"kind=council.organization&amp;before={quote(cursor)}" in first.content.decode()
    assert "Older changes" not in second.content.decode()


def test_other_councils_get_not_found(client, atlas_map, activity, chicago_editor, nyc_editor):
    client.force_login(chicago_editor)
    assert client.get(log_url("illinois")).status_code == 404
    assert client.get(log_url("chicago")).status_code == 200
    client.force_login(nyc_editor)
    assert client.get(log_url("chicago")).status_code == 404
    assert client.get(log_url("no-such-place")).status_code == 404


def test_outsiders_get_not_found(client, atlas_map, outsider):
    client.force_login(outsider)
    assert client.get(log_url("chicago")).status_code == 404


def _busy(atlas_map: Any, editor: User, count: int) -> None:
    partner = OrganizationFactory.create(jurisdiction=atlas_map.chicago)
    for n in range(count):
        with at(n):
            make_initiative(editor, atlas_map.chicago, partner=partner, slug=f"busy-{n}")


@pytest.mark.parametrize("count", [1, 12])
def test_queries_do_not_grow_with_entries(
    client, atlas_map, chicago_editor, django_assert_max_num_queries, count
):
    _busy(atlas_map, chicago_editor, count)
    client.force_login(chicago_editor)
    with django_assert_max_num_queries(25):
        response = client.get(log_url("chicago"))
    assert response.status_code == 200
    everything = audit_entries(jurisdictions=[atlas_map.chicago])
    assert len(everything) >= count * 4
    assert response.context["entries"] == everything[:50]


def test_initiatives_moved_away_keep_their_old_rows_in_the_old_log(
    atlas_map, activity, illinois_editor
):
    """Attribution follows the history: a row counts where the record was when it was written."""
    chicago: Initiative = activity["chicago"]
    with at(120):
        chicago.refresh_from_db()
        chicago.jurisdiction = atlas_map.springfield
        save_with_history(chicago, actor=illinois_editor)
    springfield = audit_entries(
        jurisdictions=[atlas_map.springfield], kind="initiatives.initiative"
    )
    assert "Wi-Fi for all" in labels(springfield)


def test_a_deep_page_reads_no_more_rows_than_the_first(
    client, atlas_map, chicago_editor, django_assert_max_num_queries
):
    """Each kind of record reads one page and one row, wherever the cursor points."""
    for n in range(3):
        with at(n):
            save_with_history(
                Organization(name=f"Org {n}", slug=f"org-{n}", kind="company",
                             jurisdiction=atlas_map.chicago),
                actor=chicago_editor,
            )  # fmt: skip
    client.force_login(chicago_editor)
    with django_assert_max_num_queries(25) as captured:
        response = client.get(
            log_url("chicago"), {"kind": "council.organization", "before": at_moment(2).isoformat()}
        )
    assert response.status_code == 200
    assert [e.record_label for e in response.context["entries"]] == ["Org 1", "Org 0"]
    reads = [q["sql"] for q in captured.captured_queries if "history_date" in q["sql"]]
    assert reads
    assert all("LIMIT 51" in sql for sql in reads)


def at_moment(hours: int) -> datetime.datetime:
    return T0 + datetime.timedelta(hours=hours)


def test_changes_made_at_one_moment_are_not_split_across_pages(atlas_map, chicago_editor):
    """The next page starts strictly before its cursor: ties at the edge move to it whole."""
    with time_machine.travel(at_moment(0), tick=False):
        for n in range(3):
            save_with_history(
                Organization(name=f"Old {n}", slug=f"old-{n}", kind="company",
                             jurisdiction=atlas_map.chicago),
                actor=chicago_editor,
            )  # fmt: skip
    for n in range(2):
        with at(1 + n):
            save_with_history(
                Organization(name=f"New {n}", slug=f"new-{n}", kind="company",
                             jurisdiction=atlas_map.chicago),
                actor=chicago_editor,
            )  # fmt: skip
    seen: list[str] = []
    before = None
    for _page in range(5):
        entries, before = audit_page(
            jurisdiction=atlas_map.chicago, per_page=3, before=before, kind="council.organization"
        )
        seen += [e.record_label for e in entries]
        if before is None:
            break
    assert sorted(seen) == ["New 0", "New 1", "Old 0", "Old 1", "Old 2"]


def test_a_page_made_at_one_moment_is_shown_whole(atlas_map, chicago_editor):
    with time_machine.travel(at_moment(0), tick=False):
        for n in range(4):
            save_with_history(
                Organization(name=f"Bulk {n}", slug=f"bulk-{n}", kind="company",
                             jurisdiction=atlas_map.chicago),
                actor=chicago_editor,
            )  # fmt: skip
    entries, before = audit_page(
        jurisdiction=atlas_map.chicago, per_page=2, kind="council.organization"
    )
    assert len(entries) == 4
    assert before == at_moment(0)
    assert audit_page(
        jurisdiction=atlas_map.chicago, per_page=2, before=before, kind="council.organization"
    ) == ([], None)
