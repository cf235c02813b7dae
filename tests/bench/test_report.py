"""Targets are judged from the figures alone, and the report shows every verdict."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bench import report
from bench.run import plan_seconds, summarise


def figures(rps: float, p99: float, *, non_2xx: int = 0, errors: int = 0) -> dict[str, Any]:
    return {
        "median": {"requests_per_s": rps, "p50_ms": p99 / 3, "p99_ms": p99},
        "spread": {"requests_per_s": [rps * 0.9, rps * 1.1], "p99_ms": [p99 * 0.9, p99 * 1.1]},
        "non_2xx": non_2xx,
        "errors": errors,
    }


@pytest.fixture
def results() -> dict[str, Any]:
    not_applicable = {"status": "n/a", "reason": "n/a: an HTML page has no SQL-built JSON"}
    return {
        "setup": {"connections": 4, "workers": 2, "threads": 4, "rounds": 3, "seconds": 5},
        "data": {"main": {"initiatives": 1_000_000, "published": 900_000}, "100k": {}},
        "cases": {
            "list": {
                "app": figures(500, 40),  # 0.5 of the floor, 0.625 of sql, 2.5x datasette
                "app_cached": figures(900, 10),
                "floor": figures(1000, 8),
                "sql": figures(800, 20),
                "datasette": figures(200, 60),
                "nginx": figures(20000, 1),
                "app_100k": figures(520, 35),  # growth 40 / 35 = 1.14
            },
            "deep": {
                "app": figures(400, 60),  # p99 over 50
                "app_100k": figures(420, 40),  # growth 1.5
                "floor": figures(1000, 8),
            },
            "detail": {"app": figures(700, 50), "app_100k": figures(700, 50)},
            "city": {
                "app": figures(300, 45),  # 0.3 of the floor
                "app_cached": figures(800, 12),  # 0.8 of the floor
                "floor": figures(1000, 9),
                "sql": not_applicable,
                "app_100k": {"status": "n/a", "reason": "not measured"},
            },
            "search": {"app": figures(100, 90, non_2xx=3), "app_100k": figures(100, 80)},
        },
        "digest": {
            "status": "measured",
            "subscribers": 100_000,
            "workers": 2,
            "seconds": 45.2,
            "queries_per_chunk": 4,
            "peak_rss_mb_per_worker": 120.5,
        },
        "explain": {
            "list": {"status": 200, "queries": 3, "statements": [], "whole_table_counts": []},
            "home": {
                "status": 200,
                "queries": 6,
                "statements": [],
                "whole_table_counts": ["aggregate over every row of council_organization"],
            },
        },
    }


def verdicts(results: dict[str, Any]) -> dict[str, bool | None]:
    return {target["key"]: target["met"] for target in report.compute_targets(results)}


def test_each_target_is_judged_from_its_figures(results: dict[str, Any]) -> None:
    assert verdicts(results) == {
        "list_vs_floor": True,
        "list_vs_sql": False,
        "list_vs_datasette": True,
        "list_cached_vs_floor": True,
        "city_cached_vs_floor": False,
        "city_vs_floor": True,
        "p99_list": True,
        "p99_deep": False,
        "p99_detail": True,  # 50 ms is within "no more than 50 ms"
        "p99_city": True,
        "p99_search": False,  # fast enough, but three requests failed
        "growth_list": True,
        "growth_deep": False,
        "growth_detail": True,
        "growth_city": None,  # the 100,000 row was not measured
        "growth_search": False,
        "digest_seconds": True,
        "queries_per_chunk": False,
        "peak_rss_mb_per_worker": True,
        "no_whole_count": False,
    }


def test_ratios_are_reported_as_measured(results: dict[str, Any]) -> None:
    targets = {target["key"]: target for target in report.compute_targets(results)}
    assert targets["list_vs_floor"]["measured"] == 0.5
    assert targets["list_vs_sql"]["measured"] == 0.625
    assert targets["growth_deep"]["measured"] == 1.5
    assert "council_organization" in targets["no_whole_count"]["note"]


def test_a_missing_peer_or_digest_is_not_measured_never_met(results: dict[str, Any]) -> None:
    changed = copy.deepcopy(results)
    del changed["cases"]["list"]["sql"]
    changed["cases"]["list"]["app_cached"] = {"status": "n/a", "reason": "cache not available"}
    changed["digest"] = {"status": "not measured", "reason": "bench.digests is absent"}
    judged = verdicts(changed)
    assert judged["list_vs_sql"] is None
    assert judged["list_cached_vs_floor"] is None
    assert judged["digest_seconds"] is None
    assert judged["list_vs_floor"] is True


def test_failed_requests_on_the_reference_spoil_the_ratio(results: dict[str, Any]) -> None:
    results["cases"]["list"]["floor"]["errors"] = 2
    assert verdicts(results)["list_vs_floor"] is False


def test_a_smaller_data_set_is_noted_beside_the_verdict(results: dict[str, Any]) -> None:
    results["data"]["main"]["initiatives"] = 30
    target = next(t for t in report.compute_targets(results) if t["key"] == "list_vs_floor")
    assert target["met"] is True
    assert "30 initiatives" in target["note"]


def test_the_report_shows_every_case_peer_and_verdict(
    results: dict[str, Any], tmp_path: Path
) -> None:
    results["targets"] = report.compute_targets(results)
    json_path, markdown_path = tmp_path / "results.json", tmp_path / "BENCHMARKS.md"
    report.write(results, json_path=json_path, markdown_path=markdown_path)
    text = markdown_path.read_text()
    assert json.loads(json_path.read_text())["targets"] == results["targets"]
    for title in report.CASE_TITLES.values():
        assert title in text
    assert "| API list uncached >= 40% of the floor | 0.5 | >= 0.4x | met |" in text
    assert (
        "| API list uncached >= 0.7x the SQL-built JSON | 0.625 | >= 0.7x | **not met** |" in text
    )
    assert "not measured" in text
    assert "| API list, first page | Atlas (cache off) | 500.0 | 450.0 to 550.0 |" in text


def test_rounds_give_a_median_and_a_spread() -> None:
    rounds = [
        {"requests_per_s": rps, "p50_ms": 1, "p99_ms": p99, "non_2xx": bad, "socket_errors": 0}
        | {"requests": 10}
        for rps, p99, bad in ((100, 9, 0), (300, 7, 1), (200, 8, 0))
    ]
    summary = summarise(rounds)
    assert summary["median"]["requests_per_s"] == 200
    assert summary["median"]["p99_ms"] == 8
    assert summary["spread"]["requests_per_s"] == [100, 300]
    assert summary["non_2xx"] == 1


def test_the_round_length_fits_the_budget() -> None:
    assert plan_seconds(runs=33, rounds=3, seconds=None) == 5
    assert plan_seconds(runs=3, rounds=3, seconds=None) == 10
    assert plan_seconds(runs=33, rounds=3, seconds=2) == 2


def test_a_round_with_no_answer_in_time_has_no_latency_and_fails(results: dict[str, Any]) -> None:
    silent = {"requests_per_s": 0, "p50_ms": 0, "p99_ms": 0, "non_2xx": 0, "socket_errors": 0}
    summary = summarise([silent | {"requests": 0}] * 3)
    assert summary["median"]["p99_ms"] is None
    results["cases"]["city"]["app"] = summary
    judged = verdicts(results)
    assert judged["p99_city"] is False
    assert judged["city_vs_floor"] is False


def test_a_failing_atlas_fails_its_ratio_even_without_a_floor(results: dict[str, Any]) -> None:
    results["cases"]["city"]["app"] = figures(0, 2000, non_2xx=40)
    results["cases"]["city"]["floor"] = {"status": "n/a", "reason": "no page to serve"}
    judged = verdicts(results)
    assert judged["city_vs_floor"] is False
    assert judged["city_cached_vs_floor"] is None  # the cached Atlas did not fail


def test_the_report_links_each_case_profile(results: dict[str, Any]) -> None:
    results["profiles"] = {
        "list": {
            "path": "/api/v1/initiatives/?page_size=50",
            "file": "bench/profiles/list.txt",
            "requests": 20,
            "statuses": {"200": 20},
            "warm_status": 200,
            "ms_per_request": 12.345,
        }
    }
    markdown = report.render_markdown(results)
    assert "## Profiles" in markdown
    assert "| API list, first page | 20 | 12.35 | 200: 20 | [bench/profiles/list.txt]" in markdown


def test_no_profiles_no_section(results: dict[str, Any]) -> None:
    assert "## Profiles" not in report.render_markdown(results)
