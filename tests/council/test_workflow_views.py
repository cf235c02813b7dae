"""The review workflow over HTTP: submit, review, return, publish, discard, archive."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from council.models import CouncilMembership
from initiatives import workflow
from initiatives.models import ChangeEvent, Initiative, Plan, PublicationState, Revision
from initiatives.snapshots import snapshot
from tests.conftest import app_for, verify_second_factor
from tests.factories import CouncilMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

ACTIONS = ("submit", "publish", "return", "discard", "archive", "unarchive")
QUEUE = reverse("council:workspace:review-queue")
LANDING = reverse("council:landing")


def seen(record: Any) -> dict[str, str]:
    """What the review page posts back: the version it showed."""
    from initiatives.workflow import edit_version

    record.refresh_from_db()
    return {"version": edit_version(record)}


def url(name: str, record: Initiative | Plan) -> str:
    kind = "plans" if isinstance(record, Plan) else "initiatives"
    return reverse(f"council:workspace:{name}", args=[kind, record.slug])


def draft(editor: User, jurisdiction, *, slug: str = "library-wifi", model=Initiative):
    return workflow.record_create(
        model=model,
        values={"jurisdiction": jurisdiction, "slug": slug, "title": f"Title of {slug}"},
        data={},
        actor=editor,
    )


def as_reviewer(user: User) -> Client:
    client = Client()
    client.force_login(user)
    verify_second_factor(client, user)
    return client


def as_editor(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def nyc_reviewer(atlas_map) -> User:
    user = UserFactory.create(username="nyc-reviewer", is_staff=True)
    CouncilMembershipFactory.create(
        user=user, jurisdiction=atlas_map.nyc, role=CouncilMembership.Role.REVIEWER
    )
    return user


# ------------------------------------------------------------------------------
# The whole path of a new record
# ------------------------------------------------------------------------------


def test_a_new_initiative_goes_from_draft_through_return_to_published(
    atlas_map, chicago_editor, chicago_reviewer
):
    """Create → submit → queue → return with a note → resubmit → publish, with a ChangeEvent."""
    record = draft(chicago_editor, atlas_map.chicago)
    editor = as_editor(chicago_editor)
    reviewer = as_reviewer(chicago_reviewer)

    response = editor.post(url("submit", record))
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.publication_state == PublicationState.REVIEW

    queue = reviewer.get(QUEUE)
    assert queue.status_code == 200
    assert url("review-detail", record) in queue.content.decode()
    detail = reviewer.get(url("review-detail", record)).content.decode()
    assert "Title of library-wifi" in detail
    assert url("publish", record) in detail

    returned = reviewer.post(
        url("return", record), {**seen(record), "note": "Please add the budget source."}
    )
    assert returned.status_code == 302
    assert returned["Location"] == QUEUE
    record.refresh_from_db()
    assert record.publication_state == PublicationState.DRAFT
    assert record.review_note == "Please add the budget source."
    assert "Please add the budget source." in editor.get(LANDING).content.decode()

    editor.post(url("submit", record))
    published = reviewer.post(url("publish", record), seen(record), follow=True)
    assert published.status_code == 200
    assert "Published: Title of library-wifi." in published.content.decode()
    record.refresh_from_db()
    assert record.publication_state == PublicationState.PUBLISHED
    assert record.review_note == ""
    assert ChangeEvent.objects.filter(
        initiative=record, kind=ChangeEvent.Kind.INITIATIVE_PUBLISHED
    ).exists()
    assert url("review-detail", record) not in reviewer.get(QUEUE).content.decode()


def test_changes_to_a_published_record_wait_in_the_queue_with_a_diff_until_published(
    atlas_map, chicago_editor, chicago_reviewer
):
    record = draft(chicago_editor, atlas_map.chicago)
    workflow.record_submit(record=record, actor=chicago_editor)
    workflow.record_publish(record=record, actor=chicago_reviewer)
    record.refresh_from_db()
    data = snapshot(record)
    data["fields"]["title"] = "Wi-Fi in every library"
    data["milestones"] = [
        {"id": None, "title": "First branch online", "due_date": "2030-01-01", "completed_on": None}
    ]
    revision = workflow.record_save_changes(record=record, data=data, actor=chicago_editor)
    assert isinstance(revision, Revision)
    editor = as_editor(chicago_editor)
    reviewer = as_reviewer(chicago_reviewer)

    editor.post(url("submit", record))
    assert url("review-detail", record) in reviewer.get(QUEUE).content.decode()
    detail = reviewer.get(url("review-detail", record)).content.decode()
    assert "Title of library-wifi" in detail  # the published title, struck through
    assert "Wi-Fi in every library" in detail  # the proposed one
    assert "First branch online" in detail  # a related row, added

    reviewer.post(url("publish", record), seen(record))
    record.refresh_from_db()
    assert record.title == "Wi-Fi in every library"
    assert record.milestones.get().title == "First branch online"
    revision.refresh_from_db()
    assert revision.state == Revision.State.PUBLISHED
    assert ChangeEvent.objects.filter(
        initiative=record, kind=ChangeEvent.Kind.INITIATIVE_UPDATED
    ).exists()


def test_a_plan_is_submitted_and_published_the_same_way(
    atlas_map, chicago_editor, chicago_reviewer
):
    plan = draft(chicago_editor, atlas_map.chicago, slug="road-map", model=Plan)
    as_editor(chicago_editor).post(url("submit", plan))
    as_reviewer(chicago_reviewer).post(url("publish", plan), seen(plan))
    plan.refresh_from_db()
    assert plan.publication_state == PublicationState.PUBLISHED
    assert ChangeEvent.objects.filter(plan=plan, kind=ChangeEvent.Kind.PLAN_PUBLISHED).exists()


def test_a_new_record_shows_every_field_with_markdown_sanitised(
    atlas_map, chicago_editor, chicago_reviewer
):
    record = workflow.record_create(
        model=Initiative,
        values={
            "jurisdiction": atlas_map.chicago,
            "slug": "open-data",
            "title": "Open data portal",
            "description": "**Bold plan** <script>alert(1)</script>",
        },
        data={},
        actor=chicago_editor,
    )
    workflow.record_submit(record=record, actor=chicago_editor)

    html = as_reviewer(chicago_reviewer).get(url("review-detail", record)).content.decode()

    assert "<strong>Bold plan</strong>" in html
    assert "<script>alert(1)</script>" not in html
    assert "Status" in html
    assert "Idea" in html


# ------------------------------------------------------------------------------
# Who may do what
# ------------------------------------------------------------------------------


def test_an_editor_cannot_publish(atlas_map, chicago_editor):
    record = draft(chicago_editor, atlas_map.chicago)
    workflow.record_submit(record=record, actor=chicago_editor)
    editor = as_editor(chicago_editor)

    response = editor.post(url("publish", record), seen(record))

    assert response.status_code == 403
    record.refresh_from_db()
    assert record.publication_state == PublicationState.REVIEW


def test_an_editor_sees_the_review_page_without_the_buttons(atlas_map, chicago_editor):
    record = draft(chicago_editor, atlas_map.chicago)
    workflow.record_submit(record=record, actor=chicago_editor)

    response = as_editor(chicago_editor).get(url("review-detail", record))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Title of library-wifi" in html
    assert url("publish", record) not in html
    assert url("return", record) not in html
    assert (
        as_editor(chicago_editor)
        .post(url("return", record), {**seen(record), "note": "x"})
        .status_code
        == 403
    )


def test_a_reviewer_of_another_jurisdiction_gets_404(atlas_map, chicago_editor, nyc_reviewer):
    record = draft(chicago_editor, atlas_map.chicago)
    workflow.record_submit(record=record, actor=chicago_editor)
    reviewer = as_reviewer(nyc_reviewer)

    assert reviewer.get(url("review-detail", record)).status_code == 404
    assert reviewer.post(url("publish", record), seen(record)).status_code == 404
    assert reviewer.post(url("return", record), {**seen(record), "note": "No."}).status_code == 404
    assert url("review-detail", record) not in reviewer.get(QUEUE).content.decode()
    record.refresh_from_db()
    assert record.publication_state == PublicationState.REVIEW


def test_an_unknown_kind_or_slug_is_404(atlas_map, chicago_reviewer):
    reviewer = as_reviewer(chicago_reviewer)
    assert reviewer.get("/en/council/review/organizations/x/").status_code == 404
    assert reviewer.get(url("review-detail", Plan(slug="nothing-here"))).status_code == 404


@pytest.mark.parametrize("action", ACTIONS)
def test_actions_refuse_get(atlas_map, chicago_chair, action):
    record = draft(chicago_chair, atlas_map.chicago)
    client = as_reviewer(chicago_chair)

    assert client.get(url(action, record)).status_code == 405


@pytest.mark.parametrize("action", ACTIONS)
def test_actions_need_the_csrf_token(atlas_map, chicago_chair, action):
    record = draft(chicago_chair, atlas_map.chicago)
    workflow.record_submit(record=record, actor=chicago_chair)
    client = Client(enforce_csrf_checks=True)
    client.force_login(chicago_chair)
    verify_second_factor(client, chicago_chair)

    response = client.post(url(action, record), {"note": "Fix it."})

    assert response.status_code == 403
    record.refresh_from_db()
    assert record.publication_state == PublicationState.REVIEW


def test_a_reviewer_without_the_second_factor_is_sent_to_verify(
    atlas_map, chicago_editor, chicago_reviewer
):
    record = draft(chicago_editor, atlas_map.chicago)
    workflow.record_submit(record=record, actor=chicago_editor)
    app_for(chicago_reviewer)
    client = Client()
    client.force_login(chicago_reviewer)

    for target in (QUEUE, url("review-detail", record)):
        response = client.get(target)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("council:second-factor-verify"))
    assert client.post(url("publish", record), seen(record)).status_code == 302
    record.refresh_from_db()
    assert record.publication_state == PublicationState.REVIEW


def test_anonymous_visitors_are_sent_to_sign_in(atlas_map, chicago_editor):
    record = draft(chicago_editor, atlas_map.chicago)
    response = Client().post(url("submit", record))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("council:login"))


# ------------------------------------------------------------------------------
# Errors and redirects
# ------------------------------------------------------------------------------


def test_returning_without_a_note_shows_the_error_and_changes_nothing(
    atlas_map, chicago_editor, chicago_reviewer
):
    record = draft(chicago_editor, atlas_map.chicago)
    workflow.record_submit(record=record, actor=chicago_editor)

    response = as_reviewer(chicago_reviewer).post(
        url("return", record), {**seen(record), "note": "   "}
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert "Say what needs to change." in html
    record.refresh_from_db()
    assert record.publication_state == PublicationState.REVIEW


def test_a_refused_return_keeps_the_typed_note(atlas_map, chicago_editor, chicago_reviewer):
    """Returning a record no longer in review is refused; the note stays on the form."""
    record = draft(chicago_editor, atlas_map.chicago)

    response = as_reviewer(chicago_reviewer).post(
        url("return", record), {**seen(record), "note": "The budget needs a source."}
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert "Nothing about this record is waiting for review." in html
    assert "The budget needs a source." in html


def test_publishing_what_is_not_in_review_redirects_back_with_an_error(
    atlas_map, chicago_editor, chicago_reviewer
):
    record = draft(chicago_editor, atlas_map.chicago)

    response = as_reviewer(chicago_reviewer).post(url("publish", record), seen(record), follow=True)

    assert response.status_code == 200
    assert "Nothing about this record is waiting for review." in response.content.decode()
    record.refresh_from_db()
    assert record.publication_state == PublicationState.DRAFT


def test_next_is_followed_on_this_site_only(atlas_map, chicago_editor):
    first = draft(chicago_editor, atlas_map.chicago, slug="first")
    second = draft(chicago_editor, atlas_map.chicago, slug="second")
    editor = as_editor(chicago_editor)

    assert editor.post(url("submit", first), {"next": LANDING})["Location"] == LANDING
    away = editor.post(url("submit", second), {"next": "https://evil.example/"})
    assert away.status_code == 302
    assert "evil.example" not in away["Location"]


def test_open_changes_can_be_discarded(atlas_map, chicago_editor, chicago_reviewer):
    record = draft(chicago_editor, atlas_map.chicago)
    workflow.record_submit(record=record, actor=chicago_editor)
    workflow.record_publish(record=record, actor=chicago_reviewer)
    record.refresh_from_db()
    data = snapshot(record)
    data["fields"]["title"] = "Never published"
    revision = workflow.record_save_changes(record=record, data=data, actor=chicago_editor)
    assert isinstance(revision, Revision)
    editor = as_editor(chicago_editor)

    assert editor.post(url("discard", record)).status_code == 302
    revision.refresh_from_db()
    assert revision.state == Revision.State.DISCARDED
    record.refresh_from_db()
    assert record.title == "Title of library-wifi"
    again = editor.post(url("discard", record), follow=True)
    assert "No changes are waiting for this record." in again.content.decode()


def test_archive_then_unarchive_returns_a_draft(atlas_map, chicago_editor):
    record = draft(chicago_editor, atlas_map.chicago, slug="road-map", model=Plan)
    editor = as_editor(chicago_editor)

    assert editor.post(url("archive", record)).status_code == 302
    record.refresh_from_db()
    assert record.publication_state == PublicationState.ARCHIVED
    assert editor.post(url("unarchive", record)).status_code == 302
    record.refresh_from_db()
    assert record.publication_state == PublicationState.DRAFT


def test_a_reviewer_may_not_archive(atlas_map, chicago_editor, chicago_reviewer):
    record = draft(chicago_editor, atlas_map.chicago)

    assert as_reviewer(chicago_reviewer).post(url("archive", record)).status_code == 403
    record.refresh_from_db()
    assert record.publication_state == PublicationState.DRAFT


# ------------------------------------------------------------------------------
# The queue
# ------------------------------------------------------------------------------


def test_the_queue_lists_oldest_first_with_jurisdiction_author_and_wait(
    atlas_map, chicago_editor, illinois_editor, chicago_reviewer, time_machine
):
    time_machine.move_to("2031-03-01 10:00:00+00:00", tick=False)
    older = draft(chicago_editor, atlas_map.chicago, slug="older")
    workflow.record_submit(record=older, actor=chicago_editor)
    time_machine.move_to("2031-03-05 10:00:00+00:00", tick=False)
    newer = draft(illinois_editor, atlas_map.chicago, slug="newer", model=Plan)
    workflow.record_submit(record=newer, actor=illinois_editor)
    time_machine.move_to("2031-03-08 12:00:00+00:00", tick=False)

    html = as_reviewer(chicago_reviewer).get(QUEUE).content.decode()

    assert html.index("Title of older") < html.index("Title of newer")
    assert "chicago-editor" in html
    assert "illinois-editor" in html
    assert "Chicago" in html
    assert "7 days" in html
    assert "3 days" in html


def test_the_queue_pages_and_ignores_a_bad_page_number(
    atlas_map, chicago_editor, chicago_reviewer, monkeypatch
):
    monkeypatch.setattr("council.workspace.QUEUE_PAGE_SIZE", 2)
    for n in range(3):
        workflow.record_submit(
            record=draft(chicago_editor, atlas_map.chicago, slug=f"queued-{n}"),
            actor=chicago_editor,
        )
    reviewer = as_reviewer(chicago_reviewer)

    first = reviewer.get(QUEUE).content.decode()
    second = reviewer.get(QUEUE, {"page": "2"}).content.decode()

    assert "Title of queued-0" in first
    assert "Title of queued-2" not in first
    assert "?page=2" in first
    assert "Title of queued-2" in second
    assert "Title of queued-0" not in second
    assert reviewer.get(QUEUE, {"page": "not-a-number"}).status_code == 200


def test_a_review_page_opened_before_a_change_cannot_publish_it(
    atlas_map, chicago_editor, chicago_reviewer
):
    record = draft(chicago_editor, atlas_map.chicago)
    workflow.record_submit(record=record, actor=chicago_editor)
    reviewer = as_reviewer(chicago_reviewer)
    shown = reviewer.get(url("review-detail", record)).context["version"]

    # The editor changes it and submits again while the reviewer reads.
    record.refresh_from_db()
    data = snapshot(record)
    data["fields"]["title"] = "Changed while under review"
    workflow.record_save_changes(record=record, data=data, actor=chicago_editor)
    workflow.record_submit(record=record, actor=chicago_editor)

    response = reviewer.post(url("publish", record), {"version": shown}, follow=True)
    assert "changed after you opened it" in response.content.decode()
    record.refresh_from_db()
    assert record.publication_state == PublicationState.REVIEW
