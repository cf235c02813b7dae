"""The demo seed: real ids, sourced facts, a workflow to show, and safe to run twice."""

import csv
import datetime
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import models, transaction
from django.test import RequestFactory
from django.utils import timezone

from cities.models import Jurisdiction
from council.models import Coalition, CoalitionMembership, CouncilMembership, Organization
from council.permissions import can_edit, can_review
from initiatives.demo import DemoSummary, demo_seed, minted_commune_id
from initiatives.models import (
    Indicator,
    Initiative,
    InitiativeLink,
    Measurement,
    Milestone,
    Plan,
    PublicationState,
)

pytestmark = pytest.mark.django_db

PASSWORD = "demo-password-for-tests"
DOMAIN_APPS = ("cities", "initiatives", "council")


@pytest.fixture(scope="module")
def seeded_once(django_db_setup: None, django_db_blocker: Any) -> Iterator[DemoSummary]:
    """
    Seed once per module, inside a transaction rolled back when the module ends.

    Each test's own transaction nests inside it as a savepoint, so tests still see
    the seed fresh and cannot leak rows into other modules.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        summary = demo_seed(password=PASSWORD)
        yield summary
        transaction.set_rollback(True)


@pytest.fixture
def seeded(seeded_once: DemoSummary, db: None) -> DemoSummary:
    return seeded_once


def row_counts() -> dict[str, int]:
    """Rows of every domain model and through table, plus users; history may grow."""
    domain: list[type[models.Model]] = [
        model
        for app in DOMAIN_APPS
        for model in apps.get_app_config(app).get_models(include_auto_created=True)
        if not model.__name__.startswith("Historical")
    ]
    counted: list[type[models.Model]] = [*domain, User]
    return {m._meta.label: m._default_manager.count() for m in counted}


def place(slug: str) -> Jurisdiction:
    return Jurisdiction.objects.get(slug=slug)


# ------------------------------------------------------------------ idempotence


def test_second_run_leaves_every_count_unchanged(seeded):
    before = row_counts()
    summary = demo_seed(password=PASSWORD)
    assert row_counts() == before
    assert summary.created == 0


def test_run_on_a_later_day_moves_relative_milestones_instead_of_adding_rows(seeded):
    """Milestone dates follow today's date, but a re-run updates the same rows."""
    milestone = Milestone.objects.get(title="Open navigator desks in five branches")
    due = milestone.due_date
    assert due is not None
    before = row_counts()
    with time_machine.travel(timezone.now() + datetime.timedelta(days=30)):
        demo_seed(password=PASSWORD)
    milestone.refresh_from_db()
    assert milestone.due_date == due + datetime.timedelta(days=30)
    assert row_counts() == before


def test_summary_counts_match_the_database(seeded):
    assert seeded.initiatives == Initiative.objects.count()
    assert seeded.jurisdictions == Jurisdiction.objects.count()
    assert seeded.organizations == Organization.objects.count()
    assert seeded.milestones == Milestone.objects.count()


# ------------------------------------------------------------------ identifiers


@pytest.mark.parametrize(
    ("slug", "ocd_id"),
    [
        ("chicago", "ocd-division/country:us/state:il/place:chicago"),
        ("new-york-city", "ocd-division/country:us/state:ny/place:new_york"),
        ("boston", "ocd-division/country:us/state:ma/place:boston"),
        ("austin", "ocd-division/country:us/state:tx/place:austin"),
    ],
)
def test_us_places_carry_the_official_ocd_id(seeded, slug, ocd_id):
    assert place(slug).ocd_id == ocd_id
    assert not place(slug).ocd_id_minted


def test_paris_is_the_ocd_department_ville_de_paris(seeded):
    paris = place("paris")
    assert paris.ocd_id == "ocd-division/country:fr/region:if/department:vp"
    assert paris.kind == Jurisdiction.Kind.PLACE


@pytest.mark.parametrize(
    ("slug", "ocd_id"),
    [
        ("chicago-metro", "ocd-division/country:us/state:il/metro:chicago"),
        ("lyon", "ocd-division/country:fr/region:ar/department:rh/commune:lyon"),
    ],
)
def test_divisions_ocd_lacks_get_a_minted_id_flagged_as_such(seeded, slug, ocd_id):
    assert place(slug).ocd_id == ocd_id
    assert place(slug).ocd_id_minted


def test_only_the_metro_area_and_lyon_are_minted(seeded):
    minted = set(Jurisdiction.objects.filter(ocd_id_minted=True).values_list("slug", flat=True))
    assert minted == {"chicago-metro", "lyon"}


def test_minted_commune_id_lowercases_keeps_accents_and_underscores_apostrophes():
    parent = "ocd-division/country:fr/region:if/department:ss"
    assert (
        minted_commune_id(parent_ocd_id=parent, name="L'Île-Saint-Denis")
        == f"{parent}/commune:l_île-saint-denis"
    )


def test_unminted_ids_appear_in_the_official_ocd_files(seeded, ocd_data: Path):
    """US places and French divisions match the shared files (US states are not in them)."""
    official: set[str] = set()
    for name in ("us_census_places.csv", "country-fr.csv"):
        with (ocd_data / name).open(encoding="utf-8") as handle:
            official.update(row["id"] for row in csv.DictReader(handle))
    checked = Jurisdiction.objects.filter(ocd_id_minted=False).exclude(
        kind__in=[Jurisdiction.Kind.COUNTRY, Jurisdiction.Kind.STATE],
        ocd_id__startswith="ocd-division/country:us",
    )
    assert checked.count() >= 8
    assert {j.ocd_id for j in checked} <= official


def test_jurisdictions_form_the_stated_tree(seeded):
    chain = [j.slug for j in place("chicago").ancestors(include_self=True)]
    assert chain == ["united-states", "illinois", "chicago-metro", "chicago"]
    assert [j.slug for j in place("lyon").ancestors()] == [
        "france",
        "auvergne-rhone-alpes",
        "rhone",
    ]


# ------------------------------------------------------------------ facts and sources


def test_every_organization_kind_is_present(seeded):
    kinds = set(Organization.objects.values_list("kind", flat=True))
    assert kinds == set(Organization.Kind.values)


def test_every_initiative_has_at_least_one_source(seeded):
    assert not Initiative.objects.filter(sources__isnull=True).exists()


@pytest.mark.parametrize("model", [Jurisdiction, Plan, Organization, Coalition])
def test_every_record_of_the_model_has_a_source_url(seeded, model):
    assert model.objects.count() > 0
    assert not model.objects.filter(source_url="").exists()


def test_every_seeded_record_passes_model_validation(seeded):
    """Validators (ISO codes, time zones, URLs, OCD ids, currencies) accept the data."""
    for model in (Jurisdiction, Organization, Plan, Initiative, Coalition, CoalitionMembership):
        for obj in model.objects.all():
            obj.full_clean()


def test_illustrative_coalitions_and_initiatives_are_flagged(seeded):
    assert Coalition.objects.get(name="Chicago Council for Digital Era Leadership").is_illustrative
    assert Initiative.objects.filter(is_illustrative=True).exists()
    assert Initiative.objects.filter(is_illustrative=False).count() > 20


def test_relative_milestones_hang_only_off_illustrative_initiatives(seeded):
    """Dates computed from today are not facts, so real initiatives carry none."""
    today = timezone.localdate()
    recent = Milestone.objects.filter(due_date__gte=today - datetime.timedelta(days=365))
    assert recent.exists()
    assert not recent.filter(initiative__is_illustrative=False).exists()


def test_measurements_of_real_initiatives_cite_a_source(seeded):
    """Only illustrative initiatives may carry unsourced (invented) measurements."""
    real = Measurement.objects.filter(indicator__initiative__is_illustrative=False)
    assert real.count() >= 3
    assert not real.filter(source_url="").exists()


# ------------------------------------------------------------------ content for the demo


def test_initiatives_per_jurisdiction(seeded):
    def count(slug: str) -> int:
        return Initiative.objects.filter(jurisdiction__slug=slug).count()

    assert count("chicago") >= 6
    assert count("new-york-city") >= 6
    for slug in ("boston", "austin", "paris", "lyon"):
        assert count(slug) >= 3
    assert count("illinois") >= 1


def test_milestones_include_due_soon_overdue_and_done(seeded):
    today = timezone.localdate()
    open_ = Milestone.objects.filter(completed_on__isnull=True)
    assert open_.filter(due_date__gte=today, due_date__lte=today + datetime.timedelta(days=14))
    assert open_.filter(due_date__lt=today).exists()
    assert Milestone.objects.filter(completed_on__isnull=False).exists()


def test_several_initiatives_have_indicators_with_three_measurements(seeded):
    assert Indicator.objects.count() >= 3
    for indicator in Indicator.objects.all():
        assert indicator.measurements.count() >= 3, indicator.name
    with_indicators = Initiative.objects.filter(indicators__isnull=False).distinct()
    assert with_indicators.count() >= 3


def test_statuses_and_publication_states_vary(seeded):
    assert set(Initiative.objects.values_list("status", flat=True)) == set(Initiative.Status.values)
    states = list(Initiative.objects.values_list("publication_state", flat=True))
    assert states.count(PublicationState.DRAFT) >= 1
    assert states.count(PublicationState.REVIEW) >= 1
    assert states.count(PublicationState.PUBLISHED) > len(states) / 2


def test_published_initiatives_have_a_publication_time_and_others_none(seeded):
    published = Initiative.objects.filter(publication_state=PublicationState.PUBLISHED)
    assert not published.filter(published_at__isnull=True).exists()
    assert not Initiative.objects.exclude(publication_state=PublicationState.PUBLISHED).filter(
        published_at__isnull=False
    )


def test_lyon_portal_is_adapted_from_paris_portal(seeded):
    assert InitiativeLink.objects.filter(
        from_initiative__slug="data-grandlyon",
        to_initiative__slug="paris-data",
        kind=InitiativeLink.Kind.ADAPTED_FROM,
    ).exists()


def test_one_coalition_membership_has_ended(seeded):
    ended = CoalitionMembership.objects.filter(until__isnull=False)
    assert ended.count() >= 1
    assert CoalitionMembership.objects.filter(until__isnull=True).count() > ended.count()


def test_french_content_is_marked_french(seeded):
    for model in (Plan, Initiative):
        french = model.objects.filter(jurisdiction__slug__in=["paris", "lyon"])
        assert french.exists()
        assert set(french.values_list("language", flat=True)) == {"fr"}
        others = model.objects.exclude(jurisdiction__slug__in=["paris", "lyon"])
        assert set(others.values_list("language", flat=True)) == {"en"}


def test_history_names_admin_as_the_actor(seeded):
    admin = User.objects.get(username="admin")
    initiative = Initiative.objects.get(slug="chicago-data-portal")
    assert initiative.history.first().history_user == admin
    assert initiative.created_by == admin


# ------------------------------------------------------------------ demo accounts


@pytest.mark.parametrize(
    "username", ["admin", "chicago-editor", "chicago-reviewer", "illinois-editor", "nyc-editor"]
)
def test_demo_user_logs_in_with_the_password(seeded, username):
    # The lockout backend needs the request: it keys failures on the address too.
    request = RequestFactory().post("/en/accounts/login/")
    assert authenticate(request, username=username, password=PASSWORD) is not None


def test_admin_is_staff_and_superuser(seeded):
    admin = User.objects.get(username="admin")
    assert admin.is_staff
    assert admin.is_superuser


@pytest.mark.parametrize(
    ("username", "slug", "role"),
    [
        ("chicago-editor", "chicago", CouncilMembership.Role.EDITOR),
        ("chicago-reviewer", "chicago", CouncilMembership.Role.REVIEWER),
        ("illinois-editor", "illinois", CouncilMembership.Role.EDITOR),
        ("nyc-editor", "new-york-city", CouncilMembership.Role.EDITOR),
    ],
)
def test_council_member_is_staff_with_the_stated_role_and_a_public_name(
    seeded, username, slug, role
):
    membership = CouncilMembership.objects.get(user__username=username)
    assert membership.jurisdiction.slug == slug
    assert membership.role == role
    assert membership.public_name
    assert membership.user.is_staff
    assert not membership.user.is_superuser


def test_illinois_editor_may_edit_chicago_but_not_new_york_city(seeded):
    editor = User.objects.get(username="illinois-editor")
    assert can_edit(editor, Initiative.objects.get(slug="chicago-data-portal"))
    assert can_edit(editor, Initiative.objects.get(slug="connect-illinois"))
    assert not can_edit(editor, Initiative.objects.get(slug="nyc-open-data-law"))


def test_chicago_reviewer_may_review_but_not_edit_chicago(seeded):
    reviewer = User.objects.get(username="chicago-reviewer")
    in_review = Initiative.objects.get(slug="chicago-digital-navigators")
    assert in_review.publication_state == PublicationState.REVIEW
    assert can_review(reviewer, in_review)
    assert not can_edit(reviewer, in_review)


def test_rerun_resets_passwords_and_leaves_everything_else(seeded):
    user = User.objects.get(username="chicago-editor")
    user.set_password("changed-by-the-user")
    user.first_name = "Renamed"
    user.save()
    membership = CouncilMembership.objects.get(user=user)
    membership.public_name = "Chosen by the chair"
    membership.save()

    demo_seed(password=PASSWORD)

    user.refresh_from_db()
    membership.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert user.first_name == "Renamed"
    assert membership.public_name == "Chosen by the chair"


# ------------------------------------------------------------------ the command


def test_command_prints_counts_and_accounts(settings):
    settings.DEMO_PASSWORD = PASSWORD
    out = StringIO()
    call_command("seed_demo", stdout=out)
    output = out.getvalue()
    assert "Initiatives" in output
    assert "illinois-editor (editor of illinois)" in output
    assert PASSWORD not in output
    request = RequestFactory().post("/en/accounts/login/")
    assert authenticate(request, username="nyc-editor", password=PASSWORD) is not None


def test_command_refuses_to_run_under_production_settings(settings):
    settings.ATLAS_ENVIRONMENT = "production"
    settings.DEMO_PASSWORD = "not-applied"
    before = row_counts()
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo", stdout=StringIO())
    assert row_counts() == before
    request = RequestFactory().post("/en/accounts/login/")
    assert authenticate(request, username="admin", password="not-applied") is None
