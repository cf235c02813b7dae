"""
A large, realistic and reproducible data set for load tests: ``manage.py generate_data``.

What it builds
--------------
Jurisdictions are real: the demo seed (if absent) and the Open Civic Data division
files, through ``cities.services.divisions_import``. Everything else is invented,
so it is marked ``is_illustrative`` and keyed so it can be found again: slugs start
with ``gen-`` and subscriber addresses end with ``@generated.example``. Initiatives
spread over jurisdictions with a Zipf-like skew (a few places hold many, most hold
a handful), except one demo city, Chicago, which gets exactly
``CITY_PAGE_INITIATIVES`` published ones: the load test's "city page" case.

Reproducibility
---------------
One ``random.Random(seed)`` draws every value in a fixed order, and every date is
an offset from ``BASE_DATE``, never from the clock, so the same seed on the same
jurisdictions gives the same rows, ids included. Rows are written with explicit
ids and explicit timestamps; that is also why the portable path uses
``executemany`` rather than ``bulk_create``, which would stamp the ``auto_now``
fields with the current time.

History and change events
-------------------------
A generated set is an import, not a series of edits: no simple-history rows and
no ``ChangeEvent`` rows are written. History rows would double the volume and
claim edits nobody made, and change events would fill every subscriber's next
digest with a million "published" notices.

PostgreSQL
----------
Rows are streamed with ``COPY … FROM STDIN`` in batches, one batch being sent
on a second thread while the next is generated, so Python and the server work
at the same time on two cores. Around the load the secondary indexes and foreign
keys of the loaded tables are dropped and recreated from their own catalogue
definitions (PostgreSQL's advice for populating a database: one sorted build
and one validating join are far cheaper than per-row maintenance); the schema
is compared before and after, and a difference aborts the transaction. The
full-text search index is an expression index (``initiatives.search``), so the
generated rows are searchable exactly like edited ones once it is rebuilt.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import time
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from itertools import accumulate
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.color import no_style
from django.db import DatabaseError, connection, models, transaction
from django.utils.text import slugify

from cities.coverage import coverage_rebuild
from cities.models import Jurisdiction
from cities.services import DivisionImportError, divisions_import
from config.page_cache import bump_generation
from council.models import Organization
from initiatives.demo import demo_seed
from initiatives.models import (
    ContentLanguage,
    FocusArea,
    Frequency,
    Indicator,
    Initiative,
    Milestone,
    Partnership,
    PublicationState,
    Sector,
    Subscription,
    SubscriptionTarget,
)

GENERATED_PREFIX = "gen-"
ORGANIZATION_PREFIX = "gen-org-"
SUBSCRIBER_DOMAIN = "@generated.example"
# The demo city that the load test's "city page" case reads.
CITY_PAGE_SLUG = "chicago"
CITY_PAGE_INITIATIVES = 1_000
BASE_DATE = dt.date(2026, 11, 1)
BASE_TIME = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
DEFAULT_DIVISIONS = Path(settings.BASE_DIR).parent / "shared" / "data" / "ocd-division-ids"
# us_census_places.csv is required; the others are imported when present (about
# 15,000 more rows, a few seconds).
REQUIRED_DIVISION_FILE = "us_census_places.csv"
OPTIONAL_DIVISION_FILES = ("country-ca.csv", "country-fr.csv", "country-gb.csv")
DEFAULT_BATCH_SIZE = 50_000
# Zipf exponent of the jurisdiction skew: the busiest place holds about 3 % of
# the initiatives, the median one a handful.
SKEW = 0.8
KIND_WEIGHT: dict[str, float] = {
    Jurisdiction.Kind.COUNTRY: 4.0,
    Jurisdiction.Kind.STATE: 2.0,
    Jurisdiction.Kind.REGION: 0.5,
    Jurisdiction.Kind.METRO: 1.0,
    Jurisdiction.Kind.COUNTY: 0.5,
    Jurisdiction.Kind.PLACE: 1.0,
    Jurisdiction.Kind.DISTRICT: 0.05,
}
CURRENCY_BY_COUNTRY = {"us": "USD", "ca": "CAD", "fr": "EUR", "gb": "GBP"}

Row = tuple[Any, ...]


class GenerationError(Exception):
    """The data set cannot be generated as asked; the message says why."""


# ------------------------------------------------------------------------------
# Vocabulary
# ------------------------------------------------------------------------------

EN_PREFIXES = (
    "Citywide",
    "Regional",
    "Community",
    "Smart",
    "Digital",
    "Open",
    "Rural",
    "Municipal",
    "Neighborhood",
    "Public",
    "Inclusive",
    "Connected",
    "Resilient",
    "Youth",
    "Next-Generation",
)
EN_TOPICS = (
    "Open Data Portal",
    "Broadband Expansion",
    "Digital Inclusion",
    "Smart Streetlights",
    "Cybersecurity Training",
    "Digital Skills Academy",
    "Public Wi-Fi",
    "Fiber Network",
    "E-Government Services",
    "Civic Tech Fellowship",
    "Data Governance",
    "AI Ethics Review",
    "Digital Equity Fund",
    "Tech Talent Pipeline",
    "Startup Incubator",
    "Innovation District",
    "311 Modernization",
    "Open Source Procurement",
    "Library Hotspot Lending",
    "Telehealth Access",
    "Digital Literacy",
    "Smart Mobility",
    "Cloud Migration",
    "Geospatial Data Platform",
    "Participatory Budgeting Platform",
    "Museum Digitization",
    "Coding Bootcamp",
    "5G Pilot",
    "Digital Identity",
    "Online Permitting",
)
EN_SUFFIXES = (
    "Program",
    "Initiative",
    "Pilot",
    "Strategy",
    "Partnership",
    "Project",
    "Plan",
    "Challenge",
    "Network",
    "Lab",
)
EN_SUBJECTS = (
    "The city",
    "The county",
    "A coalition of local partners",
    "The mayor's office",
    "The public library system",
    "The economic development agency",
    "The state broadband office",
    "A regional university",
)
EN_VERBS = ("expands", "launches", "modernizes", "funds", "pilots", "scales up", "coordinates")
EN_OBJECTS = (
    "open data publishing",
    "broadband access for low-income households",
    "digital skills training for older adults",
    "free public Wi-Fi in parks and libraries",
    "cybersecurity support for small businesses",
    "online services for residents",
    "a shared data platform for city departments",
    "computer science classes in public schools",
    "fiber to community anchor institutions",
    "device lending and tech support",
)
EN_TAILS = (
    "across every neighborhood",
    "in partnership with universities and employers",
    "with a focus on digital equity",
    "by the end of the plan period",
    "using open standards and open source software",
    "with measurable targets published each quarter",
)
FR_PREFIXES = ("Plan", "Programme", "Projet", "Initiative", "Stratégie", "Feuille de route")
FR_TOPICS = (
    "de données ouvertes",
    "de très haut débit",
    "d'inclusion numérique",
    "de cybersécurité",
    "de services publics en ligne",
    "de médiation numérique",
    "de fibre optique",
    "d'éclairage intelligent",
    "de numérisation du patrimoine",
    "de formation au numérique",
)
FR_SUFFIXES = ("métropolitain", "régional", "communal", "solidaire", "pour tous", "territorial")
FR_SENTENCES = (
    "La ville déploie le très haut débit dans tous les quartiers.",
    "Le département finance la médiation numérique pour les aînés.",
    "La métropole publie ses données ouvertes sous licence libre.",
    "Les bibliothèques prêtent des ordinateurs et des points d'accès Wi-Fi.",
    "La région soutient la cybersécurité des petites entreprises.",
    "Les services publics en ligne sont simplifiés avec les habitants.",
)
MILESTONES_EN = (
    "Kick-off",
    "Vendor selected",
    "Pilot launched",
    "Public beta",
    "Citywide rollout",
    "Evaluation report published",
    "Funding secured",
    "Community consultation",
)
MILESTONES_FR = (
    "Lancement",
    "Prestataire choisi",
    "Expérimentation lancée",
    "Version bêta publique",
    "Déploiement général",
    "Rapport d'évaluation publié",
)
INDICATORS = (
    ("Households connected", "households", 0, 50_000),
    ("Residents trained", "people", 0, 20_000),
    ("Datasets published", "datasets", 10, 800),
    ("Median download speed", "Mbps", 25, 1_000),
    ("Services available online", "%", 20, 100),
    ("Hotspots lent", "devices", 0, 5_000),
    ("Startups supported", "companies", 0, 300),
)
ORGANIZATION_NAMES = {
    Organization.Kind.UNIVERSITY: ("Institute of Technology", "State University"),
    Organization.Kind.CHAMBER_OF_COMMERCE: ("Chamber of Commerce",),
    Organization.Kind.FOUNDATION: ("Digital Futures Foundation", "Community Foundation"),
    Organization.Kind.ECONOMIC_DEVELOPMENT_AGENCY: ("Economic Development Corporation",),
    Organization.Kind.COMPANY: ("Fiber Company", "Data Systems"),
    Organization.Kind.STARTUP: ("Civic Labs",),
    Organization.Kind.NON_PROFIT: ("Digital Equity Coalition", "Code for Good"),
    Organization.Kind.INCUBATOR: ("Innovation Hub",),
    Organization.Kind.GOVERNMENT_OFFICE: ("Office of Innovation and Technology",),
}
STATUSES = (
    (Initiative.Status.ACTIVE, 40),
    (Initiative.Status.PLANNED, 20),
    (Initiative.Status.COMPLETED, 20),
    (Initiative.Status.IDEA, 8),
    (Initiative.Status.PAUSED, 7),
    (Initiative.Status.CANCELLED, 5),
)
STATES = (
    (PublicationState.PUBLISHED, 85),
    (PublicationState.DRAFT, 7),
    (PublicationState.REVIEW, 5),
    (PublicationState.ARCHIVED, 3),
)
PARTNER_ROLES = (
    Partnership.Role.FUNDER,
    Partnership.Role.IMPLEMENTER,
    Partnership.Role.ADVISOR,
)


@lru_cache(maxsize=8192)
def _slug_part(title: str) -> str:
    # Titles repeat (a few thousand combinations), so each is slugified once.
    return slugify(title)


# ------------------------------------------------------------------------------
# Tables
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """A table the generator fills, with its columns in the order rows carry them."""

    label: str
    model: type[models.Model]
    fields: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.model._meta.db_table

    @property
    def columns(self) -> list[str]:
        return [_column(self.model, name) for name in self.fields]


def _column(model: type[models.Model], name: str) -> str:
    found = model._meta.get_field(name)
    if not isinstance(found, models.Field) or found.column is None:
        raise GenerationError(f"{model._meta.label}.{name} is not a column.")
    return found.column


FocusLink = Initiative.focus_areas.through
SectorLink = Initiative.sectors.through

ORGANIZATIONS = Table(
    "organizations",
    Organization,
    (
        "id",
        "name",
        "slug",
        "kind",
        "jurisdiction",
        "website",
        "description",
        "source_url",
        "is_illustrative",
        "created_at",
        "updated_at",
    ),
)
INITIATIVES = Table(
    "initiatives",
    Initiative,
    (
        "id",
        "created_by",
        "updated_by",
        "created_at",
        "updated_at",
        "jurisdiction",
        "plan",
        "title",
        "slug",
        "summary",
        "description",
        "language",
        "status",
        "start_date",
        "end_date",
        "budget_amount",
        "budget_currency",
        "lead_organization",
        "publication_state",
        "published_at",
        "is_illustrative",
        "external_id",
        "review_note",
    ),
)
FOCUS_LINKS = Table("focus area links", FocusLink, ("id", "initiative", "focusarea"))
SECTOR_LINKS = Table("sector links", SectorLink, ("id", "initiative", "sector"))
PARTNERSHIPS = Table("partnerships", Partnership, ("id", "initiative", "organization", "role"))
MILESTONES = Table(
    "milestones", Milestone, ("id", "initiative", "title", "due_date", "completed_on")
)
INDICATORS_TABLE = Table(
    "indicators", Indicator, ("id", "initiative", "name", "unit", "baseline", "target")
)
SUBSCRIPTIONS = Table(
    "subscriptions",
    Subscription,
    ("id", "email", "language", "frequency", "user", "created_at", "confirmed_at", "cancelled_at"),
)
TARGETS = Table(
    "subscription targets",
    SubscriptionTarget,
    (
        "id",
        "subscription",
        "kind",
        "jurisdiction",
        "include_descendants",
        "initiative",
        "focus_area",
        "organization",
    ),
)
INITIATIVE_TABLES = (
    INITIATIVES,
    FOCUS_LINKS,
    SECTOR_LINKS,
    PARTNERSHIPS,
    MILESTONES,
    INDICATORS_TABLE,
)
ALL_TABLES = (ORGANIZATIONS, *INITIATIVE_TABLES, SUBSCRIPTIONS, TARGETS)


def check_tables() -> None:
    """Fail loudly when a model gained a column the generator does not fill."""
    for table in ALL_TABLES:
        # A generated column is PostgreSQL's to fill (the search document), not COPY's.
        wanted = {str(f.column) for f in table.model._meta.concrete_fields if not f.generated}
        if wanted != set(table.columns):
            raise GenerationError(
                f"The generator's columns for {table.name} are out of step with the model: "
                f"missing {sorted(wanted - set(table.columns))}."
            )


# ------------------------------------------------------------------------------
# Writers
# ------------------------------------------------------------------------------

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    return str(value)


def copy_text(rows: Iterable[Row]) -> str:
    """Rows in COPY's text format, one line each."""
    return "".join("\t".join(map(_copy_value, row)) + "\n" for row in rows)


class Writer:
    """Inserts rows: COPY on PostgreSQL, one batch in flight while the next is built."""

    def __init__(self) -> None:
        self.is_postgresql = connection.vendor == "postgresql"
        self._executor = ThreadPoolExecutor(max_workers=1) if self.is_postgresql else None
        self._pending: Future[None] | None = None

    def write(self, batch: dict[Table, list[Row]]) -> None:
        if self._executor is None:
            self._insert(batch)
            return
        # Format here, on the generating thread; the sender thread then mostly waits on
        # the socket with the GIL released, while the next batch is generated.
        payloads = [
            (self._copy_sql(table), copy_text(rows)) for table, rows in batch.items() if rows
        ]
        self.flush()
        # Django's connection handler is per thread: hand the sender this thread's
        # own database connection, which it alone uses until flush().
        connection.ensure_connection()
        self._pending = self._executor.submit(self._copy, connection.connection, payloads)

    def flush(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def abandon(self) -> None:
        """Wait for a batch in flight and drop its outcome: the load is failing anyway."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.exception()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown()

    @staticmethod
    def _copy_sql(table: Table) -> str:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(column) for column in table.columns)
        return f"COPY {quote(table.name)} ({columns}) FROM STDIN WITH (FORMAT text)"

    @staticmethod
    def _copy(raw: Any, payloads: list[tuple[str, str]]) -> None:
        with raw.cursor() as cursor:
            for sql, text in payloads:
                cursor.copy_expert(sql, io.StringIO(text), size=1 << 20)

    @staticmethod
    def _insert(batch: dict[Table, list[Row]]) -> None:
        ops = connection.ops
        with connection.cursor() as cursor:
            for table, rows in batch.items():
                if not rows:
                    continue
                columns = ", ".join(ops.quote_name(c) for c in table.columns)
                marks = ", ".join(["%s"] * len(table.columns))
                # Names come from the models' metadata, never from input.
                sql = f"INSERT INTO {ops.quote_name(table.name)} ({columns}) VALUES ({marks})"  # noqa: S608
                cursor.executemany(sql, [tuple(map(_adapt, row)) for row in rows])


def _adapt(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# ------------------------------------------------------------------------------
# Bulk-load schema handling (PostgreSQL)
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schema:
    """The secondary indexes and foreign keys of some tables, as the catalogue defines them."""

    indexes: tuple[tuple[str, str], ...]
    foreign_keys: tuple[tuple[str, str, str], ...]


# Indexes kept in place during the load; none. Keeping the search index lets the
# server compute its six to_tsvector calls a row while COPY streams, but
# maintaining a GIN index row by row costs more than that overlap saves:
# measured at 100,000 initiatives, 83 s of loading against 22 s of loading and
# 39 s of rebuilding.
KEPT_DURING_LOAD: frozenset[str] = frozenset()


def schema_of(tables: Sequence[str]) -> Schema:
    """
    Indexes that back no constraint, and foreign keys, of ``tables``.

    Primary keys, unique and check constraints stay in place during a load: the
    first two guard the explicit ids, and all are cheap compared with the rest.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
              AND NOT EXISTS (
                SELECT 1 FROM pg_constraint c
                WHERE c.conindid =
                  (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass
              )
            ORDER BY i.indexname
            """,
            [list(tables)],
        )
        indexes = tuple((name, definition) for name, definition in cursor.fetchall())
        cursor.execute(
            """
            SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
            FROM pg_constraint c
            WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%s)
            ORDER BY 1, 2
            """,
            [[connection.ops.quote_name(t) for t in tables] + list(tables)],
        )
        foreign_keys = tuple(
            (table, name, definition) for table, name, definition in cursor.fetchall()
        )
    return Schema(indexes=indexes, foreign_keys=foreign_keys)


def schema_without(schema: Schema, names: frozenset[str]) -> Schema:
    """``schema`` less the indexes in ``names``: what a load drops and rebuilds."""
    return Schema(
        indexes=tuple(index for index in schema.indexes if index[0] not in names),
        foreign_keys=schema.foreign_keys,
    )


def schema_drop(schema: Schema) -> None:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, name, _definition in schema.foreign_keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
        for name, _definition in schema.indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")


def schema_restore(schema: Schema, progress: Callable[[str], None]) -> None:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        # Enough memory that each index is built in one sort; LOCAL: this transaction only.
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        for name, definition in schema.indexes:
            started = time.perf_counter()
            cursor.execute(definition)
            if (seconds := time.perf_counter() - started) >= 1:
                progress(f"  index {name}: {seconds:.1f} s")
        for table, name, definition in schema.foreign_keys:
            started = time.perf_counter()
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
            if (seconds := time.perf_counter() - started) >= 1:
                progress(f"  foreign key {name}: {seconds:.1f} s")


# ------------------------------------------------------------------------------
# Removing a previous set
# ------------------------------------------------------------------------------


def generated_data_exists() -> bool:
    return (
        Initiative.objects.filter(slug__startswith=GENERATED_PREFIX).exists()
        or Organization.objects.filter(slug__startswith=ORGANIZATION_PREFIX).exists()
        or Subscription.objects.filter(email__endswith=SUBSCRIBER_DOMAIN).exists()
    )


def _delete_where(model: type[models.Model], condition: str, params: list[Any]) -> None:
    """
    Delete the rows of ``model`` matching ``condition`` and, first, what depends on them.

    Django's own cascade loads every row into Python, which takes minutes for a
    million initiatives; this walks the same relations in SQL, one statement each.
    """
    quote = connection.ops.quote_name
    meta = model._meta
    pk = meta.pk
    if pk is None:
        raise GenerationError(f"{meta.label} has no primary key.")
    # Table and column names come from model metadata; values travel in ``params``.
    pk_column = quote(pk.column or pk.attname)
    selection = f"SELECT {pk_column} FROM {quote(meta.db_table)} WHERE {condition}"  # noqa: S608
    with connection.cursor() as cursor:
        # Hidden relations included: many-to-many link rows point here through them.
        for relation in meta.get_fields(include_hidden=True):
            if not isinstance(relation, models.ForeignObjectRel) or relation.many_to_many:
                continue
            remote = relation.field  # the ForeignKey pointing here
            related_model = relation.related_model
            if not isinstance(related_model, type) or not isinstance(remote, models.ForeignKey):
                continue
            column = quote(remote.column)
            on_delete = relation.on_delete
            if on_delete is models.CASCADE:
                _delete_where(related_model, f"{column} IN ({selection})", params)
            elif on_delete is models.SET_NULL:
                cursor.execute(
                    f"UPDATE {quote(related_model._meta.db_table)} SET {column} = NULL "  # noqa: S608
                    f"WHERE {column} IN ({selection})",
                    params,
                )
            # DO_NOTHING is history rows, which keep their copies; PROTECT is left to
            # the database, whose foreign key refuses the delete below.
        cursor.execute(f"DELETE FROM {quote(meta.db_table)} WHERE {condition}", params)  # noqa: S608


def generated_data_delete() -> None:
    """Remove a previously generated set; real records are left alone."""
    like = connection.ops.prep_for_like_query
    _delete_where(Subscription, "email LIKE %s", ["%" + like(SUBSCRIBER_DOMAIN)])
    _delete_where(Initiative, "slug LIKE %s", [like(GENERATED_PREFIX) + "%"])
    _delete_where(Organization, "slug LIKE %s", [like(ORGANIZATION_PREFIX) + "%"])


# ------------------------------------------------------------------------------
# Generation
# ------------------------------------------------------------------------------


@dataclass
class GenerationResult:
    counts: dict[str, int] = field(default_factory=dict)
    city_slug: str = CITY_PAGE_SLUG
    city_url: str = ""
    city_published: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def _next_id(model: type[models.Model]) -> int:
    return int(model._default_manager.aggregate(top=models.Max("pk"))["top"] or 0) + 1


def _weighted(pairs: Sequence[tuple[Any, int]]) -> tuple[list[Any], list[int]]:
    return [value for value, _w in pairs], list(accumulate(weight for _v, weight in pairs))


class _Generator:
    """One run's random source, reference data and id counters."""

    def __init__(self, *, seed: int) -> None:
        # Reproducible on purpose: nothing generated here is a secret.
        self.rng = random.Random(seed)  # noqa: S311
        self.focus_areas = list(FocusArea.objects.order_by("pk").values_list("pk", flat=True))
        self.sectors = list(Sector.objects.order_by("pk").values_list("pk", flat=True))
        if not self.focus_areas or not self.sectors:
            raise GenerationError("No focus areas or sectors: run the migrations first.")
        try:
            self.city = Jurisdiction.objects.get(slug=CITY_PAGE_SLUG)
        except Jurisdiction.DoesNotExist as exc:
            raise GenerationError(
                f"The demo city {CITY_PAGE_SLUG!r} is missing although the demo seed ran."
            ) from exc
        rows = list(
            Jurisdiction.objects.exclude(pk=self.city.pk)
            .order_by("ocd_id")
            .values_list("pk", "kind", "ocd_id", "name")
        )
        # Rank order is shuffled with the seed, so which places are busy is random but fixed.
        ranks = list(range(1, len(rows) + 1))
        self.rng.shuffle(ranks)
        self.places = [pk for pk, _k, _o, _n in rows]
        self.place_names = {pk: name for pk, _k, _o, name in rows}
        self.place_names[self.city.pk] = self.city.name
        self.currency = {
            pk: CURRENCY_BY_COUNTRY.get(ocd.split("/")[1][8:], "USD") for pk, _k, ocd, _n in rows
        }
        self.currency[self.city.pk] = "USD"
        weights = [
            KIND_WEIGHT.get(kind, 1.0) / rank**SKEW
            for (_pk, kind, _o, _n), rank in zip(rows, ranks, strict=True)
        ]
        self.place_cum = list(accumulate(weights))
        self.statuses, self.status_cum = _weighted(STATUSES)
        self.states, self.state_cum = _weighted(STATES)
        self.organizations: list[int] = []
        # Read before the first batch is sent: from then on the connection belongs
        # to the sending thread until the load ends.
        self.next_ids = {table: _next_id(table.model) for table in ALL_TABLES}

    def place(self) -> int:
        rng_value = self.rng.random() * self.place_cum[-1]
        return self.places[min(bisect_right(self.place_cum, rng_value), len(self.places) - 1)]

    def moment(self, days_back: int) -> dt.datetime:
        return BASE_TIME - dt.timedelta(days=days_back, seconds=self.rng.randrange(86_400))

    # -------------------------------------------------------------- organizations

    def organization_rows(self, count: int) -> list[Row]:
        rng = self.rng
        kinds = list(ORGANIZATION_NAMES)
        first = self.next_ids[ORGANIZATIONS]
        rows: list[Row] = []
        for number in range(count):
            pk = first + number
            kind = kinds[rng.randrange(len(kinds))]
            home = self.place()
            name = f"{self.place_names[home]} {rng.choice(ORGANIZATION_NAMES[kind])}"[:200]
            created = self.moment(rng.randrange(200, 2_000))
            rows.append(
                (
                    pk,
                    name,
                    f"{ORGANIZATION_PREFIX}{number + 1}",
                    kind,
                    home,
                    "",
                    f"{name} works on digital leadership in its region.",
                    "",
                    True,
                    created,
                    created + dt.timedelta(days=rng.randrange(200)),
                )
            )
            self.organizations.append(pk)
        return rows

    # -------------------------------------------------------------- initiatives

    def initiative_batches(
        self, *, count: int, city_count: int, batch_size: int
    ) -> Iterable[dict[Table, list[Row]]]:
        rng = self.rng
        ids = {table: self.next_ids[table] for table in INITIATIVE_TABLES}
        city_numbers = set(rng.sample(range(count), city_count))
        batch: dict[Table, list[Row]] = {table: [] for table in INITIATIVE_TABLES}
        for number in range(count):
            pk = ids[INITIATIVES] + number
            in_city = number in city_numbers
            self._initiative(batch, ids, pk=pk, number=number, in_city=in_city)
            if len(batch[INITIATIVES]) >= batch_size:
                yield batch
                batch = {table: [] for table in INITIATIVE_TABLES}
        if batch[INITIATIVES]:
            yield batch

    def _initiative(
        self,
        batch: dict[Table, list[Row]],
        ids: dict[Table, int],
        *,
        pk: int,
        number: int,
        in_city: bool,
    ) -> None:
        rng = self.rng
        place = self.city.pk if in_city else self.place()
        french = rng.random() < 0.15
        if french:
            title = f"{rng.choice(FR_PREFIXES)} {rng.choice(FR_TOPICS)} {rng.choice(FR_SUFFIXES)}"
            summary, first, second = rng.sample(FR_SENTENCES, 3)
            description = f"{first}\n\n{second}"
            language = ContentLanguage.FRENCH
        else:
            title = f"{rng.choice(EN_PREFIXES)} {rng.choice(EN_TOPICS)} {rng.choice(EN_SUFFIXES)}"
            # A one-sentence summary and a two-paragraph description: the search
            # index runs six to_tsvector calls a row, so length is load time.
            summary = self._sentence()
            description = f"## Approach\n\n{self._sentence()}\n\n{self._sentence()}"
            language = ContentLanguage.ENGLISH
        slug = f"{GENERATED_PREFIX}{number + 1}-{_slug_part(title)}"[:120].rstrip("-")
        state = (
            PublicationState.PUBLISHED
            if in_city
            else self.states[bisect_right(self.state_cum, rng.randrange(self.state_cum[-1]))]
        )
        status = self.statuses[bisect_right(self.status_cum, rng.randrange(self.status_cum[-1]))]
        start = BASE_DATE - dt.timedelta(days=rng.randrange(-180, 1_800))
        end = start + dt.timedelta(days=rng.randrange(180, 1_460)) if rng.random() < 0.6 else None
        if rng.random() < 0.4:
            budget: Decimal | None = Decimal(rng.randrange(10, 50_000) * 1_000).quantize(
                Decimal("0.01")
            )
            currency = self.currency[place]
        else:
            budget, currency = None, ""
        lead = rng.choice(self.organizations) if rng.random() < 0.7 else None
        created = self.moment(rng.randrange(30, 1_500))
        updated = created + dt.timedelta(seconds=rng.randrange(30 * 86_400))
        published = (
            created + dt.timedelta(seconds=rng.randrange(86_400))
            if state in (PublicationState.PUBLISHED, PublicationState.ARCHIVED)
            else None
        )
        batch[INITIATIVES].append(
            (
                pk,
                None,
                None,
                created,
                updated,
                place,
                None,
                title,
                slug,
                summary,
                description,
                language,
                status,
                start,
                end,
                budget,
                currency,
                lead,
                state,
                published,
                True,
                "",
                "",
            )
        )
        for focus_area in rng.sample(self.focus_areas, rng.randint(1, 5)):
            batch[FOCUS_LINKS].append((ids[FOCUS_LINKS], pk, focus_area))
            ids[FOCUS_LINKS] += 1
        for sector in rng.sample(self.sectors, rng.randint(0, 2)):
            batch[SECTOR_LINKS].append((ids[SECTOR_LINKS], pk, sector))
            ids[SECTOR_LINKS] += 1
        partners = rng.sample(self.organizations, min(rng.randint(0, 3), len(self.organizations)))
        roles = [(lead, Partnership.Role.LEAD)] if lead is not None else []
        roles += [(org, rng.choice(PARTNER_ROLES)) for org in partners if org != lead]
        for organization, role in roles:
            batch[PARTNERSHIPS].append((ids[PARTNERSHIPS], pk, organization, role))
            ids[PARTNERSHIPS] += 1
        names = MILESTONES_FR if french else MILESTONES_EN
        for name in rng.sample(names, rng.randint(0, 4)):
            due = BASE_DATE + dt.timedelta(days=rng.randrange(-540, 540))
            # Past milestones are mostly done; the rest are the overdue ones.
            done = (
                due - dt.timedelta(days=rng.randrange(30))
                if due < BASE_DATE and rng.random() < 0.7
                else None
            )
            batch[MILESTONES].append((ids[MILESTONES], pk, name, due, done))
            ids[MILESTONES] += 1
        for name, unit, low, high in rng.sample(INDICATORS, rng.randint(0, 3)):
            baseline = Decimal(rng.randint(low, (low + high) // 4))
            target = baseline + Decimal(rng.randint(1, high))
            batch[INDICATORS_TABLE].append(
                (ids[INDICATORS_TABLE], pk, name, unit, baseline, target)
            )
            ids[INDICATORS_TABLE] += 1

    def _sentence(self) -> str:
        rng = self.rng
        return (
            f"{rng.choice(EN_SUBJECTS)} {rng.choice(EN_VERBS)} {rng.choice(EN_OBJECTS)} "
            f"{rng.choice(EN_TAILS)}."
        )

    # -------------------------------------------------------------- subscribers

    def subscriber_batches(
        self, *, count: int, first_initiative: int, initiatives: int, batch_size: int
    ) -> Iterable[dict[Table, list[Row]]]:
        rng = self.rng
        subscription_id = self.next_ids[SUBSCRIPTIONS]
        target_id = self.next_ids[TARGETS]
        batch: dict[Table, list[Row]] = {SUBSCRIPTIONS: [], TARGETS: []}
        for number in range(count):
            pk = subscription_id + number
            created = self.moment(rng.randrange(1, 900))
            confirmed = (
                created + dt.timedelta(minutes=rng.randrange(5, 600))
                if rng.random() < 0.85
                else None
            )
            cancelled = (
                confirmed + dt.timedelta(days=rng.randrange(1, 300))
                if confirmed is not None and rng.random() < 0.05
                else None
            )
            batch[SUBSCRIPTIONS].append(
                (
                    pk,
                    f"reader{number + 1}{SUBSCRIBER_DOMAIN}",
                    "fr" if rng.random() < 0.3 else "en",
                    Frequency.DAILY if rng.random() < 0.25 else Frequency.WEEKLY,
                    None,
                    created,
                    confirmed,
                    cancelled,
                )
            )
            kinds = rng.sample(
                ("jurisdiction", "jurisdiction", "focus_area", "organization", "initiative"),
                rng.randint(1, 4),
            )
            seen: set[tuple[Any, ...]] = set()
            for kind in kinds:
                row = self._target(kind, initiatives=(first_initiative, initiatives))
                key = (row[0], row[1], row[3], row[4], row[5])
                if key in seen:
                    continue
                seen.add(key)
                batch[TARGETS].append((target_id, pk, *row))
                target_id += 1
            if len(batch[SUBSCRIPTIONS]) >= batch_size:
                yield batch
                batch = {SUBSCRIPTIONS: [], TARGETS: []}
        if batch[SUBSCRIPTIONS]:
            yield batch

    def _target(self, kind: str, *, initiatives: tuple[int, int]) -> Row:
        rng = self.rng
        Kind = SubscriptionTarget.Kind
        if kind == Kind.JURISDICTION:
            return (kind, self.place(), rng.random() < 0.8, None, None, None)
        if kind == Kind.FOCUS_AREA:
            return (kind, None, True, None, rng.choice(self.focus_areas), None)
        if kind == Kind.ORGANIZATION and self.organizations:
            return (kind, None, True, None, None, rng.choice(self.organizations))
        first, count = initiatives
        if count:
            return (Kind.INITIATIVE, None, True, first + rng.randrange(count), None, None)
        return (Kind.FOCUS_AREA, None, True, None, rng.choice(self.focus_areas), None)


# ------------------------------------------------------------------------------
# The whole run
# ------------------------------------------------------------------------------


def division_files(directory: Path) -> list[Path]:
    """The OCD files to import from ``directory``; the census places file must be there."""
    required = directory / REQUIRED_DIVISION_FILE
    if not required.is_file():
        raise GenerationError(
            f"No {REQUIRED_DIVISION_FILE} in {directory}: pass --divisions with the folder "
            "of the Open Civic Data division-id files (ocd-division-ids)."
        )
    return [
        required,
        *(directory / n for n in OPTIONAL_DIVISION_FILES if (directory / n).is_file()),
    ]


def generate_data(
    *,
    initiatives: int,
    subscribers: int,
    seed: int,
    divisions: Path,
    batch_size: int = DEFAULT_BATCH_SIZE,
    replace: bool = False,
    keep_indexes: bool = False,
    progress: Callable[[str], None] = lambda line: None,
) -> GenerationResult:
    """
    Generate ``initiatives`` initiatives and ``subscribers`` subscribers from ``seed``.

    The jurisdictions come first (demo seed and OCD import, each committed on its
    own and harmless to repeat); the generated rows are one transaction, so a
    failure leaves no half set behind.
    """
    if initiatives < 0 or subscribers < 0 or batch_size < 1:
        raise GenerationError("Counts cannot be negative and the batch size must be positive.")
    check_tables()
    files = division_files(divisions)
    result = GenerationResult()
    clock = time.perf_counter()
    if generated_data_exists() and not replace:
        raise GenerationError(
            "This database already holds generated data (initiatives or organizations whose "
            f"slug starts with {GENERATED_PREFIX!r}, subscribers at {SUBSCRIBER_DOMAIN[1:]}). "
            "Run again with --replace to delete it and generate a new set."
        )

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        result.seconds[name] = now - clock
        progress(f"{name}: {now - clock:.1f} s")
        clock = now

    if not Jurisdiction.objects.filter(slug=CITY_PAGE_SLUG).exists():
        progress("Loading the demo data set…")
        demo_seed(password=settings.DEMO_PASSWORD)
        lap("demo seed")
    progress(f"Importing divisions from {', '.join(f.name for f in files)}…")
    try:
        imported = divisions_import(paths=files)
    except DivisionImportError as exc:
        raise GenerationError(f"The division files could not be imported. {exc}") from exc
    progress(f"  {imported.created} jurisdictions created, {imported.existing} already there")
    lap("divisions")

    writer = Writer()
    loaded = [table.name for table in ALL_TABLES]
    try:
        with transaction.atomic(), _sent_before_leaving(writer):
            if generated_data_exists():
                progress("Deleting the previous generated set…")
                generated_data_delete()
                lap("delete previous set")
            schema: Schema | None = None
            if writer.is_postgresql:
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit = off")
                    # Check earlier writes' deferred foreign keys now (the deletes, or a
                    # caller's): a table with pending trigger events cannot be altered.
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                if not keep_indexes:
                    before = schema_of(loaded)
                    schema = schema_without(before, KEPT_DURING_LOAD)
                    schema_drop(schema)
            generator = _Generator(seed=seed)
            existing = Initiative.objects.filter(
                jurisdiction=generator.city, publication_state=PublicationState.PUBLISHED
            ).count()
            # Small sets give the city a tenth, so tests see the same shape.
            city_count = max(0, min(CITY_PAGE_INITIATIVES - existing, initiatives // 10))

            first_initiative = generator.next_ids[INITIATIVES]
            org_rows = generator.organization_rows(max(20, initiatives // 50))
            writer.write({ORGANIZATIONS: org_rows})
            result.counts[ORGANIZATIONS.label] = len(org_rows)
            done = 0
            for batch in generator.initiative_batches(
                count=initiatives, city_count=city_count, batch_size=batch_size
            ):
                writer.write(batch)
                for table, rows in batch.items():
                    result.counts[table.label] = result.counts.get(table.label, 0) + len(rows)
                done += len(batch[INITIATIVES])
                progress(f"  initiatives {done:,}/{initiatives:,}")
            for batch in generator.subscriber_batches(
                count=subscribers,
                first_initiative=first_initiative,
                initiatives=initiatives,
                batch_size=batch_size,
            ):
                writer.write(batch)
                for table, rows in batch.items():
                    result.counts[table.label] = result.counts.get(table.label, 0) + len(rows)
            writer.flush()
            lap("rows")
            if schema is not None:
                progress("Rebuilding indexes and foreign keys…")
                schema_restore(schema, progress)
                if schema_of(loaded) != before:
                    raise GenerationError("The indexes after the load differ from before it.")
                lap("indexes and foreign keys")
            _reset_sequences()
    except DatabaseError as exc:
        raise GenerationError(f"The load failed and was rolled back: {exc}") from exc
    finally:
        writer.close()
    if writer.is_postgresql:
        with connection.cursor() as cursor:
            for name in loaded:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(name)}")
        lap("analyze")
    # Rows went in by COPY and raw inserts, which no signal sees: recount the public
    # coverage summary, and make cached pages stale.
    rebuilt = coverage_rebuild()
    lap("coverage summary")
    progress(f"Coverage summary: {rebuilt.coverage_rows:,} rows.")
    if bump_generation():
        progress("Cached pages marked stale.")
    else:
        progress("The page cache could not be reached; its periodic sweep will catch up.")
    result.city_slug = generator.city.slug
    result.city_url = generator.city.get_absolute_url()
    result.city_published = Initiative.objects.filter(
        jurisdiction=generator.city, publication_state=PublicationState.PUBLISHED
    ).count()
    result.counts = {table.label: result.counts.get(table.label, 0) for table in ALL_TABLES}
    return result


@contextmanager
def _sent_before_leaving(writer: Writer) -> Iterator[None]:
    # The sender thread shares the connection: a rollback must not start while it
    # is still copying, or the half-sent batch would land outside the transaction.
    try:
        yield
    except BaseException:
        writer.abandon()
        raise
    writer.flush()


def _reset_sequences() -> None:
    models_loaded = [table.model for table in ALL_TABLES]
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), models_loaded):
            cursor.execute(statement)
