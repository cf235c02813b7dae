import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from initiatives.models import Initiative, InitiativeLink
from initiatives.services import initiative_change_status
from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db

Status = Initiative.Status

ALLOWED = [
    (Status.IDEA, Status.PLANNED),
    (Status.IDEA, Status.CANCELLED),
    (Status.PLANNED, Status.ACTIVE),
    (Status.PLANNED, Status.PAUSED),
    (Status.ACTIVE, Status.COMPLETED),
    (Status.ACTIVE, Status.PAUSED),
    (Status.PAUSED, Status.ACTIVE),
    (Status.PAUSED, Status.CANCELLED),
]
REFUSED = [
    (Status.COMPLETED, Status.ACTIVE),
    (Status.COMPLETED, Status.IDEA),
    (Status.CANCELLED, Status.ACTIVE),
    (Status.CANCELLED, Status.PLANNED),
    (Status.IDEA, Status.COMPLETED),
    (Status.IDEA, Status.PAUSED),
    (Status.PLANNED, Status.COMPLETED),
    (Status.ACTIVE, Status.IDEA),
]


@pytest.mark.parametrize(("old", "new"), ALLOWED)
def test_allowed_status_transition_is_saved(old, new, staff_user):
    initiative = InitiativeFactory.create(status=old)
    changed = initiative_change_status(initiative=initiative, status=new, actor=staff_user)
    initiative.refresh_from_db()
    assert changed.status == initiative.status == new


@pytest.mark.parametrize(("old", "new"), REFUSED)
def test_refused_status_transition_raises_and_keeps_status(old, new, staff_user):
    initiative = InitiativeFactory.create(status=old)
    with pytest.raises(ValidationError) as excinfo:
        initiative_change_status(initiative=initiative, status=new, actor=staff_user)
    assert excinfo.value.error_dict["status"][0].code == "illegal_transition"
    initiative.refresh_from_db()
    assert initiative.status == old


@pytest.mark.parametrize(("old", "new"), REFUSED)
def test_full_clean_refuses_an_illegal_transition(old, new):
    """Forms and the admin call full_clean(), which judges against the stored status."""
    initiative = Initiative.objects.get(pk=InitiativeFactory.create(status=old).pk)
    initiative.status = new
    with pytest.raises(ValidationError) as excinfo:
        initiative.full_clean()
    assert "status" in excinfo.value.error_dict


def test_a_new_initiative_may_start_in_any_status(atlas_map):
    initiative = Initiative(
        jurisdiction=atlas_map.chicago, title="Open data", slug="open-data", status="completed"
    )
    initiative.full_clean()


def test_status_change_leaves_history_with_the_actor(chicago_editor, atlas_map):
    initiative = InitiativeFactory.create(jurisdiction=atlas_map.chicago, status=Status.PLANNED)
    before = initiative.history.count()
    initiative_change_status(initiative=initiative, status=Status.ACTIVE, actor=chicago_editor)
    assert initiative.history.count() == before + 1
    latest = initiative.history.first()
    assert latest.history_user == chicago_editor
    assert latest.status == Status.ACTIVE


def test_status_change_outside_the_editors_scope_is_denied(nyc_editor, atlas_map):
    initiative = InitiativeFactory.create(jurisdiction=atlas_map.chicago, status=Status.PLANNED)
    with pytest.raises(PermissionDenied):
        initiative_change_status(initiative=initiative, status=Status.ACTIVE, actor=nyc_editor)


def test_initiative_slug_is_unique(atlas_map):
    InitiativeFactory.create(slug="wifi", jurisdiction=atlas_map.chicago)
    with pytest.raises(IntegrityError), transaction.atomic():
        InitiativeFactory.create(slug="wifi", jurisdiction=atlas_map.nyc)


def test_end_date_before_start_date_is_refused_by_the_database(atlas_map):
    with pytest.raises(IntegrityError), transaction.atomic():
        InitiativeFactory.create(
            start_date=datetime.date(2024, 1, 1), end_date=datetime.date(2023, 1, 1)
        )


def test_budget_needs_a_currency():
    initiative = InitiativeFactory.build(budget_amount=1000, budget_currency="")
    with pytest.raises(ValidationError) as excinfo:
        initiative.validate_constraints()
    assert excinfo.value.error_dict["__all__"][0].code == "budget_currency"


def test_unknown_currency_is_refused():
    initiative = InitiativeFactory.create(budget_amount=1000, budget_currency="USD")
    initiative.budget_currency = "XYZ"
    with pytest.raises(ValidationError) as excinfo:
        initiative.full_clean()
    assert excinfo.value.error_dict["budget_currency"][0].code == "invalid_currency"


def test_an_initiative_cannot_link_to_itself():
    initiative = InitiativeFactory.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        InitiativeLink.objects.create(
            from_initiative=initiative,
            to_initiative=initiative,
            kind=InitiativeLink.Kind.INSPIRED_BY,
        )


def test_the_founding_taxonomies_are_seeded_in_both_languages():
    from django.utils import translation

    from initiatives.models import FocusArea, Sector

    assert FocusArea.objects.count() == 13
    assert Sector.objects.count() == 12
    area = FocusArea.objects.get(slug="open-government")
    with translation.override("fr"):
        assert area.name == "Gouvernement ouvert / gouvernement 2.0"
    with translation.override("en"):
        assert area.name == "Open government / government 2.0"
