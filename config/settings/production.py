"""Production settings: nothing insecure by default, and no start without the secrets."""

from django.core.exceptions import ImproperlyConfigured

from config.security import content_security_policy, production_middleware, production_templates

from .base import *
from .base import ATLAS_MAP_TILES_URL, MIDDLEWARE, TEMPLATES, env

DEBUG = False
SECRET_KEY = env("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
if not SECRET_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY: production refuses to start without it.")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set ALLOWED_HOSTS: production refuses to start without it.")

ATLAS_ENVIRONMENT = "production"

# Persistent connections, checked before each request reuses them, so a database restart
# costs one reconnect rather than a failed request.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# No ATOMIC_REQUESTS: every write goes through a service that is @transaction.atomic, and the
# tasks those services enqueue wait for transaction.on_commit. Wrapping whole requests would
# hold a transaction open through every page's rendering, reads included, for nothing.

MIDDLEWARE = production_middleware(MIDDLEWARE)
TEMPLATES = production_templates(TEMPLATES)

# ------------------------------------------------------------------------------
# Security
# ------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
# No script reads the CSRF cookie: forms carry the token, and workspace.js takes it from there.
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Scripts need the request's nonce or the Atlas's own origin; see config.security.
SECURE_CSP = content_security_policy(tiles_url=ATLAS_MAP_TILES_URL)
# Production sits behind a reverse proxy (see SECURE_PROXY_SSL_HEADER); the sign-in lockout
# must key on the client's address, not the proxy's. Set to 0 only with no proxy in front.
ATLAS_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)

# ------------------------------------------------------------------------------
# Static files: WhiteNoise serves them compressed, under names that carry a hash of their
# content, so browsers may cache them for ever.
# ------------------------------------------------------------------------------
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# ------------------------------------------------------------------------------
# API throttling: stricter than base's, which suit the test suite and demos.
# ------------------------------------------------------------------------------
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "anon": env("API_THROTTLE_ANON", default="60/min"),
    "key": env("API_THROTTLE_KEY", default="600/min"),
    "user": env("API_THROTTLE_USER", default="300/min"),
}

# ------------------------------------------------------------------------------
# Logging: JSON lines by default, for the log collector; LOG_FORMAT=text for a person.
# base.py builds LOGGING before this file runs, so the handler's formatter is set here.
# ------------------------------------------------------------------------------
LOGGING["handlers"]["console"]["formatter"] = (
    "text" if env("LOG_FORMAT", default="json") == "text" else "json"
)
