"""
Real services for the delivery tests: a private Redis, an SMTP server on loopback and a
Celery worker process, all started by the tests and stopped after them.

- Redis is a ``redis-server`` subprocess on a free port, without persistence, which a
  test may stop and start again (the machine's own Redis is never touched).
- The SMTP server is aiosmtpd in a thread. It records each message only once the
  client has been answered 250, and can be told to answer 451 a number of times,
  550 for an address, or to hold messages from the Nth on until released.
- The worker is ``celery -A config worker`` (prefork, two processes) in its own
  process group, so SIGKILL takes its children with it. It shares the test
  database, which must therefore be PostgreSQL: tests commit (``transactional_db``)
  so that the worker sees their rows.

Missing pieces skip the tests on a developer's machine and fail them in CI; SQLite
skips them everywhere (CI runs them in its PostgreSQL pass).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connections
from django.utils import translation

from bench.harness import Server, ServerError, free_port
from tests.delivery.broker import publishing_to

REPO_ROOT = Path(__file__).resolve().parents[2]
CELERY = REPO_ROOT / ".venv" / "bin" / "celery"
REDIS_SERVER = shutil.which("redis-server")
# Retries in seconds rather than minutes, so the fault tests see several of them.
RETRY_BASE_SECONDS = 0.3
RETRY_MAX_SECONDS = 1.5


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip on a developer's machine that lacks a piece; in CI a missing piece is a failure."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"{reason} (CI must provide it)", pytrace=False)
    pytest.skip(reason)


def wait_for(
    condition: Callable[[], bool], *, timeout: float, interval: float = 0.1, what: str = ""
) -> None:
    """Poll ``condition`` until true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what or condition}")


# ------------------------------------------------------------------------------ database


@pytest.fixture(scope="module")
def shared_database(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    """
    The test database's connection settings, for the worker process.

    Tests commit their rows, and each test's ``transactional_db`` empties the tables
    afterwards; the rows migrations put in (taxonomies) are restored at the end, as
    other tests count on them.
    """
    with django_db_blocker.unblock():
        connection = connections["default"]
        if connection.vendor != "postgresql":
            # Not a missing piece: CI runs the suite on SQLite too, and these tests in its
            # PostgreSQL run.
            pytest.skip(
                "the worker process shares the test database, which must be PostgreSQL "
                "(set DATABASE_URL=postgres://...)"
            )
        name = str(connection.settings_dict["NAME"])
        assert name.startswith("test_"), f"refusing to share {name}"
        snapshot = connection.creation.serialize_db_to_string()
    try:
        yield dict(connection.settings_dict)
    finally:
        with django_db_blocker.unblock():
            call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0)
            connection.creation.deserialize_db_from_string(snapshot)
            statements = connection.ops.sequence_reset_sql(no_style(), apps.get_models())
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
        translation.activate("en")


def database_url(settings_dict: dict[str, Any]) -> str:
    user = settings_dict.get("USER") or "postgres"
    password = settings_dict.get("PASSWORD") or ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    credentials = f"{user}:{password}" if password else user
    return f"postgres://{credentials}@{host}:{port}/{settings_dict['NAME']}"


# ------------------------------------------------------------------------------ Redis


class RedisServer:
    """A private redis-server on a free loopback port, without persistence."""

    def __init__(self, workdir: Path) -> None:
        assert REDIS_SERVER
        self.port = free_port()
        self.workdir = workdir
        self.server = Server(
            [
                *(REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(workdir)),
            ],
            ready_url=f"tcp://127.0.0.1:{self.port}",
            timeout_s=10,
            stop_timeout_s=10,
        )

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> Any:
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)

    def start(self) -> None:
        self.server.start()
        # Listening is not answering: Redis may still be loading.
        wait_for(self.ping, timeout=10, what="redis-server to answer")

    def ping(self) -> bool:
        try:
            return bool(self.client().ping())
        except Exception:
            return False

    def stop(self) -> None:
        self.server.stop()

    def idle(self) -> bool:
        """No message waiting and none taken but unacknowledged: every task has finished."""
        client = self.client()
        return not client.llen("celery") and not client.hlen("unacked")


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    require(REDIS_SERVER is not None, "redis-server is not installed (apt-get install redis)")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def broker(redis_server: RedisServer) -> Iterator[RedisServer]:
    """This process's Celery publishes to the private Redis instead of running tasks inline."""
    if not redis_server.ping():
        redis_server.start()
    redis_server.client().flushdb()
    with publishing_to(redis_server.url):
        yield redis_server


# ------------------------------------------------------------------------------ SMTP


@dataclass
class Received:
    envelope_to: list[str]
    message: EmailMessage

    @property
    def to(self) -> str:
        return str(self.message["To"])

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def part(self, content_type: str) -> str:
        for part in self.message.walk():
            if part.get_content_type() == content_type and not part.is_multipart():
                content: str = part.get_content()
                return content
        return ""

    @property
    def text(self) -> str:
        return self.part("text/plain")

    @property
    def html(self) -> str:
        return self.part("text/html")


@dataclass
class SmtpRecorder:
    """aiosmtpd handler: records what it accepted, and fails on demand."""

    messages: list[Received] = field(default_factory=list)
    # Answer 451 to this many DATA commands, then accept.
    temporary_failures: int = 0
    answered_451: int = 0
    # Answer 550 to RCPT for these addresses.
    refused: set[str] = field(default_factory=set)
    # Hold every message from the Nth DATA on (1-based) until ``release``.
    hold_from: int | None = None
    held: int = 0
    dropped_after_hold: int = 0
    data_commands: int = 0
    _released: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self._lock:
            self.messages.clear()
            self.temporary_failures = self.answered_451 = 0
            self.refused = set()
            self.hold_from = None
            self.held = self.dropped_after_hold = self.data_commands = 0
            self._released = threading.Event()

    def release(self) -> None:
        self._released.set()

    def count(self) -> int:
        with self._lock:
            return len(self.messages)

    def recipients(self) -> list[str]:
        with self._lock:
            return [to for received in self.messages for to in received.envelope_to]

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refused:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.data_commands += 1
            number = self.data_commands
            if self.temporary_failures > 0:
                self.temporary_failures -= 1
                self.answered_451 += 1
                return "451 4.3.0 Try again later"
            hold = self.hold_from is not None and number >= self.hold_from
            if hold:
                self.held += 1
        if hold:
            try:
                while not self._released.is_set():
                    await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                # aiosmtpd cancels the conversation when the client's connection drops.
                with self._lock:
                    self.dropped_after_hold += 1
                raise
            transport = getattr(server, "transport", None)
            if transport is None or transport.is_closing():
                # The client is gone: it never hears the 250, so nothing was delivered.
                with self._lock:
                    self.dropped_after_hold += 1
                return "421 4.3.2 Closing"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.messages.append(Received(list(envelope.rcpt_tos), message))
        return "250 OK"


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[tuple[SmtpRecorder, int]]:
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        require(False, "aiosmtpd is not installed (it is a dev dependency)")
        raise
    # aiosmtpd logs every command at INFO; the figures are what matter here.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    recorder = SmtpRecorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield recorder, port
    finally:
        recorder.release()
        controller.stop()


@pytest.fixture
def smtp(smtp_server: tuple[SmtpRecorder, int]) -> Iterator[SmtpRecorder]:
    recorder, _port = smtp_server
    recorder.reset()
    yield recorder
    recorder.release()


# ------------------------------------------------------------------------------ worker


class Worker:
    """A real ``celery worker`` process group with two prefork children."""

    def __init__(self, env: dict[str, str], log: Path, broker_port: int) -> None:
        self.env = env
        self.log = log
        self.broker_port = broker_port
        self.server: Server | None = None
        self.starts = 0

    @property
    def running(self) -> bool:
        return self.server is not None

    def start(self) -> None:
        require(CELERY.exists(), f"{CELERY} is missing: run make install")
        self.starts += 1
        self.server = Server(
            [
                *(str(CELERY), "-A", "config", "worker", "--pool", "prefork"),
                *("--concurrency", "2", "--without-gossip", "--without-mingle"),
                *("--without-heartbeat", "--loglevel", "INFO"),
                *("--hostname", f"atlas-test-{self.starts}@%h"),
            ],
            # The broker answering is a given; the worker's own " ready." is what counts.
            ready_url=f"tcp://127.0.0.1:{self.broker_port}",
            ready_log_text=" ready.",
            env=self.env,
            cwd=str(REPO_ROOT),
            log_path=str(self.log),
            timeout_s=60,
            stop_timeout_s=20,
        )
        try:
            self.server.start()
        except ServerError as error:
            self.server = None
            pytest.fail(f"the worker did not start: {error}")

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL the whole worker: main process and children, no goodbye."""
        assert self.server is not None
        os.killpg(self.server.pid, signal.SIGKILL)
        # Reaps the dead process; the group is gone, so nothing more is signalled.
        self.server.stop()
        self.server = None

    def stop(self) -> None:
        if self.server is None:
            return
        self.server.stop()
        self.server = None


@pytest.fixture(scope="module")
def worker(
    shared_database: dict[str, Any],
    redis_server: RedisServer,
    smtp_server: tuple[SmtpRecorder, int],
) -> Iterator[Worker]:
    _recorder, smtp_port = smtp_server
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "EMAIL_URL", "CELERY_TASK_ALWAYS_EAGER"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=database_url(shared_database),
        REDIS_URL=redis_server.url,
        CELERY_TASK_ALWAYS_EAGER="false",
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        EMAIL_TIMEOUT="20",
        ATLAS_DELIVERY_RETRY_BASE_SECONDS=str(RETRY_BASE_SECONDS),
        ATLAS_DELIVERY_RETRY_MAX_SECONDS=str(RETRY_MAX_SECONDS),
        CONN_MAX_AGE="0",
        PYTHONUNBUFFERED="1",
    )
    log = Path(tempfile.mkdtemp(prefix="atlas-worker-")) / "worker.log"
    running = Worker(env, log, redis_server.port)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def live(
    transactional_db: None, broker: RedisServer, worker: Worker, smtp: SmtpRecorder
) -> Iterator[Live]:
    """Everything running, the queue empty and the SMTP recorder cleared."""
    if not worker.running:
        worker.start()
    yield Live(redis=broker, worker=worker, smtp=smtp)
    # The worker must be idle before transactional_db empties the tables under it.
    if broker.ping() and worker.running:
        wait_for(broker.idle, timeout=60, what="the worker to finish its tasks")


@dataclass
class Live:
    redis: RedisServer
    worker: Worker
    smtp: SmtpRecorder
