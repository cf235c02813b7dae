"""
The load-test harness (bench/harness.py): wrk's figures as the harness reads them, and
servers that start, fail and stop cleanly.

wrk runs against a small threaded HTTP server on loopback whose answers are known: always
200, always 404, always 500, or a 500 every fourth request.
"""

import os
import shutil
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.harness import (
    Server,
    ServerError,
    WrkError,
    free_port,
    gunicorn_argv,
    machine_info,
    parse_wrk_report,
    run_wrk,
)

needs_wrk = pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (apt-get install -y wrk)"
)


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive, as wrk expects of a server under load.
    protocol_version = "HTTP/1.1"
    sent: Counter[int]
    lock: threading.Lock
    mixed_count: int

    def do_GET(self) -> None:
        server = self.server
        if self.path == "/missing":
            status = 404
        elif self.path == "/fail":
            status = 500
        elif self.path == "/mixed":
            with server.lock:  # type: ignore[attr-defined]
                server.mixed_count += 1  # type: ignore[attr-defined]
                status = 500 if server.mixed_count % 4 == 0 else 200  # type: ignore[attr-defined]
        else:
            status = 200
        body = b"ok\n"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with server.lock:  # type: ignore[attr-defined]
            server.sent[status] += 1  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: object) -> None:
        pass


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        # wrk drops its connections when the run ends, mid-request for some.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


@pytest.fixture
def http_server() -> Iterator[ThreadingHTTPServer]:
    server = _QuietServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.sent = Counter()  # type: ignore[attr-defined]
    server.lock = threading.Lock()  # type: ignore[attr-defined]
    server.mixed_count = 0  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def url_of(server: ThreadingHTTPServer, path: str) -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}{path}"


@needs_wrk
def test_successful_responses_count_as_requests_without_errors(http_server):
    result = run_wrk(url_of(http_server, "/ok"), connections=4, duration_s=1)

    assert result.requests > 0
    assert result.statuses == {200: result.requests}
    assert result.non_2xx == 0
    assert result.status_5xx == 0
    assert result.socket_errors == 0
    assert result.connections == 4
    assert result.requests_per_s == pytest.approx(result.requests / result.duration_s)
    assert 0 < result.p50_ms <= result.p99_ms
    # wrk counts only the responses it read; the server may have sent a few more in flight.
    assert 0 <= http_server.sent[200] - result.requests <= 4


@needs_wrk
def test_client_errors_are_non_2xx_but_not_5xx(http_server):
    result = run_wrk(url_of(http_server, "/missing"), connections=2, duration_s=1)

    assert result.requests > 0
    assert result.non_2xx == result.requests
    assert result.status_5xx == 0


@needs_wrk
def test_server_errors_are_counted_as_5xx(http_server):
    result = run_wrk(url_of(http_server, "/fail"), connections=2, duration_s=1)

    assert result.requests > 0
    assert result.status_5xx == result.requests
    assert result.non_2xx == result.requests


@needs_wrk
def test_some_server_errors_among_successes_are_counted_exactly(http_server):
    result = run_wrk(url_of(http_server, "/mixed"), connections=4, duration_s=1, threads=2)

    assert result.requests >= 8
    assert sum(result.statuses.values()) == result.requests
    assert result.status_5xx == result.statuses[500] == result.non_2xx
    assert result.requests == result.statuses[200] + result.statuses[500]
    # One in four, give or take the responses in flight when wrk stopped.
    assert abs(result.status_5xx - result.requests / 4) <= 4
    assert 0 <= http_server.sent[500] - result.status_5xx <= 4


@needs_wrk
def test_headers_are_sent_with_every_request(http_server):
    seen: list[str | None] = []
    original = _Handler.do_GET

    def recording(self: _Handler) -> None:
        seen.append(self.headers.get("X-Forwarded-Proto"))
        original(self)

    _Handler.do_GET = recording  # type: ignore[method-assign]
    try:
        run_wrk(
            url_of(http_server, "/ok"),
            connections=1,
            duration_s=1,
            headers={"X-Forwarded-Proto": "https"},
        )
    finally:
        _Handler.do_GET = original  # type: ignore[method-assign]

    assert seen
    assert set(seen) == {"https"}


@needs_wrk
def test_an_unreachable_server_is_a_clear_error():
    with pytest.raises(WrkError, match="unable to connect"):
        run_wrk(f"http://127.0.0.1:{free_port()}/", connections=1, duration_s=1)


def test_a_report_without_the_script_line_is_an_error():
    with pytest.raises(WrkError, match="no report"):
        parse_wrk_report("Running 1s test\n", url="http://x/", connections=1)


def test_the_report_line_becomes_a_result():
    line = (
        'WRK_REPORT {"duration_us":2000000,"requests":10,"bytes":100,'
        '"errors":{"connect":1,"read":2,"write":3,"status":3,"timeout":4},'
        '"latency_us":{"p50":1500.0,"p90":2500.0,"p99":9000.0,"max":12000.0,"mean":2000.0},'
        '"statuses":{"200":6,"302":1,"404":1,"503":2}}'
    )
    result = parse_wrk_report(f"noise\n{line}\n", url="http://x/", connections=3)

    assert result.requests == 10
    assert result.requests_per_s == 5.0
    assert result.p50_ms == 1.5
    assert result.p99_ms == 9.0
    assert result.non_2xx == 4
    assert result.status_5xx == 2
    assert result.socket_errors == 10
    assert result.timeouts == 4
    assert result.as_dict()["statuses"] == {"200": 6, "302": 1, "404": 1, "503": 2}


def test_a_server_that_exits_early_is_a_clear_error(tmp_path):
    log = tmp_path / "server.log"
    argv = [sys.executable, "-c", "import sys; print('bad settings'); sys.exit(3)"]
    server = Server(argv, ready_url=f"http://127.0.0.1:{free_port()}/", log_path=str(log))

    with pytest.raises(ServerError, match=r"exited with code 3[\s\S]*bad settings"), server:
        pass


def test_a_server_that_never_answers_times_out(tmp_path):
    argv = [sys.executable, "-c", "import time; time.sleep(60)"]
    server = Server(argv, ready_url=f"http://127.0.0.1:{free_port()}/", timeout_s=1)

    with pytest.raises(ServerError, match="did not get ready in 1 s"), server:
        pass

    assert server.process is not None
    assert server.process.poll() is not None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_server_is_ready_then_stopped_with_its_children(tmp_path):
    port = free_port()
    pid_file = tmp_path / "child.pid"
    # The server starts a child that ignores SIGTERM, as a stuck worker would.
    script = (
        "import subprocess, sys\n"
        "child = subprocess.Popen([sys.executable, '-c', "
        "'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        f"import runpy; sys.argv = ['http.server', '--bind', '127.0.0.1', '{port}']\n"
        "runpy.run_module('http.server', run_name='__main__')\n"
    )
    server = Server(
        [sys.executable, "-c", script],
        ready_url=f"http://127.0.0.1:{port}/",
        cwd=str(tmp_path),
        stop_timeout_s=2,
    )
    with server:
        child = int(pid_file.read_text())
        assert _alive(server.pid)
        assert _alive(child)

    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.process is not None
    assert server.process.poll() is not None
    assert not _alive(child)


def test_gunicorn_argv_runs_gunicorn_from_the_given_python():
    argv = gunicorn_argv(
        "config.wsgi:application", bind="127.0.0.1:9000", workers=3, threads=4, python="/py"
    )

    assert argv == [
        "/py",
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind=127.0.0.1:9000",
        "--workers=3",
        "--threads=4",
        "--worker-class=gthread",
    ]


def test_machine_info_names_the_machine_and_the_interpreter():
    info = machine_info()

    assert info["python"] == ".".join(map(str, sys.version_info[:3]))
    assert int(info["cores"]) >= 1
    assert all(isinstance(value, str) and value for value in info.values())


def test_free_port_can_be_bound():
    port = free_port()

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        assert sock.getsockname()[1] == port


def _tcp_listener_script(port: int, *, say: str, delay_s: float = 0) -> str:
    return (
        "import socket, sys, time\n"
        f"time.sleep({delay_s})\n"
        f"print({say!r}, flush=True)\n"
        "server = socket.socket()\n"
        "server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        f"server.bind(('127.0.0.1', {port}))\n"
        "server.listen()\n"
        "while True:\n"
        "    server.accept()[0].close()\n"
    )


def test_a_tcp_server_is_ready_once_its_port_accepts(tmp_path):
    """Servers that speak no HTTP, such as Redis, are ready when they accept a connection."""
    port = free_port()
    argv = [sys.executable, "-c", _tcp_listener_script(port, say="up", delay_s=0.5)]

    with Server(argv, ready_url=f"tcp://127.0.0.1:{port}", timeout_s=20) as server:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
        assert server.process is not None
        assert server.process.poll() is None


def test_a_server_waits_for_its_ready_line_in_the_log(tmp_path):
    port = free_port()
    log = tmp_path / "worker.log"
    # The port is open at once, the line comes a second later, as a Celery worker's does.
    script = _tcp_listener_script(port, say="listening").replace(
        "while True:", "time.sleep(1)\nprint('celery@host ready.', flush=True)\nwhile True:"
    )
    server = Server(
        [sys.executable, "-c", script],
        ready_url=f"tcp://127.0.0.1:{port}",
        ready_log_text=" ready.",
        log_path=str(log),
        timeout_s=20,
    )

    with server:
        assert "celery@host ready." in log.read_text()


def test_a_ready_line_from_an_earlier_start_does_not_count(tmp_path):
    port = free_port()
    log = tmp_path / "worker.log"
    log.write_text("celery@host ready.\n")
    server = Server(
        [sys.executable, "-c", _tcp_listener_script(port, say="no ready line")],
        ready_url=f"tcp://127.0.0.1:{port}",
        ready_log_text=" ready.",
        log_path=str(log),
        timeout_s=1,
    )

    with pytest.raises(ServerError, match=r"no ' ready\.' in the log yet"), server:
        pass


def test_a_stopped_server_starts_again(tmp_path):
    port = free_port()
    server = Server(
        [sys.executable, "-c", _tcp_listener_script(port, say="up")],
        ready_url=f"tcp://127.0.0.1:{port}",
        timeout_s=20,
    )
    server.start()
    first = server.pid
    server.stop()
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", port), timeout=1),
    ):
        pass

    with server:
        assert server.pid != first
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass


def test_a_running_server_cannot_be_started_twice():
    port = free_port()
    server = Server(
        [sys.executable, "-c", _tcp_listener_script(port, say="up")],
        ready_url=f"tcp://127.0.0.1:{port}",
        timeout_s=20,
    )
    with server, pytest.raises(ServerError, match="already running"):
        server.start()
