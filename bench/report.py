"""
The bench's verdicts and its report: targets computed from bench/results.json, and
BENCHMARKS.md written from the same figures. Nothing here is measured or typed by hand.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CASE_TITLES = {
    "list": "API list, first page",
    "deep": "API list, deep cursor page",
    "detail": "API detail",
    "city": "City page",
    "search": "Search, common term",
}
# Pages whose queries are EXPLAINed but not timed.
EXPLAIN_TITLES = {
    "home": "Home page",
    "compare": "Compare page",
    "coverage": "Coverage page",
    "jurisdictions_api": "API jurisdictions list",
}
PEER_TITLES = {
    "app": "Atlas (cache off)",
    "app_cached": "Atlas (anonymous cache on)",
    "floor": "Floor (bare Django view, same bytes)",
    "sql": "SQL-built JSON (json_agg)",
    "datasette": "Datasette (SQLite copy)",
    "nginx": "nginx static file (ceiling)",
    "app_100k": "Atlas on 100,000 initiatives (cache off)",
}
TARGET_CONNECTIONS = 4
TARGET_INITIATIVES = 1_000_000
TARGET_SUBSCRIBERS = 100_000


@dataclass(frozen=True)
class Ratio:
    """``peer``'s req/s over ``reference``'s on ``case`` must be at least ``minimum``."""

    key: str
    label: str
    case: str
    peer: str
    reference: str
    minimum: float


@dataclass(frozen=True)
class Ceiling:
    """A measured figure that must not exceed ``maximum``."""

    key: str
    label: str
    maximum: float
    unit: str


RATIOS = (
    Ratio("list_vs_floor", "API list uncached >= 40% of the floor", "list", "app", "floor", 0.40),
    Ratio("list_vs_sql", "API list uncached >= 0.7x the SQL-built JSON", "list", "app", "sql", 0.7),
    Ratio(
        "list_vs_datasette", "API list uncached >= 2x Datasette", "list", "app", "datasette", 2.0
    ),
    Ratio(
        "list_cached_vs_floor",
        "API list cached anonymous >= 85% of the floor",
        "list",
        "app_cached",
        "floor",
        0.85,
    ),
    Ratio(
        "city_cached_vs_floor",
        "City page cached anonymous >= 85% of the floor",
        "city",
        "app_cached",
        "floor",
        0.85,
    ),
    Ratio("city_vs_floor", "City page uncached >= 25% of the floor", "city", "app", "floor", 0.25),
)
P99_LIMITS_MS = {"list": 50.0, "deep": 50.0, "detail": 50.0, "city": 50.0, "search": 100.0}
GROWTH_LIMIT = 1.25
DIGEST_LIMITS = (
    Ceiling("digest_seconds", "Digests for 100,000 subscribers, 2 workers", 60.0, "s"),
    Ceiling("queries_per_chunk", "Digest queries per chunk", 3.0, "queries"),
    Ceiling("peak_rss_mb_per_worker", "Digest peak RSS per worker", 300.0, "MB"),
)


def _figures(results: Mapping[str, Any], case: str, peer: str) -> Mapping[str, Any] | None:
    """A peer's summary for a case, or None when it has no figures (n/a, not measured)."""
    entry = results.get("cases", {}).get(case, {}).get(peer)
    if not isinstance(entry, Mapping) or "median" not in entry:
        return None
    return entry


def _why_missing(results: Mapping[str, Any], case: str, peer: str) -> str:
    entry = results.get("cases", {}).get(case, {}).get(peer)
    if isinstance(entry, Mapping) and entry.get("reason"):
        return f"{peer}: {entry['reason']}"
    return f"{peer}: not measured"


def _failures(figures: Mapping[str, Any]) -> int:
    """Responses that were not 2xx, socket errors, and rounds where nothing came back in time."""
    return (
        int(figures.get("non_2xx", 0))
        + int(figures.get("errors", 0))
        + int(figures.get("rounds_without_answer", 0))
    )


def _p99(figures: Mapping[str, Any]) -> float | None:
    value = figures["median"].get("p99_ms")
    # wrk reports 0.00 when nothing was answered in time: no latency was measured at all.
    return float(value) if value else None


def _target(
    key: str,
    label: str,
    *,
    measured: float | None,
    threshold: str,
    met: bool | None,
    note: str = "",
) -> dict[str, Any]:
    return {
        "key": key,
        "target": label,
        "measured": None if measured is None else round(measured, 3),
        "threshold": threshold,
        "met": met,
        "note": note,
    }


def _conditions(results: Mapping[str, Any]) -> str:
    """What differs from the conditions the targets are stated for, if anything."""
    notes = []
    connections = results.get("setup", {}).get("connections")
    if connections is not None and connections != TARGET_CONNECTIONS:
        notes.append(f"measured at {connections} connections, not {TARGET_CONNECTIONS}")
    initiatives = (results.get("data", {}).get("main") or {}).get("initiatives")
    if initiatives is not None and initiatives < TARGET_INITIATIVES:
        notes.append(f"measured on {initiatives:,} initiatives, not {TARGET_INITIATIVES:,}")
    return "; ".join(notes)


def _ratio_target(results: Mapping[str, Any], spec: Ratio) -> dict[str, Any]:
    threshold = f">= {spec.minimum:g}x"
    peer = _figures(results, spec.case, spec.peer)
    reference = _figures(results, spec.case, spec.reference)
    if peer is None or (reference is None and not _failures(peer)):
        missing = [
            _why_missing(results, spec.case, name)
            for name, figures in ((spec.peer, peer), (spec.reference, reference))
            if figures is None
        ]
        return _target(
            spec.key,
            spec.label,
            measured=None,
            threshold=threshold,
            met=None,
            note="; ".join(missing),
        )
    if reference is None:
        # Failing requests decide it whatever the reference would have been.
        return _target(
            spec.key,
            spec.label,
            measured=None,
            threshold=threshold,
            met=False,
            note=f"failed requests: {spec.peer} {_failures(peer)}; "
            + _why_missing(results, spec.case, spec.reference),
        )
    base = float(reference["median"]["requests_per_s"])
    ratio = float(peer["median"]["requests_per_s"]) / base if base > 0 else 0.0
    if _failures(peer) or _failures(reference):
        return _target(
            spec.key,
            spec.label,
            measured=ratio,
            threshold=threshold,
            met=False,
            note=(
                f"failed requests: {spec.peer} {_failures(peer)}, "
                f"{spec.reference} {_failures(reference)}"
            ),
        )
    return _target(
        spec.key,
        spec.label,
        measured=ratio,
        threshold=threshold,
        met=ratio >= spec.minimum,
        note=_conditions(results),
    )


def _p99_target(results: Mapping[str, Any], case: str, limit: float) -> dict[str, Any]:
    label = f"{CASE_TITLES[case]}: p99 at {TARGET_CONNECTIONS} connections <= {limit:g} ms"
    figures = _figures(results, case, "app")
    if figures is None:
        return _target(
            f"p99_{case}",
            label,
            measured=None,
            threshold=f"<= {limit:g} ms",
            met=None,
            note=_why_missing(results, case, "app"),
        )
    p99 = _p99(figures)
    failed = _failures(figures)
    return _target(
        f"p99_{case}",
        label,
        measured=p99,
        threshold=f"<= {limit:g} ms",
        met=p99 is not None and p99 <= limit and not failed,
        note=f"failed requests: {failed}" if failed else _conditions(results),
    )


def _growth_target(results: Mapping[str, Any], case: str) -> dict[str, Any]:
    label = f"{CASE_TITLES[case]}: p99 growth from 100,000 to 1,000,000 <= {GROWTH_LIMIT:g}x"
    large = _figures(results, case, "app")
    small = _figures(results, case, "app_100k")
    if large is None or small is None:
        missing = [
            _why_missing(results, case, name)
            for name, figures in (("app", large), ("app_100k", small))
            if figures is None
        ]
        return _target(
            f"growth_{case}",
            label,
            measured=None,
            threshold=f"<= {GROWTH_LIMIT:g}x",
            met=None,
            note="; ".join(missing),
        )
    base, top = _p99(small), _p99(large)
    growth = top / base if base and top is not None else None
    failed = _failures(large) + _failures(small)
    return _target(
        f"growth_{case}",
        label,
        measured=growth,
        threshold=f"<= {GROWTH_LIMIT:g}x",
        met=growth is not None and growth <= GROWTH_LIMIT and not failed,
        note=f"failed requests: {failed}" if failed else _conditions(results),
    )


def _digest_targets(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    digest = results.get("digest") or {}
    measured = digest.get("status") == "measured"
    notes = []
    if measured and int(digest.get("subscribers", 0)) != TARGET_SUBSCRIBERS:
        notes.append(f"measured with {digest.get('subscribers')} subscribers")
    if measured and int(digest.get("workers", 0)) != 2:
        notes.append(f"measured with {digest.get('workers')} workers")
    targets = []
    for spec in DIGEST_LIMITS:
        field = "seconds" if spec.key == "digest_seconds" else spec.key
        value = digest.get(field) if measured else None
        threshold = f"<= {spec.maximum:g} {spec.unit}"
        if value is None:
            reason = digest.get("reason") or digest.get("status") or "not measured"
            targets.append(
                _target(
                    spec.key,
                    spec.label,
                    measured=None,
                    threshold=threshold,
                    met=None,
                    note=f"not measured: {str(reason)[:200]}",
                )
            )
            continue
        targets.append(
            _target(
                spec.key,
                spec.label,
                measured=float(value),
                threshold=threshold,
                met=float(value) <= spec.maximum,
                note="; ".join(notes),
            )
        )
    return targets


def _count_target(results: Mapping[str, Any]) -> dict[str, Any]:
    label = "No COUNT over a whole large table on any measured endpoint (EXPLAIN)"
    explain = results.get("explain") or {}
    if not explain:
        return _target("no_whole_count", label, measured=None, threshold="0", met=None)
    offences = [
        f"{case}: {reason}"
        for case, summary in explain.items()
        for reason in summary.get("whole_table_counts", [])
    ]
    return _target(
        "no_whole_count",
        label,
        measured=float(len(offences)),
        threshold="0 statements",
        met=not offences,
        note="; ".join(offences)[:500],
    )


def compute_targets(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every target with its measured figure and verdict: met, not met, or None (not measured)."""
    targets = [_ratio_target(results, spec) for spec in RATIOS]
    targets += [_p99_target(results, case, limit) for case, limit in P99_LIMITS_MS.items()]
    targets += [_growth_target(results, case) for case in P99_LIMITS_MS]
    targets += _digest_targets(results)
    targets.append(_count_target(results))
    return targets


# ------------------------------------------------------------------------------
# BENCHMARKS.md
# ------------------------------------------------------------------------------


def verdict(met: bool | None) -> str:
    return {True: "met", False: "**not met**", None: "not measured"}[met]


def _number(value: Any, digits: int = 1) -> str:
    return "" if value is None else f"{float(value):,.{digits}f}"


def _cell(results: Mapping[str, Any], case: str, peer: str) -> str:
    figures = _figures(results, case, peer)
    if figures is None:
        entry = results.get("cases", {}).get(case, {}).get(peer) or {}
        return str(entry.get("reason") or "not measured").split(":")[0]
    median = figures["median"]
    if not median.get("p99_ms"):
        # wrk reports 0.00 when nothing was answered in time.
        return f"{_number(median['requests_per_s'])} req/s, p99 n/a (no answer within 2 s)"
    return f"{_number(median['requests_per_s'])} req/s, p99 {_number(median['p99_ms'], 1)} ms"


def render_markdown(results: Mapping[str, Any]) -> str:
    machine = results.get("machine", {})
    setup = results.get("setup", {})
    data = results.get("data", {})
    main = data.get("main") or {}
    small = data.get("100k") or {}
    cases = results.get("cases", {})
    peers = [peer for peer in PEER_TITLES if any(peer in cases.get(c, {}) for c in cases)]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (bench/run.py) from `bench/results.json`; every figure and "
        "verdict below is computed from that file. Do not edit by hand.",
        "",
        f"Run at {results.get('generated_at', '?')}, in "
        f"{_number(results.get('elapsed_s', 0) / 60)} minutes.",
        "",
        "## Machine and versions",
        "",
        "The machine is shared: other work may have run during the measurement, which the "
        "interleaved rounds and their spread are there to expose.",
        "",
        "| | |",
        "|---|---|",
    ]
    for key, value in {**machine, **results.get("versions", {})}.items():
        lines.append(f"| {key} | {value} |")
    lines += [
        "",
        "## Data",
        "",
        f"- {main.get('initiatives', 0):,} initiatives ({main.get('published', 0):,} published) "
        f"in `{main.get('database', '?')}`; growth compared with "
        + (
            f"{small.get('initiatives', 0):,} ({small.get('published', 0):,} published) in "
            f"`{small.get('database')}`."
            if small
            else "nothing (not measured)."
        ),
        f"- City page: `{main.get('city_slug', '?')}`, {main.get('city_initiatives', 0):,} "
        "published initiatives.",
        f"- Search: `{main.get('search_term', '?')}`. Detail: `{main.get('detail_slug', '?')}`.",
        f"- Deep cursor page: starts {int(100 * 0.9)}% of the way through the published list.",
        "",
        "## Setup",
        "",
        f"Every peer listens at once on its own loopback port, under gunicorn with "
        f"{setup.get('workers')} workers x {setup.get('threads')} threads (gthread). Datasette "
        "is an ASGI application, so it runs under the same gunicorn with uvicorn's worker "
        f"class and the same {setup.get('workers')} workers (one event loop each, SQL in "
        "Datasette's own thread pool); nginx runs the same number of worker processes. "
        f"wrk: {setup.get('connections')} connections, 2 threads; a {setup.get('warmup_s')} s "
        f"warm-up per case and peer, then {setup.get('rounds')} interleaved rounds of "
        f"{_number(setup.get('seconds'), 0)} s (for each case, round after round, every peer "
        "in turn). Figures are the median of the rounds; the spread is the lowest and highest "
        "round. The Atlas's database statements are cancelled after "
        f"{setup.get('statement_timeout_ms', '?')} ms (the request then fails and counts as "
        "a failed request), so that a request wrk has given up on does not go on loading the "
        "database during the measurements that follow.",
        "",
        "## Results: req/s and p99 (medians)",
        "",
        "| Case | " + " | ".join(PEER_TITLES[p] for p in peers) + " |",
        "|---|" + "---|" * len(peers),
    ]
    for case in CASE_TITLES:
        if case in cases:
            row = [CASE_TITLES[case], *(_cell(results, case, peer) for peer in peers)]
            lines.append("| " + " | ".join(row) + " |")
    digest = results.get("digest") or {}
    if digest.get("status") == "measured":
        digest_text = (
            f"{digest.get('subscribers', 0):,} subscribers, {digest.get('workers')} workers: "
            f"{_number(digest.get('seconds'))} s ({_number(digest.get('per_second'))}/s), "
            f"{digest.get('queries_per_chunk')} queries per chunk, peak RSS "
            f"{_number(digest.get('peak_rss_mb_per_worker'))} MB per worker"
        )
    else:
        digest_text = f"{digest.get('status', 'not measured')}: {digest.get('reason', '')}".strip()
    lines += ["", f"Digest build: {digest_text}.", "", "## Every round", ""]
    lines += [
        "| Case | Peer | req/s | spread | p50 ms | p99 ms | p99 spread | non-2xx | errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for case in CASE_TITLES:
        for peer in peers:
            figures = _figures(results, case, peer)
            if figures is None:
                entry = cases.get(case, {}).get(peer) or {}
                reason = entry.get("reason", "not measured")
                lines.append(
                    f"| {CASE_TITLES[case]} | {PEER_TITLES[peer]} | {reason} | | | | | | |"
                )
                continue
            median, spread = figures["median"], figures["spread"]
            rps_spread = " to ".join(_number(v) for v in spread["requests_per_s"])
            p99_spread = " to ".join(_number(v, 1) for v in spread["p99_ms"])
            lines.append(
                f"| {CASE_TITLES[case]} | {PEER_TITLES[peer]} | "
                f"{_number(median['requests_per_s'])} | {rps_spread} | "
                f"{_number(median['p50_ms'], 2)} | {_number(median['p99_ms'], 2)} | "
                f"{p99_spread} | {figures['non_2xx']} | {figures['errors']} |"
            )
    lines += [
        "",
        "## Targets",
        "",
        "| Target | Measured | Threshold | Verdict | Note |",
        "|---|---|---|---|---|",
    ]
    for target in results.get("targets", []):
        measured = "" if target["measured"] is None else f"{target['measured']:g}"
        lines.append(
            f"| {target['target']} | {measured} | {target['threshold']} | "
            f"{verdict(target['met'])} | {target['note']} |"
        )
    lines += [
        "",
        "## Queries (EXPLAIN on the bench database)",
        "",
        "| Case | Status | Queries | Plans (top node, scans) | Whole-table counts |",
        "|---|---|---|---|---|",
    ]
    for case, summary in (results.get("explain") or {}).items():
        plans = "; ".join(
            f"EXPLAIN failed: {s['error']}"
            if "error" in s
            else f"{s['top']} ("
            + ", ".join(
                f"{scan['node']} on {scan['relation']}"
                + (f" via {scan['index']}" if scan.get("index") else "")
                for scan in s["scans"]
            )
            + ")"
            for s in summary.get("statements", [])
        )
        counts = "; ".join(summary.get("whole_table_counts", [])) or "none"
        lines.append(
            f"| {CASE_TITLES.get(case) or EXPLAIN_TITLES.get(case, case)} | "
            f"{summary.get('status')} | "
            f"{summary.get('queries')} | {plans} | {counts} |"
        )
    profiles = results.get("profiles") or {}
    if profiles:
        lines += [
            "",
            "## Profiles",
            "",
            "Each case profiled in process with pyinstrument (the profiler's overhead included, "
            "so read proportions, not times):",
            "",
            "| Case | Requests | ms per request | Statuses | Profile |",
            "|---|---|---|---|---|",
        ]
        for case, profile in profiles.items():
            statuses = ", ".join(f"{code}: {n}" for code, n in profile["statuses"].items())
            lines.append(
                f"| {CASE_TITLES.get(case, case)} | {profile['requests']} | "
                f"{_number(profile['ms_per_request'], 2)} | {statuses} | "
                f"[{profile['file']}]({profile['file']}) |"
            )
    lines += [
        "",
        "## The peers",
        "",
        "- **Floor**: the bytes the Atlas answered, captured once at the start of the run and "
        "held in memory by a bare view in the same Django project (same middleware, same "
        "gunicorn). The Atlas cannot be faster than this.",
        "- **SQL-built JSON**: one SQL statement builds the API's JSON with `json_build_object` "
        "and `json_agg`, as PostgREST does; only the `next`/`previous` links are added in "
        "Python, since their cursors are signed with the project's key. A test holds its JSON "
        "equal to the API's. The HTML cases (city page, search) have no such peer: a JSON "
        "document is not the page they serve.",
        "- **Datasette** 0.65.5 from PyPI, in its own virtualenv, serves a SQLite copy of the "
        "published initiatives (one denormalised table with the API's fields, FTS5 for "
        "`_search=`), immutable, with `_shape=array&_nocount=1&_nofacet=1`, `_size=50` for "
        "the list, `_next=` for the deep page, the row JSON for the detail, the city's rows "
        "(`_size=1000`) for the city page and `_search=` for search.",
        "- **nginx** (Debian's) serves the captured bytes as static files: the harness's "
        "ceiling, what loopback HTTP and wrk can do at all on this machine.",
        "- **Atlas on 100,000**: the same Atlas on the smaller set, for the growth target.",
        "",
        "The bench settings (config.settings.bench) are production's with DEBUG off and "
        "persistent connections; over plain HTTP on loopback they drop the HTTPS redirect "
        "and secure cookies, and the API's per-address throttling, which would answer 429 "
        "to a load generator on one address.",
        "",
        "## Reproduce",
        "",
        "```",
        "make bench                     # generates the data sets once, then measures",
        "BENCH_SECONDS=10 make bench    # longer rounds",
        "```",
        "",
        "`BENCH_DATABASE_URL` (1,000,000 initiatives), `BENCH_DATABASE_URL_100K` and "
        "`BENCH_DIGEST_DATABASE_URL` name the databases; a database with no initiative is "
        "filled by `manage.py generate_data`, and kept for the next run.",
        "",
    ]
    return "\n".join(lines)


def write(results: Mapping[str, Any], *, json_path: Path, markdown_path: Path) -> None:
    json_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    markdown_path.write_text(render_markdown(results))
