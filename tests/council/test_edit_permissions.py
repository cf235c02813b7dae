"""Who may open the edit pages: other jurisdictions get 404, roles without edit rights 403."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from initiatives.models import Initiative, PublicationState
from tests.conftest import AtlasMap, verify_second_factor
from tests.factories import (
    CoalitionFactory,
    InitiativeFactory,
    OrganizationFactory,
    PlanFactory,
)


@pytest.fixture
def chicago_records(atlas_map: AtlasMap) -> dict[str, str]:
    """One record of each kind in Chicago, and the edit pages that reach them."""
    initiative = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, slug="chi-wifi", publication_state=PublicationState.DRAFT
    )
    plan = PlanFactory.create(jurisdiction=atlas_map.chicago, slug="chi-plan")
    organization = OrganizationFactory.create(jurisdiction=atlas_map.chicago, slug="chi-org")
    coalition = CoalitionFactory.create(jurisdiction=atlas_map.chicago, slug="chi-coalition")

    def edit(name: str, **kwargs: Any) -> str:
        return reverse(f"council:editing:{name}", kwargs=kwargs)

    return {
        "initiative-edit": edit("initiative-edit", slug=initiative.slug),
        "initiative-create": edit("initiative-create", jurisdiction_slug="chicago"),
        "plan-edit": edit("plan-edit", slug=plan.slug),
        "plan-create": edit("plan-create", jurisdiction_slug="chicago"),
        "organization-edit": edit("organization-edit", slug=organization.slug),
        "coalition-edit": edit("coalition-edit", slug=coalition.slug),
        "jurisdiction-profile": edit("jurisdiction-profile", slug="chicago"),
    }


PAGES = [
    "initiative-edit",
    "initiative-create",
    "plan-edit",
    "plan-create",
    "organization-edit",
    "coalition-edit",
    "jurisdiction-profile",
]


@pytest.mark.parametrize("page", PAGES)
def test_an_editor_of_another_jurisdiction_gets_404(
    client: Client, nyc_editor: User, chicago_records: dict[str, str], page: str
) -> None:
    client.force_login(nyc_editor)
    assert client.get(chicago_records[page]).status_code == 404
    assert client.post(chicago_records[page], {"title": "x"}).status_code == 404


@pytest.mark.parametrize("page", PAGES)
def test_a_reviewer_gets_403(
    client: Client, chicago_reviewer: User, chicago_records: dict[str, str], page: str
) -> None:
    client.force_login(chicago_reviewer)
    verify_second_factor(client, chicago_reviewer)
    assert client.get(chicago_records[page]).status_code == 403
    assert client.post(chicago_records[page], {"title": "x"}).status_code == 403


@pytest.mark.parametrize("page", PAGES)
def test_an_editor_of_an_ancestor_may_edit(
    client: Client, illinois_editor: User, chicago_records: dict[str, str], page: str
) -> None:
    client.force_login(illinois_editor)
    assert client.get(chicago_records[page]).status_code == 200


@pytest.mark.parametrize("page", PAGES)
def test_a_chair_may_edit(
    client: Client, chicago_chair: User, chicago_records: dict[str, str], page: str
) -> None:
    client.force_login(chicago_chair)
    verify_second_factor(client, chicago_chair)
    assert client.get(chicago_records[page]).status_code == 200


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(
    client: Client, chicago_records: dict[str, str], page: str
) -> None:
    response = client.get(chicago_records[page])
    assert response.status_code == 302
    assert reverse("council:login") in response["Location"]


def test_a_reviewer_without_second_factor_is_asked_for_it(
    client: Client, chicago_reviewer: User, chicago_records: dict[str, str]
) -> None:
    client.force_login(chicago_reviewer)
    response = client.get(chicago_records["initiative-edit"])
    assert response.status_code == 302
    assert "two-factor" in response["Location"]


def test_records_page_is_404_outside_the_council(
    client: Client, nyc_editor: User, outsider: User, atlas_map: AtlasMap
) -> None:
    path = reverse("council:editing:jurisdiction-records", kwargs={"slug": "chicago"})
    client.force_login(nyc_editor)
    assert client.get(path).status_code == 404
    client.force_login(outsider)
    assert client.get(path).status_code == 404
    assert (
        client.get(reverse("council:editing:jurisdiction-records", args=["nowhere"])).status_code
        == 404
    )


def test_organization_create_is_403_without_edit_rights(
    client: Client, chicago_reviewer: User, outsider: User
) -> None:
    path = reverse("council:editing:organization-create")
    client.force_login(outsider)
    assert client.get(path).status_code == 403
    client.force_login(chicago_reviewer)
    verify_second_factor(client, chicago_reviewer)
    assert client.get(path).status_code == 403


def test_an_organization_without_a_home_is_staff_only(
    client: Client, chicago_editor: User, staff_user: User
) -> None:
    organization = OrganizationFactory.create(jurisdiction=None, slug="homeless")
    path = reverse("council:editing:organization-edit", kwargs={"slug": organization.slug})
    client.force_login(chicago_editor)
    assert client.get(path).status_code == 404
    client.force_login(staff_user)
    verify_second_factor(client, staff_user)
    assert client.get(path).status_code == 200


def test_a_forged_row_id_of_another_initiative_is_not_edited(
    client: Client, chicago_editor: User, atlas_map: AtlasMap
) -> None:
    """A hidden id the page did not offer makes a new row; the other record is untouched."""
    from initiatives.workflow import edit_version
    from tests.factories import MilestoneFactory

    mine = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, slug="mine", publication_state=PublicationState.DRAFT
    )
    theirs = MilestoneFactory.create(
        initiative=InitiativeFactory.create(jurisdiction=atlas_map.nyc), title="Theirs"
    )
    client.force_login(chicago_editor)
    path = reverse("council:editing:initiative-edit", kwargs={"slug": mine.slug})
    data: dict[str, str] = {
        "title": mine.title,
        "summary": "",
        "description": "",
        "language": "en",
        "status": mine.status,
        "milestones-TOTAL_FORMS": "1",
        "milestones-INITIAL_FORMS": "0",
        "milestones-0-id": str(theirs.pk),
        "milestones-0-title": "Hijacked",
        "version": edit_version(mine),
    }
    for prefix in ("indicators", "partnerships", "sources", "links"):
        data[f"{prefix}-TOTAL_FORMS"] = "0"
        data[f"{prefix}-INITIAL_FORMS"] = "0"
    response = client.post(path, data)
    assert response.status_code == 302
    theirs.refresh_from_db()
    assert theirs.title == "Theirs"
    assert theirs.initiative.jurisdiction == atlas_map.nyc
    assert mine.milestones.get().title == "Hijacked"


def test_a_tampered_management_form_is_a_400(
    client: Client, chicago_editor: User, atlas_map: AtlasMap
) -> None:
    client.force_login(chicago_editor)
    path = reverse("council:editing:initiative-create", kwargs={"jurisdiction_slug": "chicago"})
    response = client.post(path, {"title": "No formsets", "language": "en", "status": "idea"})
    assert response.status_code == 400
    assert not Initiative.objects.filter(title="No formsets").exists()
