"""Project-level views that belong to no app: the liveness and readiness checks."""

import logging

import redis
from django.conf import settings
from django.core.cache import cache, caches
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_redis import get_redis_connection  # type: ignore[import-untyped]
from django_redis.cache import RedisCache  # type: ignore[import-untyped]

logger = logging.getLogger(__name__)

OK = "ok"


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return OK


def _check_cache() -> str:
    # The Redis cache swallows its errors (a miss instead of a 500), so ask Redis itself.
    if isinstance(caches["default"], RedisCache) and not get_redis_connection("default").ping():
        raise RuntimeError("Redis did not answer PING")
    cache.set("healthz", "1", timeout=5)
    if cache.get("healthz") != "1":
        raise RuntimeError("cache did not return what was stored")
    return OK


def _check_broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # No broker: tasks run in the web process itself.
        return "eager"
    from config.celery import app

    with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    return OK


CHECKS = {"database": _check_database, "cache": _check_cache, "broker": _check_broker}
# Without its database the Atlas cannot answer anything; the others degrade.
CRITICAL = {"database"}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    results: dict[str, str] = {}
    healthy = True
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:  # Any failure is a finding to report, not a crash.
            logger.warning("health check %s failed: %s", name, exc)
            results[name] = "error"
            if name in CRITICAL:
                healthy = False
    status = (
        "ok"
        if healthy and all(v in (OK, "eager") for v in results.values())
        else ("degraded" if healthy else "error")
    )
    return JsonResponse({"status": status, "checks": results}, status=200 if healthy else 503)


# ------------------------------------------------------------------------------
# Readiness
# ------------------------------------------------------------------------------
# /healthz says the process is alive; /readyz says it can do its whole job, so a load balancer
# or compose holds traffic back (and `migrate` can finish) until every dependency answers.
# A probe must answer well within its own timeout, so the broker gets a short one.
BROKER_TIMEOUT_SECONDS = 2.0


class PendingMigrationsError(RuntimeError):
    pass


def _ready_broker() -> str:
    # Without REDIS_URL there is no broker to lose: tasks run in the web process itself.
    if not settings.REDIS_URL:
        return "skipped"
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
        socket_timeout=BROKER_TIMEOUT_SECONDS,
    )
    try:
        if not client.ping():
            raise RuntimeError("Redis did not answer PING")
    finally:
        client.close()
    return OK


def _ready_migrations() -> str:
    # Code newer than its schema would fail on the first query touching a new column.
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        raise PendingMigrationsError(f"{len(plan)} migrations are not applied")
    return OK


READINESS_CHECKS = {
    "database": _check_database,
    "cache": _check_cache,
    "broker": _ready_broker,
    "migrations": _ready_migrations,
}


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when every dependency answers; 503 naming each one that did not."""
    results: dict[str, str] = {}
    failed: list[str] = []
    for name, check in READINESS_CHECKS.items():
        try:
            results[name] = check()
        except PendingMigrationsError as exc:
            logger.warning("readiness check %s failed: %s", name, exc)
            results[name] = "pending"
            failed.append(name)
        except Exception as exc:  # Any failure is a finding to report, not a crash.
            # The detail goes to the log only: the probe is public and exception text can
            # name internal hosts.
            logger.warning("readiness check %s failed: %s", name, exc)
            results[name] = "error"
            failed.append(name)
    if failed:
        return JsonResponse(
            {"status": "unavailable", "checks": results, "failed": failed}, status=503
        )
    return JsonResponse({"status": "ready", "checks": results}, status=200)
