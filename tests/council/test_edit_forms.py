"""The workspace's edit forms: initiatives with their rows in one POST, plans, organizations,
coalitions and a jurisdiction's profile."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from council.models import CoalitionMembership, Organization
from initiatives import workflow
from initiatives.models import (
    ChangeEvent,
    FocusArea,
    Indicator,
    Initiative,
    InitiativeLink,
    Measurement,
    Milestone,
    Partnership,
    Plan,
    PublicationState,
    Revision,
    Source,
)
from tests.conftest import AtlasMap, verify_second_factor
from tests.factories import (
    CoalitionFactory,
    CoalitionMembershipFactory,
    IndicatorFactory,
    InitiativeFactory,
    MeasurementFactory,
    MilestoneFactory,
    OrganizationFactory,
    PartnershipFactory,
    PlanFactory,
    SourceFactory,
)

FORMSETS = ("milestones", "indicators", "partnerships", "sources", "links")


def url(name: str, *args: Any) -> str:
    return reverse(f"council:editing:{name}", args=args)


def rows(prefix: str, items: list[dict[str, str]], *, initial: int = 0) -> dict[str, str]:
    """A formset's POST data: its management form and ``items``, one dict per row."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(items)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for number, item in enumerate(items):
        for name, value in item.items():
            data[f"{prefix}-{number}-{name}"] = value
    return data


def empty_formsets(*, except_: tuple[str, ...] = ()) -> dict[str, str]:
    data: dict[str, str] = {}
    for prefix in FORMSETS:
        if prefix not in except_:
            data.update(rows(prefix, []))
    return data


def page_data(client: Client, path: str) -> dict[str, Any]:
    """
    What the edit page at ``path`` would post back unchanged, read from its bound fields:
    the tests then change what they are about, as a person would.
    """
    response = client.get(path)
    assert response.status_code == 200
    context = response.context
    forms_ = [context["form"]]
    data: dict[str, Any] = {}
    for _label, formset in context.get("formsets") or (
        [("", context["formset"])] if context.get("formset") else []
    ):
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        forms_.extend(formset.forms)
    for form in forms_:
        for bound in form:
            value = bound.value()
            if isinstance(value, bool):
                if value:
                    data[bound.html_name] = "on"
                continue
            if isinstance(value, list):
                data[bound.html_name] = [str(v) for v in value]
                continue
            data[bound.html_name] = "" if value is None else str(value)
    if context.get("version"):
        # The version the page was opened on, as its hidden field sends it back.
        data["version"] = context["version"]
    return data


@pytest.fixture
def editor_client(client: Client, chicago_editor: User) -> Client:
    client.force_login(chicago_editor)
    return client


@pytest.fixture
def partner() -> Organization:
    return OrganizationFactory.create(name="University of Chicago", slug="uchicago")


@pytest.fixture
def nyc_initiative(atlas_map: AtlasMap) -> Initiative:
    return InitiativeFactory.create(jurisdiction=atlas_map.nyc, slug="nyc-wifi", title="NYC Wi-Fi")


def creation_data(partner: Organization, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Library Wi-Fi for all",
        "slug": "",
        "summary": "Free Wi-Fi.",
        "description": "Every **branch**.",
        "language": "en",
        "status": "planned",
        "start_date": "2025-01-01",
        "end_date": "2026-12-31",
        "budget_amount": "250000",
        "budget_currency": "USD",
        "plan": "",
        "lead_organization": str(partner.pk),
        "external_id": "CHI-1",
        **rows("milestones", [{"id": "", "title": "Pilot branch", "due_date": "2025-06-30"}]),
        **rows(
            "indicators",
            [
                {
                    "id": "",
                    "name": "Branches connected",
                    "unit": "branches",
                    "baseline": "0",
                    "target": "81",
                    "measurements": "2025-03-31 4 https://example.org/q1\n2025-06-30 12.5",
                }
            ],
        ),
        **rows("partnerships", [{"id": "", "organization": str(partner.pk), "role": "funder"}]),
        **rows(
            "sources",
            [{"id": "", "kind": "source", "title": "Press release", "url": "https://example.org"}],
        ),
        **rows("links", [{"id": "", "target": "nyc-wifi", "kind": "inspired_by", "note": ""}]),
    }
    data.update(overrides)
    return data


# ------------------------------------------------------------------------------
# Creating
# ------------------------------------------------------------------------------


def test_create_initiative_with_every_kind_of_row_in_one_post(
    editor_client: Client,
    atlas_map: AtlasMap,
    chicago_editor: User,
    partner: Organization,
    nyc_initiative: Initiative,
) -> None:
    """One POST makes a draft with a milestone, an indicator and its series, a partner,
    a source and a link, every history row naming the editor."""
    area = FocusArea.objects.first()
    assert area is not None
    data = creation_data(partner, focus_areas=[str(area.pk)])
    response = editor_client.post(url("initiative-create", "chicago"), data)
    assert response.status_code == 302
    initiative = Initiative.objects.get(slug="library-wi-fi-for-all")
    assert response["Location"] == url("initiative-edit", initiative.slug)
    assert initiative.publication_state == PublicationState.DRAFT
    assert initiative.jurisdiction == atlas_map.chicago
    assert initiative.budget_amount == Decimal("250000")
    assert list(initiative.focus_areas.all()) == [area]
    assert initiative.milestones.get().title == "Pilot branch"
    indicator = initiative.indicators.get()
    assert [(m.measured_on, m.value, m.source_url) for m in indicator.measurements.all()] == [
        (datetime.date(2025, 3, 31), Decimal("4"), "https://example.org/q1"),
        (datetime.date(2025, 6, 30), Decimal("12.5"), ""),
    ]
    assert initiative.partnerships.get().organization == partner
    assert initiative.sources.get().title == "Press release"
    assert initiative.outgoing_links.get().to_initiative == nyc_initiative
    for history in (
        initiative.history.first(),
        Milestone.history.first(),
        Indicator.history.first(),
        Measurement.history.first(),
        Partnership.history.first(),
        Source.history.first(),
        InitiativeLink.history.first(),
    ):
        assert history is not None
        assert history.history_user == chicago_editor


def test_a_blank_slug_is_made_unique(
    editor_client: Client, atlas_map: AtlasMap, partner: Organization, nyc_initiative: Initiative
) -> None:
    InitiativeFactory.create(jurisdiction=atlas_map.chicago, slug="library-wi-fi-for-all")
    response = editor_client.post(url("initiative-create", "chicago"), creation_data(partner))
    assert response.status_code == 302
    assert Initiative.objects.filter(slug="library-wi-fi-for-all-2").exists()


def test_a_taken_slug_is_refused(
    editor_client: Client, atlas_map: AtlasMap, partner: Organization, nyc_initiative: Initiative
) -> None:
    response = editor_client.post(
        url("initiative-create", "chicago"), creation_data(partner, slug="nyc-wifi")
    )
    assert response.status_code == 400
    assert "This slug is taken" in response.content.decode()


# ------------------------------------------------------------------------------
# Editing
# ------------------------------------------------------------------------------


def test_a_draft_is_changed_in_place(
    editor_client: Client, atlas_map: AtlasMap, chicago_editor: User
) -> None:
    initiative = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        publication_state=PublicationState.DRAFT,
        status=Initiative.Status.IDEA,
    )
    milestone = MilestoneFactory.create(initiative=initiative, title="Old title")
    path = url("initiative-edit", initiative.slug)
    data = page_data(editor_client, path)
    data["title"] = "New title"
    data["status"] = "planned"
    data["milestones-0-title"] = "Renamed milestone"
    response = editor_client.post(path, data)
    assert response.status_code == 302
    initiative.refresh_from_db()
    assert initiative.title == "New title"
    assert initiative.status == Initiative.Status.PLANNED
    milestone.refresh_from_db()
    assert milestone.title == "Renamed milestone"
    assert initiative.history.first().history_user == chicago_editor
    assert not Revision.objects.exists()
    page = editor_client.get(response["Location"])
    assert "Saved." in page.content.decode()


def test_a_published_record_keeps_its_public_face_until_reviewed(
    editor_client: Client,
    atlas_map: AtlasMap,
    chicago_editor: User,
    chicago_reviewer: User,
) -> None:
    """Changes to a published initiative wait in a revision; publishing applies them all."""
    initiative = InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Public title")
    kept = MilestoneFactory.create(initiative=initiative, title="Kept")
    path = url("initiative-edit", initiative.slug)
    data = page_data(editor_client, path)
    data["title"] = "Proposed title"
    data["milestones-1-title"] = "Added milestone"
    data["milestones-0-title"] = "Kept, renamed"
    response = editor_client.post(path, data)
    assert response.status_code == 302
    initiative.refresh_from_db()
    assert initiative.title == "Public title"
    assert list(initiative.milestones.values_list("title", flat=True)) == ["Kept"]
    public = editor_client.get(initiative.get_absolute_url())
    assert "Public title" in public.content.decode()
    assert "Proposed title" not in public.content.decode()
    revision = Revision.objects.get(initiative=initiative)
    assert revision.data["fields"]["title"] == "Proposed title"
    page = editor_client.get(response["Location"])
    content = page.content.decode()
    assert "kept for review" in content
    # The form starts from the waiting changes, not from the public version.
    assert page.context["form"]["title"].value() == "Proposed title"

    workflow.record_submit(record=initiative, actor=chicago_editor)
    workflow.record_publish(record=initiative, actor=chicago_reviewer)
    initiative.refresh_from_db()
    assert initiative.title == "Proposed title"
    assert sorted(initiative.milestones.values_list("title", flat=True)) == [
        "Added milestone",
        "Kept, renamed",
    ]
    assert initiative.milestones.filter(pk=kept.pk).exists()


def test_a_milestone_ticked_for_deletion_is_removed(
    editor_client: Client, atlas_map: AtlasMap, chicago_editor: User
) -> None:
    initiative = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, publication_state=PublicationState.DRAFT
    )
    gone = MilestoneFactory.create(initiative=initiative, title="Gone")
    stays = MilestoneFactory.create(initiative=initiative, title="Stays")
    path = url("initiative-edit", initiative.slug)
    data = page_data(editor_client, path)
    assert data["milestones-0-id"] == str(gone.pk)
    data["milestones-0-DELETE"] = "on"
    response = editor_client.post(path, data)
    assert response.status_code == 302
    assert list(initiative.milestones.all()) == [stays]
    deleted = Milestone.history.filter(id=gone.pk, history_type="-").get()
    assert deleted.history_user == chicago_editor


def test_measurements_keep_their_rows_when_unchanged(
    editor_client: Client, atlas_map: AtlasMap
) -> None:
    initiative = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, publication_state=PublicationState.DRAFT
    )
    indicator = IndicatorFactory.create(initiative=initiative)
    first = MeasurementFactory.create(
        indicator=indicator, measured_on=datetime.date(2024, 1, 1), value=10
    )
    path = url("initiative-edit", initiative.slug)
    data = page_data(editor_client, path)
    assert data["indicators-0-measurements"] == "2024-01-01 10"
    data["indicators-0-measurements"] = "2024-01-01 10\n2024-02-01 11"
    assert editor_client.post(path, data).status_code == 302
    assert indicator.measurements.count() == 2
    assert Measurement.history.filter(id=first.pk).count() == 1


# ------------------------------------------------------------------------------
# Refusals: 400, an error summary, what was typed kept, nothing written
# ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"end_date": "2024-01-01"}, "The end date cannot come before the start date."),
        ({"budget_currency": ""}, "Give the currency of the budget."),
        ({"budget_currency": "usd"}, ""),  # lower case is accepted as USD
        (
            {"indicators-0-measurements": "2025-03-31 4\n2025-03-31 5"},
            "Line 2: line 1 is already about this day",
        ),
        ({"indicators-0-measurements": "31/03/2025 4"}, "Line 1: the date must be a real day"),
        ({"indicators-0-measurements": "2025-03-31 four"}, "Line 1: Enter a number."),
        ({"links-0-target": "no-such-initiative"}, "There is no initiative"),
    ],
)
def test_invalid_input_is_refused_with_what_was_typed(
    editor_client: Client,
    atlas_map: AtlasMap,
    partner: Organization,
    nyc_initiative: Initiative,
    overrides: dict[str, str],
    message: str,
) -> None:
    before = (Initiative.history.count(), Milestone.objects.count())
    data = creation_data(partner, title="Typed title", **overrides)
    response = editor_client.post(url("initiative-create", "chicago"), data)
    if not message:
        assert response.status_code == 302
        return
    assert response.status_code == 400
    content = response.content.decode()
    assert 'class="error-summary"' in content
    assert message in content
    assert 'value="Typed title"' in content
    assert "Pilot branch" in content
    assert (Initiative.history.count(), Milestone.objects.count()) == before


def test_an_illegal_status_change_is_refused(editor_client: Client, atlas_map: AtlasMap) -> None:
    initiative = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        publication_state=PublicationState.DRAFT,
        status=Initiative.Status.COMPLETED,
    )
    path = url("initiative-edit", initiative.slug)
    data = page_data(editor_client, path)
    data["status"] = "active"
    data["title"] = "Typed title"
    response = editor_client.post(path, data)
    assert response.status_code == 400
    assert 'class="error-summary"' in response.content.decode()
    assert 'value="Typed title"' in response.content.decode()
    initiative.refresh_from_db()
    assert initiative.status == Initiative.Status.COMPLETED


def test_a_link_to_an_unseen_initiative_is_refused(
    editor_client: Client, atlas_map: AtlasMap, partner: Organization
) -> None:
    """A draft of another jurisdiction exists but is not the editor's to see."""
    InitiativeFactory.create(
        jurisdiction=atlas_map.nyc, slug="nyc-wifi", publication_state=PublicationState.DRAFT
    )
    response = editor_client.post(url("initiative-create", "chicago"), creation_data(partner))
    assert response.status_code == 400
    assert "There is no initiative" in response.content.decode()


def test_a_duplicate_partner_role_is_refused(
    editor_client: Client, atlas_map: AtlasMap, partner: Organization, nyc_initiative: Initiative
) -> None:
    data = creation_data(partner)
    data.update(
        rows(
            "partnerships",
            [
                {"id": "", "organization": str(partner.pk), "role": "funder"},
                {"id": "", "organization": str(partner.pk), "role": "funder"},
            ],
        )
    )
    response = editor_client.post(url("initiative-create", "chicago"), data)
    assert response.status_code == 400
    assert "already has this role" in response.content.decode()
    assert not Initiative.objects.filter(jurisdiction=atlas_map.chicago).exists()


def test_an_archived_record_refuses_changes_as_a_form_error(
    editor_client: Client, atlas_map: AtlasMap
) -> None:
    initiative = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, publication_state=PublicationState.ARCHIVED
    )
    path = url("initiative-edit", initiative.slug)
    data = page_data(editor_client, path)
    data["title"] = "Changed"
    response = editor_client.post(path, data)
    assert response.status_code == 400
    assert "Unarchive this record" in response.content.decode()


# ------------------------------------------------------------------------------
# Buttons that save nothing
# ------------------------------------------------------------------------------


def test_preview_renders_sanitised_markdown_without_saving(
    editor_client: Client, atlas_map: AtlasMap, partner: Organization, nyc_initiative: Initiative
) -> None:
    data = creation_data(
        partner, description="**Bold** <script>alert('x')</script>", action="preview"
    )
    response = editor_client.post(url("initiative-create", "chicago"), data)
    assert response.status_code == 200
    content = response.content.decode()
    assert "<strong>Bold</strong>" in content
    assert "<script>alert" not in content
    assert "&lt;script&gt;" in content  # the text as typed, escaped, in its textarea
    assert not Initiative.objects.filter(jurisdiction=atlas_map.chicago).exists()


def test_add_more_rows_keeps_what_was_typed(
    editor_client: Client, atlas_map: AtlasMap, partner: Organization, nyc_initiative: Initiative
) -> None:
    data = creation_data(partner, title="", action="more_rows")
    response = editor_client.post(url("initiative-create", "chicago"), data)
    assert response.status_code == 200
    content = response.content.decode()
    assert 'class="error-summary"' not in content
    assert "Pilot branch" in content
    milestones = dict(response.context["formsets"])["Milestones"]
    assert len(milestones.forms) == 4
    assert not Initiative.objects.filter(jurisdiction=atlas_map.chicago).exists()


def test_markdown_preview_endpoint_returns_sanitised_html(editor_client: Client) -> None:
    response = editor_client.post(
        url("markdown-preview"), {"text": "*hi* <script>x()</script> [a](javascript:x)"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<em>hi</em>" in html
    assert "<script" not in html
    assert "javascript:" not in html


def test_markdown_preview_refuses_get(editor_client: Client) -> None:
    assert editor_client.get(url("markdown-preview")).status_code == 405


# ------------------------------------------------------------------------------
# Choices offer only what may be chosen
# ------------------------------------------------------------------------------


def test_status_choices_follow_the_lifecycle(editor_client: Client, atlas_map: AtlasMap) -> None:
    initiative = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, status=Initiative.Status.ACTIVE
    )
    response = editor_client.get(url("initiative-edit", initiative.slug))
    offered = {value for value, _label in response.context["form"].fields["status"].choices}
    assert offered == {"active", "completed", "paused", "cancelled"}


def test_a_new_initiative_may_start_in_any_status(
    editor_client: Client, atlas_map: AtlasMap
) -> None:
    response = editor_client.get(url("initiative-create", "chicago"))
    offered = {value for value, _label in response.context["form"].fields["status"].choices}
    assert offered == set(Initiative.Status.values)


def test_plans_offered_are_the_jurisdictions_own(
    editor_client: Client, atlas_map: AtlasMap, partner: Organization, nyc_initiative: Initiative
) -> None:
    own = PlanFactory.create(jurisdiction=atlas_map.chicago, title="Chicago plan")
    other = PlanFactory.create(jurisdiction=atlas_map.nyc, title="NYC plan")
    response = editor_client.get(url("initiative-create", "chicago"))
    offered = {value for value, _label in response.context["form"].fields["plan"].choices}
    assert str(own.pk) in offered
    assert str(other.pk) not in offered
    refused = editor_client.post(
        url("initiative-create", "chicago"), creation_data(partner, plan=str(other.pk))
    )
    assert refused.status_code == 400


def test_organization_jurisdictions_are_the_editable_ones(
    editor_client: Client, atlas_map: AtlasMap
) -> None:
    response = editor_client.get(url("organization-create"))
    offered = set(response.context["form"].fields["jurisdiction"].queryset)
    assert offered == {atlas_map.chicago}
    refused = editor_client.post(
        url("organization-create"),
        {"name": "Elsewhere", "slug": "", "kind": "university", "jurisdiction": atlas_map.nyc.pk},
    )
    assert refused.status_code == 400
    assert not Organization.objects.filter(name="Elsewhere").exists()


# ------------------------------------------------------------------------------
# Plans, organizations, coalitions, the jurisdiction's profile
# ------------------------------------------------------------------------------


def test_create_and_edit_a_plan(
    editor_client: Client, atlas_map: AtlasMap, chicago_editor: User
) -> None:
    response = editor_client.post(
        url("plan-create", "chicago"),
        {"title": "Digital Chicago 2030", "slug": "", "language": "en", "url": "example.org/p"},
    )
    assert response.status_code == 302
    plan = Plan.objects.get(slug="digital-chicago-2030")
    assert plan.url == "https://example.org/p"
    assert plan.publication_state == PublicationState.DRAFT
    data = page_data(editor_client, url("plan-edit", plan.slug))
    data["published_on"] = "2025-02-01"
    assert editor_client.post(url("plan-edit", plan.slug), data).status_code == 302
    plan.refresh_from_db()
    assert plan.published_on == datetime.date(2025, 2, 1)
    assert plan.history.first().history_user == chicago_editor


def test_create_and_edit_an_organization_with_history(
    editor_client: Client, atlas_map: AtlasMap, chicago_editor: User
) -> None:
    response = editor_client.post(
        url("organization-create"),
        {
            "name": "Chicago Digital Foundation",
            "slug": "",
            "kind": "foundation",
            "jurisdiction": atlas_map.chicago.pk,
            "description": "Funds *things*.",
        },
    )
    assert response.status_code == 302
    organization = Organization.objects.get(slug="chicago-digital-foundation")
    assert organization.jurisdiction == atlas_map.chicago
    data = page_data(editor_client, url("organization-edit", organization.slug))
    data["website"] = "https://cdf.example.org"
    assert editor_client.post(url("organization-edit", organization.slug), data).status_code == 302
    organization.refresh_from_db()
    assert organization.website == "https://cdf.example.org"
    assert [h.history_user for h in organization.history.all()] == [chicago_editor] * 2


def test_coalition_memberships_are_added_changed_and_removed_with_history(
    editor_client: Client, atlas_map: AtlasMap, chicago_editor: User, partner: Organization
) -> None:
    coalition = CoalitionFactory.create(jurisdiction=atlas_map.chicago, slug="cdel")
    leaving = CoalitionMembershipFactory.create(coalition=coalition, role="member")
    staying = CoalitionMembershipFactory.create(coalition=coalition, role="member")
    path = url("coalition-edit", coalition.slug)
    data = page_data(editor_client, path)
    data["name"] = "Chicago Council for Digital Leadership"
    index = {data[f"memberships-{i}-id"]: i for i in range(2)}
    data[f"memberships-{index[str(leaving.pk)]}-DELETE"] = "on"
    data[f"memberships-{index[str(staying.pk)]}-role"] = "convener"
    data["memberships-2-organization"] = str(partner.pk)
    data["memberships-2-role"] = "funder"
    data["memberships-2-since"] = "2024-01-01"
    response = editor_client.post(path, data)
    assert response.status_code == 302
    coalition.refresh_from_db()
    assert coalition.name == "Chicago Council for Digital Leadership"
    memberships = {m.organization_id: m for m in coalition.memberships.all()}
    assert set(memberships) == {staying.organization_id, partner.pk}
    assert memberships[staying.organization_id].role == "convener"
    assert memberships[partner.pk].since == datetime.date(2024, 1, 1)
    for history in CoalitionMembership.history.filter(history_type__in=["+", "~", "-"]).exclude(
        history_user=None
    ):
        assert history.history_user == chicago_editor
    assert CoalitionMembership.history.filter(id=leaving.pk, history_type="-").exists()
    assert CoalitionMembership.history.filter(
        id=memberships[partner.pk].pk, history_type="+", history_user=chicago_editor
    ).exists()
    event = ChangeEvent.objects.get(kind=ChangeEvent.Kind.COALITION_MEMBER_ADDED)
    assert event.organization == partner
    assert event.jurisdiction == atlas_map.chicago


def test_a_membership_ending_before_it_starts_is_refused(
    editor_client: Client, atlas_map: AtlasMap, partner: Organization
) -> None:
    coalition = CoalitionFactory.create(jurisdiction=atlas_map.chicago, slug="cdel")
    path = url("coalition-edit", coalition.slug)
    data = page_data(editor_client, path)
    data["memberships-0-organization"] = str(partner.pk)
    data["memberships-0-role"] = "member"
    data["memberships-0-since"] = "2024-01-01"
    data["memberships-0-until"] = "2023-01-01"
    response = editor_client.post(path, data)
    assert response.status_code == 400
    assert "cannot end before it starts" in response.content.decode()
    assert not coalition.memberships.exists()


def test_jurisdiction_profile_is_edited_with_history(
    editor_client: Client, atlas_map: AtlasMap, chicago_editor: User
) -> None:
    path = url("jurisdiction-profile", "chicago")
    form = editor_client.get(path).context["form"]
    assert "ocd_id" not in form.fields
    assert "parent" not in form.fields
    assert "slug" not in form.fields
    assert "kind" not in form.fields
    data = page_data(editor_client, path)
    data["population"] = "2746388"
    data["website"] = "https://www.chicago.gov"
    data["ocd_id"] = "ocd-division/country:us/state:il/place:elsewhere"
    response = editor_client.post(path, data)
    assert response.status_code == 302
    atlas_map.chicago.refresh_from_db()
    assert atlas_map.chicago.population == 2746388
    assert atlas_map.chicago.ocd_id == "ocd-division/country:us/state:il/place:chicago"
    assert atlas_map.chicago.history.first().history_user == chicago_editor


def test_jurisdiction_profile_keeps_typed_values_on_error(
    editor_client: Client, atlas_map: AtlasMap
) -> None:
    path = url("jurisdiction-profile", "chicago")
    data = page_data(editor_client, path)
    data["latitude"] = "41.88"
    data["longitude"] = ""
    data["website"] = "https://typed.example.org"
    response = editor_client.post(path, data)
    assert response.status_code == 400
    content = response.content.decode()
    assert 'class="error-summary"' in content
    assert "https://typed.example.org" in content
    atlas_map.chicago.refresh_from_db()
    assert atlas_map.chicago.latitude is None


# ------------------------------------------------------------------------------
# The records page and query counts
# ------------------------------------------------------------------------------


def test_records_page_lists_every_kind_of_record(
    editor_client: Client, atlas_map: AtlasMap, chicago_editor: User
) -> None:
    published = InitiativeFactory.create(jurisdiction=atlas_map.chicago, title="Published one")
    InitiativeFactory.create(
        jurisdiction=atlas_map.chicago,
        title="Draft one",
        publication_state=PublicationState.DRAFT,
    )
    InitiativeFactory.create(jurisdiction=atlas_map.nyc, title="Elsewhere")
    PlanFactory.create(jurisdiction=atlas_map.chicago, title="Road map")
    OrganizationFactory.create(jurisdiction=atlas_map.chicago, name="Local org")
    CoalitionFactory.create(jurisdiction=atlas_map.chicago, name="Local coalition")
    changed = workflow.working_snapshot(published)
    changed["fields"]["summary"] = "Changed summary."
    workflow.record_save_changes(record=published, data=changed, actor=chicago_editor)
    response = editor_client.get(url("jurisdiction-records", "chicago"))
    assert response.status_code == 200
    content = response.content.decode()
    for text in ("Published one", "Draft one", "Road map", "Local org", "Local coalition"):
        assert text in content
    assert "Elsewhere" not in content
    assert url("initiative-edit", published.slug) in content
    assert url("initiative-create", "chicago") in content
    marked = {i.title: i.has_open_revision for i in response.context["page_obj"]}
    assert marked == {"Published one": True, "Draft one": False}


def test_records_page_queries_do_not_grow_with_records(
    editor_client: Client, atlas_map: AtlasMap, django_assert_max_num_queries: Any
) -> None:
    for number in range(30):
        InitiativeFactory.create(jurisdiction=atlas_map.chicago, title=f"Initiative {number}")
        PlanFactory.create(jurisdiction=atlas_map.chicago)
        OrganizationFactory.create(jurisdiction=atlas_map.chicago)
    with django_assert_max_num_queries(12):
        response = editor_client.get(url("jurisdiction-records", "chicago"))
    assert response.status_code == 200


def test_edit_page_queries_do_not_grow_with_rows(
    editor_client: Client, atlas_map: AtlasMap, django_assert_max_num_queries: Any
) -> None:
    initiative = InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    targets = InitiativeFactory.create_batch(5, jurisdiction=atlas_map.chicago)
    for number in range(5):
        MilestoneFactory.create(initiative=initiative)
        indicator = IndicatorFactory.create(initiative=initiative)
        MeasurementFactory.create_batch(3, indicator=indicator)
        PartnershipFactory.create(initiative=initiative)
        SourceFactory.create(initiative=initiative)
        InitiativeLink.objects.create(
            from_initiative=initiative, to_initiative=targets[number], kind="inspired_by"
        )
    with django_assert_max_num_queries(22):
        response = editor_client.get(url("initiative-edit", initiative.slug))
    assert response.status_code == 200
    assert len(dict(response.context["formsets"])["Indicators"].forms) == 7


def test_reviewer_sees_records_without_edit_buttons(
    client: Client, atlas_map: AtlasMap, chicago_reviewer: User
) -> None:
    client.force_login(chicago_reviewer)
    verify_second_factor(client, chicago_reviewer)
    response = client.get(url("jurisdiction-records", "chicago"))
    assert response.status_code == 200
    assert url("initiative-create", "chicago") not in response.content.decode()


def test_a_page_opened_before_another_save_does_not_overwrite_it(
    editor_client: Client, atlas_map: AtlasMap
) -> None:
    initiative = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, slug="shared", publication_state=PublicationState.DRAFT
    )
    path = url("initiative-edit", initiative.slug)
    first = page_data(editor_client, path)
    second = page_data(editor_client, path)

    first["title"] = "Saved first"
    assert editor_client.post(path, first).status_code == 302

    second["title"] = "Saved from an old page"
    response = editor_client.post(path, second)
    assert response.status_code == 400
    assert "changed after you opened it" in response.content.decode()
    # What was typed is kept, and the page now carries the current version.
    assert response.context["form"]["title"].value() == "Saved from an old page"
    initiative.refresh_from_db()
    assert initiative.title == "Saved first"

    again = {**second, "version": response.context["version"]}
    assert editor_client.post(path, again).status_code == 302
    initiative.refresh_from_db()
    assert initiative.title == "Saved from an old page"


def test_preview_keeps_the_version_the_page_was_opened_on(
    editor_client: Client, atlas_map: AtlasMap
) -> None:
    initiative = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, slug="kept", publication_state=PublicationState.DRAFT
    )
    path = url("initiative-edit", initiative.slug)
    data = page_data(editor_client, path)
    Initiative.objects.filter(pk=initiative.pk).update(title="Changed meanwhile")
    Initiative.objects.get(pk=initiative.pk).save()
    response = editor_client.post(path, {**data, "action": "preview"})
    assert response.context["version"] == data["version"]
