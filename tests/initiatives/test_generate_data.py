"""``generate_data``: the shape of the generated set, its reproducibility and its guard rails."""

import hashlib
from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Max, Min
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cities.models import Jurisdiction
from council.models import Organization
from initiatives.generate import (
    CITY_PAGE_SLUG,
    GENERATED_PREFIX,
    REQUIRED_DIVISION_FILE,
    SUBSCRIBER_DOMAIN,
    schema_of,
)
from initiatives.models import (
    Indicator,
    Initiative,
    Milestone,
    Partnership,
    PublicationState,
    Subscription,
    SubscriptionTarget,
)
from initiatives.search import search_initiatives
from tests.conftest import OCD_DATA

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not (OCD_DATA / REQUIRED_DIVISION_FILE).is_file(),
        reason=f"The Open Civic Data files are not beside the checkout ({OCD_DATA.name}).",
    ),
]

# The first rows of the census places file: enough places to spread over, quick to import.
DIVISION_ROWS = 400

Generate = Callable[..., str]


@pytest.fixture
def divisions(tmp_path: Path) -> Path:
    """A folder holding the head of the real census places file."""
    with (OCD_DATA / REQUIRED_DIVISION_FILE).open(encoding="utf-8") as source:
        head = [line for _, line in zip(range(DIVISION_ROWS + 1), source, strict=False)]
    folder = tmp_path / "ocd-division-ids"
    folder.mkdir()
    (folder / REQUIRED_DIVISION_FILE).write_text("".join(head), encoding="utf-8")
    return folder


@pytest.fixture
def generate(divisions: Path) -> Generate:
    def run(*args: str, initiatives: int = 200, subscribers: int = 30, seed: int = 1) -> str:
        out = StringIO()
        call_command(
            "generate_data",
            f"--initiatives={initiatives}",
            f"--subscribers={subscribers}",
            f"--seed={seed}",
            f"--divisions={divisions}",
            *args,
            stdout=out,
        )
        return out.getvalue()

    return run


def generated() -> "list[Initiative]":
    return list(Initiative.objects.filter(slug__startswith=GENERATED_PREFIX))


def checksum() -> str:
    """A digest of every generated row, in a fixed order."""
    digest = hashlib.sha256()
    querysets = [
        Initiative.objects.filter(slug__startswith=GENERATED_PREFIX)
        .order_by("pk")
        .values_list(
            "pk",
            "slug",
            "title",
            "summary",
            "description",
            "language",
            "status",
            "publication_state",
            "jurisdiction__ocd_id",
            "start_date",
            "end_date",
            "budget_amount",
            "budget_currency",
            "lead_organization__slug",
            "created_at",
            "updated_at",
            "published_at",
        ),
        Initiative.focus_areas.through.objects.filter(initiative__slug__startswith=GENERATED_PREFIX)
        .order_by("initiative_id", "focusarea__slug")
        .values_list("initiative__slug", "focusarea__slug"),
        Partnership.objects.filter(initiative__slug__startswith=GENERATED_PREFIX)
        .order_by("pk")
        .values_list("initiative__slug", "organization__slug", "role"),
        Milestone.objects.filter(initiative__slug__startswith=GENERATED_PREFIX)
        .order_by("pk")
        .values_list("initiative__slug", "title", "due_date", "completed_on"),
        Indicator.objects.filter(initiative__slug__startswith=GENERATED_PREFIX)
        .order_by("pk")
        .values_list("initiative__slug", "name", "unit", "baseline", "target"),
        Organization.objects.filter(slug__startswith=GENERATED_PREFIX)
        .order_by("pk")
        .values_list("slug", "name", "kind", "jurisdiction__ocd_id"),
        SubscriptionTarget.objects.filter(subscription__email__endswith=SUBSCRIBER_DOMAIN)
        .order_by("pk")
        .values_list(
            "subscription__email",
            "subscription__language",
            "subscription__frequency",
            "subscription__confirmed_at",
            "kind",
            "jurisdiction__ocd_id",
            "focus_area__slug",
            "organization__slug",
            "initiative__slug",
        ),
    ]
    for queryset in querysets:
        for row in queryset:
            digest.update(repr(row).encode())
    return digest.hexdigest()


def test_counts_and_shape(generate: Generate) -> None:
    """Initiatives have 1 to 5 focus areas, partners, milestones, indicators; subscribers too."""
    output = generate(initiatives=200, subscribers=30)

    rows = generated()
    assert len(rows) == 200
    spread = Initiative.objects.filter(slug__startswith=GENERATED_PREFIX).annotate(
        n=Count("focus_areas")
    )
    bounds = spread.aggregate(low=Min("n"), high=Max("n"))
    assert bounds == {"low": 1, "high": 5}
    assert Partnership.objects.filter(initiative__in=rows).exists()
    assert Milestone.objects.filter(initiative__in=rows).exists()
    assert Indicator.objects.filter(initiative__in=rows).exists()
    assert {row.language for row in rows} == {"en", "fr"}
    states = {row.publication_state for row in rows}
    assert PublicationState.PUBLISHED in states
    assert len(states) > 1
    assert all(row.is_illustrative for row in rows)
    subscriptions = Subscription.objects.filter(email__endswith=SUBSCRIBER_DOMAIN)
    assert subscriptions.count() == 30
    assert not subscriptions.annotate(n=Count("targets")).filter(n=0).exists()
    assert {s.language for s in subscriptions} == {"en", "fr"}
    # The city page case: a tenth of a small set goes to Chicago, all published.
    city = Jurisdiction.objects.get(slug=CITY_PAGE_SLUG)
    in_city = [row for row in rows if row.jurisdiction_id == city.pk]
    assert len(in_city) == 20
    assert {row.publication_state for row in in_city} == {PublicationState.PUBLISHED}
    assert city.get_absolute_url() in output
    # The real divisions were imported, and initiatives reach beyond the demo.
    assert Jurisdiction.objects.filter(
        ocd_id__startswith="ocd-division/country:us/state:ak/"
    ).exists()
    assert len({row.jurisdiction_id for row in rows}) > 10


def test_same_seed_same_rows(generate: Generate) -> None:
    """The same seed gives the same rows; another seed gives others."""
    generate(seed=7)
    first = checksum()
    generate("--replace", seed=7)
    assert checksum() == first
    generate("--replace", seed=8)
    assert checksum() != first


def test_refuses_to_add_a_second_set(generate: Generate) -> None:
    """Without --replace a second run stops with a clear message and changes nothing."""
    generate(initiatives=50)
    with pytest.raises(CommandError, match="--replace"):
        generate(initiatives=80)
    assert len(generated()) == 50


def test_replace_swaps_the_set(generate: Generate) -> None:
    """--replace deletes the old set, with its children, and leaves the demo alone."""
    generate(initiatives=120)
    demo = Initiative.objects.exclude(slug__startswith=GENERATED_PREFIX).count()
    generate("--replace", initiatives=60, subscribers=5)
    assert len(generated()) == 60
    assert Initiative.objects.exclude(slug__startswith=GENERATED_PREFIX).count() == demo
    assert Subscription.objects.filter(email__endswith=SUBSCRIBER_DOMAIN).count() == 5
    assert not Milestone.objects.filter(initiative__isnull=True).exists()


def test_missing_divisions_is_a_clear_error(tmp_path: Path) -> None:
    """A folder without the census places file is named in the error, before any write."""
    empty = tmp_path / "nothing-here"
    with pytest.raises(CommandError, match=REQUIRED_DIVISION_FILE):
        call_command("generate_data", "--initiatives=10", f"--divisions={empty}", stdout=StringIO())
    assert not Initiative.objects.exists()


def test_queries_do_not_grow_with_the_set(generate: Generate) -> None:
    """Rows go in batches: three times the initiatives costs no more queries."""
    generate(initiatives=50)
    with CaptureQueriesContext(connection) as small:
        generate("--replace", initiatives=100, subscribers=10)
    with CaptureQueriesContext(connection) as large:
        generate("--replace", initiatives=300, subscribers=30)
    assert len(large) == len(small)


def test_cached_pages_go_stale(generate: Generate, monkeypatch: pytest.MonkeyPatch) -> None:
    """A load bypasses the signals, so it marks the page cache stale itself, once."""
    calls: list[bool] = []

    def bump() -> bool:
        calls.append(True)
        return True

    monkeypatch.setattr("initiatives.generate.bump_generation", bump)
    generate(initiatives=20)
    assert calls == [True]


def test_generated_data_is_served(generate: Generate, client: Client) -> None:
    """The API, the city page and search answer with the generated set."""
    generate(initiatives=200)

    api = client.get("/api/v1/initiatives/", {"page_size": 50})
    assert api.status_code == 200
    assert len(api.json()["results"]) == 50
    city = Jurisdiction.objects.get(slug=CITY_PAGE_SLUG)
    assert client.get(city.get_absolute_url()).status_code == 200
    search = client.get(reverse("initiatives:search"), {"q": "open data"})
    assert search.status_code == 200
    detail = generated()[0].get_absolute_url()
    assert client.get(detail).status_code == 200


def test_common_terms_match_many(generate: Generate) -> None:
    """A common term such as "broadband" finds a good share of the set, as real data would."""
    generate(initiatives=200)
    published = Initiative.objects.filter(
        slug__startswith=GENERATED_PREFIX, publication_state=PublicationState.PUBLISHED
    )
    matches = search_initiatives(published, "broadband").count()
    assert 10 < matches < published.count()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY and indexes are PostgreSQL's.")
def test_postgresql_copy_leaves_the_schema_as_migrated(generate: Generate) -> None:
    """The COPY path drops and rebuilds indexes and foreign keys: the catalogue ends as it began."""
    tables = [
        Initiative._meta.db_table,
        Initiative.focus_areas.through._meta.db_table,
        Partnership._meta.db_table,
        Milestone._meta.db_table,
        Indicator._meta.db_table,
        Organization._meta.db_table,
        Subscription._meta.db_table,
        SubscriptionTarget._meta.db_table,
    ]
    before = schema_of(tables)
    assert any(name == "initiative_search" for name, _ in before.indexes)
    generate(initiatives=150)
    assert schema_of(tables) == before
    # Sequences were moved past the copied ids: an ordinary insert still works.
    last = Initiative.objects.aggregate(top=Max("pk"))["top"]
    fresh = Initiative.objects.create(
        jurisdiction=Jurisdiction.objects.get(slug=CITY_PAGE_SLUG), title="After", slug="after"
    )
    assert fresh.pk > last
