"""
The pieces every load test shares: run wrk and read its figures, start and stop servers, and
describe the machine the figures come from.

    with Server(gunicorn_argv("config.wsgi:application", bind=f"127.0.0.1:{port}",
                              workers=2, threads=4), ready_url=f"http://127.0.0.1:{port}/healthz"):
        result = run_wrk(f"http://127.0.0.1:{port}/", connections=8, duration_s=10)

wrk is driven with ``wrk_report.lua``, which prints one JSON line at the end of the run; the
counts of non-2xx and 5xx responses come from that script's per-status tally, because wrk's
own "status errors" only count statuses above 399.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

WRK_SCRIPT = Path(__file__).resolve().parent / "wrk_report.lua"
REPORT_PREFIX = "WRK_REPORT "


class HarnessError(RuntimeError):
    """A load-test tool could not run or gave no usable answer."""


class WrkError(HarnessError):
    """wrk failed or printed no report."""


class ServerError(HarnessError):
    """A server exited before it was ready, or never became ready."""


# ------------------------------------------------------------------------------ wrk


@dataclass(frozen=True)
class WrkResult:
    """One wrk run's figures, for one URL."""

    url: str
    connections: int
    duration_s: float
    requests: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int  # responses with a status outside 200-299
    status_5xx: int  # responses with a status of 500 and above
    socket_errors: int  # connect + read + write + timeout errors
    # The detail behind the totals above, to say which requests failed and how.
    statuses: Mapping[int, int] = field(default_factory=dict)
    timeouts: int = 0
    p90_ms: float = 0.0
    max_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (status codes as strings)."""
        return {
            "url": self.url,
            "connections": self.connections,
            "duration_s": self.duration_s,
            "requests": self.requests,
            "requests_per_s": self.requests_per_s,
            "p50_ms": self.p50_ms,
            "p90_ms": self.p90_ms,
            "p99_ms": self.p99_ms,
            "max_ms": self.max_ms,
            "non_2xx": self.non_2xx,
            "status_5xx": self.status_5xx,
            "socket_errors": self.socket_errors,
            "timeouts": self.timeouts,
            "statuses": {str(code): n for code, n in sorted(self.statuses.items())},
        }


def parse_wrk_report(output: str, *, url: str, connections: int) -> WrkResult:
    """Read the line ``wrk_report.lua`` printed into a WrkResult."""
    line = next(
        (ln for ln in reversed(output.splitlines()) if ln.startswith(REPORT_PREFIX)),
        None,
    )
    if line is None:
        raise WrkError(f"wrk printed no report for {url}:\n{output[-2000:]}")
    data = json.loads(line.removeprefix(REPORT_PREFIX))
    statuses = {int(code): int(n) for code, n in data["statuses"].items()}
    errors = data["errors"]
    latency = data["latency_us"]
    duration_s = data["duration_us"] / 1_000_000
    requests = int(data["requests"])
    return WrkResult(
        url=url,
        connections=connections,
        duration_s=duration_s,
        requests=requests,
        requests_per_s=requests / duration_s if duration_s > 0 else 0.0,
        p50_ms=latency["p50"] / 1000,
        p99_ms=latency["p99"] / 1000,
        non_2xx=sum(n for code, n in statuses.items() if not 200 <= code <= 299),
        status_5xx=sum(n for code, n in statuses.items() if code >= 500),
        socket_errors=sum(int(errors[k]) for k in ("connect", "read", "write", "timeout")),
        statuses=statuses,
        timeouts=int(errors["timeout"]),
        p90_ms=latency["p90"] / 1000,
        max_ms=latency["max"] / 1000,
    )


def run_wrk(
    url: str,
    *,
    connections: int,
    duration_s: float,
    threads: int = 2,
    headers: Mapping[str, str] | None = None,
    timeout_s: float = 2,
) -> WrkResult:
    """
    Run wrk against ``url`` and return its figures.

    wrk accepts whole seconds only, so ``duration_s`` is rounded (at least 1 s); it refuses
    more threads than connections, so ``threads`` is capped at ``connections``. A request
    slower than ``timeout_s`` (wrk's default, 2 s) counts as a socket error.
    """
    wrk = shutil.which("wrk")
    if wrk is None:
        raise WrkError("wrk is not installed (apt-get install -y wrk)")
    if connections < 1:
        raise ValueError("connections must be at least 1")
    argv = [
        wrk,
        f"--threads={max(1, min(threads, connections))}",
        f"--connections={connections}",
        f"--duration={max(1, round(duration_s))}s",
        f"--timeout={max(1, round(timeout_s))}s",
        f"--script={WRK_SCRIPT}",
    ]
    for name, value in (headers or {}).items():
        argv += ["--header", f"{name}: {value}"]
    argv.append(url)
    # A generous margin: wrk waits for the last responses after the duration.
    completed = subprocess.run(  # noqa: S603 - argv built here, no shell
        argv, capture_output=True, text=True, timeout=duration_s + timeout_s + 60, check=False
    )
    if completed.returncode != 0:
        raise WrkError(
            f"wrk exited with {completed.returncode} for {url}:\n"
            f"{completed.stderr[-2000:]}{completed.stdout[-2000:]}"
        )
    return parse_wrk_report(completed.stdout, url=url, connections=connections)


# ------------------------------------------------------------------------------ servers


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def gunicorn_argv(
    app: str,
    *,
    bind: str,
    workers: int,
    threads: int,
    worker_class: str = "gthread",
    python: str = sys.executable,
) -> list[str]:
    """The command line that serves the WSGI ``app`` with gunicorn from ``python``'s env."""
    return [
        python,
        "-m",
        "gunicorn",
        app,
        f"--bind={bind}",
        f"--workers={workers}",
        f"--threads={threads}",
        f"--worker-class={worker_class}",
    ]


_live: set[Server] = set()
_live_lock = threading.Lock()


@atexit.register
def _stop_live_servers() -> None:
    # A load test interrupted by an exception or Ctrl-C must leave no server running.
    with _live_lock:
        servers = list(_live)
    for server in servers:
        server.stop()


class Server:
    """
    A process started in its own process group, ready once ``ready_url`` answers 200.

    ``ready_url`` may also be ``tcp://host:port``, for servers that speak no HTTP (Redis):
    ready once the port accepts a connection. With ``ready_log_text`` the server must also
    have written that text to its log since it started (a Celery worker's " ready.").

    Used as a context manager: entering starts it and waits; leaving sends SIGTERM to the
    whole group (gunicorn's workers, celery's children), then SIGKILL after ``stop_timeout_s``.
    Output goes to ``log_path`` (or is discarded); a server that exits early or never gets
    ready raises ServerError quoting the end of that log. A stopped server may be started
    again, with the same command.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        ready_url: str,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        timeout_s: float = 60,
        log_path: str | None = None,
        ready_headers: Mapping[str, str] | None = None,
        ready_log_text: str | None = None,
        stop_timeout_s: float = 15,
    ) -> None:
        if ready_log_text is not None and log_path is None:
            raise ValueError("ready_log_text needs a log_path to read")
        self.argv = list(argv)
        self.ready_url = ready_url
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.timeout_s = timeout_s
        self.log_path = log_path
        self.ready_headers = dict(ready_headers or {})
        self.ready_log_text = ready_log_text
        self.stop_timeout_s = stop_timeout_s
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._log_start = 0
        self._stopped = False

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        if self.process is None:
            raise ServerError("the server is not started")
        return self.process.pid

    def start(self) -> None:
        """Start the process and wait until ``ready_url`` answers 200."""
        if self.process is not None and self.process.poll() is None:
            raise ServerError("the server is already running")
        self._log_start = (
            Path(self.log_path).stat().st_size
            if self.log_path and Path(self.log_path).exists()
            else 0
        )
        self._log = (
            open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
            if self.log_path
            else None
        )
        self._stopped = False
        self.process = subprocess.Popen(  # noqa: S603 - argv given by the caller, no shell
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        with _live_lock:
            _live.add(self)
        try:
            self._wait_ready(self.process)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + self.timeout_s
        last_error = "no answer yet"
        while True:
            code = process.poll()
            if code is not None:
                raise ServerError(
                    f"{self.argv[0]} exited with code {code} before {self.ready_url} "
                    f"answered{self._log_tail()}"
                )
            answered, last_error = self._probe()
            if answered and self._log_says_ready():
                return
            if answered:
                last_error = f"no {self.ready_log_text!r} in the log yet"
            if time.monotonic() > deadline:
                raise ServerError(
                    f"{self.argv[0]} did not get ready in {self.timeout_s:g} s "
                    f"({self.ready_url}: {last_error}){self._log_tail()}"
                )
            time.sleep(0.1)

    def _probe(self) -> tuple[bool, str]:
        """Whether ``ready_url`` answers as a ready server would, and if not, why."""
        parts = urllib.parse.urlsplit(self.ready_url)
        if parts.scheme == "tcp":
            try:
                with socket.create_connection((parts.hostname, parts.port), timeout=2):
                    return True, ""
            except OSError as exc:
                return False, str(exc)
        request = urllib.request.Request(self.ready_url, headers=self.ready_headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
                return response.status == 200, f"status {response.status}"
        except urllib.error.HTTPError as exc:
            return False, f"status {exc.code}"
        except (OSError, urllib.error.URLError) as exc:
            return False, str(exc)

    def _log_says_ready(self) -> bool:
        if self.ready_log_text is None or self.log_path is None:
            return True
        try:
            with open(self.log_path, "rb") as log:
                log.seek(self._log_start)
                return self.ready_log_text.encode() in log.read()
        except OSError:
            return False

    def _log_tail(self) -> str:
        if not self.log_path:
            return ""
        try:
            text = Path(self.log_path).read_text(errors="replace")
        except OSError:
            return ""
        return f"; end of {self.log_path}:\n{text[-3000:]}"

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it if it outlives ``stop_timeout_s``."""
        process = self.process
        # Once stopped, the group's id may be reused by another process: signal it only once.
        if process is not None and not self._stopped:
            self._stopped = True
            _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=self.stop_timeout_s)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait()
            # Children that ignored SIGTERM or were orphaned still belong to the group.
            _signal_group(process.pid, signal.SIGKILL)
        with _live_lock:
            _live.discard(self)
        if self._log is not None:
            self._log.close()
            self._log = None


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


# ------------------------------------------------------------------------------ machine


def _run_quiet(argv: Sequence[str]) -> str:
    """The first line a version command prints (on stdout or stderr), or ''."""
    if shutil.which(argv[0]) is None:
        return ""
    try:
        completed = subprocess.run(  # noqa: S603 - fixed argv, no shell
            list(argv), capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    output = (completed.stdout or completed.stderr).strip()
    return output.splitlines()[0] if output else ""


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _memory() -> str:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                kib = int(line.split()[1])
                return f"{kib / 1024 / 1024:.1f} GiB"
    return ""


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return ""


def _postgresql_server(database_url: str | None) -> str:
    if database_url:
        with contextlib.suppress(Exception):
            import psycopg2

            connection = psycopg2.connect(database_url, connect_timeout=5)
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SHOW server_version")
                    row = cursor.fetchone()
            finally:
                connection.close()
            if row:
                return f"PostgreSQL {row[0]}"
    return _run_quiet(["postgres", "--version"]) or _run_quiet(["psql", "--version"])


def _redis_server(redis_url: str | None) -> str:
    if redis_url:
        with contextlib.suppress(Exception):
            import redis

            info = redis.Redis.from_url(redis_url, socket_timeout=5).info("server")
            return f"Redis {info['redis_version']}"
    return _run_quiet(["redis-server", "--version"])


def machine_info(
    *, database_url: str | None = None, redis_url: str | None = None
) -> dict[str, str]:
    """
    What the figures were measured on: CPU, cores, memory, kernel and the versions of the
    pieces under test. The PostgreSQL and Redis versions come from the running servers when
    their URLs are given, else from the installed programs. Anything unknown is left out.
    """
    info = {
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count() or ""),
        "memory": _memory(),
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "django": _package_version("django"),
        "gunicorn": _package_version("gunicorn"),
        "postgresql": _postgresql_server(database_url),
        "redis": _redis_server(redis_url),
        "wrk": _run_quiet(["wrk", "--version"]),
        "nginx": _run_quiet(["nginx", "-v"]),
    }
    with contextlib.suppress(OSError):
        info["load_average"] = " ".join(f"{n:.2f}" for n in os.getloadavg())
    return {key: value for key, value in info.items() if value}
