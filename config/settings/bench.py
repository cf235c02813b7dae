"""
Settings for the benchmark (``make bench``): production's, served over plain HTTP on loopback.

The Atlas runs as it does in production (DEBUG off, persistent connections checked before
reuse, the production middleware and templates); only what a loopback measurement cannot
have changes: no TLS (so no HTTPS redirect, no secure-only cookies, no HSTS), no reverse
proxy in front, static files served unhashed (no collectstatic step), and no API
throttling, since every request comes from one address. ``ROOT_URLCONF`` adds the peers the
Atlas is measured against (bench.urls).
"""

import os

# Production refuses to start without these; on loopback there is nothing to protect.
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret-atlas-key-0123456789abcdefghijklmn")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("TRUSTED_PROXY_COUNT", "0")

from .production import *
from .production import BASE_DIR, DATABASES, REST_FRAMEWORK, env

ATLAS_ENVIRONMENT = "bench"
ROOT_URLCONF = "bench.urls"

# Plain HTTP on loopback: cookies marked Secure would never come back, HSTS means nothing.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_HSTS_PRELOAD = False

# The manifest storage needs collectstatic first; the pages measured are the same either way.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# The load generator is one client on one address: any per-address limit would turn the
# measurement into a count of 429s. (DRF's throttles keep a timestamp per request in the
# window, so a limit raised high enough instead would measure a list thousands of entries
# long, which no production rate produces.)
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}

# A statement running longer than this is cancelled and its request fails (a 500, counted
# as a failed request): wrk gives up after 2 s anyway, and a statement left running would
# take the database from the measurements that follow.
BENCH_STATEMENT_TIMEOUT_MS = env.int("BENCH_STATEMENT_TIMEOUT_MS", default=2000)
_options = DATABASES["default"].setdefault("OPTIONS", {})
# Added to what the base settings pass (jit=off among them), not in their place.
_options["options"] = " ".join(
    filter(None, [_options.get("options"), f"-c statement_timeout={BENCH_STATEMENT_TIMEOUT_MS}"])
)

# Where the runner stores the bytes captured from the Atlas for each case; the floor view
# (bench.views) and nginx serve them.
BENCH_FLOOR_DIR = env("BENCH_FLOOR_DIR", default=str(BASE_DIR / "var" / "bench" / "floor"))

LOGGING["root"]["level"] = env("LOG_LEVEL", default="WARNING")
