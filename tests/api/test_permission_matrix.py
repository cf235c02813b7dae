"""
The API's permission matrix: every role against every endpoint, method and object.

The world is a small tree, R > P > {J1, J2}: two sibling jurisdictions and their
parent each hold one published record of every resource, and J1 also holds a
draft initiative and a draft plan (with a milestone and an indicator on the
draft initiative), to check who sees drafts.

The expected outcome of each cell comes from the rule table below, written from
the issue and not from council.permissions, so that the code is checked against
the rules rather than against itself. Each role authenticates as a real API
client would: ``Authorization: Bearer`` with a key made by ``api_key_create``.

A cell checks more than the status code: a listed record is or is not in the
list, a write that succeeds has really changed the database, and a write that
is refused has changed nothing.

The world is built once per module inside a transaction that is rolled back at
the end; each cell runs in its own nested transaction (pytest-django's), so a
cell that deletes or archives a record leaves the next cell the world intact.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from django.db import models, transaction
from pytest_django import DjangoDbBlocker
from rest_framework.test import APIClient

from cities.models import Jurisdiction
from council.models import Coalition, CouncilMembership, Organization
from council.services import api_key_create
from initiatives.models import (
    FocusArea,
    Indicator,
    Initiative,
    Milestone,
    Plan,
    PublicationState,
    Sector,
)
from tests.factories import (
    CoalitionFactory,
    CouncilMembershipFactory,
    IndicatorFactory,
    InitiativeFactory,
    JurisdictionFactory,
    MilestoneFactory,
    OrganizationFactory,
    PlanFactory,
    UserFactory,
)

# ------------------------------------------------------------------------------
# The rule table
# ------------------------------------------------------------------------------

# Each jurisdiction label with the labels it lies within, itself included.
WITHIN: dict[str, frozenset[str]] = {
    "P": frozenset({"P"}),
    "J1": frozenset({"J1", "P"}),
    "J2": frozenset({"J2", "P"}),
}

# Council roles that write (create, change, archive); reviewers only review.
WRITING_COUNCIL_ROLES = frozenset({"editor", "chair"})


@dataclass(frozen=True)
class Role:
    """Who is asking: the key they send, if any, and the council seat its owner holds."""

    name: str
    key: str | None = None  # None: no Authorization header; "read" or "write": the key's kind
    council_role: str | None = None
    seat: str | None = None  # the jurisdiction label of the owner's council membership
    staff: bool = False


ROLES: tuple[Role, ...] = (
    Role("anonymous"),
    Role("read_key", key="read"),  # its owner holds no council role
    Role("editor_j1", key="write", council_role="editor", seat="J1"),
    Role("editor_j2", key="write", council_role="editor", seat="J2"),
    Role("editor_p", key="write", council_role="editor", seat="P"),
    Role("reviewer_j1", key="write", council_role="reviewer", seat="J1"),
    Role("chair_j1", key="write", council_role="chair", seat="J1"),
    Role("staff", key="write", staff=True),
    # A read-only key reads with its owner's rights (drafts included) but never writes.
    Role("read_key_of_editor_j1", key="read", council_role="editor", seat="J1"),
)


@dataclass(frozen=True)
class Target:
    """The object a cell acts on: its jurisdiction and whether it is a draft."""

    name: str
    jurisdiction: str | None  # None for taxonomies, which belong to no jurisdiction
    draft: bool = False


J1, J2, P = Target("J1", "J1"), Target("J2", "J2"), Target("P", "P")
J1_DRAFT = Target("J1draft", "J1", draft=True)
ANYWHERE = Target("any", None)


@dataclass(frozen=True)
class Endpoint:
    """
    A resource under /api/v1/ and what the rules say about it.

    ``label`` is the text field a write changes, ``home`` the lookup from a
    record to its jurisdiction's slug, ``scope_field`` the payload field a
    refused creation is blamed on.
    """

    name: str
    model: type[models.Model]
    lookup: str = "slug"
    label: str = "title"
    home: str = "jurisdiction__slug"
    scope_field: str = "jurisdiction"
    writable: bool = True
    deletable: bool = True
    archives: bool = False  # DELETE archives the record instead of removing it
    drafts: bool = False  # has a draft in J1 to test


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "jurisdictions",
        Jurisdiction,
        label="name",
        home="parent__slug",
        scope_field="parent",
        deletable=False,
    ),
    Endpoint("initiatives", Initiative, archives=True, drafts=True),
    Endpoint("plans", Plan, archives=True, drafts=True),
    Endpoint("organizations", Organization, label="name"),
    Endpoint("coalitions", Coalition, label="name"),
    Endpoint(
        "milestones",
        Milestone,
        lookup="pk",
        home="initiative__jurisdiction__slug",
        scope_field="initiative",
        drafts=True,
    ),
    Endpoint(
        "indicators",
        Indicator,
        lookup="pk",
        label="name",
        home="initiative__jurisdiction__slug",
        scope_field="initiative",
        drafts=True,
    ),
    Endpoint("focus-areas", FocusArea, label="name_en", writable=False),
    Endpoint("sectors", Sector, label="name_en", writable=False),
)

LIST, GET, POST, PUT, PATCH, DELETE = "LIST", "GET", "POST", "PUT", "PATCH", "DELETE"
METHODS = (LIST, GET, POST, PUT, PATCH, DELETE)


def contains(seat: str | None, target: Target) -> bool:
    """Whether the council of ``seat`` covers the target: its jurisdiction or one below it."""
    return (
        seat is not None and target.jurisdiction is not None and seat in WITHIN[target.jurisdiction]
    )


def reads(role: Role, target: Target) -> bool:
    """Anyone reads published records; drafts only staff and any council above them."""
    return not target.draft or role.staff or contains(role.seat, target)


def writes_somewhere(role: Role) -> bool:
    """Staff, editors and chairs write, through a write key; reviewers and read keys never."""
    return role.key == "write" and (role.staff or role.council_role in WRITING_COUNCIL_ROLES)


def writes(role: Role, target: Target) -> bool:
    """Editors and chairs write within their jurisdiction and below it; staff everywhere."""
    return writes_somewhere(role) and (role.staff or contains(role.seat, target))


def expected_status(role: Role, endpoint: Endpoint, method: str, target: Target) -> int:
    """
    The status code the rules give one cell.

    Mapping rules to codes, as the API answers them:
    - A write by someone who may write nowhere is refused before anything else,
      even before 405: 401 without a key (the answer names the Bearer scheme),
      403 with a read key (whoever owns it) or a key whose owner only reviews.
    - Taxonomies take no writes, and jurisdictions no DELETE: 405 for writers.
    - A writer's PUT, PATCH or DELETE on another jurisdiction's object is a 404,
      because writers only find what they may change.
    - A writer's POST into another jurisdiction has no object to miss: it is a
      403 whose errors blame the payload field that names the jurisdiction (or,
      for milestones and indicators, the initiative). A draft initiative the
      writer cannot see is, to them, no initiative at all: a 400.
    """
    if method == LIST:
        return 200
    if method == GET:
        return 200 if reads(role, target) else 404
    if not writes_somewhere(role):
        return 401 if role.key is None else 403
    if not endpoint.writable or (method == DELETE and not endpoint.deletable):
        return 405
    if method == POST:
        if writes(role, target):
            return 201
        # A child may only name an initiative its writer can see; a hidden one does not exist.
        if endpoint.scope_field == "initiative" and not reads(role, target):
            return 400
        return 403
    if not writes(role, target):
        return 404
    return 204 if method == DELETE else 200


# ------------------------------------------------------------------------------
# The cells
# ------------------------------------------------------------------------------


def targets_of(endpoint: Endpoint, method: str) -> tuple[Target, ...]:
    """The objects a method is tried on: taxonomies have one, the rest one per jurisdiction."""
    if not endpoint.writable:
        return (ANYWHERE,)
    # A POST "into" a draft initiative or plan is a POST into J1; children of the
    # draft initiative are another matter, since the initiative must be visible.
    with_draft = endpoint.drafts and not (method == POST and endpoint.lookup == "slug")
    return (J1, J2, P, J1_DRAFT) if with_draft else (J1, J2, P)


@dataclass(frozen=True)
class Cell:
    role: Role
    endpoint: Endpoint
    method: str
    target: Target

    @property
    def id(self) -> str:
        return f"{self.role.name}-{self.endpoint.name}-{self.method}-{self.target.name}"

    @property
    def expected(self) -> int:
        return expected_status(self.role, self.endpoint, self.method, self.target)


CELLS: tuple[Cell, ...] = tuple(
    Cell(role, endpoint, method, target)
    for role in ROLES
    for endpoint in ENDPOINTS
    for method in METHODS
    for target in targets_of(endpoint, method)
)

# Cells where the code breaks the rules: a real permission bug, recorded here
# with its reason so the suite stays green while the bug stays visible.
KNOWN_BUGS: dict[str, str] = {}

# Per role: 7 jurisdictional endpoints x 6 methods x 3 objects, the J1 drafts
# (initiatives and plans without POST: 2 x 5; milestones and indicators: 2 x 6)
# and the 2 taxonomies x 6 methods.
CELLS_PER_ROLE = 7 * 6 * 3 + 2 * 5 + 2 * 6 + 2 * 6
EXPECTED_CELL_COUNT = len(ROLES) * CELLS_PER_ROLE


def _params() -> list[Any]:
    return [
        pytest.param(
            cell,
            id=cell.id,
            marks=(
                [pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[cell.id])]
                if cell.id in KNOWN_BUGS
                else []
            ),
        )
        for cell in CELLS
    ]


# ------------------------------------------------------------------------------
# The world
# ------------------------------------------------------------------------------


@dataclass
class World:
    jurisdictions: dict[str, Jurisdiction]
    initiatives: dict[str, Initiative]
    plans: dict[str, Plan]
    organizations: dict[str, Organization]
    coalitions: dict[str, Coalition]
    milestones: dict[str, Milestone]
    indicators: dict[str, Indicator]
    focus_area: FocusArea
    sector: Sector
    keys: dict[str, str]  # role name -> plain API key

    def record(self, endpoint: Endpoint, target: Target) -> models.Model:
        if endpoint.name == "focus-areas":
            return self.focus_area
        if endpoint.name == "sectors":
            return self.sector
        by_target: dict[str, dict[str, Any]] = {
            "jurisdictions": self.jurisdictions,
            "initiatives": self.initiatives,
            "plans": self.plans,
            "organizations": self.organizations,
            "coalitions": self.coalitions,
            "milestones": self.milestones,
            "indicators": self.indicators,
        }
        record: models.Model = by_target[endpoint.name][target.name]
        return record

    def jurisdiction_slug(self, target: Target) -> str:
        assert target.jurisdiction is not None
        return self.jurisdictions[target.jurisdiction].slug


def _build_world() -> World:
    root = JurisdictionFactory.create(
        kind=Jurisdiction.Kind.COUNTRY,
        name="Matrixland",
        slug="matrix-r",
        ocd_id="ocd-division/country:zz",
    )
    parent = JurisdictionFactory.create(
        kind=Jurisdiction.Kind.STATE,
        name="Matrix State",
        slug="matrix-p",
        ocd_id="ocd-division/country:zz/state:mx",
        parent=root,
    )
    jurisdictions = {"R": root, "P": parent}
    for label in ("J1", "J2"):
        jurisdictions[label] = JurisdictionFactory.create(
            name=f"Matrix City {label}",
            slug=f"matrix-{label.lower()}",
            ocd_id=f"ocd-division/country:zz/state:mx/place:{label.lower()}",
            parent=parent,
        )

    initiatives: dict[str, Initiative] = {}
    plans: dict[str, Plan] = {}
    organizations: dict[str, Organization] = {}
    coalitions: dict[str, Coalition] = {}
    milestones: dict[str, Milestone] = {}
    indicators: dict[str, Indicator] = {}
    for target in (J1, J2, P, J1_DRAFT):
        assert target.jurisdiction is not None
        home = jurisdictions[target.jurisdiction]
        state = PublicationState.DRAFT if target.draft else PublicationState.PUBLISHED
        suffix = target.name.lower()
        initiatives[target.name] = InitiativeFactory.create(
            jurisdiction=home,
            slug=f"initiative-{suffix}",
            title=f"Initiative {target.name}",
            status=Initiative.Status.ACTIVE,
            publication_state=state,
        )
        plans[target.name] = PlanFactory.create(
            jurisdiction=home,
            slug=f"plan-{suffix}",
            title=f"Plan {target.name}",
            publication_state=state,
        )
        milestones[target.name] = MilestoneFactory.create(
            initiative=initiatives[target.name], title=f"Milestone {target.name}"
        )
        indicators[target.name] = IndicatorFactory.create(
            initiative=initiatives[target.name], name=f"Indicator {target.name}"
        )
        if not target.draft:
            # Organizations and coalitions have no publication state.
            organizations[target.name] = OrganizationFactory.create(
                jurisdiction=home, slug=f"organization-{suffix}", name=f"Org {target.name}"
            )
            coalitions[target.name] = CoalitionFactory.create(
                jurisdiction=home, slug=f"coalition-{suffix}", name=f"Coalition {target.name}"
            )

    keys: dict[str, str] = {}
    for role in ROLES:
        if role.key is None:
            continue
        user = UserFactory.create(
            username=f"matrix-{role.name}", is_staff=role.staff, is_superuser=role.staff
        )
        if role.council_role is not None and role.seat is not None:
            CouncilMembershipFactory.create(
                user=user,
                jurisdiction=jurisdictions[role.seat],
                role=CouncilMembership.Role(role.council_role),
            )
        _, plain = api_key_create(user=user, read_only=role.key == "read", actor=user)
        keys[role.name] = plain

    return World(
        jurisdictions=jurisdictions,
        initiatives=initiatives,
        plans=plans,
        organizations=organizations,
        coalitions=coalitions,
        milestones=milestones,
        indicators=indicators,
        # The taxonomies are seeded by a migration; any term will do.
        focus_area=FocusArea.objects.order_by("pk")[0],
        sector=Sector.objects.order_by("pk")[0],
        keys=keys,
    )


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[World]:
    """
    The world, built once and rolled back after the module.

    Each test's own transaction (from the ``db`` fixture) nests inside this one
    as a savepoint, so whatever a cell writes is undone before the next cell.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        yield _build_world()
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _fresh_throttles() -> None:
    """Rate-limit counters live in the cache; a thousand quick cells must not trip them."""
    cache.clear()


# ------------------------------------------------------------------------------
# Requests and payloads
# ------------------------------------------------------------------------------

CHANGED = "Changed by the matrix"
FRESH = "matrix-new"


def client_for(role: Role, world: World) -> APIClient:
    client = APIClient()
    if role.key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.keys[role.name]}")
    return client


def detail_url(endpoint: Endpoint, record: models.Model) -> str:
    return f"/api/v1/{endpoint.name}/{lookup_value(endpoint, record)}/"


def lookup_value(endpoint: Endpoint, record: models.Model) -> str:
    """What names the record in its URL: the slug, or the id for milestones and indicators."""
    return str(record.pk if endpoint.lookup == "pk" else record.serializable_value("slug"))


def create_payload(endpoint: Endpoint, world: World, target: Target) -> dict[str, Any]:
    """A valid new record in the target's jurisdiction (or on the target's initiative)."""
    if target.jurisdiction is None:
        return {"slug": FRESH, "name_en": "Matrix term", "name_fr": "Terme matrice"}
    home = world.jurisdiction_slug(target)
    match endpoint.name:
        case "jurisdictions":
            return {
                "name": "Matrix Village",
                "slug": FRESH,
                "kind": Jurisdiction.Kind.DISTRICT,
                "ocd_id": f"ocd-division/country:zz/state:mx/place:{home}/district:new",
                "parent": home,
            }
        case "initiatives":
            return {
                "title": "New initiative",
                "slug": FRESH,
                "jurisdiction": home,
                "status": "idea",
            }
        case "plans":
            return {"title": "New plan", "slug": FRESH, "jurisdiction": home}
        case "organizations":
            return {"name": "New org", "slug": FRESH, "kind": "university", "jurisdiction": home}
        case "coalitions":
            return {"name": "New coalition", "slug": FRESH, "jurisdiction": home}
        case "milestones":
            return {"initiative": world.initiatives[target.name].slug, "title": FRESH}
        case "indicators":
            return {"initiative": world.initiatives[target.name].slug, "name": FRESH}
    raise AssertionError(endpoint.name)


def replace_payload(endpoint: Endpoint, world: World, target: Target) -> dict[str, Any]:
    """A valid full representation of the target's record, with its label changed."""
    if target.jurisdiction is None:
        term = world.record(endpoint, target)
        return {"slug": term.serializable_value("slug"), "name_en": CHANGED, "name_fr": CHANGED}
    home = world.jurisdiction_slug(target)
    match endpoint.name:
        case "jurisdictions":
            place = world.jurisdictions[target.name]
            assert place.parent is not None
            return {
                "name": CHANGED,
                "slug": place.slug,
                "kind": place.kind,
                "ocd_id": place.ocd_id,
                "parent": place.parent.slug,
            }
        case "initiatives":
            initiative = world.initiatives[target.name]
            return {
                "title": CHANGED,
                "slug": initiative.slug,
                "jurisdiction": home,
                "status": initiative.status,
            }
        case "plans":
            return {"title": CHANGED, "slug": world.plans[target.name].slug, "jurisdiction": home}
        case "organizations":
            organization = world.organizations[target.name]
            return {
                "name": CHANGED,
                "slug": organization.slug,
                "kind": organization.kind,
                "jurisdiction": home,
            }
        case "coalitions":
            coalition = world.coalitions[target.name]
            return {"name": CHANGED, "slug": coalition.slug, "jurisdiction": home}
        case "milestones":
            return {"initiative": world.initiatives[target.name].slug, "title": CHANGED}
        case "indicators":
            return {"initiative": world.initiatives[target.name].slug, "name": CHANGED}
    raise AssertionError(endpoint.name)


def label_of(endpoint: Endpoint, record: models.Model) -> Any:
    """The record's label as stored now; None once the row is gone."""
    return (
        endpoint.model._default_manager.filter(pk=record.pk)
        .values_list(endpoint.label, flat=True)
        .first()
    )


def created(endpoint: Endpoint) -> models.QuerySet[Any]:
    """Whatever a POST of this endpoint's create payload would have made."""
    if endpoint.lookup == "pk":
        return endpoint.model._default_manager.filter(**{endpoint.label: FRESH})
    return endpoint.model._default_manager.filter(slug=FRESH)


# ------------------------------------------------------------------------------
# The matrix
# ------------------------------------------------------------------------------


def test_the_matrix_has_every_cell() -> None:
    """Roles x endpoints x methods x objects, and no cell twice."""
    print(f"permission matrix: {len(CELLS)} cells, {len(KNOWN_BUGS)} known bugs")
    assert len(CELLS) == EXPECTED_CELL_COUNT == 1440
    assert len({cell.id for cell in CELLS}) == len(CELLS)
    assert set(KNOWN_BUGS) <= {cell.id for cell in CELLS}


@pytest.mark.django_db
@pytest.mark.parametrize("cell", _params())
def test_permission_cell(cell: Cell, world: World) -> None:
    """The API answers each cell as the rule table says, and the database agrees."""
    endpoint, target, method = cell.endpoint, cell.target, cell.method
    client = client_for(cell.role, world)
    record = world.record(endpoint, target)
    url = detail_url(endpoint, record)
    before = label_of(endpoint, record)

    if method == LIST:
        response = client.get(f"/api/v1/{endpoint.name}/", {"page_size": 200})
    elif method == GET:
        response = client.get(url)
    elif method == POST:
        payload = create_payload(endpoint, world, target)
        response = client.post(f"/api/v1/{endpoint.name}/", payload, format="json")
    elif method == PUT:
        response = client.put(url, replace_payload(endpoint, world, target), format="json")
    elif method == PATCH:
        response = client.patch(url, {endpoint.label: CHANGED}, format="json")
    else:
        response = client.delete(url)

    assert response.status_code == cell.expected, response.content

    field = "id" if endpoint.lookup == "pk" else endpoint.lookup
    if method == LIST:
        listed = {str(item[field]) for item in response.json()["results"]}
        assert (lookup_value(endpoint, record) in listed) == reads(cell.role, target), listed
    elif method == GET and cell.expected == 200:
        assert str(response.json()[field]) == lookup_value(endpoint, record)
    elif method == POST:
        made = created(endpoint)
        if cell.expected == 201:
            assert list(made.values_list(endpoint.home, flat=True)) == [
                world.jurisdiction_slug(target)
            ]
        else:
            assert not made.exists()
            if cell.expected in (400, 403) and writes_somewhere(cell.role):
                assert endpoint.scope_field in response.json()["errors"], response.content
    elif method in (PUT, PATCH):
        assert label_of(endpoint, record) == (CHANGED if cell.expected == 200 else before)
    elif method == DELETE:
        row = endpoint.model._default_manager.filter(pk=record.pk)
        if cell.expected != 204:
            assert label_of(endpoint, record) == before
            if endpoint.archives:
                assert row.values_list("publication_state", flat=True).get() != (
                    PublicationState.ARCHIVED
                )
        elif endpoint.archives:
            assert row.values_list("publication_state", flat=True).get() == (
                PublicationState.ARCHIVED
            )
        else:
            assert not row.exists()
