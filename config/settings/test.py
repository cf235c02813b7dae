"""Settings for the test suite: fast hashing, mail kept in memory, tasks run eagerly."""

from .base import *
from .base import env

DEBUG = False
SECRET_KEY = "test-only-not-secret-atlas-key-0123456789abcdefghijklmnopqrstuv"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# EMAIL_URL, when set, keeps base's mailer: a worker process started by the integration
# tests sends to their SMTP server.
if not env("EMAIL_URL", default=""):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
# Each test starts from an empty cache; Redis still backs the broker when REDIS_URL is set.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pages"},
}
# Pages are rendered afresh unless a test turns the page cache on (tests/config/test_page_cache.py).
ATLAS_PAGE_CACHE = False
# Eager by default; CELERY_TASK_ALWAYS_EAGER=false lets a real worker take the tasks from the
# Redis of REDIS_URL (the integration tests).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
ATLAS_ENVIRONMENT = "test"
