"""
``make bench``: the Atlas measured side by side with its peers, written to BENCHMARKS.md.

    python -m bench.run [--seconds S] [--rounds 3] [--skip-digest] [--skip-growth] [--skip-profiles]

Every peer runs at the same time, each on its own loopback port, under the same gunicorn
setup (``--workers`` x ``--threads``, gthread; Datasette under uvicorn's worker class with
the same worker count, since it is an ASGI app):

- app: the Atlas, its anonymous page cache off (ATLAS_PAGE_CACHE=off);
- app_cached: the same with the cache on, over a private redis-server;
- floor: a bare Django view answering the bytes the Atlas gave, captured once;
- sql: one SQL statement building the same JSON (API cases only);
- datasette: Datasette serving the same rows from a SQLite copy;
- nginx: Debian's nginx serving the captured bytes as static files, the harness's ceiling;
- app_100k: the Atlas on the 100,000-initiative set, for the growth target.

After a warm-up, each case is measured in interleaved rounds (for each round, every peer
in turn) with wrk at ``--connections``; the report gives the median of the rounds and their
spread. Every SQL statement the Atlas issues for a case is EXPLAINed on the bench database
and checked for a count over a whole large table. Data sets are generated only when their
database is empty, and the SQLite copy only when its source changed, so a second run
spends its time measuring.

Environment: BENCH_DATABASE_URL (the 1,000,000 set), BENCH_DATABASE_URL_100K,
BENCH_DIGEST_DATABASE_URL (the digest run writes its own subscribers there), BENCH_SECONDS,
BENCH_SEARCH_TERM.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.util
import json
import os
import re
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import harness, report

REPO_ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(REPO_ROOT / ".venv" / "bin" / "python")
DATASETTE_PYTHON = str(REPO_ROOT / "bench" / ".venv-datasette" / "bin" / "python")
NGINX_TEMPLATE = REPO_ROOT / "bench" / "nginx.conf"
WORK_DIR = REPO_ROOT / "var" / "bench"
RESULTS_JSON = REPO_ROOT / "bench" / "results.json"
BENCHMARKS_MD = REPO_ROOT / "BENCHMARKS.md"

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/atlas_bench"
DEFAULT_DATABASE_URL_100K = "postgres://postgres@127.0.0.1:5432/atlas_bench_100k"
DEFAULT_DIGEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/atlas_bench_digests"
INITIATIVES = 1_000_000
INITIATIVES_100K = 100_000
SUBSCRIBERS = 100_000
SEED = 1
# Found in about one generated title or summary in ten: a common term, not a stop word.
DEFAULT_SEARCH_TERM = "broadband"
CITY_PAGE_SIZE = 1_000
SEARCH_PAGE_SIZE = 20
PAGE_SIZE = 50
# How far into the list the deep cursor page starts, as a share of the published rows.
DEEP_SHARE = 0.9
# The whole run, data generation aside, stays under 20 minutes: wrk gets this much of it.
WRK_BUDGET_S = 11 * 60
WARMUP_S = 2
WRK_OVERHEAD_S = 0.5  # starting wrk and reading its report, per run
SERVER_START_S = 60  # seven servers, one after another
DIGEST_ESTIMATE_S = 180  # 100,000 subscribers laid out, then sent
SQL_CASES = frozenset({"list", "deep", "detail"})
EXPLAIN_STATEMENT_TIMEOUT_MS = 10_000
SERVER_STATEMENT_TIMEOUT_MS = 2_000  # config.settings.bench's default: wrk's own timeout

PEERS = ("app", "app_cached", "floor", "sql", "datasette", "nginx", "app_100k")
CASES = ("list", "deep", "detail", "city", "search")
CASE_TITLES = {
    "list": "API list, first page (50)",
    "deep": "API list, deep cursor page",
    "detail": "API detail",
    "city": "City page (1,000 initiatives)",
    "search": "Search, common term",
    "digest": "Digest build",
}
FLOOR_FILES = {
    "list": ("list.json", "application/json"),
    "deep": ("deep.json", "application/json"),
    "detail": ("detail.json", "application/json"),
    "city": ("city.html", "text/html; charset=utf-8"),
    "search": ("search.html", "text/html; charset=utf-8"),
}
SQL_NOT_APPLICABLE = (
    "n/a: an HTML page has no SQL-built JSON equivalent; the API cases measure that peer"
)

# Tables that grow with the data set: a count over the whole of one is what the
# EXPLAIN check refuses.
LARGE_TABLES = frozenset(
    {
        "initiatives_initiative",
        "initiatives_initiative_focus_areas",
        "initiatives_initiative_sectors",
        "initiatives_partnership",
        "initiatives_milestone",
        "initiatives_source",
        "initiatives_subscription",
        "initiatives_subscriptiontarget",
        "initiatives_changeevent",
        "cities_jurisdiction",
        "council_organization",
    }
)


@dataclass(frozen=True)
class RenderedPage:
    """A page the Atlas answered, as sent: what the floor and nginx serve."""

    body: bytes
    content_type: str


class BenchError(RuntimeError):
    """The bench cannot run as asked; the message says what is missing."""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# ------------------------------------------------------------------------------
# Data
# ------------------------------------------------------------------------------


def database_name(url: str) -> str:
    return urllib.parse.urlsplit(url).path.lstrip("/")


def _server_url(url: str) -> str:
    """The same server's maintenance database, to create another database from."""
    return urllib.parse.urlsplit(url)._replace(path="/postgres").geturl()


def _query(url: str, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    import psycopg2

    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall()) if cursor.description else []
    finally:
        connection.close()


def ensure_database(url: str) -> None:
    import psycopg2

    name = database_name(url)
    if _query(_server_url(url), "SELECT 1 FROM pg_database WHERE datname = %s", (name,)):
        return
    connection = psycopg2.connect(_server_url(url))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        connection.close()
    log(f"created database {name}")


def initiative_count(url: str) -> int | None:
    """Initiatives in the database, or None when it has no Atlas schema yet."""
    rows = _query(url, "SELECT to_regclass('initiatives_initiative') IS NOT NULL")
    if not rows or not rows[0][0]:
        return None
    return int(_query(url, "SELECT count(*) FROM initiatives_initiative")[0][0])


def manage(url: str, *args: str) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": url,
    }
    env.pop("REDIS_URL", None)
    subprocess.run([PYTHON, "manage.py", *args], cwd=REPO_ROOT, env=env, check=True)  # noqa: S603


def ensure_data(url: str, *, initiatives: int, subscribers: int) -> int:
    """Generate the data set only when the database holds no initiative; the count held."""
    ensure_database(url)
    # Every run: a data set kept from an earlier run gets the migrations added since.
    log(f"migrating {database_name(url)}")
    manage(url, "migrate", "--no-input", "-v0")
    count = initiative_count(url) or 0
    if count == 0:
        log(f"generating {initiatives:,} initiatives in {database_name(url)} (once; kept)")
        manage(
            url,
            "generate_data",
            f"--initiatives={initiatives}",
            f"--subscribers={subscribers}",
            f"--seed={SEED}",
        )
        count = initiative_count(url) or 0
    # Fresh statistics whatever happened since (a migration that rewrote a table leaves
    # its new columns without any): the plans measured are the ones a tended database gets.
    analyze(url)
    return count


def analyze(url: str) -> None:
    import psycopg2

    connection = psycopg2.connect(url)
    connection.autocommit = True  # statistics written in a transaction rolled back are lost
    try:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    finally:
        connection.close()


# ------------------------------------------------------------------------------
# What each case reads
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Positions:
    """The rows a data set's cases read, chosen once per run."""

    database_url: str
    initiatives: int
    published: int
    detail_slug: str
    detail_id: int
    deep_updated_at: dt.datetime
    deep_id: int
    city_slug: str
    city_initiatives: int
    search_term: str
    # A second place for the compare page, which needs two.
    other_place_slug: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": database_name(self.database_url),
            "initiatives": self.initiatives,
            "published": self.published,
            "detail_slug": self.detail_slug,
            "deep_position": [self.deep_updated_at.isoformat(), self.deep_id],
            "city_slug": self.city_slug,
            "city_initiatives": self.city_initiatives,
            "search_term": self.search_term,
            "other_place_slug": self.other_place_slug,
        }


def choose_positions(url: str, *, search_term: str) -> Positions:
    published_filter = "publication_state = 'published'"
    total = int(_query(url, "SELECT count(*) FROM initiatives_initiative")[0][0])
    published = int(
        _query(url, f"SELECT count(*) FROM initiatives_initiative WHERE {published_filter}")[0][0]  # noqa: S608
    )
    if published == 0:
        raise BenchError(f"{database_name(url)} holds no published initiative")
    middle = _query(
        url,
        f"SELECT slug, id FROM initiatives_initiative WHERE {published_filter} "  # noqa: S608
        "AND id >= (SELECT (min(id) + max(id)) / 2 FROM initiatives_initiative) "
        "ORDER BY id LIMIT 1",
    ) or _query(
        url,
        f"SELECT slug, id FROM initiatives_initiative WHERE {published_filter} "  # noqa: S608
        "ORDER BY id LIMIT 1",
    )
    deep = _query(
        url,
        f"SELECT updated_at, id FROM initiatives_initiative WHERE {published_filter} "  # noqa: S608
        "ORDER BY updated_at DESC, id DESC OFFSET %s LIMIT 1",
        (int((published - 1) * DEEP_SHARE),),
    )
    city = _query(
        url,
        f"SELECT j.slug, count(*) FROM initiatives_initiative i "  # noqa: S608
        f"JOIN cities_jurisdiction j ON j.id = i.jurisdiction_id "
        f"WHERE i.{published_filter} AND j.kind = 'place' "
        f"GROUP BY j.slug ORDER BY abs(count(*) - %s), j.slug LIMIT 2",
        (CITY_PAGE_SIZE,),
    )
    if not city:
        raise BenchError(f"{database_name(url)} has no place with a published initiative")
    return Positions(
        database_url=url,
        initiatives=total,
        published=published,
        detail_slug=str(middle[0][0]),
        detail_id=int(middle[0][1]),
        deep_updated_at=deep[0][0],
        deep_id=int(deep[0][1]),
        city_slug=str(city[0][0]),
        city_initiatives=int(city[0][1]),
        search_term=search_term,
        other_place_slug=str(city[-1][0]),
    )


def deep_cursor(positions: Positions) -> str:
    """The API's own signed cursor for the page after the deep position (Django set up)."""
    from bench.views import initiative_paginator
    from config.api.pagination import KeysetCursor, cursor_value

    paginator = initiative_paginator()
    values = (cursor_value(positions.deep_updated_at), positions.deep_id)
    return paginator.encode_cursor(KeysetCursor(values=values, reverse=False))


def drf_timestamp(value: dt.datetime) -> str:
    """A timestamp as the API (and so the SQLite copy) writes it."""
    text = value.astimezone(dt.UTC).isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


def case_paths(positions: Positions, *, datasette_db: str) -> dict[str, dict[str, str]]:
    """For each case, the path each peer answers it on (a peer that has none is absent)."""
    cursor = urllib.parse.quote(deep_cursor(positions), safe="")
    term = urllib.parse.quote_plus(positions.search_term)
    rows = (
        f"/{datasette_db}/initiatives.json?_shape=array&_nocount=1&_nofacet=1"
        "&_json=focus_areas&_json=sectors"
    )
    # Datasette's own keyset token: the sort value, then the primary key.
    datasette_next = (
        report_tilde(drf_timestamp(positions.deep_updated_at)) + f",{positions.deep_id}"
    )
    return {
        "list": {
            "app": f"/api/v1/initiatives/?page_size={PAGE_SIZE}",
            "sql": f"/bench/sql/initiatives/?page_size={PAGE_SIZE}",
            "datasette": f"{rows}&_size={PAGE_SIZE}&_sort_desc=updated_at",
        },
        "deep": {
            "app": f"/api/v1/initiatives/?page_size={PAGE_SIZE}&cursor={cursor}",
            "sql": f"/bench/sql/initiatives/?page_size={PAGE_SIZE}&cursor={cursor}",
            "datasette": f"{rows}&_size={PAGE_SIZE}&_sort_desc=updated_at&_next={datasette_next}",
        },
        "detail": {
            "app": f"/api/v1/initiatives/{positions.detail_slug}/",
            "sql": f"/bench/sql/initiatives/{positions.detail_slug}/",
            "datasette": (
                f"/{datasette_db}/initiatives/{positions.detail_id}.json?_shape=array"
                "&_json=focus_areas&_json=sectors"
            ),
        },
        "city": {
            "app": f"/en/jurisdictions/{positions.city_slug}/",
            "datasette": (
                f"{rows}&_size={CITY_PAGE_SIZE}&_sort_desc=updated_at"
                f"&jurisdiction_slug={positions.city_slug}"
            ),
        },
        "search": {
            "app": f"/en/search/?q={term}",
            "datasette": f"{rows}&_size={SEARCH_PAGE_SIZE}&_search={term}",
        },
    }


def explain_only_paths(positions: Positions) -> dict[str, dict[str, str]]:
    """Public pages not timed, whose statements the EXPLAIN check still reads."""
    return {
        "home": {"app": "/en/"},
        "compare": {"app": f"/en/compare/?j={positions.city_slug}&j={positions.other_place_slug}"},
        "coverage": {"app": "/en/coverage/"},
        "jurisdictions_api": {"app": f"/api/v1/jurisdictions/?page_size={PAGE_SIZE}"},
    }


def report_tilde(value: str) -> str:
    from bench.datasette_export import tilde_encode

    return tilde_encode(value)


# ------------------------------------------------------------------------------
# EXPLAIN: no count over a whole large table
# ------------------------------------------------------------------------------

SCAN_NODES = frozenset({"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan"})
# Nodes that hand their single input through unchanged in number of rows examined.
PASS_THROUGH = frozenset(
    {"Gather", "Gather Merge", "Sort", "Incremental Sort", "Materialize", "Memoize", "Result"}
)
CONDITIONS = ("Filter", "Index Cond", "Recheck Cond", "Join Filter", "TID Cond")
COUNT_RE = re.compile(r"\bCOUNT\s*\(", re.IGNORECASE)
WHERE_RE = re.compile(r"\bWHERE\b", re.IGNORECASE)


def _scans(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    if node.get("Node Type") in SCAN_NODES:
        yield node
    for child in node.get("Plans", ()):
        yield from _scans(child)


def _aggregate_input(node: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The scan an aggregate reads directly (through gathers, sorts, partial aggregates)."""
    current = node
    while True:
        children = current.get("Plans", ())
        if len(children) != 1:
            return None
        current = children[0]
        kind = current.get("Node Type")
        if kind in SCAN_NODES:
            return current
        if kind in PASS_THROUGH or (
            kind == "Aggregate" and current.get("Partial Mode") == "Partial"
        ):
            continue
        return None


def _scans_with_share(
    node: Mapping[str, Any], workers: int = 1, cap: float = float("inf")
) -> Iterator[tuple[Mapping[str, Any], float]]:
    """
    Every scan under ``node`` with the rows it is estimated to keep in all: a parallel
    scan's estimate is per process, so it is multiplied by the processes of its Gather;
    under a Limit, a scan stops at the limit's rows whatever it would have kept.
    """
    if node.get("Node Type") in ("Gather", "Gather Merge"):
        workers = int(node.get("Workers Planned", 0)) + 1
    if node.get("Node Type") == "Limit":
        cap = min(cap, float(node.get("Plan Rows", 0)))
    if node.get("Node Type") in SCAN_NODES:
        rows = float(node.get("Plan Rows", 0))
        yield node, min(cap, rows * workers if node.get("Parallel Aware") else rows)
    for child in node.get("Plans", ()):
        yield from _scans_with_share(child, workers, cap)


def whole_table_counts(
    plan: Mapping[str, Any],
    *,
    sql: str = "",
    table_rows: Mapping[str, float] | None = None,
    large_tables: frozenset[str] = LARGE_TABLES,
    share: float = 0.5,
    min_rows: float = 10_000,
) -> list[str]:
    """
    Why this statement counts (or otherwise aggregates) a whole large table; empty if it does not.

    Three signs, any of which is enough: an aggregate reading a scan of a large table with
    no condition at all; with ``table_rows`` (the tables' sizes, on a data set big enough for
    the planner's estimates to mean something), an aggregate fed by a scan that keeps at
    least ``share`` of a table of ``min_rows`` rows or more, directly or through joins, which
    a filter excluding almost nothing (``publication_state = 'published'``) cannot hide;
    and a COUNT in a statement on a large table with no WHERE clause at all.
    """
    found: list[str] = []

    def visit(node: Mapping[str, Any]) -> None:
        # "Simple" or "Finalize": the aggregate that sees every row its inputs produce.
        if node.get("Node Type") == "Aggregate" and node.get("Partial Mode") != "Partial":
            scan = _aggregate_input(node)
            relation = str(scan.get("Relation Name", "")) if scan else ""
            unconditioned = scan is not None and not any(key in scan for key in CONDITIONS)
            if scan is not None and unconditioned and relation in large_tables:
                found.append(f"aggregate over every row of {relation} ({scan['Node Type']})")
            for fed, kept in _scans_with_share(node) if table_rows else ():
                name = str(fed.get("Relation Name", ""))
                size = table_rows.get(name, 0) if table_rows else 0
                if name in large_tables and size >= min_rows and kept >= share * size:
                    reason = f"aggregate over {kept:,.0f} of {size:,.0f} rows of {name}"
                    if reason not in found:
                        found.append(reason)
        for child in node.get("Plans", ()):
            visit(child)

    visit(plan)
    if sql and COUNT_RE.search(sql) and not WHERE_RE.search(sql):
        named = sorted(table for table in large_tables if f'"{table}"' in sql or table in sql)
        if named:
            found.append(f"COUNT with no WHERE over {', '.join(named)}")
    return found


def explain_statement(cursor: Any, sql: str, table_rows: Mapping[str, float]) -> dict[str, Any]:
    from django.db import DatabaseError

    short = sql if len(sql) <= 300 else sql[:297] + "..."
    try:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
    except DatabaseError as error:
        # Reported, not fatal: the figures of the run are worth keeping all the same.
        return {"sql": short, "error": str(error), "scans": [], "whole_table_counts": []}
    raw = cursor.fetchone()[0]
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    return {
        "sql": short,
        "top": plan.get("Node Type"),
        "total_cost": plan.get("Total Cost"),
        "plan_rows": plan.get("Plan Rows"),
        "scans": [
            {
                "node": scan.get("Node Type"),
                "relation": scan.get("Relation Name"),
                "index": scan.get("Index Name"),
                "conditioned": any(key in scan for key in CONDITIONS),
            }
            for scan in _scans(plan)
        ],
        "whole_table_counts": whole_table_counts(plan, sql=sql, table_rows=table_rows),
    }


def explain_cases(
    paths: Mapping[str, Mapping[str, str]], *, host: str, pages: dict[str, RenderedPage]
) -> dict[str, Any]:
    """
    Request each case from the Atlas in this process (Django set up on the bench database)
    and EXPLAIN every SELECT it issued. The pages answered 200 are kept in ``pages``, as
    the Atlas's server at ``host`` would send them, for a case that server cannot answer
    within its statement timeout.
    """
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relkind = 'r' AND relname = ANY(%s)",
            (sorted(LARGE_TABLES),),
        )
        table_rows = {name: float(rows) for name, rows in cursor.fetchall()}
    # A request that fails (a statement cancelled by the bench's statement timeout) still
    # leaves its statements to EXPLAIN, the slow one included.
    client = Client(raise_request_exception=False)
    summary: dict[str, Any] = {}
    for case, peers in paths.items():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(peers["app"], HTTP_HOST=host)
        if response.status_code == 200 and case in FLOOR_FILES:
            pages[case] = RenderedPage(
                body=response.content,
                content_type=response.get("Content-Type", FLOOR_FILES[case][1]),
            )
        statements = [
            query["sql"]
            for query in captured.captured_queries
            if query["sql"].lstrip().upper().startswith(("SELECT", "WITH"))
        ]
        with connection.cursor() as cursor:
            explained = [explain_statement(cursor, sql, table_rows) for sql in statements]
        summary[case] = {
            "status": response.status_code,
            "queries": len(captured.captured_queries),
            "statements": explained,
            "whole_table_counts": [
                reason for statement in explained for reason in statement["whole_table_counts"]
            ],
        }
    return summary


PROFILE_DIR = REPO_ROOT / "bench" / "profiles"
PROFILE_REQUESTS = 20


def profile_cases(
    paths: Mapping[str, Mapping[str, str]], *, host: str, requests: int = PROFILE_REQUESTS
) -> dict[str, Any]:
    """
    Profile the Atlas on each case in this process with pyinstrument: ``requests`` requests
    after a warm-up one, written as text to bench/profiles/<case>.txt. Where a target is
    missed, this is what stands in the way. In-process times include the profiler's own
    overhead, so they are for reading proportions, not for comparing with wrk's figures.
    """
    from django.test import Client
    from pyinstrument import Profiler

    PROFILE_DIR.mkdir(parents=True, exist_ok=True)
    client = Client(raise_request_exception=False)
    summary: dict[str, Any] = {}
    for case, peers in paths.items():
        path = peers["app"]
        warm = client.get(path, HTTP_HOST=host)
        profiler = Profiler(interval=0.0005)
        started = time.perf_counter()
        with profiler:
            statuses = Counter(
                client.get(path, HTTP_HOST=host).status_code for _ in range(requests)
            )
        elapsed = time.perf_counter() - started
        # Paths as the repository names them, not as this machine does.
        text = profiler.output_text(unicode=True, color=False, show_all=False).replace(
            f"{Path(__file__).resolve().parents[1]}{os.sep}", ""
        )
        target = PROFILE_DIR / f"{case}.txt"
        target.write_text(f"GET {path}: {requests} requests after a warm-up, in process\n\n{text}")
        summary[case] = {
            "path": path,
            "file": str(target.relative_to(REPO_ROOT)),
            "requests": requests,
            "statuses": {str(code): count for code, count in sorted(statuses.items())},
            "warm_status": warm.status_code,
            "ms_per_request": round(elapsed / requests * 1000, 2),
        }
    return summary


# ------------------------------------------------------------------------------
# Peers
# ------------------------------------------------------------------------------


@dataclass
class Peer:
    name: str
    base_url: str
    paths: dict[str, str] = field(default_factory=dict)
    # Case -> why this peer has no figure for it.
    skipped: dict[str, str] = field(default_factory=dict)


def page_cache_available() -> bool:
    return importlib.util.find_spec("config.page_cache") is not None


def django_env(
    database_url: str,
    *,
    cache: bool,
    floor_dir: Path,
    statement_timeout_ms: int,
    redis_url: str = "",
) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.bench",
        "DATABASE_URL": database_url,
        "ATLAS_PAGE_CACHE": "on" if cache else "off",
        "BENCH_FLOOR_DIR": str(floor_dir),
        "BENCH_STATEMENT_TIMEOUT_MS": str(statement_timeout_ms),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


@contextlib.contextmanager
def private_redis() -> Iterator[str]:
    """A redis-server of the bench's own, on a free port, saving nothing; stopped after."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise BenchError("redis-server is not installed")
    port = harness.free_port()
    process = subprocess.Popen(  # noqa: S603 - fixed argv
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        import redis

        client = redis.Redis(port=port, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise BenchError("the private redis-server did not start") from None
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def nginx_config(*, port: int, workers: int, floor_dir: Path, prefix: Path) -> str:
    template = string.Template(NGINX_TEMPLATE.read_text())
    return template.substitute(
        port=port, workers=workers, floor_dir=str(floor_dir), prefix=str(prefix)
    )


def capture_floor(
    base_url: str,
    paths: Mapping[str, Mapping[str, str]],
    floor_dir: Path,
    *,
    fallback: Mapping[str, RenderedPage],
) -> dict[str, str]:
    """
    Store the Atlas's answer to each case, for the floor view and nginx to serve; the cases
    it could not answer, with why (those have no floor and no nginx figure). When the
    server fails a case (its statement timeout), the page rendered in this process during
    the EXPLAIN pass, for the same host and with a longer timeout, stands in.
    """
    floor_dir.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, dict[str, str]] = {}
    failed: dict[str, str] = {}
    for case, peers in paths.items():
        status, content_type, body = fetch(base_url + peers["app"])
        if status != 200 and case in fallback:
            log(f"the Atlas's server answered {status} to {case}: floor from the EXPLAIN pass")
            status, content_type, body = 200, fallback[case].content_type, fallback[case].body
        if status != 200:
            failed[case] = f"not measured: the Atlas answered {status}, so no page to serve"
            log(f"the Atlas answered {status} to the {case} case: no floor for it")
            continue
        name, expected_type = FLOOR_FILES[case]
        (floor_dir / name).write_bytes(body)
        manifest[case] = {"file": name, "content_type": content_type or expected_type}
    (floor_dir / "floor.json").write_text(json.dumps(manifest, indent=2))
    return failed


def fetch(url: str) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url)  # noqa: S310 - loopback URLs built here
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


# ------------------------------------------------------------------------------
# Measuring
# ------------------------------------------------------------------------------


def summarise(rounds: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Median and spread of a peer's rounds for one case; failures summed over the rounds."""
    rps = [float(r["requests_per_s"]) for r in rounds]
    # A round in which no request completed (each took longer than wrk's timeout) has no
    # latency at all: wrk reports 0, which must not read as fast.
    answered = [r for r in rounds if int(r["requests"]) > 0]
    p50 = [float(r["p50_ms"]) for r in answered]
    p99 = [float(r["p99_ms"]) for r in answered]
    complete = len(answered) == len(rounds) and bool(rounds)
    return {
        "median": {
            "requests_per_s": round(statistics.median(rps), 1),
            "p50_ms": round(statistics.median(p50), 2) if complete else None,
            "p99_ms": round(statistics.median(p99), 2) if complete else None,
        },
        "spread": {
            "requests_per_s": [round(min(rps), 1), round(max(rps), 1)],
            "p99_ms": [round(min(p99), 2), round(max(p99), 2)] if p99 else [None, None],
        },
        "rounds_without_answer": len(rounds) - len(answered),
        "non_2xx": sum(int(r["non_2xx"]) for r in rounds),
        "errors": sum(int(r["socket_errors"]) for r in rounds),
        "requests": sum(int(r["requests"]) for r in rounds),
    }


def planned_runs(peers: Sequence[Peer]) -> int:
    return sum(len(peer.paths) for peer in peers)


def expected_pairs(*, cache: bool, growth: bool) -> int:
    """Case and peer pairs to measure, known before any server starts."""
    per_case = 4 + int(cache) + int(growth)  # app, floor, datasette, nginx, and the optional two
    return len(CASES) * per_case + sum(1 for case in CASES if case in SQL_CASES)


def announce_plan(
    *, pairs: int, rounds: int, seconds: float, connections: int, digest: bool
) -> float:
    """Print what the run will do and how long it should take; the seconds planned."""
    wrk = pairs * (WARMUP_S + WRK_OVERHEAD_S) + pairs * rounds * (seconds + WRK_OVERHEAD_S)
    total = wrk + SERVER_START_S + (DIGEST_ESTIMATE_S if digest else 0)
    log(
        f"plan: {pairs} case x peer pairs, a {WARMUP_S}s warm-up each, then {rounds} "
        f"interleaved rounds of {seconds:g}s at {connections} connections: about "
        f"{wrk / 60:.1f} min of wrk, {total / 60:.1f} min in all"
        + (" with the digest run" if digest else "")
        + " (data generation, when needed, comes first and is kept)"
    )
    return total


def plan_seconds(*, runs: int, rounds: int, seconds: float | None) -> float:
    """wrk seconds per run: as given, or as many as fit the budget (3 to 10)."""
    if seconds is not None:
        return seconds
    budget = WRK_BUDGET_S - runs * (WARMUP_S + WRK_OVERHEAD_S)
    per_run = budget / max(1, runs * rounds) - WRK_OVERHEAD_S
    return float(max(3, min(10, int(per_run))))


def measure(
    peers: Sequence[Peer], *, rounds: int, seconds: float, connections: int
) -> dict[str, dict[str, Any]]:
    """Warm every peer up on every case, then the interleaved rounds."""
    for peer in peers:
        for path in peer.paths.values():
            harness.run_wrk(peer.base_url + path, connections=connections, duration_s=WARMUP_S)
    log("warm-up done")
    collected: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for case in CASES:
        for number in range(1, rounds + 1):
            for peer in peers:
                case_path = peer.paths.get(case)
                if case_path is None:
                    continue
                result = harness.run_wrk(
                    peer.base_url + case_path, connections=connections, duration_s=seconds
                )
                collected.setdefault(case, {}).setdefault(peer.name, []).append(result.as_dict())
                log(
                    f"{case:<7} round {number} {peer.name:<11} "
                    f"{result.requests_per_s:8.1f} req/s  p99 {result.p99_ms:7.2f} ms"
                    + (f"  non-2xx {result.non_2xx}" if result.non_2xx else "")
                )
    figures: dict[str, dict[str, Any]] = {}
    for case in CASES:
        figures[case] = {}
        for peer in peers:
            if case in peer.paths:
                runs = collected.get(case, {}).get(peer.name, [])
                figures[case][peer.name] = {
                    "url": peer.base_url + peer.paths[case],
                    **summarise(runs),
                    "rounds": runs,
                }
            else:
                figures[case][peer.name] = {
                    "status": "n/a",
                    "reason": peer.skipped.get(case, "not measured"),
                }
    return figures


def measure_digest(url: str, *, subscribers: int, workers: int) -> dict[str, Any]:
    """The digest run (bench.digests) in a process of its own: it sets Django up itself."""
    ensure_database(url)
    completed = subprocess.run(  # noqa: S603 - fixed argv
        [
            PYTHON,
            "-m",
            "bench.digests",
            f"--subscribers={subscribers}",
            f"--workers={workers}",
            f"--database-url={url}",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")},
    )
    if completed.returncode != 0:
        return {"status": "failed", "reason": (completed.stderr or completed.stdout)[-1500:]}
    lines = completed.stdout.splitlines()
    start = next((i for i, line in enumerate(lines) if line == "{"), None)
    if start is None:
        return {"status": "failed", "reason": "the digest run printed no figures"}
    figures: dict[str, Any] = json.loads("\n".join(lines[start:]))
    return {"status": "measured", "database": database_name(url), **figures}


# ------------------------------------------------------------------------------
# The run
# ------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    env_seconds = os.environ.get("BENCH_SECONDS")
    parser.add_argument(
        "--seconds",
        type=float,
        default=float(env_seconds) if env_seconds else None,
        help="wrk seconds per run (default: as many as fit a 20-minute run)",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    parser.add_argument(
        "--database-url-100k",
        default=os.environ.get("BENCH_DATABASE_URL_100K", DEFAULT_DATABASE_URL_100K),
    )
    parser.add_argument(
        "--digest-database-url",
        default=os.environ.get("BENCH_DIGEST_DATABASE_URL", DEFAULT_DIGEST_DATABASE_URL),
    )
    parser.add_argument("--initiatives", type=int, default=INITIATIVES)
    parser.add_argument("--subscribers", type=int, default=SUBSCRIBERS)
    parser.add_argument(
        "--search-term", default=os.environ.get("BENCH_SEARCH_TERM", DEFAULT_SEARCH_TERM)
    )
    parser.add_argument("--skip-growth", action="store_true", help="no 100,000 comparison")
    parser.add_argument("--skip-digest", action="store_true", help="no digest run")
    parser.add_argument("--skip-profiles", action="store_true", help="no pyinstrument profiles")
    parser.add_argument("--no-generate", action="store_true", help="use the data as it is")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.connections < 1 or args.workers < 1 or args.threads < 1:
        parser.error("--rounds, --connections, --workers and --threads must be at least 1")
    if args.seconds is not None and args.seconds < 1:
        parser.error("--seconds (BENCH_SECONDS) must be at least 1")
    for name in ("database_url", "database_url_100k", "digest_database_url"):
        if not getattr(args, name).startswith(("postgres://", "postgresql://")):
            parser.error(f"--{name.replace('_', '-')} must be a PostgreSQL URL")
    return args


def setup_django(database_url: str, floor_dir: Path) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.bench",
            "DATABASE_URL": database_url,
            "ATLAS_PAGE_CACHE": "off",
            "BENCH_FLOOR_DIR": str(floor_dir),
            # The in-process EXPLAIN requests go through Django's test client.
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            # Longer than the servers' 2 s: the EXPLAIN pass wants every statement of a slow
            # page, but not to wait minutes for one.
            "BENCH_STATEMENT_TIMEOUT_MS": str(EXPLAIN_STATEMENT_TIMEOUT_MS),
        }
    )
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    load_at_start = " ".join(f"{n:.2f}" for n in os.getloadavg())
    timeout_ms = int(os.environ.get("BENCH_STATEMENT_TIMEOUT_MS") or SERVER_STATEMENT_TIMEOUT_MS)
    cache = page_cache_available()
    pairs = expected_pairs(cache=cache, growth=not args.skip_growth)
    announce_plan(
        pairs=pairs,
        rounds=args.rounds,
        seconds=plan_seconds(runs=pairs, rounds=args.rounds, seconds=args.seconds),
        connections=args.connections,
        digest=not args.skip_digest,
    )
    if shutil.which("wrk") is None or shutil.which("nginx") is None:
        raise BenchError("wrk and nginx are needed: apt-get install -y wrk nginx-light")
    if not Path(DATASETTE_PYTHON).exists():
        raise BenchError("Datasette's virtualenv is missing: run `make bench`, which creates it")

    # ---------------------------------------------------------------- data
    counts = {"main": 0, "100k": 0}
    if args.no_generate:
        counts["main"] = initiative_count(args.database_url) or 0
    else:
        counts["main"] = ensure_data(
            args.database_url, initiatives=args.initiatives, subscribers=args.subscribers
        )
    growth = not args.skip_growth
    if growth:
        if args.no_generate:
            counts["100k"] = initiative_count(args.database_url_100k) or 0
            growth = counts["100k"] > 0
        else:
            counts["100k"] = ensure_data(
                args.database_url_100k, initiatives=INITIATIVES_100K, subscribers=0
            )

    floor_dir = WORK_DIR / "floor"
    shutil.rmtree(floor_dir, ignore_errors=True)
    setup_django(args.database_url, floor_dir)
    positions = choose_positions(args.database_url, search_term=args.search_term)
    positions_100k = (
        choose_positions(args.database_url_100k, search_term=args.search_term) if growth else None
    )

    datasette_file = WORK_DIR / "datasette" / database_name(args.database_url) / "atlas.sqlite3"
    log(f"SQLite copy for Datasette: {datasette_file.relative_to(REPO_ROOT)}")
    from bench.datasette_export import export

    if export(database_url=args.database_url, path=datasette_file):
        log("SQLite copy written")
    paths = case_paths(positions, datasette_db=datasette_file.stem)
    paths_100k = case_paths(positions_100k, datasette_db="-") if positions_100k else None

    log("EXPLAIN of every statement the Atlas issues per case")
    ports = {name: harness.free_port() for name in PEERS}
    rendered: dict[str, RenderedPage] = {}
    explain = explain_cases(
        {**paths, **explain_only_paths(positions)},
        host=f"127.0.0.1:{ports['app']}",
        pages=rendered,
    )
    if args.skip_profiles:
        profiles: dict[str, Any] = {}
    else:
        log(f"pyinstrument profile of each case, {PROFILE_REQUESTS} requests, in process")
        profiles = profile_cases(paths, host=f"127.0.0.1:{ports['app']}")

    # ---------------------------------------------------------------- peers
    logs = WORK_DIR / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    peers = {name: Peer(name, f"http://127.0.0.1:{ports[name]}") for name in PEERS}
    for case in CASES:
        peers["app"].paths[case] = paths[case]["app"]
        peers["floor"].paths[case] = f"/bench/floor/{case}"
        peers["nginx"].paths[case] = f"/floor/{FLOOR_FILES[case][0]}"
        peers["datasette"].paths[case] = paths[case]["datasette"]
        if "sql" in paths[case]:
            peers["sql"].paths[case] = paths[case]["sql"]
        else:
            peers["sql"].skipped[case] = SQL_NOT_APPLICABLE
        if cache:
            peers["app_cached"].paths[case] = paths[case]["app"]
        else:
            peers["app_cached"].skipped[case] = (
                "cache not available (no config.page_cache in this tree)"
            )
        if paths_100k:
            peers["app_100k"].paths[case] = paths_100k[case]["app"]
        else:
            peers["app_100k"].skipped[case] = "not measured (growth comparison skipped)"

    active = [peer for peer in peers.values() if peer.paths]
    runs = planned_runs(active)
    seconds = plan_seconds(runs=runs, rounds=args.rounds, seconds=args.seconds)
    if runs != pairs:
        announce_plan(
            pairs=runs,
            rounds=args.rounds,
            seconds=seconds,
            connections=args.connections,
            digest=not args.skip_digest,
        )

    def gunicorn(app: str, port: int, **kwargs: Any) -> list[str]:
        return harness.gunicorn_argv(
            app,
            bind=f"127.0.0.1:{port}",
            workers=args.workers,
            threads=args.threads,
            **kwargs,
        )

    wsgi = "config.wsgi:application"
    with contextlib.ExitStack() as stack:
        redis_url = stack.enter_context(private_redis()) if cache else ""

        def start(name: str, argv: list[str], ready: str, env: Mapping[str, str]) -> None:
            stack.enter_context(
                harness.Server(
                    argv,
                    ready_url=peers[name].base_url + ready,
                    env=env,
                    cwd=str(REPO_ROOT),
                    log_path=str(logs / f"{name}.log"),
                    timeout_s=120,
                )
            )
            log(f"{name} listening on {peers[name].base_url}")

        app_env = django_env(
            args.database_url, cache=False, floor_dir=floor_dir, statement_timeout_ms=timeout_ms
        )
        start("app", gunicorn(wsgi, ports["app"]), "/healthz", app_env)
        uncaptured = capture_floor(peers["app"].base_url, paths, floor_dir, fallback=rendered)
        for case, reason in uncaptured.items():
            for name in ("floor", "nginx"):
                peers[name].paths.pop(case, None)
                peers[name].skipped[case] = reason
        log(f"captured the Atlas's answers in {floor_dir.relative_to(REPO_ROOT)}")
        if cache:
            start(
                "app_cached",
                gunicorn(wsgi, ports["app_cached"]),
                "/healthz",
                django_env(
                    args.database_url,
                    cache=True,
                    floor_dir=floor_dir,
                    statement_timeout_ms=timeout_ms,
                    redis_url=redis_url,
                ),
            )
        start("floor", gunicorn(wsgi, ports["floor"]), "/healthz", app_env)
        start("sql", gunicorn(wsgi, ports["sql"]), "/healthz", app_env)
        if paths_100k:
            start(
                "app_100k",
                gunicorn(wsgi, ports["app_100k"]),
                "/healthz",
                django_env(
                    args.database_url_100k,
                    cache=False,
                    floor_dir=floor_dir,
                    statement_timeout_ms=timeout_ms,
                ),
            )
        start(
            "datasette",
            gunicorn(
                "bench.datasette_export:asgi_app()",
                ports["datasette"],
                worker_class="uvicorn.workers.UvicornWorker",
                python=DATASETTE_PYTHON,
            ),
            "/-/versions.json",
            {**os.environ, "BENCH_DATASETTE_FILE": str(datasette_file)},
        )
        nginx_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-nginx-")))
        (nginx_dir / "nginx.conf").write_text(
            nginx_config(
                port=ports["nginx"], workers=args.workers, floor_dir=floor_dir, prefix=nginx_dir
            )
        )
        nginx_binary = shutil.which("nginx") or "nginx"
        start(
            "nginx",
            [
                nginx_binary,
                "-p",
                str(nginx_dir),
                "-c",
                str(nginx_dir / "nginx.conf"),
                "-e",
                str(nginx_dir / "error.log"),
            ],
            "/floor/floor.json",
            dict(os.environ),
        )

        # A peer that fails a case is still measured on it: its failures are its figures,
        # and they decide its targets (not met). The first answer is logged.
        for peer in active:
            for case, path in list(peer.paths.items()):
                status, _type, _body = fetch(peer.base_url + path)
                if status != 200:
                    log(f"{peer.name} answered {status} to {case}: measured all the same")
        figures = measure(active, rounds=args.rounds, seconds=seconds, connections=args.connections)
        for peer in peers.values():
            if not peer.paths:
                for case in CASES:
                    figures[case][peer.name] = {
                        "status": "n/a",
                        "reason": peer.skipped.get(case, "not measured"),
                    }

    if args.skip_digest:
        digest: dict[str, Any] = {"status": "not measured", "reason": "--skip-digest"}
    elif importlib.util.find_spec("bench.digests") is None:
        digest = {"status": "not measured", "reason": "bench.digests is not in this tree"}
    else:
        log(f"digest run: {args.subscribers:,} subscribers, {args.workers} workers")
        digest = measure_digest(
            args.digest_database_url, subscribers=args.subscribers, workers=args.workers
        )

    import django

    results: dict[str, Any] = {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": harness.machine_info(database_url=args.database_url),
        "versions": {"django": django.get_version(), "datasette": _datasette_version()},
        "setup": {
            "workers": args.workers,
            "threads": args.threads,
            "worker_class": "gthread (Datasette: uvicorn.workers.UvicornWorker)",
            "connections": args.connections,
            "seconds": seconds,
            "rounds": args.rounds,
            "warmup_s": WARMUP_S,
            "page_cache": "available" if cache else "not available",
            "load_average_at_start": load_at_start,
            "statement_timeout_ms": timeout_ms,
        },
        "data": {
            "main": positions.as_dict(),
            "100k": positions_100k.as_dict() if positions_100k else None,
            "subscribers": args.subscribers,
        },
        "cases": figures,
        "digest": digest,
        "explain": explain,
        "profiles": profiles,
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    results["targets"] = report.compute_targets(results)
    report.write(results, json_path=RESULTS_JSON, markdown_path=BENCHMARKS_MD)
    met = sum(1 for target in results["targets"] if target["met"] is True)
    log(
        f"done in {results['elapsed_s'] / 60:.1f} min: {met} of {len(results['targets'])} "
        f"targets met; see {BENCHMARKS_MD.name} and bench/{RESULTS_JSON.name}"
    )
    return 0


def _datasette_version() -> str:
    completed = subprocess.run(  # noqa: S603 - fixed argv
        [DATASETTE_PYTHON, "-c", "import datasette.version as v; print(v.__version__)"],
        capture_output=True,
        text=True,
        check=False,
    )
    return completed.stdout.strip()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (BenchError, harness.HarnessError) as error:
        print(f"bench: {error}", file=sys.stderr)
        sys.exit(1)
