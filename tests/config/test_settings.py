"""Settings come from the environment; each case runs in a fresh interpreter."""

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from tests.conftest import REPO_ROOT

PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "cache": settings.CACHES["default"]["BACKEND"],
    "broker": settings.CELERY_BROKER_URL,
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "mailer": settings.MAILERS["default"],
    "debug": settings.DEBUG,
    "db_options": settings.DATABASES["default"].get("OPTIONS", {}).get("options", ""),
}))
"""

ENV_KEYS = ("DATABASE_URL", "REDIS_URL", "EMAIL_URL", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_DEBUG")


def run_settings(module: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    clean.update(env, DJANGO_SETTINGS_MODULE=module)
    return subprocess.run(  # noqa: S603 - fixed interpreter and code
        [sys.executable, "-c", PROBE],
        cwd=REPO_ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def probe(module: str, **env: str) -> dict[str, Any]:
    result = run_settings(module, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_nothing_set_gives_the_embedded_default():
    found = probe("config.settings.local")
    assert found["engine"] == "django.db.backends.sqlite3"
    assert found["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert found["eager"] is True
    assert found["mailer"]["BACKEND"] == "django.core.mail.backends.console.EmailBackend"


def test_service_urls_switch_to_real_services():
    found = probe(
        "config.settings.local",
        DATABASE_URL="postgres://atlas@127.0.0.1:5432/atlas",
        REDIS_URL="redis://127.0.0.1:6379/3",
        EMAIL_URL="smtp://127.0.0.1:1025",
    )
    assert found["engine"] == "django.db.backends.postgresql"
    assert found["cache"] == "django_redis.cache.RedisCache"
    assert found["broker"] == "redis://127.0.0.1:6379/3"
    assert found["eager"] is False
    assert found["mailer"]["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert found["mailer"]["OPTIONS"]["host"] == "127.0.0.1"
    assert found["mailer"]["OPTIONS"]["port"] == 1025


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"ALLOWED_HOSTS": "atlas.example.org"}, "SECRET_KEY"),
        ({"SECRET_KEY": "x" * 50}, "ALLOWED_HOSTS"),
    ],
)
def test_production_refuses_to_start_without_its_secrets(env, missing):
    result = run_settings("config.settings.production", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


def test_production_starts_with_its_secrets_and_without_debug():
    found = probe(
        "config.settings.production", SECRET_KEY="x" * 50, ALLOWED_HOSTS="atlas.example.org"
    )
    assert found["debug"] is False


def test_the_bench_keeps_the_base_connection_options():
    """The bench adds its statement timeout to the base options (JIT off), not in their place."""
    found = probe(
        "config.settings.bench",
        DATABASE_URL="postgres://atlas@127.0.0.1:5432/atlas",
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="127.0.0.1",
        BENCH_STATEMENT_TIMEOUT_MS="1500",
    )
    assert found["db_options"] == "-c jit=off -c statement_timeout=1500"
