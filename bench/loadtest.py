"""
``make loadtest`` (``python -m bench.loadtest``): the Atlas under load, as production runs it.

Everything runs on loopback and is started here, on services of its own:

- a fresh PostgreSQL database (``LOADTEST_DATABASE_URL``, by default ``atlas_loadtest`` on
  the local server), migrated and seeded with the demo;
- a private ``redis-server`` on a free port (the cache and Celery's broker), a Celery worker
  on it, and an SMTP sink in this process that counts what the worker delivers;
- gunicorn with ``config.settings.production``, started as the Dockerfile starts it
  (gthread, ``WEB_CONCURRENCY`` workers, ``GUNICORN_CMD_ARGS``), every request sent as the
  proxy sends it (``X-Forwarded-Proto: https``).

For each level (4, 8 and 16 connections) three wrk processes run at once, one per endpoint
(a public jurisdiction page, the initiative list of the API and one initiative in it), for
``LOADTEST_SECONDS`` (60). Meanwhile a writer signs in as a Chicago editor and, once a second,
saves a change to a draft initiative and submits it for review, which emails Chicago's
reviewer and chair through the outbox.

The second pass is the same, but Redis is stopped halfway through the first level and stays
down to the end of the pass: public pages must keep answering from the database and no
request may fail with a 5xx. Redis is then started again and the outbox swept, and every
email owed must arrive.

The anonymous API throttle is raised for the run (``API_THROTTLE_ANON``): the figures are
the server's capacity, not the throttle's. The exit status is 1 when any request got a 5xx
or a socket error, or an email went missing; the figures also go to ``bench/loadtest.json``.
"""

from __future__ import annotations

import contextlib
import html.parser
import json
import logging
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from http import cookies
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from types import FrameType
from typing import Any

from bench.harness import (
    HarnessError,
    Server,
    WrkResult,
    free_port,
    gunicorn_argv,
    machine_info,
    run_wrk,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(REPO_ROOT / ".venv" / "bin" / "python")
CELERY = str(REPO_ROOT / ".venv" / "bin" / "celery")
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/atlas_loadtest"
DEFAULT_OUTPUT = REPO_ROOT / "bench" / "loadtest.json"
LEVELS = (4, 8, 16)
# The Dockerfile's process model: WEB_CONCURRENCY workers and GUNICORN_CMD_ARGS.
WEB_CONCURRENCY = 2
GUNICORN_CMD_ARGS = (
    "--threads=4 --timeout=30 --graceful-timeout=30 --keep-alive=5 --access-logfile=-"
)
# High enough never to answer 429 here: the test measures capacity, not the throttle.
THROTTLE = "1000000/min"

# What the load runs against, from the demo data.
PUBLIC_PAGE = "/en/jurisdictions/chicago/"
API_LIST = "/api/v1/initiatives/"
API_DETAIL = "/api/v1/initiatives/chicago-data-portal/"
ENDPOINTS = {"public page": PUBLIC_PAGE, "API list": API_LIST, "API detail": API_DETAIL}
# The writer: a Chicago editor and a Chicago draft; submitting it emails the reviewer and chair.
WRITER_USERNAME = "chicago-editor"
WRITER_RECORD = "chicago-digital-skills-bus"
# The demo accounts live only in the throwaway database; a new password each run.
DEMO_PASSWORD = secrets.token_urlsafe(18)
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}

logger = logging.getLogger("bench.loadtest")


class LoadTestError(RuntimeError):
    """The load test could not be set up or run."""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------ settings


@dataclass(frozen=True)
class Config:
    seconds: int
    database_url: str
    output: Path
    levels: tuple[int, ...] = LEVELS
    # Reuse the database a previous run made (it keeps that run's edits): for quick reruns.
    keep_database: bool = False
    # wrk's own default is 2 s; a request slower than this counts as a socket error.
    wrk_timeout_s: int = 10


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise LoadTestError(f"{name} must be a whole number of seconds, not {raw!r}") from None
    if value < 2:
        raise LoadTestError(f"{name} must be at least 2, not {value}")
    return value


def config_from_env(environ: Mapping[str, str]) -> Config:
    """
    The run's settings: LOADTEST_SECONDS (per level), LOADTEST_DATABASE_URL, LOADTEST_OUTPUT,
    LOADTEST_WRK_TIMEOUT (seconds) and LOADTEST_KEEP_DATABASE=1.
    """
    database_url = environ.get("LOADTEST_DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
    parts = urllib.parse.urlsplit(database_url)
    name = parts.path.lstrip("/")
    if parts.scheme not in ("postgres", "postgresql", "pgsql") or not name:
        raise LoadTestError(
            f"LOADTEST_DATABASE_URL must be a postgres://user@host:port/name URL, "
            f"not {database_url!r}"
        )
    if "loadtest" not in name:
        # The database is dropped and made afresh: refuse any name that might hold real data.
        raise LoadTestError(
            f"the load test drops and recreates its database; {name!r} does not look like "
            "one made for it (its name must contain 'loadtest')"
        )
    return Config(
        seconds=_positive_int(environ, "LOADTEST_SECONDS", 60),
        database_url=database_url,
        output=Path(environ.get("LOADTEST_OUTPUT", "").strip() or DEFAULT_OUTPUT),
        wrk_timeout_s=_positive_int(environ, "LOADTEST_WRK_TIMEOUT", 10),
        keep_database=environ.get("LOADTEST_KEEP_DATABASE", "").strip() == "1",
    )


# ------------------------------------------------------------------------------ results


@dataclass
class WriterStats:
    """What the writer did: each edit is a save and a submit; ``failed`` is any other answer."""

    edits: int = 0
    ok: int = 0
    failed: int = 0
    status_5xx: int = 0
    socket_errors: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def minus(self, earlier: WriterStats) -> WriterStats:
        return WriterStats(
            edits=self.edits - earlier.edits,
            ok=self.ok - earlier.ok,
            failed=self.failed - earlier.failed,
            status_5xx=self.status_5xx - earlier.status_5xx,
            socket_errors=self.socket_errors - earlier.socket_errors,
            statuses=self.statuses - earlier.statuses,
            errors=self.errors[len(earlier.errors) :],
        )

    def copy(self) -> WriterStats:
        return WriterStats(
            self.edits,
            self.ok,
            self.failed,
            self.status_5xx,
            self.socket_errors,
            Counter(self.statuses),
            list(self.errors),
        )

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["statuses"] = {str(code): n for code, n in sorted(self.statuses.items())}
        return data


@dataclass
class LevelResult:
    connections: int
    endpoints: dict[str, WrkResult]
    writer: WriterStats
    # The machine's 1-minute load average as the level ended: the machine is shared.
    load_average: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "connections": self.connections,
            "load_average": self.load_average,
            "endpoints": {name: r.as_dict() for name, r in self.endpoints.items()},
            "writer": self.writer.as_dict(),
        }


@dataclass
class Emails:
    owed: int = 0
    delivered: int = 0
    pending: int = 0
    failed: int = 0
    # Still pending when Redis came back: the ones the sweep had to hand over.
    waited: int = 0

    @property
    def missing(self) -> int:
        return self.owed - self.delivered


@dataclass
class PassResult:
    name: str
    redis_stopped: bool
    levels: list[LevelResult] = field(default_factory=list)
    writer: WriterStats = field(default_factory=WriterStats)
    emails: Emails = field(default_factory=Emails)
    # From gunicorn's log: the requests that got a 5xx, and the errors behind them.
    failing_requests: dict[str, int] = field(default_factory=dict)
    errors_logged: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "redis_stopped": self.redis_stopped,
            "levels": [level.as_dict() for level in self.levels],
            "writer": self.writer.as_dict(),
            "emails": {**asdict(self.emails), "missing": self.emails.missing},
            "failing_requests": self.failing_requests,
            "errors_logged": self.errors_logged,
        }


def failures(passes: Sequence[PassResult]) -> list[str]:
    """Everything that makes the run fail: 5xx, socket errors and emails that never came."""
    found = []
    for run in passes:
        for level in run.levels:
            for name, result in level.endpoints.items():
                where = f"{run.name}, {name} at {level.connections} connections"
                if result.status_5xx:
                    found.append(f"{where}: {result.status_5xx} responses with a 5xx")
                if result.socket_errors:
                    found.append(f"{where}: {result.socket_errors} socket errors")
        if run.writer.status_5xx:
            found.append(f"{run.name}, writer: {run.writer.status_5xx} responses with a 5xx")
        if run.writer.socket_errors:
            found.append(f"{run.name}, writer: {run.writer.socket_errors} socket errors")
        if run.emails.missing:
            found.append(
                f"{run.name}: {run.emails.missing} of {run.emails.owed} emails not delivered "
                f"({run.emails.pending} still pending, {run.emails.failed} failed)"
            )
    return found


def format_pass(run: PassResult) -> str:
    """The pass as a table: one row per level and endpoint, then the writer and the emails."""
    lines = [
        f"== {run.name}",
        f"{'endpoint':<12} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'non-2xx':>8} {'5xx':>6} {'sock err':>8}",
    ]
    for level in run.levels:
        for name, r in level.endpoints.items():
            lines.append(
                f"{name:<12} {level.connections:>5} {r.requests_per_s:>9.1f} {r.p50_ms:>8.1f} "
                f"{r.p99_ms:>8.1f} {r.non_2xx:>8} {r.status_5xx:>6} {r.socket_errors:>8}"
            )
        w = level.writer
        lines.append(
            f"{'writer':<12} {level.connections:>5} {w.edits:>4} edits: {w.ok} ok, "
            f"{w.failed} failed, {w.status_5xx} 5xx, {w.socket_errors} socket errors; "
            f"load average {level.load_average:.1f}"
        )
    e = run.emails
    lines.append(
        f"emails: {e.owed} owed, {e.delivered} delivered, {e.pending} pending, {e.failed} failed"
        + (f" ({e.waited} waited for Redis, then the sweep)" if run.redis_stopped else "")
    )
    for request, count in run.failing_requests.items():
        lines.append(f"  5xx: {count} x {request}")
    for error, count in run.errors_logged.items():
        lines.append(f"  logged: {count} x {error}")
    for error in run.writer.errors[:5]:
        lines.append(f"  writer: {error}")
    return "\n".join(lines)


_REQUEST_LINE = re.compile(r'"([A-Z]+) (\S+?)(?:\?\S*)? HTTP/[\d.]+" (\d{3}) ')
_EXCEPTION = re.compile(r"\b(?:[a-z_]+\.)*([A-Z]\w*(?:Error|Exception)): ([^\n\"\\]{0,160})")


def summarize_log(text: str) -> tuple[dict[str, int], dict[str, int]]:
    """
    From gunicorn's log: the requests answered with a 5xx (from the access log), and the
    exceptions the application logged: the last of each traceback, the one that was raised.
    """
    failing: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    for line in text.splitlines():
        request = _REQUEST_LINE.search(line)
        if request is not None:
            method, path, status = request.groups()
            if status.startswith("5"):
                failing[f"{method} {path} -> {status}"] += 1
            continue
        # JSON log lines carry their traceback with escaped newlines.
        found = _EXCEPTION.findall(line.replace("\\n", "\n"))
        if found:
            kind, message = found[-1]
            errors[f"{kind}: {message.strip()}"] += 1
    return dict(failing.most_common(10)), dict(errors.most_common(10))


# ------------------------------------------------------------------------------ writer


class _FormParser(html.parser.HTMLParser):
    """The successful controls of each form on a page, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[dict[str, str], list[tuple[str, str]]]] = []
        self._fields: list[tuple[str, str]] | None = None
        self._textarea: str | None = None
        self._text: list[str] = []
        self._select: str | None = None
        self._select_multiple = False
        self._select_first: str | None = None
        self._select_chosen = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._fields = []
            self.forms.append((a, self._fields))
        if self._fields is None or "disabled" in a:
            return
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._fields.append((name, a.get("value", "on")))
            elif kind not in ("submit", "button", "image", "reset", "file"):
                self._fields.append((name, a.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []
        elif tag == "select" and name:
            self._select, self._select_multiple = name, "multiple" in a
            self._select_first, self._select_chosen = None, False
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in a:
                self._fields.append((self._select, value))
                self._select_chosen = True

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._fields is None:
            return
        if tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            # Browsers drop the newline that follows <textarea>.
            self._fields.append((self._textarea, text.removeprefix("\n")))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            if not self._select_chosen and not self._select_multiple and self._select_first:
                self._fields.append((self._select, self._select_first))
            self._select = None
        elif tag == "form":
            self._fields = None


def page_forms(page: str) -> list[tuple[dict[str, str], list[tuple[str, str]]]]:
    """Each form on ``page``: its attributes and the fields a browser would send."""
    parser = _FormParser()
    parser.feed(page)
    parser.close()
    return parser.forms


class Browser:
    """
    A signed-in visitor over plain HTTP to gunicorn, dressed as the proxy dresses requests.

    Cookies are kept by hand: production marks them Secure, and a cookie jar would not send
    them over the loopback's plain HTTP, which the proxy's X-Forwarded-Proto makes HTTPS.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.cookies: dict[str, str] = {}
        self.origin = f"https://{host}:{port}"

    def request(
        self, method: str, path: str, form: Sequence[tuple[str, str]] | None = None
    ) -> tuple[int, str, str]:
        """(status, Location, body) for one request; raises OSError for a socket error."""
        headers = {**PROXY_HEADERS, "Host": f"{self.host}:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            # Django's CSRF check compares these with the host on HTTPS requests.
            headers["Origin"] = self.origin
            headers["Referer"] = self.origin + path
        connection = HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read().decode("utf-8", "replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                jar: cookies.SimpleCookie = cookies.SimpleCookie()
                jar.load(header)
                for name, morsel in jar.items():
                    self.cookies[name] = morsel.value
            return response.status, response.headers.get("Location", ""), content
        except HTTPException as error:
            raise OSError(f"bad HTTP answer: {error!r}") from error
        finally:
            connection.close()

    def form_on(self, path: str, *, containing: str) -> list[tuple[str, str]]:
        """The fields of the form on ``path`` that has a field named ``containing``."""
        status, _location, page = self.request("GET", path)
        if status != 200:
            raise LoadTestError(f"GET {path} answered {status}")
        for _attrs, fields in page_forms(page):
            if any(name == containing for name, _value in fields):
                return fields
        raise LoadTestError(f"no form with a {containing!r} field on {path}")


class Writer(threading.Thread):
    """
    Once a second, an editor saves a change to a draft and submits it for review.

    Each submission owes Chicago's reviewer and chair an email (workflow notifications go
    through the outbox). A save puts the record back to draft from review, so each edit
    notifies again.
    """

    interval_s = 1.0

    def __init__(self, browser: Browser) -> None:
        super().__init__(name="writer", daemon=True)
        self.browser = browser
        self.stats = WriterStats()
        self.lock = threading.Lock()
        self.halt = threading.Event()
        self.edit_path = f"/en/council/initiatives/{WRITER_RECORD}/edit/"
        self.submit_path = f"/en/council/workflow/initiatives/{WRITER_RECORD}/submit/"

    def sign_in(self) -> None:
        login = "/en/accounts/login/"
        fields = self.browser.form_on(login, containing="password")
        form = [(k, v) for k, v in fields if k not in ("username", "password")]
        form += [("username", WRITER_USERNAME), ("password", DEMO_PASSWORD)]
        status, location, body = self.browser.request("POST", login, form)
        if status != 302:
            raise LoadTestError(f"signing in as {WRITER_USERNAME} answered {status}: {body[:300]}")
        log(f"writer signed in as {WRITER_USERNAME} (then {location})")

    def snapshot(self) -> WriterStats:
        with self.lock:
            return self.stats.copy()

    def run(self) -> None:
        next_tick = time.monotonic()
        number = 0
        while not self.halt.is_set():
            number += 1
            self.edit(number)
            next_tick += self.interval_s
            # A slow edit skips the ticks it overran rather than bunching up after them.
            while next_tick < time.monotonic():
                next_tick += self.interval_s
            self.halt.wait(max(0.0, next_tick - time.monotonic()))

    def _answer(self, method: str, path: str, form: Sequence[tuple[str, str]] | None) -> int:
        status, _location, body = self.browser.request(method, path, form)
        with self.lock:
            self.stats.statuses[status] += 1
            if status >= 500:
                self.stats.status_5xx += 1
        if status >= 400 or (method == "POST" and status != 302):
            raise LoadTestError(f"{method} {path} answered {status}: {_visible_error(body)}")
        return status

    def edit(self, number: int) -> None:
        try:
            status, _location, page = self.browser.request("GET", self.edit_path)
            with self.lock:
                self.stats.statuses[status] += 1
                if status >= 500:
                    self.stats.status_5xx += 1
            if status != 200:
                raise LoadTestError(f"GET {self.edit_path} answered {status}")
            fields = next(
                (f for _a, f in page_forms(page) if any(k == "version" for k, _v in f)), None
            )
            if fields is None:
                raise LoadTestError(f"no edit form on {self.edit_path}")
            token = next((v for k, v in fields if k == "csrfmiddlewaretoken"), "")
            changed = [
                (k, f"Load test edit {number}: {v.split(': ', 1)[-1]}" if k == "summary" else v)
                for k, v in fields
            ]
            self._answer("POST", self.edit_path, changed)
            self._answer("POST", self.submit_path, [("csrfmiddlewaretoken", token)])
        except OSError as error:
            with self.lock:
                self.stats.edits += 1
                self.stats.failed += 1
                self.stats.socket_errors += 1
                self.stats.errors.append(f"edit {number}: socket error {error}")
            return
        except LoadTestError as error:
            with self.lock:
                self.stats.edits += 1
                self.stats.failed += 1
                self.stats.errors.append(f"edit {number}: {error}")
            return
        with self.lock:
            self.stats.edits += 1
            self.stats.ok += 1

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=60)


def _visible_error(body: str) -> str:
    """The first error message of a refused form, or the start of the page."""
    match = re.search(r'class="[^"]*error[^"]*"[^>]*>\s*(?:<[^>]+>\s*)*([^<]{3,200})', body)
    return match.group(1).strip() if match else " ".join(body.split())[:200]


# ------------------------------------------------------------------------------ SMTP


class SmtpSink:
    """An SMTP server on loopback that accepts everything and counts the messages."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages = 0
        self.lock = threading.Lock()
        self._controller: Any = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages += 1
        return "250 OK"

    def count(self) -> int:
        with self.lock:
            return self.messages

    def __enter__(self) -> SmtpSink:
        from aiosmtpd.controller import Controller

        # aiosmtpd logs each command; hundreds of emails would bury the figures.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


# ------------------------------------------------------------------------------ services


def database_env(config: Config) -> dict[str, str]:
    return {"DATABASE_URL": config.database_url}


def _maintenance_url(database_url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(database_url)
    return urllib.parse.urlunsplit(parts._replace(path="/postgres")), parts.path.lstrip("/")


def recreate_database(config: Config) -> None:
    """Drop the load test's database and make it afresh."""
    import psycopg2
    from psycopg2 import sql

    url, name = _maintenance_url(config.database_url)
    try:
        connection = psycopg2.connect(url, connect_timeout=10)
    except psycopg2.OperationalError as error:
        raise LoadTestError(f"cannot reach PostgreSQL at {url}: {error}") from error
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        connection.close()


def outbox_counts(config: Config, *, after_pk: int) -> tuple[int, Counter[str]]:
    """The highest outbox row id, and the states of the rows after ``after_pk``."""
    import psycopg2

    connection = psycopg2.connect(config.database_url, connect_timeout=10)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT coalesce(max(id), 0) FROM initiatives_outgoingemail")
            row = cursor.fetchone()
            top = int(row[0]) if row else 0
            cursor.execute(
                "SELECT state, count(*) FROM initiatives_outgoingemail WHERE id > %s "
                "GROUP BY state",
                [after_pk],
            )
            states = Counter({str(state): int(n) for state, n in cursor.fetchall()})
    finally:
        connection.close()
    return top, states


def manage(args: Sequence[str], env: Mapping[str, str], *, what: str) -> None:
    completed = subprocess.run(  # noqa: S603 - fixed program, arguments from this module
        [PYTHON, "manage.py", *args],
        cwd=REPO_ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise LoadTestError(f"{what} failed:\n{completed.stdout[-2000:]}{completed.stderr[-3000:]}")


def base_env() -> dict[str, str]:
    # The caller's Django settings must not leak into the stack's processes.
    drop = {
        "DJANGO_SETTINGS_MODULE",
        "DATABASE_URL",
        "REDIS_URL",
        "EMAIL_URL",
        "CELERY_TASK_ALWAYS_EAGER",
    }
    return {
        k: v for k, v in os.environ.items() if k not in drop and not k.startswith("API_THROTTLE")
    }


def production_env(config: Config, *, redis_url: str, smtp_port: int, port: int) -> dict[str, str]:
    """What production's settings need, as an operator's .env would give it."""
    return {
        **base_env(),
        **database_env(config),
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "REDIS_URL": redis_url,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "ATLAS_SITE_URL": f"https://127.0.0.1:{port}",
        "API_THROTTLE_ANON": THROTTLE,
        "WEB_CONCURRENCY": str(WEB_CONCURRENCY),
        "GUNICORN_CMD_ARGS": GUNICORN_CMD_ARGS,
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def prepare_database(config: Config) -> None:
    """A fresh database, migrated, seeded with the demo and its static files collected."""
    if config.keep_database:
        log(f"reusing {config.database_url} as a previous run left it")
    else:
        log(f"recreating {config.database_url}")
        recreate_database(config)
    env = {
        **base_env(),
        **database_env(config),
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "loadtest-migrate-only-placeholder-key",
        "ALLOWED_HOSTS": "localhost",
    }
    manage(["migrate", "--no-input", "-v0"], env, what="migrate")
    # WhiteNoise's manifest: production pages name their static files through it.
    manage(["collectstatic", "--no-input", "-v0"], env, what="collectstatic")
    # seed_demo refuses production settings on purpose; the local ones write the same rows.
    seed_env = {
        **base_env(),
        **database_env(config),
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DEMO_PASSWORD": DEMO_PASSWORD,
    }
    manage(["seed_demo"], seed_env, what="seed_demo")
    log("database migrated and seeded with the demo")


class Stack:
    """A private Redis, a Celery worker and gunicorn, for one pass; the database is shared."""

    def __init__(self, config: Config, smtp: SmtpSink, logs: Path, name: str) -> None:
        self.config = config
        self.logs = logs
        self.redis_port = free_port()
        self.port = free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = production_env(
            config, redis_url=self.redis_url, smtp_port=smtp.port, port=self.port
        )
        # Redis writes nothing there (no snapshots, no append-only file), but needs a --dir.
        redis_dir = str(logs)
        redis = shutil.which("redis-server")
        if redis is None:
            raise LoadTestError("redis-server is not installed (apt-get install -y redis-server)")
        self.redis = Server(
            [
                redis,
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                redis_dir,
            ],
            ready_url=f"tcp://127.0.0.1:{self.redis_port}",
            log_path=str(logs / f"{name}-redis.log"),
            timeout_s=20,
        )
        self.worker = Server(
            [CELERY, "-A", "config", "worker", "--loglevel=info", "--concurrency=2"],
            ready_url=f"tcp://127.0.0.1:{self.redis_port}",
            ready_log_text=" ready.",
            env=self.env,
            cwd=str(REPO_ROOT),
            log_path=str(logs / f"{name}-worker.log"),
            timeout_s=90,
            stop_timeout_s=30,
        )
        self.gunicorn_log = logs / f"{name}-gunicorn.log"
        self.gunicorn = Server(
            # As the image's CMD: WEB_CONCURRENCY and GUNICORN_CMD_ARGS do the rest.
            [
                *gunicorn_argv(
                    "config.wsgi:application",
                    bind=f"127.0.0.1:{self.port}",
                    workers=WEB_CONCURRENCY,
                    threads=4,
                    python=PYTHON,
                )
            ],
            ready_url=f"{self.base_url}/healthz",
            ready_headers={**PROXY_HEADERS, "Host": f"127.0.0.1:{self.port}"},
            env=self.env,
            cwd=str(REPO_ROOT),
            log_path=str(self.gunicorn_log),
            timeout_s=90,
            stop_timeout_s=40,
        )

    @contextlib.contextmanager
    def running(self) -> Iterator[Stack]:
        with contextlib.ExitStack() as stack:
            self.redis.start()
            stack.callback(self.redis.stop)
            log(f"redis-server on {self.redis_port}")
            self.worker.start()
            stack.callback(self.worker.stop)
            log("Celery worker ready")
            self.gunicorn.start()
            stack.callback(self.gunicorn.stop)
            log(f"gunicorn (production settings) on {self.base_url}")
            yield self


def check_endpoints(base_url: str) -> None:
    """Each endpoint answers 200 before any load: a wrong URL would measure 404s."""
    browser = Browser("127.0.0.1", int(urllib.parse.urlsplit(base_url).port or 80))
    for name, path in ENDPOINTS.items():
        status, location, body = browser.request("GET", path)
        if status != 200:
            raise LoadTestError(
                f"{name} {path} answered {status} {location} before the load: {body[:300]}"
            )


def run_level(stack: Stack, config: Config, connections: int, writer: Writer) -> LevelResult:
    before = writer.snapshot()
    headers = {**PROXY_HEADERS, "Host": f"127.0.0.1:{stack.port}"}
    with ThreadPoolExecutor(max_workers=len(ENDPOINTS)) as pool:
        futures = {
            name: pool.submit(
                run_wrk,
                stack.base_url + path,
                connections=connections,
                duration_s=config.seconds,
                headers=headers,
                timeout_s=config.wrk_timeout_s,
            )
            for name, path in ENDPOINTS.items()
        }
        endpoints = {name: future.result() for name, future in futures.items()}
    return LevelResult(
        connections, endpoints, writer.snapshot().minus(before), load_average=os.getloadavg()[0]
    )


def run_pass(
    config: Config, smtp: SmtpSink, logs: Path, *, name: str, stop_redis: bool
) -> PassResult:
    result = PassResult(name=name, redis_stopped=stop_redis)
    start_pk, _states = outbox_counts(config, after_pk=0)
    delivered_before = smtp.count()
    stack = Stack(config, smtp, logs, "pass2" if stop_redis else "pass1")
    with stack.running():
        check_endpoints(stack.base_url)
        writer = Writer(Browser("127.0.0.1", stack.port))
        writer.sign_in()
        writer.start()
        timer: threading.Timer | None = None
        try:
            for number, connections in enumerate(config.levels):
                if stop_redis and number == 0:
                    timer = threading.Timer(config.seconds / 2, _stop_redis, [stack])
                    timer.start()
                log(f"{name}: {connections} connections per endpoint for {config.seconds} s")
                result.levels.append(run_level(stack, config, connections, writer))
        finally:
            if timer is not None:
                timer.cancel()
            writer.stop()
        result.writer = writer.snapshot()
        waited = 0
        if stop_redis:
            waited = outbox_counts(config, after_pk=start_pk)[1].get("pending", 0)
            stack.redis.start()
            log("redis-server started again; sweeping the outbox")
            # Rows younger than ATLAS_OUTBOX_SWEEP_AFTER_SECONDS are left to a later sweep in
            # production (beat's next minute); here every waiting row is owed now.
            manage(
                ["sweep_outbox"],
                {**stack.env, "ATLAS_OUTBOX_SWEEP_AFTER_SECONDS": "0"},
                what="sweep_outbox",
            )
        result.emails = wait_for_emails(config, smtp, start_pk, delivered_before)
        result.emails.waited = waited
    text = stack.gunicorn_log.read_text(errors="replace") if stack.gunicorn_log.exists() else ""
    result.failing_requests, result.errors_logged = summarize_log(text)
    return result


def _stop_redis(stack: Stack) -> None:
    log("stopping redis-server mid-level; it stays down to the end of the pass")
    stack.redis.stop()


def wait_for_emails(
    config: Config, smtp: SmtpSink, start_pk: int, delivered_before: int, timeout_s: float = 120
) -> Emails:
    """Wait until the worker has sent every email owed since ``start_pk``, or the timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        _top, states = outbox_counts(config, after_pk=start_pk)
        owed = sum(states.values())
        delivered = smtp.count() - delivered_before
        if delivered >= owed or time.monotonic() > deadline:
            return Emails(
                owed=owed,
                delivered=delivered,
                pending=states.get("pending", 0),
                failed=states.get("failed", 0),
            )
        time.sleep(1)


# ------------------------------------------------------------------------------ main


def preflight() -> None:
    missing = [tool for tool in ("wrk", "redis-server") if shutil.which(tool) is None]
    if missing:
        raise LoadTestError(
            f"{' and '.join(missing)} not installed: apt-get install -y "
            + " ".join("redis-server" if t == "redis-server" else t for t in missing)
        )
    for path in (PYTHON, CELERY):
        if not Path(path).exists():
            raise LoadTestError(f"{path} is missing: run make install")


def header(config: Config) -> str:
    """What the figures below are: the setup, the throttle, the machine."""
    cores = os.cpu_count() or 0
    return "\n".join(
        [
            f"gunicorn, production settings: WEB_CONCURRENCY={WEB_CONCURRENCY} {GUNICORN_CMD_ARGS}",
            f"wrk: {config.seconds} s per level, 3 endpoints at once, timeout "
            f"{config.wrk_timeout_s} s (a slower request counts as a socket error)",
            f"API_THROTTLE_ANON={THROTTLE}: the anonymous API throttle is raised for this run, "
            "so the figures measure capacity, not the throttle",
            f"Machine shared with other work ({cores} cores, load average "
            f"{os.getloadavg()[0]:.1f} at the start); wrk runs on the same cores.",
        ]
    )


def _terminate(signum: int, frame: FrameType | None) -> None:
    # SIGTERM unwinds like Ctrl-C, so every server started is stopped on the way out.
    raise KeyboardInterrupt


def main(environ: Mapping[str, str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    try:
        config = config_from_env(os.environ if environ is None else environ)
        preflight()
    except LoadTestError as error:
        print(f"loadtest: {error}", file=sys.stderr)
        return 2
    logs = Path(tempfile.mkdtemp(prefix="atlas-loadtest-"))
    log(f"logs in {logs}")
    print(header(config), flush=True)
    passes: list[PassResult] = []
    try:
        prepare_database(config)
        with SmtpSink() as smtp:
            passes.append(run_pass(config, smtp, logs, name="Pass 1 (Redis up)", stop_redis=False))
            print(format_pass(passes[-1]), flush=True)
            passes.append(
                run_pass(config, smtp, logs, name="Pass 2 (Redis stopped midway)", stop_redis=True)
            )
            print(format_pass(passes[-1]), flush=True)
    except (LoadTestError, HarnessError) as error:
        print(f"loadtest: {error}", file=sys.stderr)
        return 2
    found = failures(passes)
    report = {
        "machine": machine_info(database_url=config.database_url),
        "note": (
            "Measured on a machine shared with other work, with wrk on the same cores as "
            "the server; compare runs on the same machine only."
        ),
        "settings": {
            "seconds_per_level": config.seconds,
            "levels": list(config.levels),
            "endpoints": ENDPOINTS,
            "gunicorn": f"WEB_CONCURRENCY={WEB_CONCURRENCY} {GUNICORN_CMD_ARGS}",
            "api_throttle_anon": THROTTLE,
            "wrk_timeout_s": config.wrk_timeout_s,
        },
        "passes": [run.as_dict() for run in passes],
        "failures": found,
    }
    config.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"figures written to {config.output.name}; server logs in {logs}")
    if found:
        print("FAILED:\n  " + "\n  ".join(found))
        return 1
    print("OK: no 5xx, no socket errors, every email delivered, in both passes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
