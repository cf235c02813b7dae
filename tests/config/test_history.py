"""History from day one: every editable model records who changed what, and when."""

from typing import Any

import pytest
from django.apps import apps
from django.db import models

from tests import factories

pytestmark = pytest.mark.django_db

DOMAIN_APPS = ("cities", "initiatives", "council")
# Logs and ledgers: an event is written once; a delivery row only moves from
# pending to sent or failed, and keeps its own attempts and errors.
APPEND_ONLY = frozenset({"ChangeEvent", "DigestDelivery", "OutgoingEmail", "ReminderDelivery"})
# Counts derived from the catalogue (cities.coverage), rebuilt from it at any time.
DERIVED = frozenset({"Coverage", "CoverageSpread", "AtlasTotal"})


def domain_models() -> list[type[models.Model]]:
    return [
        model
        for app in DOMAIN_APPS
        for model in apps.get_app_config(app).get_models()
        if not model.__name__.startswith("Historical")
        and not model._meta.auto_created
        and model.__name__ not in APPEND_ONLY | DERIVED
    ]


@pytest.mark.parametrize("model", domain_models(), ids=lambda m: m.__name__)
def test_every_domain_model_keeps_history(model):
    assert hasattr(model, "history"), f"{model.__name__} has no HistoricalRecords"


FACTORY_FOR: dict[str, Any] = {
    "Jurisdiction": factories.JurisdictionFactory,
    "Initiative": factories.InitiativeFactory,
    "Plan": factories.PlanFactory,
    "Milestone": factories.MilestoneFactory,
    "Indicator": factories.IndicatorFactory,
    "Measurement": factories.MeasurementFactory,
    "Partnership": factories.PartnershipFactory,
    "Source": factories.SourceFactory,
    "Organization": factories.OrganizationFactory,
    "Coalition": factories.CoalitionFactory,
    "CoalitionMembership": factories.CoalitionMembershipFactory,
    "CouncilMembership": factories.CouncilMembershipFactory,
}


@pytest.mark.parametrize("name", sorted(FACTORY_FOR))
def test_create_update_and_delete_each_leave_a_history_row(name, staff_user):
    obj = FACTORY_FOR[name].create()
    assert obj.history.count() == 1
    assert obj.history.first().history_type == "+"

    obj._history_user = staff_user
    obj.save()
    latest = obj.history.first()
    assert obj.history.count() == 2
    assert latest.history_type == "~"
    assert latest.history_user == staff_user

    model, pk = type(obj), obj.pk
    if name == "Jurisdiction":
        # Jurisdictions are protected from deletion while anything refers to them.
        return
    obj.delete()
    assert model.history.filter(id=pk).first().history_type == "-"


def test_history_keeps_the_changed_values(atlas_map):
    initiative = factories.InitiativeFactory.create(title="Before", jurisdiction=atlas_map.chicago)
    initiative.title = "After"
    initiative.save()
    newer, older = initiative.history.all()[:2]
    delta = newer.diff_against(older)
    assert [(c.field, c.old, c.new) for c in delta.changes] == [("title", "Before", "After")]


def test_focus_area_changes_are_part_of_initiative_history(atlas_map):
    from initiatives.models import FocusArea

    initiative = factories.InitiativeFactory.create(jurisdiction=atlas_map.chicago)
    initiative.focus_areas.set(FocusArea.objects.filter(slug="open-government"))
    initiative.save()
    latest = initiative.history.first()
    assert [a.focusarea.slug for a in latest.focus_areas.all()] == ["open-government"]


def test_requests_record_the_signed_in_user_as_actor(client, staff_user, atlas_map):
    """The history middleware gives every save made during a request its user."""
    from simple_history.models import HistoricalRecords

    client.force_login(staff_user)
    # Any request passes through the middleware; the thread-local it sets is what
    # the history signal reads while the view runs.
    captured = {}

    def spy(request):
        captured["user"] = HistoricalRecords.context.request.user
        from django.http import HttpResponse

        return HttpResponse("ok")

    from django.test import override_settings
    from django.urls import path

    urlconf = type("urls", (), {"urlpatterns": [path("spy", spy)]})
    with override_settings(ROOT_URLCONF=urlconf):
        assert client.get("/spy").status_code == 200
    assert captured["user"] == staff_user
