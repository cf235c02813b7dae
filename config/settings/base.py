"""
Settings shared by every environment.

Every value comes from the environment (django-environ). The modules beside this
one pick the defaults: ``local`` is the embedded default that runs with no
services at all, ``test`` is for the suite, ``production`` refuses to start
without its secrets.
"""

import datetime
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A .env file is a convenience for developers; the real environment wins.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# ------------------------------------------------------------------------------
# Core
# ------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="")
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=[])
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
SITE_NAME = "Digital Leadership Atlas"

# ------------------------------------------------------------------------------
# Applications
# ------------------------------------------------------------------------------
DJANGO_APPS = [
    # Django's admin with the Atlas's site, which asks chairs and reviewers for their code.
    "config.apps.AtlasAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Full-text and trigram lookups for search; harmless on SQLite.
    "django.contrib.postgres",
    "django.contrib.sitemaps",
]
THIRD_PARTY_APPS = [
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "simple_history",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
]
LOCAL_APPS = [
    "cities",
    "initiatives",
    "council",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    # First: every log line of the request, and the tasks it enqueues, carry its id.
    "config.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # After LocaleMiddleware, so its problems speak the client's language.
    "config.middleware.ApiProblemMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Anonymous pages from the cache. After CsrfViewMiddleware, which sets the cookie of the
    # fresh token a hit carries, and LocaleMiddleware, whose language the key holds; a hit
    # skips everything below. See config.page_cache.
    "config.page_cache.PageCacheMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After AuthenticationMiddleware: marks request.user verified once a one-time code is given.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Gives every history row the user behind the request, admin included.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a lockout flagged during authenticate() into the
    # lockout page.
    "axes.middleware.AxesMiddleware",
]

# ------------------------------------------------------------------------------
# Database
# ------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The JIT compiler pays off for long analytic queries; for these short page and API
    # queries it added about 250 ms each on large tables, so it is off.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"

# ------------------------------------------------------------------------------
# Cache and broker
# ------------------------------------------------------------------------------
# REDIS_URL switches both the cache and Celery's broker from their in-process
# stand-ins to Redis.
REDIS_URL: str = env("REDIS_URL", default="")


def redis_caches(url: str) -> dict[str, dict[str, object]]:
    """CACHES on the Redis at ``url`` (a function, so the integration tests use the same)."""
    # Short timeouts: with Redis unreachable a request loses a fraction of a second, not many.
    options = {"SOCKET_CONNECT_TIMEOUT": 0.25, "SOCKET_TIMEOUT": 0.5}
    return {
        # Throttling, rate limits and health checks. A Redis outage turns into cache misses
        # (logged), never an error: throttles and rate limits then let requests through.
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "OPTIONS": {**options, "IGNORE_EXCEPTIONS": True},
        },
        # The page cache (config.page_cache) handles Redis errors itself: it must tell a
        # miss from an outage, and a generation bump that failed from one that happened.
        "pages": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "OPTIONS": {**options, "IGNORE_EXCEPTIONS": False},
        },
    }


if REDIS_URL:
    CACHES = redis_caches(REDIS_URL)
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "pages": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "pages",
        },
    }
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

# Anonymous pages and API responses served from the cache (config.page_cache): "on" or
# "off", on by default when Redis is there. Entries live ATLAS_PAGE_CACHE_SECONDS at most;
# every committed change to public data makes all of them stale at once.
_page_cache = env("ATLAS_PAGE_CACHE", default="on" if REDIS_URL else "off").strip().lower()
if _page_cache not in ("on", "off"):
    raise ImproperlyConfigured(f"ATLAS_PAGE_CACHE must be on or off, not {_page_cache!r}.")
ATLAS_PAGE_CACHE = _page_cache == "on"
ATLAS_PAGE_CACHE_SECONDS = env.int("ATLAS_PAGE_CACHE_SECONDS", default=600)
if ATLAS_PAGE_CACHE_SECONDS <= 0:
    raise ImproperlyConfigured("ATLAS_PAGE_CACHE_SECONDS must be a positive number of seconds.")

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
# A task is acknowledged only once it has run, and handed back when its worker dies, so a
# worker killed mid-send loses nothing; the delivery ledgers make the rerun send nothing twice,
# and their attempt cap (ATLAS_DELIVERY_MAX_ATTEMPTS) stops a task that keeps dying.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One message at a time per process: a dying process takes no reserved backlog with it.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# No task runs longer than this: the worker kills it and the message goes back to the queue.
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=60 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
# Redis hands an unacknowledged message out again after visibility_timeout. It must outlast
# the longest task (CELERY_TASK_TIME_LIMIT) and the longest retry countdown
# (ATLAS_DELIVERY_RETRY_MAX_SECONDS), or a message still running or waiting would be handed
# out twice; tests/delivery/test_settings.py holds both to that.
# The short socket timeouts keep a web request from hanging when Redis is down: publishing
# fails within about a second, the request succeeds, and the outbox sweep sends later.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=2 * 60 * 60),
    "socket_connect_timeout": 1,
    # Above BRPOP's own 1-second wait, so an idle consumer is not taken for a dead one.
    "socket_timeout": 3,
    "retry_on_timeout": False,
    # Publishing does not wait for Redis to come back: it fails at once, and what it
    # carried waits in the database (the outbox, the ledgers) for the sweep. The worker's
    # own connection keeps retrying (CELERY_BROKER_CONNECTION_MAX_RETRIES).
    "max_retries": 0,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing from a web request tries once; a failure leaves the outbox row to the sweep.
CELERY_TASK_PUBLISH_RETRY = False

# ------------------------------------------------------------------------------
# Email
# ------------------------------------------------------------------------------
# EMAIL_URL (smtp://user:password@host:port, consolemail://, ...) becomes the
# default mailer in Django 6.1's MAILERS form.
_email = env.email_url("EMAIL_URL", default="consolemail://")
_smtp_options = {
    "host": _email.get("EMAIL_HOST"),
    "port": _email.get("EMAIL_PORT"),
    "username": _email.get("EMAIL_HOST_USER"),
    "password": _email.get("EMAIL_HOST_PASSWORD"),
    "use_tls": _email.get("EMAIL_USE_TLS", False),
    "use_ssl": _email.get("EMAIL_USE_SSL", False),
    "timeout": env.int("EMAIL_TIMEOUT", default=10),
}
MAILERS = {
    "default": {
        "BACKEND": _email["EMAIL_BACKEND"],
        "OPTIONS": (
            {k: v for k, v in _smtp_options.items() if v not in (None, "")}
            if _email["EMAIL_BACKEND"].endswith("smtp.EmailBackend")
            else {}
        ),
    }
}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Digital Leadership Atlas <atlas@localhost>")

# ------------------------------------------------------------------------------
# Delivery (digests, reminders and the outbox; see initiatives.delivery)
# ------------------------------------------------------------------------------
# A digest run hands subscriptions to workers in chunks of this many.
ATLAS_DIGEST_CHUNK_SIZE = env.int("ATLAS_DIGEST_CHUNK_SIZE", default=200)
# Tries per message, counted before each send: a message whose worker keeps dying is marked
# failed after this many instead of looping.
ATLAS_DELIVERY_MAX_ATTEMPTS = env.int("ATLAS_DELIVERY_MAX_ATTEMPTS", default=8)
# Temporary SMTP failures wait a random time up to base x 2^(attempt - 1) seconds (full
# jitter), never more than the maximum, which stays below the broker's visibility timeout.
ATLAS_DELIVERY_RETRY_BASE_SECONDS = env.float("ATLAS_DELIVERY_RETRY_BASE_SECONDS", default=30.0)
ATLAS_DELIVERY_RETRY_MAX_SECONDS = env.float("ATLAS_DELIVERY_RETRY_MAX_SECONDS", default=30 * 60)
# The sweep hands over outbox rows left pending this long (the broker was down when they
# were written), and ledger rows left pending longer than the visibility timeout.
ATLAS_OUTBOX_SWEEP_AFTER_SECONDS = env.int("ATLAS_OUTBOX_SWEEP_AFTER_SECONDS", default=30)

# ------------------------------------------------------------------------------
# Authentication
# ------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out username and address pair is refused before any password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Argon2 hashes new passwords. The others stay so that hashes made before still verify; Django
# rehashes them with Argon2 at the next successful sign-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# No maximum length: passphrases of any length are welcome. Argon2 digests its input once
# before the costly rounds, so a long password costs no more to hash than a short one, and
# DATA_UPLOAD_MAX_MEMORY_SIZE already bounds what a request can send.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env.int("PASSWORD_MIN_LENGTH", default=12)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "council:login"
LOGIN_REDIRECT_URL = "council:landing"
LOGOUT_REDIRECT_URL = "cities:home"
# A form posted without its token gets a page in the site's language, not Django's bare one.
CSRF_FAILURE_VIEW = "council.auth_views.csrf_failure"

# Lockout (django-axes). Failures count per username and address together, so a stranger
# guessing a password locks that name out from their own address only: the owner, elsewhere,
# still signs in, and nobody outside can lock an account.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "council/lockout.html"
AXES_HTTP_RESPONSE_CODE = 429
# How many reverse proxies stand in front of the Atlas and append to X-Forwarded-For; the
# lockout reads the client's address from there (council.auth_views.client_address).
ATLAS_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "council.auth_views.client_address"
# Staff clear a lockout with `manage.py axes_reset_username NAME`. The admin leaves out axes's
# pages: every model in the Atlas's admin offers an add page, and a lockout record cannot be
# added by hand.
AXES_ENABLE_ADMIN = False
# Its start-up banner would print on every management command.
AXES_VERBOSE = False

# Second factor (django-otp, TOTP). Authenticator apps show this name beside the code.
OTP_TOTP_ISSUER = SITE_NAME

# ------------------------------------------------------------------------------
# Internationalisation
# ------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# ------------------------------------------------------------------------------
# Templates and static files
# ------------------------------------------------------------------------------
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.map_tiles",
            ],
        },
    },
]
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# ------------------------------------------------------------------------------
# REST framework
# ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so 401 answers name the Bearer scheme; sessions serve the browsable API, once
        # a chair's or reviewer's session has given its one-time code.
        "config.api.authentication.ApiKeyAuthentication",
        "config.api.authentication.SecondFactorSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.AtlasCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": [
        "config.api.renderers.ORJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
        "config.api.renderers.CSVRenderer",
        "config.api.renderers.GeoJSONRenderer",
        "config.api.renderers.JSONLDRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["config.api.parsers.ORJSONParser"],
    "EXCEPTION_HANDLER": "config.api.exceptions.problem_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "config.api.throttling.AnonymousRateThrottle",
        "config.api.throttling.ApiKeyRateThrottle",
        "config.api.throttling.UserRateThrottle",
    ],
    # Per IP, per API key and per signed-in user. The defaults are loose enough for
    # the test suite, which shares one IP and one cache; deployments set their own
    # (such as 60/min, 600/min and 300/min).
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="1200/min"),
        "key": env("API_THROTTLE_KEY", default="6000/min"),
        "user": env("API_THROTTLE_USER", default="3000/min"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# ------------------------------------------------------------------------------
# Atlas
# ------------------------------------------------------------------------------
DEMO_PASSWORD = env("DEMO_PASSWORD", default="atlas-demo")
# Published records untouched for this long count as stale.
ATLAS_STALE_AFTER_DAYS = env.int("ATLAS_STALE_AFTER_DAYS", default=180)
# Milestones due within this many days (or overdue) show in the workspace.
ATLAS_MILESTONE_DUE_WITHIN_DAYS = env.int("ATLAS_MILESTONE_DUE_WITHIN_DAYS", default=14)
# CSV import: the largest file and the most rows one upload may hold.
ATLAS_IMPORT_MAX_BYTES = env.int("ATLAS_IMPORT_MAX_BYTES", default=5 * 1024 * 1024)
ATLAS_IMPORT_MAX_ROWS = env.int("ATLAS_IMPORT_MAX_ROWS", default=20_000)
# Public contributions: how many one address may send per hour, and how long
# the emailed confirmation link works.
ATLAS_CONTRIBUTIONS_PER_HOUR = env.int("ATLAS_CONTRIBUTIONS_PER_HOUR", default=5)
ATLAS_CONTRIBUTION_CONFIRM_DAYS = env.int("ATLAS_CONTRIBUTION_CONFIRM_DAYS", default=7)
# How long a chair's invitation to join a council stays valid.
ATLAS_INVITATION_DAYS = env.int("ATLAS_INVITATION_DAYS", default=14)
# Subscribing: how many requests one address may send per hour, and how long the
# confirmation link works.
ATLAS_SUBSCRIPTIONS_PER_HOUR = env.int("ATLAS_SUBSCRIPTIONS_PER_HOUR", default=10)
ATLAS_SUBSCRIPTION_CONFIRM_DAYS = env.int("ATLAS_SUBSCRIPTION_CONFIRM_DAYS", default=7)
# Reminders mention review-queue items that have waited longer than this.
ATLAS_REVIEW_REMINDER_DAYS = env.int("ATLAS_REVIEW_REMINDER_DAYS", default=3)
# The site's public address, for links in emails written by workers, away from any request.
ATLAS_SITE_URL: str = env("ATLAS_SITE_URL", default="http://127.0.0.1:8000")
# Guards commands that must never run against a live deployment (seed_demo).
ATLAS_ENVIRONMENT = "base"

# ------------------------------------------------------------------------------
# Logging
# ------------------------------------------------------------------------------
from typing import Any  # noqa: E402 - only the logging settings need it

# "json" writes one JSON object per line, for a log collector; "text" is for people reading a
# terminal. Every line carries the request id (config.request_id), "-" outside requests.
LOG_FORMAT: str = env("LOG_FORMAT", default="text")
# Typed loosely so that an environment's module may adjust a nested entry.
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "config.request_id.RequestIdFilter"},
        "once_per_interval": {"()": "config.log_filters.OncePerInterval", "seconds": 10},
    },
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": ["asctime", "levelname", "name", "message", "request_id"],
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # The cache errors django-redis swallows (DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS).
        "django_redis.cache": {"filters": ["once_per_interval"]},
    },
}

# ------------------------------------------------------------------------------
# Error reporting
# ------------------------------------------------------------------------------
# Sentry is optional: without SENTRY_DSN nothing is initialised and nothing leaves the host.
SENTRY_DSN: str = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    import os

    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # Users' names, addresses and cookies stay out of error reports.
        send_default_pii=False,
        # The settings module in use (production, local, ...): ATLAS_ENVIRONMENT is only set by
        # the module that imports this one, after this code has run.
        environment=os.environ.get("DJANGO_SETTINGS_MODULE", "").rpartition(".")[2] or "base",
        # Performance tracing sends data for sampled requests; off unless asked for.
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

# ------------------------------------------------------------------------------
# API documentation and open data
# ------------------------------------------------------------------------------
# Beat reads its schedule from here; the import sits with the section it serves.
from celery.schedules import crontab  # noqa: E402

SPECTACULAR_SETTINGS = {
    "TITLE": "Digital Leadership Atlas API",
    "VERSION": "1.0.0",
    "DESCRIPTION": """
The Digital Leadership Atlas records how cities, states and regions lead in the
digital era: jurisdictions, their plans, initiatives, coalitions and the
organizations behind them.

## Authentication

Anyone may read published records without a key. An API key, sent as
`Authorization: Bearer <key>`, raises the rate limit; a write key belongs to a
council member and acts with that member's rights, on their jurisdictions only.
Create one with `python manage.py create_api_key --user USERNAME`. The key is
shown once and stored only as a hash.

## Pagination

Lists use cursor pagination: follow the `next` link until it is `null`. Pages
hold up to 200 items (`page_size`). Add `updated_since` to fetch only what
changed since your last sync.

## Formats

JSON by default. `?format=csv` gives flat CSV, `?format=geojson` a GeoJSON
FeatureCollection (jurisdictions and initiatives) and `?format=jsonld` JSON-LD.
`?fields=` selects fields and `?expand=` expands nested objects. Lists and
details carry `ETag` and `Last-Modified`; send `If-None-Match` to get a `304`.

## Errors

Every error is `application/problem+json` (RFC 9457) with `type`, `title`,
`status` and `detail`; validation errors list their fields, translated by
`Accept-Language`. Too many requests answer `429` with `Retry-After`.

## Licence and bulk data

The data is published under an open licence (CC BY 4.0 unless the deployment
says otherwise; the schema's `info.license` names it). Nightly dumps of every
published record, as CSV, JSON and GeoJSON in one zip, are listed at
`/api/v1/dumps/` and described as a DCAT catalog at `/catalog.jsonld`.
""".strip(),
    "SERVE_INCLUDE_SCHEMA": False,
    # The Atlas's own copies from drf-spectacular-sidecar: the docs load nothing from elsewhere.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # validatorUrl: null stops Swagger UI from posting the schema to an outside validator.
    "SWAGGER_UI_SETTINGS": {
        "deepLinking": True,
        "persistAuthorization": True,
        "validatorUrl": None,
    },
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.renderers.document_representations",
        "config.api.schema.postprocess_examples",
    ],
}

# Dated zips of every published record, written nightly and served at /api/v1/dumps/.
ATLAS_DUMPS_DIR = Path(env("ATLAS_DUMPS_DIR", default=str(BASE_DIR / "var" / "dumps")))
# How many dated dumps to keep; older ones are pruned after each new dump.
ATLAS_DUMPS_KEEP = env.int("ATLAS_DUMPS_KEEP", default=14)
# An SPDX identifier; initiatives.dumps knows the common open-data licences' names and URLs.
ATLAS_DATA_LICENSE: str = env("ATLAS_DATA_LICENSE", default="CC-BY-4.0")
# Maps draw markers and boundaries on a plain background, loading nothing from
# elsewhere. A tile server (an {z}/{x}/{y} URL template) is opt-in.
ATLAS_MAP_TILES_URL: str = env("ATLAS_MAP_TILES_URL", default="")
ATLAS_MAP_TILES_ATTRIBUTION: str = env("ATLAS_MAP_TILES_ATTRIBUTION", default="")

CELERY_BEAT_SCHEDULE = {
    "write-open-data-dump": {
        "task": "initiatives.tasks.write_open_data_dump",
        # CELERY_TIMEZONE is UTC; a quiet hour on both sides of the Atlantic.
        "schedule": crontab(hour=3, minute=15),
    },
    # Digests report the period that just ended; a rerun of the same period sends nothing twice.
    "send-daily-digests": {
        "task": "initiatives.tasks.send_digests",
        "schedule": crontab(hour=6, minute=0),
        "kwargs": {"frequency": "daily"},
    },
    "send-weekly-digests": {
        "task": "initiatives.tasks.send_digests",
        "schedule": crontab(hour=6, minute=0, day_of_week="mon"),
        "kwargs": {"frequency": "weekly"},
    },
    # Daily: each member's preference (weekly by default) decides whether this run is theirs.
    "send-reminders": {
        "task": "council.tasks.send_reminders",
        "schedule": crontab(hour=7, minute=0),
    },
    # What was written while Redis was down, and anything a lost worker left behind.
    "sweep-outbox": {
        "task": "initiatives.tasks.sweep_outbox",
        "schedule": crontab(),
    },
    # Page-cache invalidations that could not reach Redis when their change committed.
    "sweep-page-cache": {
        "task": "initiatives.cache_tasks.sweep_page_cache",
        "schedule": crontab(),
    },
    # The coverage summary from scratch, in case a refresh failed after its commit.
    "rebuild-coverage": {
        "task": "cities.tasks.rebuild_coverage",
        "schedule": crontab(hour=3, minute=45),
    },
}

# ------------------------------------------------------------------------------
# API
# ------------------------------------------------------------------------------
# The largest request body Django (and config.middleware.ApiProblemMiddleware,
# for the API) accepts; larger ones get a 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)
