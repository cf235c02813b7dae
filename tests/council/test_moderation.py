"""The moderation queue: reviewers accept or reject what the public confirmed."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from council.models import Contribution
from initiatives.models import Initiative, PublicationState
from tests.conftest import verify_second_factor
from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db

QUEUE_URL = "/en/council/moderation/"


def make(jurisdiction, *, state=Contribution.State.PENDING, **values) -> Contribution:
    defaults = {
        "kind": Contribution.Kind.SUGGESTION,
        "name": "Ana Lopez",
        "email": "ana@example.org",
        "title": "Open data portal",
        "body": "Publish budgets as open data.",
        "url": "https://example.org/portal",
        "client_digest": "0" * 64,
    }
    defaults.update(values)
    confirmed = None if state == Contribution.State.UNCONFIRMED else timezone.now()
    return Contribution.objects.create(
        jurisdiction=jurisdiction, state=state, confirmed_at=confirmed, **defaults
    )


def comment(initiative, body="Nice.", *, state=Contribution.State.PENDING, name="Ben"):
    return make(
        initiative.jurisdiction,
        kind=Contribution.Kind.COMMENT,
        initiative=initiative,
        title="",
        url="",
        body=body,
        name=name,
        email="ben-secret@example.org",
        state=state,
    )


@pytest.fixture
def reviewer_client(client, chicago_reviewer):
    client.force_login(chicago_reviewer)
    verify_second_factor(client, chicago_reviewer)
    return client


@pytest.fixture
def initiative(atlas_map):
    return InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, title="Broadband for all", slug="broadband-for-all"
    )


# ------------------------------------------------------------------ the queue


def test_only_confirmed_contributions_of_the_reviewers_scope_are_queued(reviewer_client, atlas_map):
    """Unconfirmed, decided and New York contributions stay out of Chicago's queue."""
    make(atlas_map.chicago, title="Pending in Chicago")
    make(atlas_map.chicago, title="Unconfirmed in Chicago", state=Contribution.State.UNCONFIRMED)
    make(atlas_map.chicago, title="Rejected in Chicago", state=Contribution.State.REJECTED)
    make(atlas_map.nyc, title="Pending in New York")

    html = reviewer_client.get(QUEUE_URL).content.decode()

    assert "Pending in Chicago" in html
    assert "Unconfirmed in Chicago" not in html
    assert "Rejected in Chicago" not in html
    assert "Pending in New York" not in html


def test_confirming_brings_a_contribution_into_the_queue(
    client, reviewer_client, atlas_map, mailoutbox, django_capture_on_commit_callbacks
):
    public = type(client)()
    with django_capture_on_commit_callbacks(execute=True):
        public.post(
            "/en/suggest/chicago/",
            {"title": "Bike lanes data", "body": "x", "name": "A", "email": "a@example.org"},
        )
    assert "Bike lanes data" not in reviewer_client.get(QUEUE_URL).content.decode()
    link = mailoutbox[0].body.split("http://testserver", 1)[1].split()[0]
    public.post(link)
    assert "Bike lanes data" in reviewer_client.get(QUEUE_URL).content.decode()


def test_staff_see_every_jurisdictions_queue(client, staff_user, atlas_map):
    make(atlas_map.chicago, title="Chicago idea")
    make(atlas_map.nyc, title="New York idea")
    client.force_login(staff_user)
    verify_second_factor(client, staff_user)
    html = client.get(QUEUE_URL).content.decode()
    assert "Chicago idea" in html
    assert "New York idea" in html


def test_an_editor_may_not_moderate(client, chicago_editor, atlas_map):
    """Moderation is a reviewer's job: an editor of the same city gets a 403."""
    contribution = make(atlas_map.chicago)
    client.force_login(chicago_editor)
    assert client.get(QUEUE_URL).status_code == 403
    response = client.post(f"/en/council/moderation/{contribution.pk}/accept/", {})
    assert response.status_code == 403
    contribution.refresh_from_db()
    assert contribution.state == Contribution.State.PENDING


def test_another_jurisdictions_contribution_is_404(reviewer_client, atlas_map):
    contribution = make(atlas_map.nyc)
    for action in ("accept", "reject"):
        response = reviewer_client.post(f"/en/council/moderation/{contribution.pk}/{action}/")
        assert response.status_code == 404
    assert reviewer_client.post("/en/council/moderation/999999/accept/").status_code == 404
    contribution.refresh_from_db()
    assert contribution.state == Contribution.State.PENDING


def test_the_queue_needs_a_signed_in_member(client, atlas_map):
    response = client.get(QUEUE_URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_moderating_needs_a_post(reviewer_client, atlas_map):
    contribution = make(atlas_map.chicago)
    assert (
        reviewer_client.get(f"/en/council/moderation/{contribution.pk}/accept/").status_code == 405
    )


@pytest.mark.parametrize("size", [1, 25])
def test_the_queue_costs_a_fixed_number_of_queries(
    reviewer_client, atlas_map, initiative, size, django_assert_max_num_queries
):
    for n in range(size):
        make(atlas_map.chicago, title=f"Idea {n}")
        comment(initiative, f"Comment {n}")
    # Session, user, device, memberships, the reviewable jurisdictions and the queue.
    with django_assert_max_num_queries(8):
        response = reviewer_client.get(QUEUE_URL)
    assert response.content.decode().count('class="contribution"') == 2 * size


# ------------------------------------------------------------------ decisions


def test_an_accepted_suggestion_becomes_a_draft_credited_to_its_author(
    reviewer_client, chicago_reviewer, atlas_map
):
    InitiativeFactory.create(jurisdiction=atlas_map.nyc, slug="open-data-portal")
    contribution = make(atlas_map.chicago)

    response = reviewer_client.post(
        f"/en/council/moderation/{contribution.pk}/accept/",
        {f"c{contribution.pk}-note": "Good idea."},
    )

    assert response.status_code == 302
    contribution.refresh_from_db()
    draft = contribution.draft
    assert draft is not None
    assert contribution.state == Contribution.State.ACCEPTED
    assert contribution.moderated_by == chicago_reviewer
    assert contribution.moderation_note == "Good idea."
    assert draft.title == "Open data portal"
    assert draft.slug == "open-data-portal-2"
    assert draft.jurisdiction == atlas_map.chicago
    assert draft.publication_state == PublicationState.DRAFT
    assert "Publish budgets as open data." in draft.description
    assert "https://example.org/portal" in draft.description
    assert draft.history.get().history_user == chicago_reviewer
    assert contribution.history.first().history_user == chicago_reviewer


def test_the_credit_shows_on_the_published_initiative_without_the_email(
    reviewer_client, client, atlas_map
):
    contribution = make(atlas_map.chicago)
    reviewer_client.post(f"/en/council/moderation/{contribution.pk}/accept/")
    draft = Contribution.objects.get().draft
    assert draft is not None
    public = type(client)()
    assert public.get(draft.get_absolute_url()).status_code == 404

    Initiative.objects.filter(pk=draft.pk).update(publication_state=PublicationState.PUBLISHED)
    html = public.get(draft.get_absolute_url()).content.decode()
    assert "Suggested by Ana Lopez" in html
    assert "ana@example.org" not in html


def test_a_rejected_contribution_is_kept_with_the_decision(
    reviewer_client, chicago_reviewer, atlas_map
):
    contribution = make(atlas_map.chicago)
    reviewer_client.post(
        f"/en/council/moderation/{contribution.pk}/reject/",
        {f"c{contribution.pk}-note": "Duplicate."},
    )
    contribution.refresh_from_db()
    assert contribution.state == Contribution.State.REJECTED
    assert contribution.moderated_by == chicago_reviewer
    assert contribution.moderated_at is not None
    assert contribution.moderation_note == "Duplicate."
    assert contribution.draft is None
    assert Initiative.objects.count() == 0


def test_a_contribution_is_decided_only_once(reviewer_client, atlas_map):
    contribution = make(atlas_map.chicago)
    reviewer_client.post(f"/en/council/moderation/{contribution.pk}/reject/")
    response = reviewer_client.post(f"/en/council/moderation/{contribution.pk}/accept/")
    assert response.status_code == 400
    assert "already been moderated" in response.content.decode()
    contribution.refresh_from_db()
    assert contribution.state == Contribution.State.REJECTED
    assert Initiative.objects.count() == 0


# ------------------------------------------------------------------ comments on the page


def test_only_accepted_comments_appear_on_the_public_page(reviewer_client, client, initiative):
    accepted = comment(initiative, "An *accepted* comment.", name="Carla")
    comment(initiative, "A pending comment.")
    comment(initiative, "A rejected comment.", state=Contribution.State.REJECTED)
    comment(initiative, "An unconfirmed comment.", state=Contribution.State.UNCONFIRMED)
    reviewer_client.post(f"/en/council/moderation/{accepted.pk}/accept/")

    html = type(client)().get(initiative.get_absolute_url()).content.decode()

    assert "An <em>accepted</em> comment." in html
    assert "Carla" in html
    assert timezone.now().strftime("%Y-%m-%d") in html
    assert "pending comment" not in html
    assert "rejected comment" not in html
    assert "unconfirmed comment" not in html
    assert "ben-secret@example.org" not in html


def test_a_hostile_comment_renders_inert(client, initiative):
    payload = (
        "<script>alert(1)</script>\n\n"
        '<img src="x" onerror="alert(2)">\n\n'
        "[click](javascript:alert(3))\n\n"
        '<a href="javascript:alert(4)">link</a>'
    )
    comment(initiative, payload, state=Contribution.State.ACCEPTED, name="<b>Eve</b>")
    html = client.get(initiative.get_absolute_url()).content.decode()
    section = html.split('id="comments"', 1)[1].split("</section>", 1)[0]

    assert "<script>alert(1)" not in section
    assert "onerror" not in section
    assert "javascript:" not in section
    assert "<img" not in section
    assert "&lt;b&gt;Eve&lt;/b&gt;" in section


@pytest.mark.parametrize("size", [1, 20])
def test_comments_cost_one_query_whatever_their_number(client, initiative, size):
    for n in range(size):
        comment(initiative, f"Comment number {n}", state=Contribution.State.ACCEPTED)
    quiet = InitiativeFactory.create(jurisdiction=initiative.jurisdiction)
    with CaptureQueriesContext(connection) as none:
        client.get(quiet.get_absolute_url())
    with CaptureQueriesContext(connection) as some:
        response = client.get(initiative.get_absolute_url())
    assert response.content.decode().count('class="comment"') == size
    assert len(some) == len(none)


def test_a_draft_slug_taken_meanwhile_is_retried(reviewer_client, atlas_map, monkeypatch):
    """Another draft takes the slug between its check and the insert: another one is used."""
    from django.db import IntegrityError

    from council import contributions

    real_save = contributions.save_with_history
    tried: list[str] = []

    def save(instance, **kwargs):
        if isinstance(instance, Initiative):
            tried.append(instance.slug)
            if len(tried) == 1:
                raise IntegrityError("UNIQUE constraint failed: initiatives_initiative.slug")
        return real_save(instance, **kwargs)

    monkeypatch.setattr(contributions, "save_with_history", save)
    contribution = make(atlas_map.chicago)
    response = reviewer_client.post(f"/en/council/moderation/{contribution.pk}/accept/")
    assert response.status_code == 302
    contribution.refresh_from_db()
    assert contribution.state == Contribution.State.ACCEPTED
    assert tried[0] == "open-data-portal"
    assert contribution.draft is not None
    assert contribution.draft.slug == tried[1]
    assert tried[1].startswith("open-data-portal-")
    assert tried[1] != tried[0]


def test_a_slug_found_taken_by_validation_is_retried(reviewer_client, atlas_map, monkeypatch):
    from council import contributions

    InitiativeFactory.create(jurisdiction=atlas_map.nyc, slug="open-data-portal")
    real_slug = contributions._unique_initiative_slug
    # The first answer is stale: the slug was free when looked up.
    answers = iter(["open-data-portal"])
    monkeypatch.setattr(
        contributions,
        "_unique_initiative_slug",
        lambda title, *, salt="": next(answers, None) or real_slug(title, salt=salt),
    )
    contribution = make(atlas_map.chicago)
    response = reviewer_client.post(f"/en/council/moderation/{contribution.pk}/accept/")
    assert response.status_code == 302
    contribution.refresh_from_db()
    assert contribution.draft is not None
    assert contribution.draft.slug.startswith("open-data-portal-")


def test_a_slug_that_stays_taken_is_a_clear_refusal(reviewer_client, atlas_map, monkeypatch):
    from django.db import IntegrityError

    from council import contributions

    def save(instance, **kwargs):
        raise IntegrityError("UNIQUE constraint failed: initiatives_initiative.slug")

    monkeypatch.setattr(contributions, "save_with_history", save)
    contribution = make(atlas_map.chicago)
    response = reviewer_client.post(f"/en/council/moderation/{contribution.pk}/accept/")
    assert response.status_code == 400
    assert "could not be given an address just now" in response.content.decode()
    contribution.refresh_from_db()
    assert contribution.state == Contribution.State.PENDING
    assert not Initiative.objects.filter(jurisdiction=atlas_map.chicago).exists()
