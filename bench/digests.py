"""
How fast a daily digest run goes out: N subscribers, a real Celery worker (prefork, two
processes) on a private redis-server, an SMTP sink on loopback and a PostgreSQL database.

    python -m bench.digests --subscribers 100000 \\
        --database-url postgres://postgres@127.0.0.1:5432/atlas_digest [--profile out.txt]

The database is the bench's own: it is migrated, its "bench-*@example.org" subscribers are
replaced by N new ones (alternately English and French, each following one of three
places where an initiative was published in the period), and the period's ledger is
emptied, so every active daily subscriber in it is owed a digest. The clock runs from the
moment the run is triggered until the ledger has no pending row left for the period.

Queries per chunk are counted in this process on chunks of fresh subscribers, once with
the period's changes still to load (a worker's first chunk of a run) and once more after.
Peak RSS is each worker child's VmHWM, read from /proc before the worker stops.
"""

from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.harness import Server, ServerError, free_port

REPO_ROOT = Path(__file__).resolve().parents[1]
CELERY = REPO_ROOT / ".venv" / "bin" / "celery"
PY_SPY = REPO_ROOT / ".venv" / "bin" / "py-spy"
EMAIL_PREFIX = "bench-"
PLACES = (("Chicago", "chicago"), ("Boston", "boston"), ("Denver", "denver"))


class BenchError(RuntimeError):
    """A piece of the bench did not start or the run did not finish."""


def _wait_for(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise BenchError(f"timed out after {timeout:.0f}s waiting for {what}")


# ------------------------------------------------------------------------------ services


@contextmanager
def redis_server() -> Iterator[str]:
    """A private redis-server without persistence on a free port; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise BenchError("redis-server is not installed")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="atlas-bench-redis-")
    server = Server(
        [
            *(binary, "--port", str(port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no", "--dir", workdir),
        ],
        ready_url=f"tcp://127.0.0.1:{port}",
        timeout_s=10,
        stop_timeout_s=10,
    )
    try:
        with server:
            yield f"redis://127.0.0.1:{port}/0"
    except ServerError as error:
        raise BenchError(str(error)) from error
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _sink(port: int, accepted: Synchronized[int], ready: Any) -> None:
    """An SMTP server that accepts everything and only counts (runs in its own process)."""
    import logging

    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)

    class Counting:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with accepted.get_lock():
                accepted.value += 1
            return "250 OK"

    controller = Controller(Counting(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        signal.sigwait({signal.SIGTERM})
    finally:
        controller.stop()


@contextmanager
def smtp_sink() -> Iterator[tuple[int, Synchronized[int]]]:
    """The sink in a process of its own, so it does not share this process's interpreter."""
    context = multiprocessing.get_context("spawn")
    port = free_port()
    accepted: Synchronized[int] = context.Value("q", 0)
    ready = context.Event()
    process = context.Process(target=_sink, args=(port, accepted, ready), daemon=True)
    process.start()
    try:
        if not ready.wait(30):
            raise BenchError("the SMTP sink did not start")
        yield port, accepted
    finally:
        if process.pid is not None:
            os.kill(process.pid, signal.SIGTERM)
        process.join(10)


class Worker:
    """``celery -A config worker --pool prefork --concurrency N`` in its own process group."""

    def __init__(self, env: dict[str, str], concurrency: int, broker_port: int) -> None:
        self.env = env
        self.concurrency = concurrency
        self.log = Path(tempfile.mkdtemp(prefix="atlas-bench-worker-")) / "worker.log"
        self.server = Server(
            [
                *(str(CELERY), "-A", "config", "worker", "--pool", "prefork"),
                *("--concurrency", str(concurrency), "--without-gossip"),
                *("--without-mingle", "--without-heartbeat", "--loglevel", "WARNING"),
                *("--hostname", "atlas-bench@%h"),
            ],
            # At WARNING the worker logs no " ready.": its children are counted instead.
            ready_url=f"tcp://127.0.0.1:{broker_port}",
            env=env,
            cwd=str(REPO_ROOT),
            log_path=str(self.log),
            timeout_s=60,
            stop_timeout_s=30,
        )

    def start(self) -> None:
        try:
            self.server.start()
        except ServerError as error:
            raise BenchError(f"the worker did not start: {error}") from error

        def ready() -> bool:
            process = self.server.process
            if process is None or process.poll() is not None:
                raise BenchError(f"the worker exited at start:\n{self.output()[-3000:]}")
            return len(self.children()) >= self.concurrency

        _wait_for(ready, timeout=60, what="the Celery worker's processes")

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    @property
    def pid(self) -> int:
        try:
            return self.server.pid
        except ServerError as error:
            raise BenchError("the worker is not running") from error

    def children(self) -> list[int]:
        pids: list[int] = []
        for task in Path(f"/proc/{self.pid}/task").glob("*"):
            try:
                pids += [int(pid) for pid in (task / "children").read_text().split()]
            except OSError:
                continue
        return pids

    def stop(self) -> None:
        self.server.stop()


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int, field: str = "VmHWM") -> float:
    """A /proc/<pid>/status memory figure (VmHWM is the peak resident set) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise BenchError(f"no {field} for process {pid}")


# ------------------------------------------------------------------------------ profile


@contextmanager
def py_spy(pid: int, output: Path | None) -> Iterator[None]:
    """Sample the worker and its children while the block runs (raw collapsed stacks)."""
    if output is None:
        yield
        return
    if not PY_SPY.exists():
        raise BenchError("py-spy is not installed in .venv")
    recorder = subprocess.Popen(  # noqa: S603 - fixed program and arguments
        [
            *(str(PY_SPY), "record", "--pid", str(pid), "--subprocesses", "--nonblocking"),
            *("--rate", "200", "--format", "raw", "--output", str(output)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1)
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=60)


def top_frames(raw: Path, *, limit: int = 15) -> dict[str, list[tuple[str, float]]]:
    """Share of samples per frame from py-spy's raw output: where time is spent (self) and under."""
    own: Counter[str] = Counter()
    under: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _space, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [re.sub(r"\s+", " ", f) for f in stack.split(";")]
        # Idle pool processes wait in the prefork loop; only work is of interest.
        if any("process_task" in f or "trace_task" in f for f in frames):
            total += n
            own[frames[-1]] += n
            for frame in set(frames):
                under[frame] += n
    if not total:
        return {"self": [], "inclusive": []}
    return {
        "self": [(f, round(100 * n / total, 1)) for f, n in own.most_common(limit)],
        # The frames every task runs under (Celery's, the task's own) say nothing.
        "inclusive": [
            (f, round(100 * n / total, 1)) for f, n in under.most_common() if n < 0.98 * total
        ][:limit],
    }


# ------------------------------------------------------------------------------ data


def _configure(database_url: str, redis_url: str, smtp_port: int, chunk_size: int) -> None:
    """Settings for this process, before Django starts; the worker gets the same."""
    os.environ.update(_environment(database_url, redis_url, smtp_port, chunk_size))
    import django

    django.setup()


def _environment(
    database_url: str, redis_url: str, smtp_port: int, chunk_size: int
) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "ATLAS_DIGEST_CHUNK_SIZE": str(chunk_size),
        "PYTHONUNBUFFERED": "1",
    }


def _subscribers(count: int, *, prefix: str) -> int:
    """``count`` confirmed daily subscribers following the bench places, in bulk."""
    from cities.models import Jurisdiction
    from initiatives.models import Frequency, Subscription, SubscriptionTarget

    places = list(Jurisdiction.objects.filter(slug__startswith="bench-").order_by("pk"))
    confirmed = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    batch = 5000
    for start in range(0, count, batch):
        created = Subscription.objects.bulk_create(
            [
                Subscription(
                    email=f"{prefix}{n:06d}@example.org",
                    language="fr" if n % 2 else "en",
                    frequency=Frequency.DAILY,
                    confirmed_at=confirmed,
                )
                for n in range(start, min(count, start + batch))
            ]
        )
        SubscriptionTarget.objects.bulk_create(
            [
                SubscriptionTarget(
                    subscription=s,
                    kind=SubscriptionTarget.Kind.JURISDICTION,
                    jurisdiction=places[(start + n) % len(places)],
                )
                for n, s in enumerate(created)
            ]
        )
    return count


def _prepare(subscribers: int) -> str:
    """Migrate, lay out the places and their changes, replace the subscribers; the period key."""
    from django.core.management import call_command
    from django.utils import timezone

    from cities.models import Jurisdiction
    from initiatives import digests
    from initiatives.models import (
        ChangeEvent,
        DigestDelivery,
        Frequency,
        Initiative,
        PublicationState,
        Subscription,
    )

    call_command("migrate", interactive=False, verbosity=0)
    period = digests.period_for(Frequency.DAILY, timezone.now())
    country, _created = Jurisdiction.objects.get_or_create(
        slug="bench-country",
        defaults={
            "kind": Jurisdiction.Kind.COUNTRY,
            "name": "Benchland",
            "ocd_id": "ocd-division/country:zz",
        },
    )
    for name, slug in PLACES:
        place, _created = Jurisdiction.objects.get_or_create(
            slug=f"bench-{slug}",
            defaults={
                "kind": Jurisdiction.Kind.PLACE,
                "name": name,
                "ocd_id": f"ocd-division/country:zz/place:{slug}",
                "parent": country,
            },
        )
        title = f"Open data portal of {name}"
        initiative, _created = Initiative.objects.get_or_create(
            slug=f"bench-portal-{slug}",
            defaults={
                "jurisdiction": place,
                "title": title,
                "summary": "A portal for the city's open data.",
                "status": Initiative.Status.ACTIVE,
                "publication_state": PublicationState.PUBLISHED,
            },
        )
        ChangeEvent.objects.get_or_create(
            kind=ChangeEvent.Kind.INITIATIVE_PUBLISHED,
            jurisdiction=place,
            initiative=initiative,
            occurred_at=period.start + datetime.timedelta(hours=10),
            defaults={"details": {"title": title, "status": initiative.status}},
        )
    Subscription.objects.filter(email__startswith=EMAIL_PREFIX).delete()
    DigestDelivery.objects.filter(period=period.key).delete()
    _subscribers(subscribers, prefix=f"{EMAIL_PREFIX}reader-")
    return period.key


# BEGIN/COMMIT and the like are counted apart: they are round trips, not queries.
_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET ", "RESET ")


def _queries_per_chunk(period_key: str, chunk_size: int) -> dict[str, Any]:
    """Queries of one chunk in this process, sorted into ledger work and building."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from initiatives import delivery
    from initiatives.models import Subscription

    figures: dict[str, Any] = {}
    # Both chunks in one run, as a worker sees them: the second finds the changes loaded.
    run = f"bench-{time.time_ns()}"
    for label in ("first_chunk", "later_chunk"):
        prefix = f"{EMAIL_PREFIX}{label}-"
        _subscribers(chunk_size, prefix=prefix)
        ids = list(
            Subscription.objects.filter(email__startswith=prefix)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        with CaptureQueriesContext(connection) as captured:
            tally = delivery.deliver_digests(
                subscription_ids=ids, period_key=period_key, frequency="daily", run=run
            )
        statements = [q["sql"] for q in captured.captured_queries]
        control = [sql for sql in statements if sql.lstrip().upper().startswith(_CONTROL)]
        queries = [sql for sql in statements if sql not in control]
        ledger = [sql for sql in queries if "digestdelivery" in sql]
        figures[label] = {
            "chunk": len(ids),
            "sent": tally[delivery.SENT],
            "queries": len(queries),
            "ledger_queries": len(ledger),
            "building_queries": len(queries) - len(ledger),
            "transaction_control": len(control),
        }
    return figures


# ------------------------------------------------------------------------------ the run


def measure(
    *,
    database_url: str,
    subscribers: int,
    workers: int = 2,
    chunk_size: int | None = None,
    profile: Path | None = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """
    Send a daily run's digests to ``subscribers`` through a real worker and return the
    figures: seconds, per_second, queries_per_chunk, peak_rss_mb_per_worker and more.

    Configures Django itself: call it in a process where Django has not started.
    """
    if subscribers < 1 or workers < 1:
        raise BenchError("subscribers and workers must be at least 1")
    if not CELERY.exists():
        raise BenchError(f"{CELERY.name} is missing from .venv")
    from django.conf import settings

    if settings.configured:
        raise BenchError("measure() configures Django itself: call it before Django starts")
    size = chunk_size or int(os.environ.get("ATLAS_DIGEST_CHUNK_SIZE", "0") or 0) or 1000
    with ExitStack() as stack:
        redis_url = stack.enter_context(redis_server())
        smtp_port, accepted = stack.enter_context(smtp_sink())
        _configure(database_url, redis_url, smtp_port, size)

        from django.db import connection

        from initiatives import delivery
        from initiatives.models import DeliveryState, DigestDelivery, Frequency

        started = time.monotonic()
        period_key = _prepare(subscribers)
        owed = delivery.active_subscriptions(Frequency.DAILY).count()
        setup_seconds = time.monotonic() - started
        connection.close()

        broker_port = urlsplit(redis_url).port
        if broker_port is None:
            raise BenchError(f"no port in {redis_url}")
        worker = Worker(dict(os.environ), workers, broker_port)
        worker.start()
        stack.callback(worker.stop)
        load_before = os.getloadavg()
        ledger = DigestDelivery.objects.filter(period=period_key)
        with py_spy(worker.pid, profile):
            started = time.monotonic()
            summary = delivery.digest_run(frequency=Frequency.DAILY, period_key=period_key)
            deadline = started + (timeout or max(600.0, owed / 20))
            rss_seen: dict[int, float] = {}
            while ledger.exclude(state=DeliveryState.PENDING).count() < owed:
                if time.monotonic() > deadline:
                    counts = delivery.period_counts(DigestDelivery, period_key)
                    raise BenchError(
                        f"not done after {deadline - started:.0f}s: {counts}\n"
                        f"{worker.output()[-3000:]}"
                    )
                for pid in worker.children():
                    try:
                        rss_seen[pid] = memory_mb(pid)
                    except (OSError, BenchError):
                        continue
                time.sleep(0.2)
            seconds = time.monotonic() - started
        cpu = 0.0
        for pid in worker.children():
            rss_seen[pid] = memory_mb(pid)
            cpu += cpu_seconds(pid)
        load_after = os.getloadavg()
        counts = delivery.period_counts(DigestDelivery, period_key)
        smtp_accepted = accepted.value
        worker.stop()
        queries = _queries_per_chunk(period_key, size)
        frames = top_frames(profile) if profile is not None else None

    return {
        "subscribers": subscribers,
        "owed": owed,
        "workers": workers,
        "chunk_size": size,
        "chunks": summary.chunks,
        "seconds": round(seconds, 2),
        "per_second": round(owed / seconds, 1),
        "queries_per_chunk": queries["later_chunk"]["queries"],
        # Machine-independent-ish: the workers' own CPU per digest (PostgreSQL's and the
        # SMTP sink's come on top).
        "worker_cpu_ms_per_digest": round(1000 * cpu / owed, 2),
        "queries": queries,
        "peak_rss_mb_per_worker": round(max(rss_seen.values(), default=0.0), 1),
        "peak_rss_mb_by_process": {pid: round(mb, 1) for pid, mb in sorted(rss_seen.items())},
        "ledger": counts,
        "smtp_accepted": smtp_accepted,
        "setup_seconds": round(setup_seconds, 1),
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "profile": frames,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument("--profile", type=Path, default=None, help="py-spy raw output file")
    args = parser.parse_args(argv)
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("--database-url must be a PostgreSQL URL (the worker shares the database)")
    try:
        figures = measure(
            database_url=args.database_url,
            subscribers=args.subscribers,
            workers=args.workers,
            chunk_size=args.chunk_size,
            profile=args.profile,
        )
    except BenchError as error:
        print(f"bench failed: {error}", file=sys.stderr)
        return 1
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
