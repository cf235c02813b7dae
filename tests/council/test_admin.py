"""The admin: every model registered, scoped to the user's councils, with history."""

from collections.abc import Callable
from typing import Any

import pytest
from django import forms
from django.contrib import admin
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Model
from django.forms import BaseForm
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cities.models import Jurisdiction
from council import permissions
from council.models import CouncilMembership, Organization
from initiatives.models import FocusArea, Initiative, Milestone, PublicationState
from tests.conftest import AtlasMap, verify_second_factor
from tests.factories import (
    CoalitionFactory,
    CoalitionMembershipFactory,
    CouncilMembershipFactory,
    IndicatorFactory,
    InitiativeFactory,
    JurisdictionFactory,
    MeasurementFactory,
    MilestoneFactory,
    OrganizationFactory,
    PartnershipFactory,
    PlanFactory,
    SourceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------

DRAFT = PublicationState.DRAFT


def make_focus_area() -> FocusArea:
    """A focus area; tests.factories has no factory for taxonomies."""
    number = FocusArea.objects.count() + 1
    return FocusArea.objects.create(
        slug=f"area-{number}", name_en=f"Area {number}", name_fr=f"Domaine {number}"
    )


def admin_url(name: str, *args: Any) -> str:
    return reverse(f"admin:{name}", args=args)


def change_url(obj: Model) -> str:
    opts = obj._meta
    return admin_url(f"{opts.app_label}_{opts.model_name}_change", obj.pk)


def logged_in(client: Client, user: User) -> Client:
    """
    ``client`` signed in as ``user``, with the one-time code their role asks for given.

    The admin refuses a chair or reviewer who gave only a password (see
    test_admin_second_factor.py); these tests are about what comes after.
    """
    client.force_login(user)
    # Asked of a fresh copy: permissions caches memberships on the user object it is given,
    # and the fixture's object should reach the test as the fixture made it.
    if permissions.requires_second_factor(User.objects.get(pk=user.pk)):
        verify_second_factor(client, user)
    return client


def _bound_values(form: BaseForm) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for bound in form:
        value = bound.value()
        if isinstance(bound.field.widget, forms.CheckboxInput):
            if value:
                data[bound.html_name] = "on"
        elif value is not None:
            data[bound.html_name] = value
    return data


def form_data(response: Any) -> dict[str, Any]:
    """What the change form shown in ``response`` would post back unchanged, inlines included."""
    data = _bound_values(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(_bound_values(formset.management_form))
        for form in formset.forms:
            data.update(_bound_values(form))
    return data


def autocomplete(client: Client, *, app_label: str, model_name: str, field_name: str) -> set[str]:
    response = client.get(
        admin_url("autocomplete"),
        {"app_label": app_label, "model_name": model_name, "field_name": field_name, "term": ""},
    )
    assert response.status_code == 200
    return {result["text"] for result in response.json()["results"]}


def jurisdiction_choices(client: Client, model: str) -> set[str]:
    app_label, model_name = model.split(".")
    return autocomplete(
        client, app_label=app_label, model_name=model_name, field_name="jurisdiction"
    )


# ------------------------------------------------------------------------------
# Scoping
# ------------------------------------------------------------------------------


def test_changelist_shows_own_jurisdiction_only(client, atlas_map, chicago_editor):
    """The Chicago editor's initiative list shows a Chicago initiative, not a New York City one."""
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Chicago Wi-Fi")
    InitiativeFactory.create(jurisdiction=atlas_map.nyc, title="NYC Mesh")

    response = logged_in(client, chicago_editor).get(admin_url("initiatives_initiative_changelist"))

    assert response.status_code == 200
    titles = {initiative.title for initiative in response.context["cl"].result_list}
    assert titles == {"Chicago Wi-Fi"}


def test_other_jurisdictions_object_is_not_found(client, atlas_map, chicago_editor):
    """Opening a New York City initiative's change page by URL behaves as if it did not exist."""
    nyc_initiative = InitiativeFactory.create(jurisdiction=atlas_map.nyc, title="NYC Mesh")

    response = logged_in(client, chicago_editor).get(change_url(nyc_initiative), follow=True)

    assert response.redirect_chain[0] == (admin_url("index"), 302)
    messages = [str(message) for message in response.context["messages"]]
    assert any("doesn\N{RIGHT SINGLE QUOTATION MARK}t exist" in message for message in messages)
    assert "NYC Mesh" not in response.content.decode()


def test_posting_to_other_jurisdictions_object_changes_nothing(client, atlas_map, chicago_editor):
    """A change POSTed to a New York City initiative by the Chicago editor is not saved."""
    nyc_initiative = InitiativeFactory.create(jurisdiction=atlas_map.nyc, title="NYC Mesh")

    response = logged_in(client, chicago_editor).post(
        change_url(nyc_initiative),
        {"title": "Hijacked", "slug": nyc_initiative.slug, "jurisdiction": atlas_map.chicago.pk},
    )

    assert response.status_code == 302
    nyc_initiative.refresh_from_db()
    assert nyc_initiative.title == "NYC Mesh"
    assert nyc_initiative.jurisdiction == atlas_map.nyc


def test_state_editor_can_save_city_initiative(client, atlas_map, illinois_editor):
    """The Illinois editor opens and saves a Chicago draft, which lies below Illinois."""
    initiative = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, title="Chicago Wi-Fi", publication_state=DRAFT
    )
    client = logged_in(client, illinois_editor)
    page = client.get(change_url(initiative))
    assert page.status_code == 200

    response = client.post(change_url(initiative), {**form_data(page), "title": "Wi-Fi for all"})

    assert response.status_code == 302, response.context["adminform"].form.errors
    initiative.refresh_from_db()
    assert initiative.title == "Wi-Fi for all"
    assert initiative.updated_by == illinois_editor


@pytest.mark.parametrize("state", [PublicationState.PUBLISHED, PublicationState.REVIEW])
def test_editor_cannot_change_what_the_public_sees_in_place(
    client, atlas_map, chicago_editor, state
):
    """
    The admin saves with no review step: an editor's change to a published record (or one
    in review) goes through the workspace instead, where it waits for a reviewer.
    """
    initiative = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, title="Chicago Wi-Fi", publication_state=state
    )
    editor = logged_in(client, chicago_editor)
    page = editor.get(change_url(initiative))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    response = editor.post(change_url(initiative), {"title": "Unreviewed", "slug": "x"})
    assert response.status_code == 403
    initiative.refresh_from_db()
    assert initiative.title == "Chicago Wi-Fi"


def test_reviewer_cannot_save_initiative_above_their_city(client, atlas_map, chicago_reviewer):
    """The Chicago reviewer cannot change an Illinois-level initiative: it is not found."""
    initiative = InitiativeFactory.create(
        jurisdiction=atlas_map.illinois, title="Illinois Broadband"
    )

    response = logged_in(client, chicago_reviewer).post(
        change_url(initiative),
        {"title": "Reviewed away", "slug": initiative.slug, "jurisdiction": atlas_map.illinois.pk},
    )

    assert response.status_code == 302
    initiative.refresh_from_db()
    assert initiative.title == "Illinois Broadband"


def test_reviewer_reads_but_cannot_save_own_city_initiative(client, atlas_map, chicago_reviewer):
    """The Chicago reviewer sees a Chicago initiative read-only, and a POST to it is refused."""
    initiative = InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Chicago Wi-Fi")
    client = logged_in(client, chicago_reviewer)

    page = client.get(change_url(initiative))
    response = client.post(
        change_url(initiative),
        {"title": "Reviewed away", "slug": initiative.slug, "jurisdiction": atlas_map.chicago.pk},
    )

    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert response.status_code == 403
    initiative.refresh_from_db()
    assert initiative.title == "Chicago Wi-Fi"


def test_add_form_offers_editable_jurisdictions_only(client, atlas_map, chicago_editor):
    """The jurisdiction field of the Chicago editor's add form holds Chicago, not New York City."""
    response = logged_in(client, chicago_editor).get(admin_url("initiatives_initiative_add"))

    choices = response.context["adminform"].form.fields["jurisdiction"].queryset
    assert atlas_map.chicago in choices
    assert atlas_map.nyc not in choices
    assert atlas_map.illinois not in choices


def test_jurisdiction_autocomplete_offers_editable_jurisdictions_only(
    client, atlas_map, chicago_editor
):
    """The jurisdiction autocomplete suggests Chicago to the Chicago editor, not New York City."""
    choices = jurisdiction_choices(logged_in(client, chicago_editor), "initiatives.initiative")

    assert "Chicago" in choices
    assert "New York City" not in choices
    assert "Illinois" not in choices


def test_council_jurisdiction_autocomplete_offers_chaired_councils_only(
    client, atlas_map, chicago_chair
):
    """A chair of Chicago who edits Illinois may staff Chicago's council only, not Illinois'."""
    CouncilMembershipFactory.create(
        user=chicago_chair, jurisdiction=atlas_map.illinois, role=CouncilMembership.Role.EDITOR
    )
    client = logged_in(client, chicago_chair)

    council_choices = jurisdiction_choices(client, "council.councilmembership")
    initiative_choices = jurisdiction_choices(client, "initiatives.initiative")

    assert council_choices == {"Chicago"}
    assert {"Illinois", "Chicago", "Springfield"} <= initiative_choices


def test_link_autocomplete_offers_published_initiatives_elsewhere(
    client, atlas_map, chicago_editor
):
    """An initiative may link to a published one in New York City, never to its drafts."""
    InitiativeFactory.create(jurisdiction=atlas_map.nyc, title="NYC Mesh")
    InitiativeFactory.create(
        jurisdiction=atlas_map.nyc, title="NYC Secret", publication_state=PublicationState.DRAFT
    )

    choices = autocomplete(
        logged_in(client, chicago_editor),
        app_label="initiatives",
        model_name="initiativelink",
        field_name="to_initiative",
    )

    assert choices == {"NYC Mesh"}


def test_indicator_may_move_only_to_editable_initiatives(client, atlas_map, chicago_editor):
    """An indicator may move to the Chicago editor's initiatives, not to published NYC ones."""
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Chicago Wi-Fi")
    InitiativeFactory.create(jurisdiction=atlas_map.nyc, title="NYC Mesh")

    choices = autocomplete(
        logged_in(client, chicago_editor),
        app_label="initiatives",
        model_name="indicator",
        field_name="initiative",
    )

    assert choices == {"Chicago Wi-Fi"}


def test_editor_cannot_add_council_members(client, chicago_editor):
    """Only chairs manage a council: the editor's council membership add page is refused."""
    response = logged_in(client, chicago_editor).get(admin_url("council_councilmembership_add"))

    assert response.status_code == 403


def test_chair_can_add_council_member(client, atlas_map, chicago_chair):
    """The Chicago chair adds a reviewer to Chicago's council."""
    newcomer = UserFactory.create(username="newcomer")

    response = logged_in(client, chicago_chair).post(
        admin_url("council_councilmembership_add"),
        {"user": newcomer.pk, "jurisdiction": atlas_map.chicago.pk, "role": "reviewer"},
    )

    assert response.status_code == 302
    assert CouncilMembership.objects.filter(user=newcomer, jurisdiction=atlas_map.chicago).exists()


def test_taxonomies_are_read_only_for_council_members(client, chicago_editor):
    """A council member may read the focus areas but not add one."""
    client = logged_in(client, chicago_editor)

    assert client.get(admin_url("initiatives_focusarea_changelist")).status_code == 200
    assert client.get(admin_url("initiatives_focusarea_add")).status_code == 403


def test_staff_without_council_role_sees_nothing(client, atlas_map):
    """A plain staff account with no council role and no superuser flag gets no Atlas admin."""
    clerk = UserFactory.create(username="clerk", is_staff=True)
    client = logged_in(client, clerk)

    index = client.get(admin_url("index"))
    changelist = client.get(admin_url("initiatives_initiative_changelist"))

    assert index.status_code == 200
    assert index.context["app_list"] == []
    assert changelist.status_code == 403


def test_organization_without_jurisdiction_is_staff_only(client, atlas_map, chicago_editor):
    """An organization with no home jurisdiction is hidden from a council member."""
    OrganizationFactory.create(name="Chicago Innovation", jurisdiction=atlas_map.chicago)
    national = OrganizationFactory.create(name="National Foundation", jurisdiction=None)
    client = logged_in(client, chicago_editor)

    listed = client.get(admin_url("council_organization_changelist")).context["cl"].result_list
    change_page = client.get(change_url(national))

    assert [organization.name for organization in listed] == ["Chicago Innovation"]
    assert change_page.status_code == 302


def test_council_member_must_give_a_jurisdiction(client, atlas_map, chicago_editor):
    """A council member must give a new organization a jurisdiction; staff alone see none."""
    response = logged_in(client, chicago_editor).post(
        admin_url("council_organization_add"),
        {"name": "Nowhere Labs", "slug": "nowhere-labs", "kind": Organization.Kind.STARTUP},
    )

    assert response.status_code == 200
    assert "jurisdiction" in response.context["adminform"].form.errors
    assert not Organization.objects.filter(slug="nowhere-labs").exists()


@pytest.mark.parametrize(
    ("user_fixture", "may_move"),
    [("chicago_editor", False), ("illinois_editor", True)],
)
def test_jurisdiction_moves_only_with_an_editable_parent(
    request, client, atlas_map, user_fixture, may_move
):
    """Chicago's own editor cannot move Chicago out of Illinois; Illinois' editor can."""
    user = request.getfixturevalue(user_fixture)

    response = logged_in(client, user).get(change_url(atlas_map.chicago))

    assert response.status_code == 200
    assert ("parent" in response.context["adminform"].form.fields) is may_move


def test_editor_adds_jurisdictions_below_their_own_only(client, atlas_map, chicago_editor):
    """The Chicago editor adds a district under Chicago, but cannot add one without a parent."""
    client = logged_in(client, chicago_editor)
    district = {
        "name": "Loop",
        "slug": "loop",
        "kind": Jurisdiction.Kind.DISTRICT,
        "ocd_id": "ocd-division/country:us/state:il/place:chicago/ward:42",
        "boundary": "null",
    }

    at_root = client.post(admin_url("cities_jurisdiction_add"), district)
    below = client.post(
        admin_url("cities_jurisdiction_add"), {**district, "parent": atlas_map.chicago.pk}
    )

    assert "parent" in at_root.context["adminform"].form.errors
    assert below.status_code == 302
    assert Jurisdiction.objects.get(slug="loop").is_within(atlas_map.chicago)


def test_editor_can_delete_own_city_initiative(client, atlas_map, chicago_editor):
    """The Chicago editor deletes a Chicago draft together with its indicators."""
    initiative = InitiativeFactory.create(jurisdiction=atlas_map.chicago, publication_state=DRAFT)
    IndicatorFactory.create(initiative=initiative)
    url = admin_url("initiatives_initiative_delete", initiative.pk)

    response = logged_in(client, chicago_editor).post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not Initiative.objects.filter(pk=initiative.pk).exists()


# ------------------------------------------------------------------------------
# History
# ------------------------------------------------------------------------------


def save_unchanged_but(client: Client, obj: Model, **changes: Any) -> None:
    """Open ``obj``'s change form and save it back with ``changes``."""
    page = client.get(change_url(obj))
    assert page.status_code == 200
    response = client.post(change_url(obj), {**form_data(page), **changes})
    assert response.status_code == 302, response.context["adminform"].form.errors


@pytest.mark.parametrize(
    ("make", "changes"),
    [
        (
            lambda atlas_map: InitiativeFactory.create(
                jurisdiction=atlas_map.chicago, publication_state=DRAFT
            ),
            {"title": "Wi-Fi for all"},
        ),
        (lambda atlas_map: atlas_map.chicago, {"population": "2746388"}),
        (
            lambda atlas_map: OrganizationFactory.create(jurisdiction=atlas_map.chicago),
            {"name": "City Colleges of Chicago"},
        ),
    ],
    ids=["initiative", "jurisdiction", "organization"],
)
def test_admin_save_records_one_history_row_by_the_acting_user(
    client, atlas_map, chicago_editor, make: Callable[[AtlasMap], Model], changes
):
    """Saving through the admin writes exactly one history row, credited to the editor."""
    obj = make(atlas_map)
    history = obj.history  # type: ignore[attr-defined]
    before = history.count()

    save_unchanged_but(logged_in(client, chicago_editor), obj, **changes)

    assert history.count() == before + 1
    assert history.first().history_user == chicago_editor


def test_inline_milestone_edit_records_milestone_history(client, atlas_map, chicago_editor):
    """Editing a milestone inline on its initiative leaves a milestone history row by the editor."""
    initiative = InitiativeFactory.create(jurisdiction=atlas_map.chicago, publication_state=DRAFT)
    milestone = MilestoneFactory.create(initiative=initiative, title="Pilot")
    before = milestone.history.count()

    save_unchanged_but(
        logged_in(client, chicago_editor), initiative, **{"milestones-0-title": "Go"}
    )

    milestone.refresh_from_db()
    assert milestone.title == "Go"
    assert milestone.history.count() == before + 1
    assert milestone.history.first().history_user == chicago_editor


def test_inline_milestone_added_by_editor(client, atlas_map, chicago_editor):
    """A milestone added inline is created with a history row credited to the editor."""
    initiative = InitiativeFactory.create(jurisdiction=atlas_map.chicago, publication_state=DRAFT)

    save_unchanged_but(
        logged_in(client, chicago_editor),
        initiative,
        **{"milestones-TOTAL_FORMS": "1", "milestones-0-title": "Launch"},
    )

    milestone = Milestone.objects.get(initiative=initiative)
    assert milestone.title == "Launch"
    assert milestone.history.get().history_user == chicago_editor


def test_history_page_renders_for_staff(client, atlas_map, staff_user):
    """Staff open an initiative's history page."""
    initiative = InitiativeFactory.create(jurisdiction=atlas_map.nyc, title="NYC Mesh")

    response = logged_in(client, staff_user).get(
        admin_url("initiatives_initiative_history", initiative.pk)
    )

    assert response.status_code == 200
    assert "NYC Mesh" in response.content.decode()


def test_history_of_other_jurisdiction_is_not_found(client, atlas_map, chicago_editor):
    """The Chicago editor cannot read a New York City initiative's history."""
    initiative = InitiativeFactory.create(jurisdiction=atlas_map.nyc)
    version = initiative.history.get()
    client = logged_in(client, chicago_editor)

    history = client.get(admin_url("initiatives_initiative_history", initiative.pk))
    revision = client.get(
        admin_url("initiatives_initiative_simple_history", initiative.pk, version.history_id)
    )

    assert history.status_code == 404
    assert revision.status_code == 404


def test_reviewer_cannot_revert_from_history(client, atlas_map, chicago_reviewer):
    """A reviewer may read a past version of a Chicago initiative but not revert to it."""
    initiative = InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Old title")
    version = initiative.history.get()
    initiative.title = "New title"
    initiative.save()
    url = admin_url("initiatives_initiative_simple_history", initiative.pk, version.history_id)
    client = logged_in(client, chicago_reviewer)

    page = client.get(url)
    response = client.post(
        url,
        {"title": "Old title", "slug": initiative.slug, "jurisdiction": atlas_map.chicago.pk},
    )

    assert page.status_code == 200
    assert response.status_code == 403
    initiative.refresh_from_db()
    assert initiative.title == "New title"


# ------------------------------------------------------------------------------
# Every page, and the cost of a page
# ------------------------------------------------------------------------------


def one_of_everything(atlas_map: AtlasMap, member: User) -> None:
    initiative = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        plan=PlanFactory.create(jurisdiction=atlas_map.chicago),
        focus_areas=[make_focus_area()],
    )
    MilestoneFactory.create(initiative=initiative)
    MeasurementFactory.create(indicator=IndicatorFactory.create(initiative=initiative))
    PartnershipFactory.create(initiative=initiative)
    SourceFactory.create(initiative=initiative)
    CoalitionMembershipFactory.create(
        coalition=CoalitionFactory.create(jurisdiction=atlas_map.chicago)
    )
    CouncilMembershipFactory.create(user=member, jurisdiction=atlas_map.chicago)


def test_every_admin_page_renders_for_staff(client, atlas_map, staff_user):
    """Each registered model's changelist, add page and a change page render for staff."""
    one_of_everything(atlas_map, UserFactory.create())
    client = logged_in(client, staff_user)

    for model in admin.site._registry:
        opts = model._meta
        prefix = f"admin:{opts.app_label}_{opts.model_name}"
        for url in (reverse(f"{prefix}_changelist"), reverse(f"{prefix}_add")):
            assert client.get(url).status_code == 200, url
        obj = model._default_manager.first()
        if obj is not None:
            assert client.get(change_url(obj)).status_code == 200, model
            assert client.get(reverse(f"{prefix}_history", args=[obj.pk])).status_code == 200


def test_every_admin_page_renders_for_a_chair(client, atlas_map, chicago_chair):
    """The Chicago chair's admin index lists the Atlas apps alone, and each changelist renders."""
    one_of_everything(atlas_map, UserFactory.create())
    client = logged_in(client, chicago_chair)

    index = client.get(admin_url("index"))
    assert {app["app_label"] for app in index.context["app_list"]} == {
        "cities",
        "initiatives",
        "council",
    }

    for model in admin.site._registry:
        opts = model._meta
        if opts.app_label not in {"cities", "initiatives", "council"}:
            continue
        prefix = f"admin:{opts.app_label}_{opts.model_name}"
        assert client.get(reverse(f"{prefix}_changelist")).status_code == 200, model


def _rows(model_name: str) -> Callable[[AtlasMap], Any]:
    makers: dict[str, Callable[[AtlasMap], Any]] = {
        "initiatives_initiative": lambda m: InitiativeFactory.create(
            jurisdiction=m.chicago, focus_areas=[make_focus_area()]
        ),
        "initiatives_plan": lambda m: PlanFactory.create(jurisdiction=m.chicago),
        "initiatives_indicator": lambda m: IndicatorFactory.create(
            initiative=InitiativeFactory.create(jurisdiction=m.chicago)
        ),
        "initiatives_focusarea": lambda m: make_focus_area(),
        "cities_jurisdiction": lambda m: JurisdictionFactory.create(parent=m.chicago),
        "council_organization": lambda m: OrganizationFactory.create(jurisdiction=m.chicago),
        "council_coalition": lambda m: CoalitionFactory.create(jurisdiction=m.chicago),
        "council_councilmembership": lambda m: CouncilMembershipFactory.create(
            jurisdiction=m.chicago
        ),
    }
    return makers[model_name]


def changelist_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("user_fixture", ["staff_user", "chicago_editor"])
@pytest.mark.parametrize(
    "model_name",
    [
        "initiatives_initiative",
        "initiatives_plan",
        "initiatives_indicator",
        "initiatives_focusarea",
        "cities_jurisdiction",
        "council_organization",
        "council_coalition",
        "council_councilmembership",
    ],
)
def test_changelist_queries_do_not_grow_with_rows(
    request, client, atlas_map, user_fixture, model_name
):
    """A changelist costs as many queries for twenty rows as for one."""
    client = logged_in(client, request.getfixturevalue(user_fixture))
    make = _rows(model_name)
    url = admin_url(f"{model_name}_changelist")
    make(atlas_map)
    client.get(url)  # warm the content-type and similar per-process caches

    with_one = changelist_queries(client, url)
    for _ in range(19):
        make(atlas_map)
    with_twenty = changelist_queries(client, url)

    assert with_twenty == with_one


def test_initiative_changelist_query_budget(
    client, atlas_map, chicago_editor, django_assert_max_num_queries
):
    """The Chicago editor's initiative list of twenty rows stays within a fixed query budget."""
    for _ in range(20):
        InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    client = logged_in(client, chicago_editor)
    url = admin_url("initiatives_initiative_changelist")
    client.get(url)

    # Session, user, memberships, the editor's authenticator apps (an editor who set one up
    # owes its code before the admin), focus-area filter, filtered and full counts, the
    # auth app's two permission reads for the sidebar, and the rows.
    with django_assert_max_num_queries(10):
        client.get(url)
