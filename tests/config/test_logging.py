"""Log lines carry the request id; LOG_FORMAT=json makes them JSON; Sentry stays off without a
DSN."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import sentry_sdk
from django.conf import settings

from config.request_id import RequestIdFilter, request_id_var

REPO_ROOT = Path(__file__).resolve().parents[2]


def _console_handler() -> logging.Handler:
    """The handler Django configured on the root logger from settings.LOGGING."""
    (handler,) = [h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler]
    return handler


def _record() -> logging.LogRecord:
    return logging.LogRecord("atlas.test", logging.WARNING, __file__, 1, "saved %s", ("x",), None)


def test_the_console_handler_adds_the_request_id_to_each_line():
    handler = _console_handler()
    assert any(isinstance(f, RequestIdFilter) for f in handler.filters)
    assert handler.formatter is not None

    inside = _record()
    token = request_id_var.set("req-12345678")
    try:
        assert handler.filter(inside)
    finally:
        request_id_var.reset(token)
    # LOG_FORMAT defaults to text.
    assert "WARNING [req-12345678] atlas.test: saved x" in handler.formatter.format(inside)

    outside = _record()
    assert handler.filter(outside)
    assert "[-] atlas.test: saved x" in handler.formatter.format(outside)


def test_sentry_is_not_initialised_without_a_dsn():
    assert settings.SENTRY_DSN == ""
    assert not sentry_sdk.get_client().is_active()


def test_log_format_json_and_a_dsn_switch_both_on():
    """Settings are read once per process: a fresh interpreter starts Django with the
    variables set and logs one line. The DSN's host is reserved (.invalid); nothing is sent."""
    code = (
        "import json, logging, django, sentry_sdk\n"
        "django.setup()\n"
        "from config.request_id import RequestIdFilter, request_id_var\n"
        "request_id_var.set('req-12345678')\n"
        "logging.getLogger('atlas.test').warning('saved %s', 'x')\n"
        "client = sentry_sdk.get_client()\n"
        "print(json.dumps({'active': client.is_active(),"
        " 'environment': client.options['environment'],"
        " 'pii': client.options['send_default_pii'],"
        " 'traces': client.options['traces_sample_rate'],"
        " 'integrations': sorted(client.integrations)}))\n"
    )
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "LOG_FORMAT": "json",
        "SENTRY_DSN": "https://public@sentry.example.invalid/1",
    }
    environment.pop("SENTRY_TRACES_SAMPLE_RATE", None)
    result = subprocess.run(  # noqa: S603 - a fixed command: this interpreter, inline code
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    (line,) = [x for x in result.stderr.splitlines() if '"atlas.test"' in x]
    entry = json.loads(line)
    assert entry["message"] == "saved x"
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "atlas.test"
    assert entry["request_id"] == "req-12345678"
    assert entry["time"]

    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["active"] is True
    # Named after the settings module in use.
    assert seen["environment"] == "test"
    assert seen["pii"] is False
    assert seen["traces"] == 0.0
    assert {"django", "celery"} <= set(seen["integrations"])
