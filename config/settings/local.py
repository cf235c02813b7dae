"""The embedded default: SQLite, eager tasks and console email.

DATABASE_URL, REDIS_URL and EMAIL_URL switch each to a real service."""

from .base import *
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default="local-only-not-secret-atlas-key-0123456789abcdefghijklmnop")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
ATLAS_ENVIRONMENT = "local"
