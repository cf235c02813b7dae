"""The workspace dashboard and its selectors (council.workspace)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from council import workspace
from council.services import api_key_create
from initiatives import workflow
from initiatives.models import Initiative, Plan, PublicationState
from initiatives.snapshots import snapshot
from tests.conftest import verify_second_factor
from tests.factories import InitiativeFactory, MilestoneFactory, PlanFactory

pytestmark = pytest.mark.django_db

LANDING = reverse("council:landing")
NOW = datetime.datetime(2031, 6, 15, 12, 0, tzinfo=datetime.UTC)


def draft(editor, jurisdiction, *, slug: str, model=Initiative):
    return workflow.record_create(
        model=model,
        values={"jurisdiction": jurisdiction, "slug": slug, "title": f"Title of {slug}"},
        data={},
        actor=editor,
    )


def dashboard_html(user, *, second_factor: bool = False) -> str:
    client = Client()
    client.force_login(user)
    if second_factor:
        verify_second_factor(client, user)
    response = client.get(LANDING)
    assert response.status_code == 200
    return response.content.decode()


def panel(html: str, heading_id: str) -> str:
    """One panel of the dashboard, from its heading to the end of its section."""
    start = html.index(f'id="{heading_id}"')
    return html[start : html.index("</section>", start)]


def set_updated_at(record: Initiative | Plan, when: datetime.datetime) -> None:
    # auto_now would overwrite a saved value; update() writes it as given.
    type(record).objects.filter(pk=record.pk).update(updated_at=when)


# ------------------------------------------------------------------------------
# Jurisdictions
# ------------------------------------------------------------------------------


def test_my_councils_list_each_membership_with_its_role(atlas_map, chicago_editor):
    html = dashboard_html(chicago_editor)

    assert "Chicago" in html
    assert "Editor" in html
    assert "New York City" not in html


def test_each_council_links_to_its_workspace_pages(atlas_map, chicago_editor):
    draft(chicago_editor, atlas_map.chicago, slug="linked")

    html = dashboard_html(chicago_editor)
    councils = panel(html, "jurisdictions-heading")

    assert reverse("council:editing:jurisdiction-records", args=["chicago"]) in councils
    assert reverse("council:editing:initiative-create", args=["chicago"]) in councils
    assert reverse("council:history:audit-log", args=["chicago"]) in councils
    assert reverse("council:csv:export", args=["chicago"]) in councils
    edit_url = reverse("council:editing:initiative-edit", args=["linked"])
    assert edit_url in panel(html, "drafts-heading")


def test_staff_see_the_top_of_the_map(atlas_map, staff_user):
    panel = workspace.my_jurisdictions(user=staff_user, limit=2)

    assert [row.jurisdiction for row in panel.rows] == [atlas_map.us, atlas_map.illinois]
    assert panel.total == 3
    assert panel.more == 1


# ------------------------------------------------------------------------------
# Drafts
# ------------------------------------------------------------------------------


def test_drafts_are_mine_and_never_another_jurisdictions(
    atlas_map, chicago_editor, nyc_editor, illinois_editor
):
    draft(chicago_editor, atlas_map.chicago, slug="chicago-wifi")
    draft(chicago_editor, atlas_map.chicago, slug="chicago-plan", model=Plan)
    draft(nyc_editor, atlas_map.nyc, slug="nyc-wifi")
    # A colleague's draft in my jurisdiction is not mine.
    draft(illinois_editor, atlas_map.chicago, slug="colleague-draft")

    nyc = panel(dashboard_html(nyc_editor), "drafts-heading")
    chicago = panel(dashboard_html(chicago_editor), "drafts-heading")

    assert "Title of nyc-wifi" in nyc
    assert "Title of chicago-wifi" not in nyc
    assert "Title of chicago-plan" not in nyc
    assert "Title of chicago-wifi" in chicago
    assert "Title of chicago-plan" in chicago
    assert "Title of nyc-wifi" not in chicago
    assert "Title of colleague-draft" not in chicago


def test_a_returned_draft_shows_the_reviewers_note(atlas_map, chicago_editor, chicago_reviewer):
    record = draft(chicago_editor, atlas_map.chicago, slug="returned")
    workflow.record_submit(record=record, actor=chicago_editor)
    workflow.record_return(record=record, actor=chicago_reviewer, note="Add a source, please.")

    panel = workspace.my_drafts(user=chicago_editor)

    assert [(row.record.pk, row.returned) for row in panel.rows] == [(record.pk, True)]
    assert "Add a source, please." in dashboard_html(chicago_editor)


def test_records_in_review_or_published_are_not_drafts(atlas_map, chicago_editor, chicago_reviewer):
    in_review = draft(chicago_editor, atlas_map.chicago, slug="in-review")
    workflow.record_submit(record=in_review, actor=chicago_editor)
    published = draft(chicago_editor, atlas_map.chicago, slug="published")
    workflow.record_submit(record=published, actor=chicago_editor)
    workflow.record_publish(record=published, actor=chicago_reviewer)

    assert workspace.my_drafts(user=chicago_editor).total == 0


def test_my_open_revision_is_listed_with_the_published_record(
    atlas_map, chicago_editor, chicago_reviewer, illinois_editor
):
    record = draft(chicago_editor, atlas_map.chicago, slug="live")
    workflow.record_submit(record=record, actor=chicago_editor)
    workflow.record_publish(record=record, actor=chicago_reviewer)
    record.refresh_from_db()
    data = snapshot(record)
    data["fields"]["summary"] = "A better summary."
    revision = workflow.record_save_changes(record=record, data=data, actor=illinois_editor)
    # Changes by someone else are not my revision.
    assert workspace.my_drafts(user=chicago_editor).total == 0

    rows = workspace.my_drafts(user=illinois_editor).rows

    assert [(row.record.pk, row.revision) for row in rows] == [(record.pk, revision)]
    assert "Changes to a published record" in dashboard_html(illinois_editor)


# ------------------------------------------------------------------------------
# Review queue summary
# ------------------------------------------------------------------------------


def test_the_queue_summary_counts_only_reviewable_jurisdictions(
    atlas_map, chicago_editor, nyc_editor, chicago_reviewer
):
    for slug in ("first", "second"):
        workflow.record_submit(
            record=draft(chicago_editor, atlas_map.chicago, slug=slug), actor=chicago_editor
        )
    workflow.record_submit(record=draft(nyc_editor, atlas_map.nyc, slug="nyc"), actor=nyc_editor)

    html = dashboard_html(chicago_reviewer, second_factor=True)

    assert "2 items are waiting for review." in html
    assert "Title of first" in html
    assert "Title of nyc" not in html
    assert reverse("council:workspace:review-queue") in html


def test_an_editor_has_no_queue_panel(atlas_map, chicago_editor):
    workflow.record_submit(
        record=draft(chicago_editor, atlas_map.chicago, slug="mine"), actor=chicago_editor
    )

    assert "Waiting for your review" not in dashboard_html(chicago_editor)
    assert workspace.review_queue(user=chicago_editor, now=timezone.now()).total == 0


def test_staff_review_everywhere(atlas_map, chicago_editor, nyc_editor, staff_user):
    workflow.record_submit(
        record=draft(chicago_editor, atlas_map.chicago, slug="c"), actor=chicago_editor
    )
    workflow.record_submit(record=draft(nyc_editor, atlas_map.nyc, slug="n"), actor=nyc_editor)

    assert workspace.review_queue(user=staff_user, now=timezone.now()).total == 2


# ------------------------------------------------------------------------------
# Stale records
# ------------------------------------------------------------------------------


def test_stale_records_start_at_the_threshold(atlas_map, chicago_editor, settings):
    settings.ATLAS_STALE_AFTER_DAYS = 180
    at_threshold = InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Old enough")
    just_fresh = InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Still fresh")
    stale_plan = PlanFactory.create(jurisdiction=atlas_map.chicago, title="Old plan")
    old_draft = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, publication_state=PublicationState.DRAFT
    )
    elsewhere = InitiativeFactory.create(jurisdiction=atlas_map.nyc, title="Old in NYC")
    set_updated_at(at_threshold, NOW - datetime.timedelta(days=180))
    set_updated_at(just_fresh, NOW - datetime.timedelta(days=180) + datetime.timedelta(seconds=1))
    set_updated_at(stale_plan, NOW - datetime.timedelta(days=400))
    set_updated_at(old_draft, NOW - datetime.timedelta(days=400))
    set_updated_at(elsewhere, NOW - datetime.timedelta(days=400))

    panel = workspace.stale_records(user=chicago_editor, now=NOW)

    assert [row.record.title for row in panel.rows] == ["Old plan", "Old enough"]
    assert panel.total == 2


def test_the_stale_panel_is_on_the_dashboard(atlas_map, chicago_editor, nyc_editor, time_machine):
    time_machine.move_to(NOW, tick=False)
    record = InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Forgotten")
    set_updated_at(record, NOW - datetime.timedelta(days=365))

    assert "Forgotten" in dashboard_html(chicago_editor)
    assert "Forgotten" not in dashboard_html(nyc_editor)


# ------------------------------------------------------------------------------
# Milestones due
# ------------------------------------------------------------------------------


def test_milestones_due_within_the_window_or_overdue(atlas_map, chicago_editor, settings):
    settings.ATLAS_MILESTONE_DUE_WITHIN_DAYS = 14
    today = NOW.date()
    initiative = InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    archived = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, publication_state=PublicationState.ARCHIVED
    )
    nyc = InitiativeFactory.create(jurisdiction=atlas_map.nyc)

    def milestone(title, due, **extra):
        return MilestoneFactory.create(
            initiative=extra.pop("initiative", initiative), title=title, due_date=due, **extra
        )

    milestone("Overdue", today - datetime.timedelta(days=30))
    milestone("Last day in", today + datetime.timedelta(days=14))
    milestone("First day out", today + datetime.timedelta(days=15))
    milestone("Done", today - datetime.timedelta(days=1), completed_on=today)
    milestone("No date", None)
    milestone("Archived", today, initiative=archived)
    milestone("Elsewhere", today, initiative=nyc)

    panel = workspace.milestones_due(user=chicago_editor, today=today)

    assert [m.title for m in panel.rows] == ["Overdue", "Last day in"]


def test_an_overdue_milestone_is_marked_on_the_dashboard(atlas_map, chicago_editor, time_machine):
    time_machine.move_to(NOW, tick=False)
    MilestoneFactory.create(
        initiative=InitiativeFactory.create(jurisdiction=atlas_map.chicago),
        title="Fibre to the schools",
        due_date=NOW.date() - datetime.timedelta(days=2),
    )

    html = dashboard_html(chicago_editor)

    assert "Fibre to the schools" in html
    assert "overdue" in html


# ------------------------------------------------------------------------------
# Recent activity and API keys
# ------------------------------------------------------------------------------


def test_recent_activity_lists_my_jurisdictions_only(atlas_map, chicago_editor, nyc_editor):
    draft(chicago_editor, atlas_map.chicago, slug="chicago-activity")
    draft(nyc_editor, atlas_map.nyc, slug="nyc-activity")

    activity = panel(dashboard_html(chicago_editor), "activity-heading")

    assert "Title of chicago-activity" in activity
    assert "Title of nyc-activity" not in activity


def test_my_api_keys_are_listed_without_revoked_ones(chicago_editor, nyc_editor):
    kept, _ = api_key_create(user=chicago_editor, read_only=True, name="Sync", actor=None)
    gone, _ = api_key_create(user=chicago_editor, read_only=False, name="Old", actor=None)
    gone.revoked_at = timezone.now()
    gone.save(update_fields=["revoked_at"])
    other, _ = api_key_create(user=nyc_editor, read_only=True, name="Theirs", actor=None)

    html = dashboard_html(chicago_editor)

    assert kept.prefix in html
    assert gone.prefix not in html
    assert other.prefix not in html
    assert reverse("council:workspace:api-keys") in html


# ------------------------------------------------------------------------------
# Bounds
# ------------------------------------------------------------------------------


def _fill(count, *, editor, jurisdiction, prefix):
    for n in range(count):
        record = draft(editor, jurisdiction, slug=f"{prefix}-draft-{n}")
        plan = draft(editor, jurisdiction, slug=f"{prefix}-plan-{n}", model=Plan)
        queued = draft(editor, jurisdiction, slug=f"{prefix}-queued-{n}")
        workflow.record_submit(record=queued, actor=editor)
        old = InitiativeFactory.create(jurisdiction=jurisdiction, slug=f"{prefix}-old-{n}")
        set_updated_at(old, timezone.now() - datetime.timedelta(days=1000))
        MilestoneFactory.create(initiative=old, due_date=timezone.now().date())
        api_key_create(user=editor, read_only=True, name=f"{prefix}-{n}", actor=None)
        assert record.pk
        assert plan.pk


def _dashboard_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(LANDING).status_code == 200
    return len(queries)


def test_the_dashboard_costs_the_same_queries_for_2_or_20_rows(
    atlas_map, chicago_chair, django_assert_max_num_queries
):
    client = Client()
    client.force_login(chicago_chair)
    verify_second_factor(client, chicago_chair)

    _fill(2, editor=chicago_chair, jurisdiction=atlas_map.chicago, prefix="few")
    few = _dashboard_queries(client)
    _fill(18, editor=chicago_chair, jurisdiction=atlas_map.chicago, prefix="many")

    with django_assert_max_num_queries(few):
        html = client.get(LANDING).content.decode()
    assert panel(html, "drafts-heading").count("<tr>") == workspace.PANEL_LIMIT + 1  # + header
    assert "20 items are waiting for review." in html
    assert panel(html, "keys-heading").count("<tr>") == workspace.PANEL_LIMIT + 1


def test_the_queues_are_offered_to_reviewers_only(
    client, atlas_map, chicago_editor, chicago_reviewer
):
    from django.urls import reverse

    from tests.conftest import verify_second_factor

    review = reverse("council:workspace:review-queue")
    moderation = reverse("council:contributions:moderation-queue")
    client.force_login(chicago_editor)
    page = client.get(reverse("council:landing")).content.decode()
    assert f'href="{review}"' not in page
    assert f'href="{moderation}"' not in page

    client.force_login(chicago_reviewer)
    verify_second_factor(client, chicago_reviewer)
    page = client.get(reverse("council:landing")).content.decode()
    assert f'href="{review}"' in page
    assert f'href="{moderation}"' in page
