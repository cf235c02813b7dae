"""Project-level views that belong to no app: the health check."""

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

OK = "ok"


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return OK


def _check_cache() -> str:
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
