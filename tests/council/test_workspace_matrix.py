"""
The workspace's permission matrix: every role against every workspace action, on records in
a jurisdiction, its sibling and its parent.

The world is a small tree, R > P > {J1, J2}. Each of P, J1 and J2 holds a draft initiative,
one in review, a published one, a contribution waiting for moderation and a council
member. Roles sit on J1 (editor, reviewer, chair), on P (editor, chair) and on J2 (editor);
besides them come an anonymous visitor, a signed-in outsider with no seat, and Atlas staff.

The expected outcome comes from the rule table below, written from the product's rules and
not from council.permissions, so the views are checked against the rules rather than
against themselves:

- an anonymous visitor is sent to sign in;
- staff may do everything;
- a member acts on their jurisdiction and everything below it: outside that, every record
  is a 404, so the workspace never confirms what exists elsewhere;
- within scope, any member may look; editors and chairs edit (and restore drafts);
  reviewers and chairs publish, return, moderate and restore what the public sees; chairs
  manage the council. A missing right within scope is a 403.

A cell checks more than the status: an allowed write has changed the database, a refused
one has changed nothing. The world is built once per module inside a transaction rolled
back at the end; each cell runs in its own savepoint.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoDbBlocker

from cities.models import Jurisdiction
from council import history
from council.models import Contribution, CouncilMembership, Invitation
from initiatives.models import Initiative, PublicationState
from initiatives.workflow import edit_version
from tests.conftest import verify_second_factor
from tests.factories import (
    CouncilMembershipFactory,
    InitiativeFactory,
    JurisdictionFactory,
    UserFactory,
)

# ------------------------------------------------------------------------------
# The rule table
# ------------------------------------------------------------------------------

TARGETS = ("J1", "J2", "P")
# Each jurisdiction label with the labels it lies within, itself included.
WITHIN: dict[str, frozenset[str]] = {
    "P": frozenset({"P"}),
    "J1": frozenset({"J1", "P"}),
    "J2": frozenset({"J2", "P"}),
}
# What each council role may do, besides looking.
RIGHTS: dict[str, frozenset[str]] = {
    "editor": frozenset({"edit"}),
    "reviewer": frozenset({"review"}),
    "chair": frozenset({"edit", "review", "manage"}),
}


@dataclass(frozen=True)
class Role:
    name: str
    seat: str | None = None  # the jurisdiction label of the council seat
    council_role: str | None = None
    staff: bool = False
    anonymous: bool = False


ROLES = (
    Role("anonymous", anonymous=True),
    Role("outsider"),
    Role("J1-editor", "J1", "editor"),
    Role("J1-reviewer", "J1", "reviewer"),
    Role("J1-chair", "J1", "chair"),
    Role("P-editor", "P", "editor"),
    Role("P-chair", "P", "chair"),
    Role("J2-editor", "J2", "editor"),
    Role("staff", staff=True),
)


def expected(role: Role, need: str, target: str) -> str:
    """ "ok", "login", "not_found" or "forbidden", from the rules above."""
    if role.anonymous:
        return "login"
    if role.staff:
        return "ok"
    if role.seat is None or role.seat not in WITHIN[target]:
        return "not_found"
    if need == "view":
        return "ok"
    assert role.council_role is not None
    return "ok" if need in RIGHTS[role.council_role] else "forbidden"


# ------------------------------------------------------------------------------
# The world
# ------------------------------------------------------------------------------


@dataclass
class Place:
    jurisdiction: Jurisdiction
    draft: Initiative
    in_review: Initiative
    published: Initiative
    contribution: Contribution
    member: CouncilMembership


@dataclass
class World:
    places: dict[str, Place]
    users: dict[str, User] = field(default_factory=dict)


def _place(label: str, jurisdiction: Jurisdiction) -> Place:
    def initiative(state: str) -> Initiative:
        record = InitiativeFactory.create(
            jurisdiction=jurisdiction,
            slug=f"{label.lower()}-{state}",
            title=f"{label} {state}",
            publication_state=state,
        )
        # A second version a day later, so there is an earlier one to restore.
        record.history.update(history_date=F("history_date") - datetime.timedelta(days=1))
        record.title = f"{label} {state}, renamed"
        record.save()
        return record

    return Place(
        jurisdiction=jurisdiction,
        draft=initiative(PublicationState.DRAFT),
        in_review=initiative(PublicationState.REVIEW),
        published=initiative(PublicationState.PUBLISHED),
        contribution=Contribution.objects.create(
            kind=Contribution.Kind.SUGGESTION,
            state=Contribution.State.PENDING,
            jurisdiction=jurisdiction,
            name="A reader",
            email="reader@example.org",
            title=f"An idea for {label}",
            body="Free Wi-Fi on buses.",
            client_digest="matrix",
        ),
        member=CouncilMembershipFactory.create(
            jurisdiction=jurisdiction,
            user=UserFactory.create(username=f"{label.lower()}-member"),
            role=CouncilMembership.Role.EDITOR,
        ),
    )


def _build_world() -> World:
    root = JurisdictionFactory.create(slug="r", name="R", kind=Jurisdiction.Kind.COUNTRY)
    parent = JurisdictionFactory.create(
        slug="p", name="P", kind=Jurisdiction.Kind.STATE, parent=root
    )
    places = {
        "P": _place("P", parent),
        "J1": _place("J1", JurisdictionFactory.create(slug="j1", name="J1", parent=parent)),
        "J2": _place("J2", JurisdictionFactory.create(slug="j2", name="J2", parent=parent)),
    }
    world = World(places=places)
    for role in ROLES:
        if role.anonymous:
            continue
        user = UserFactory.create(username=role.name.lower(), is_superuser=role.staff)
        if role.seat is not None:
            CouncilMembershipFactory.create(
                user=user, jurisdiction=places[role.seat].jurisdiction, role=role.council_role
            )
        world.users[role.name] = user
    return world


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[World]:
    with django_db_blocker.unblock(), transaction.atomic():
        yield _build_world()
        transaction.set_rollback(True)


def client_for(role: Role, world: World) -> Client:
    client = Client()
    if role.anonymous:
        return client
    user = world.users[role.name]
    client.force_login(user)
    if role.council_role in ("reviewer", "chair"):
        verify_second_factor(client, user)
    return client


# ------------------------------------------------------------------------------
# The actions
# ------------------------------------------------------------------------------


def state_of(initiative: Initiative) -> str:
    return Initiative.objects.values_list("publication_state", flat=True).get(pk=initiative.pk)


@dataclass(frozen=True)
class Action:
    name: str
    need: str  # "view", "edit", "review" or "manage"
    method: str
    url: Callable[[Place], str]
    data: Callable[[Place], dict[str, Any]] = lambda place: {}
    # Reads the part of the world the action changes: it must change when allowed, and
    # stay as it was when refused.
    probe: Callable[[Place], Any] | None = None


def _workflow(action: str, record: Callable[[Place], Initiative]) -> Callable[[Place], str]:
    return lambda place: reverse(
        f"council:workspace:{action}", kwargs={"kind": "initiatives", "slug": record(place).slug}
    )


def _latest_version(initiative: Initiative) -> dict[str, str]:
    # The version before the current one.
    return {"version": history.version_times(initiative)[1].isoformat()}


ACTIONS = (
    Action(
        "records",
        "view",
        "get",
        lambda p: reverse("council:editing:jurisdiction-records", args=[p.jurisdiction.slug]),
    ),
    Action(
        "edit page",
        "edit",
        "get",
        lambda p: reverse("council:editing:initiative-edit", args=[p.published.slug]),
    ),
    Action(
        "new initiative page",
        "edit",
        "get",
        lambda p: reverse("council:editing:initiative-create", args=[p.jurisdiction.slug]),
    ),
    Action(
        "profile page",
        "edit",
        "get",
        lambda p: reverse("council:editing:jurisdiction-profile", args=[p.jurisdiction.slug]),
    ),
    Action(
        "submit",
        "edit",
        "post",
        _workflow("submit", lambda p: p.draft),
        probe=lambda p: state_of(p.draft),
    ),
    Action(
        "publish",
        "review",
        "post",
        _workflow("publish", lambda p: p.in_review),
        data=lambda p: {"version": edit_version(p.in_review)},
        probe=lambda p: state_of(p.in_review),
    ),
    Action(
        "return",
        "review",
        "post",
        _workflow("return", lambda p: p.in_review),
        data=lambda p: {"note": "Add a source, please.", "version": edit_version(p.in_review)},
        probe=lambda p: state_of(p.in_review),
    ),
    Action(
        "archive",
        "edit",
        "post",
        _workflow("archive", lambda p: p.published),
        probe=lambda p: state_of(p.published),
    ),
    Action(
        "review page",
        "view",
        "get",
        lambda p: reverse(
            "council:workspace:review-detail",
            kwargs={"kind": "initiatives", "slug": p.in_review.slug},
        ),
    ),
    Action(
        "history",
        "view",
        "get",
        lambda p: reverse(
            "council:history:record-history",
            kwargs={"kind": "initiatives", "slug": p.published.slug},
        ),
    ),
    Action(
        "restore published",
        "review",
        "post",
        lambda p: reverse(
            "council:history:restore", kwargs={"kind": "initiatives", "slug": p.published.slug}
        ),
        data=lambda p: _latest_version(p.published),
        probe=lambda p: p.published.history.count(),
    ),
    Action(
        "restore draft",
        "edit",
        "post",
        lambda p: reverse(
            "council:history:restore", kwargs={"kind": "initiatives", "slug": p.draft.slug}
        ),
        data=lambda p: _latest_version(p.draft),
        probe=lambda p: p.draft.history.count(),
    ),
    Action(
        "audit log",
        "view",
        "get",
        lambda p: reverse("council:history:audit-log", args=[p.jurisdiction.slug]),
    ),
    Action(
        "members",
        "view",
        "get",
        lambda p: reverse("council:members:list", args=[p.jurisdiction.slug]),
    ),
    Action(
        "invite",
        "manage",
        "post",
        lambda p: reverse("council:members:invite", args=[p.jurisdiction.slug]),
        data=lambda p: {"email": "newcomer@example.org", "role": "editor"},
        probe=lambda p: Invitation.objects.filter(jurisdiction=p.jurisdiction).count(),
    ),
    Action(
        "change role",
        "manage",
        "post",
        lambda p: reverse("council:members:change-role", args=[p.jurisdiction.slug, p.member.pk]),
        data=lambda p: {f"m{p.member.pk}-role": "reviewer"},
        probe=lambda p: CouncilMembership.objects.get(pk=p.member.pk).role,
    ),
    Action(
        "moderate",
        "review",
        "post",
        lambda p: reverse("council:contributions:moderation-accept", args=[p.contribution.pk]),
        probe=lambda p: Contribution.objects.get(pk=p.contribution.pk).state,
    ),
    Action(
        "import page",
        "edit",
        "get",
        lambda p: reverse("council:csv:import", args=[p.jurisdiction.slug]),
    ),
    Action(
        "export",
        "view",
        "get",
        lambda p: reverse("council:csv:export", args=[p.jurisdiction.slug]),
    ),
)

CELLS = [(role, action, target) for role in ROLES for action in ACTIONS for target in TARGETS]


def outcome(response: Any) -> str:
    if response.status_code == 302 and "/accounts/login/" in response["Location"]:
        return "login"
    if response.status_code in (200, 302):
        return "ok"
    return {403: "forbidden", 404: "not_found"}.get(response.status_code, str(response.status_code))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "action", "target"),
    CELLS,
    ids=[f"{r.name}-{a.name.replace(' ', '_')}-{t}" for r, a, t in CELLS],
)
def test_cell(world: World, role: Role, action: Action, target: str) -> None:
    place = world.places[target]
    before = action.probe(place) if action.probe else None
    client = client_for(role, world)
    response = getattr(client, action.method)(action.url(place), action.data(place))

    want = expected(role, action.need, target)
    assert outcome(response) == want, (
        f"{role.name} {action.name} in {target}: {response.status_code}"
    )
    if action.probe is not None:
        after = action.probe(place)
        if want == "ok":
            assert after != before, f"{role.name} {action.name} in {target} changed nothing"
        else:
            assert after == before, f"{role.name} {action.name} in {target} changed the world"


def test_the_matrix_covers_every_role_action_and_place() -> None:
    assert len(CELLS) == len(ROLES) * len(ACTIONS) * len(TARGETS)
    # Each outcome occurs, so no rule is vacuous.
    outcomes = {expected(r, a.need, t) for r, a, t in CELLS}
    assert outcomes == {"ok", "login", "not_found", "forbidden"}


@pytest.mark.django_db
def test_a_refusal_is_a_page_that_says_why(world: World) -> None:
    client = client_for(ROLES[3], world)  # the J1 reviewer, who may not edit
    response = client.get(
        reverse("council:editing:initiative-edit", args=[world.places["J1"].published.slug])
    )
    assert response.status_code == 403
    assert b"You may not do this" in response.content
    assert b"Nothing was changed" in response.content
