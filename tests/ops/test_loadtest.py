"""
``make loadtest``'s judgement, without wrk or servers: what counts as a failure, what the
report says, how settings are read, and how the writer reads forms and logs.
"""

import json

import pytest

from bench import loadtest
from bench.harness import WrkResult
from bench.loadtest import (
    Emails,
    LevelResult,
    LoadTestError,
    PassResult,
    WriterStats,
    config_from_env,
    failures,
    format_pass,
    page_forms,
    summarize_log,
)


def wrk_result(*, requests=100, non_2xx=0, status_5xx=0, socket_errors=0) -> WrkResult:
    return WrkResult(
        url="http://127.0.0.1:1/",
        connections=4,
        duration_s=10.0,
        requests=requests,
        requests_per_s=requests / 10,
        p50_ms=5.0,
        p99_ms=40.0,
        non_2xx=non_2xx,
        status_5xx=status_5xx,
        socket_errors=socket_errors,
        statuses={200: requests - non_2xx, 503: status_5xx} if status_5xx else {200: requests},
    )


def a_pass(*, name="Pass 1", emails=None, writer=None, **endpoint) -> PassResult:
    level = LevelResult(
        connections=8,
        endpoints={"public page": wrk_result(**endpoint), "API list": wrk_result()},
        writer=writer or WriterStats(edits=10, ok=10),
        load_average=1.5,
    )
    return PassResult(
        name=name,
        redis_stopped=False,
        levels=[level],
        writer=writer or WriterStats(edits=10, ok=10),
        emails=emails or Emails(owed=20, delivered=20),
    )


def test_a_clean_run_has_no_failures():
    assert failures([a_pass(), a_pass(name="Pass 2")]) == []


def test_a_5xx_anywhere_fails_the_run_and_says_where():
    found = failures([a_pass(), a_pass(name="Pass 2", status_5xx=3, non_2xx=3)])

    assert found == ["Pass 2, public page at 8 connections: 3 responses with a 5xx"]


def test_socket_errors_fail_the_run():
    found = failures([a_pass(socket_errors=2)])

    assert found == ["Pass 1, public page at 8 connections: 2 socket errors"]


def test_client_errors_alone_do_not_fail_the_run():
    """A 404 is reported as non-2xx; only 5xx and socket errors fail the load test."""
    assert failures([a_pass(non_2xx=5)]) == []


def test_the_writers_server_errors_fail_the_run():
    writer = WriterStats(edits=10, ok=8, failed=2, status_5xx=1, socket_errors=1)

    found = failures([a_pass(writer=writer)])

    assert "Pass 1, writer: 1 responses with a 5xx" in found
    assert "Pass 1, writer: 1 socket errors" in found


def test_emails_that_never_arrive_fail_the_run():
    found = failures([a_pass(emails=Emails(owed=20, delivered=17, pending=3))])

    assert found == ["Pass 1: 3 of 20 emails not delivered (3 still pending, 0 failed)"]


def test_the_table_shows_every_figure():
    run = a_pass(status_5xx=2, non_2xx=2)
    run.failing_requests = {"GET /en/jurisdictions/chicago/ -> 500": 2}

    table = format_pass(run)

    row = next(line for line in table.splitlines() if line.startswith("public page"))
    assert row.split() == ["public", "page", "8", "10.0", "5.0", "40.0", "2", "2", "0"]
    assert "10 edits: 10 ok, 0 failed, 0 5xx, 0 socket errors; load average 1.5" in table
    assert "emails: 20 owed, 20 delivered, 0 pending, 0 failed" in table
    assert "5xx: 2 x GET /en/jurisdictions/chicago/ -> 500" in table


def test_the_report_is_json():
    data = json.loads(json.dumps(a_pass(socket_errors=1).as_dict()))

    endpoint = data["levels"][0]["endpoints"]["public page"]
    assert endpoint["socket_errors"] == 1
    assert endpoint["statuses"] == {"200": 100}
    assert data["emails"]["missing"] == 0


def test_writer_stats_per_level_are_the_difference():
    earlier = WriterStats(edits=3, ok=3, errors=["a"])
    earlier.statuses[302] = 6
    later = WriterStats(edits=5, ok=4, failed=1, errors=["a", "b"])
    later.statuses.update({302: 9, 400: 1})

    delta = later.minus(earlier)

    assert (delta.edits, delta.ok, delta.failed) == (2, 1, 1)
    assert delta.statuses == {302: 3, 400: 1}
    assert delta.errors == ["b"]


def test_settings_default_to_a_minute_per_level_on_the_loadtest_database():
    config = config_from_env({})

    assert config.seconds == 60
    assert config.levels == (4, 8, 16)
    assert config.database_url.endswith("/atlas_loadtest")
    assert not config.keep_database


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"LOADTEST_SECONDS": "ten"}, "whole number of seconds, not 'ten'"),
        ({"LOADTEST_SECONDS": "1"}, "at least 2"),
        ({"LOADTEST_DATABASE_URL": "sqlite:///x.db"}, "must be a postgres://"),
        ({"LOADTEST_DATABASE_URL": "postgres://postgres@db/atlas"}, "does not look like"),
    ],
)
def test_bad_settings_are_refused_clearly(environ, message):
    with pytest.raises(LoadTestError, match=message):
        config_from_env(environ)


def test_bad_settings_exit_with_a_message_and_start_nothing(capsys, monkeypatch):
    monkeypatch.setattr(loadtest, "prepare_database", pytest.fail)

    assert loadtest.main({"LOADTEST_SECONDS": "soon"}) == 2
    assert "LOADTEST_SECONDS must be a whole number" in capsys.readouterr().err


def test_forms_are_read_as_a_browser_submits_them():
    page = """
    <form method="get" action="/search/"><input name="q" value="x"></form>
    <form method="post" class="record-form">
      <input type="hidden" name="csrfmiddlewaretoken" value="tok">
      <input type="hidden" name="version" value="2026-01-01T00:00:00">
      <input name="title" value="Skills &amp; bus">
      <input name="disabled_one" value="no" disabled>
      <input type="checkbox" name="is_illustrative" checked>
      <input type="checkbox" name="unticked" value="1">
      <textarea name="summary">
Line one</textarea>
      <select name="status"><option value="planned">P</option>
        <option value="active" selected>A</option></select>
      <select name="kind"><option value="first">F</option><option value="b">B</option></select>
      <select name="sectors" multiple><option value="1" selected>1</option>
        <option value="2">2</option><option value="3" selected>3</option></select>
      <button type="submit" name="action" value="preview">Preview</button>
    </form>
    """
    forms = page_forms(page)

    assert [attrs.get("method") for attrs, _fields in forms] == ["get", "post"]
    assert forms[1][1] == [
        ("csrfmiddlewaretoken", "tok"),
        ("version", "2026-01-01T00:00:00"),
        ("title", "Skills & bus"),
        ("is_illustrative", "on"),
        ("summary", "Line one"),
        ("status", "active"),
        ("kind", "first"),
        ("sectors", "1"),
        ("sectors", "3"),
    ]


def test_the_log_summary_names_failing_requests_and_their_errors():
    log = "\n".join(
        [
            '127.0.0.1 - - [28/Nov/2026:00:04:20 +0000] "GET /en/jurisdictions/chicago/ '
            'HTTP/1.1" 500 145 "-" "-"',
            '127.0.0.1 - - [28/Nov/2026:00:04:20 +0000] "GET /api/v1/initiatives/?page=2 '
            'HTTP/1.1" 503 10 "-" "-"',
            '127.0.0.1 - - [28/Nov/2026:00:04:20 +0000] "GET /api/v1/initiatives/ '
            'HTTP/1.1" 200 10 "-" "-"',
            '{"level": "ERROR", "message": "Internal Server Error", "exc_info": "Traceback:\\n'
            '  File \\"x.py\\"\\nConnectionRefusedError: [Errno 111] refused\\n\\nDuring '
            'handling\\nredis.exceptions.ConnectionError: Error 111 connecting."}',
        ]
    )

    failing, errors = summarize_log(log)

    assert failing == {
        "GET /en/jurisdictions/chicago/ -> 500": 1,
        "GET /api/v1/initiatives/ -> 503": 1,
    }
    assert errors == {"ConnectionError: Error 111 connecting.": 1}
