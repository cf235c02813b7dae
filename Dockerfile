# syntax=docker/dockerfile:1
#
# The Atlas's image. A builder stage installs the locked dependencies with uv (uv.lock, no dev
# group), compiles the translations and collects the static files; the runtime stage gets only
# the result, the PostgreSQL client programs for backups, and an unprivileged user.
#
#   docker build -t atlas .
#   docker run --env-file .env -p 8000:8000 atlas                       # gunicorn (the default)
#   docker run --env-file .env atlas celery -A config worker -l info    # a Celery worker
#
# PostgreSQL's client programs come from the runtime's Debian release (trixie: 17). pg_dump
# must be at least as new as the server, so docker-compose.yml runs postgres:17.

ARG PYTHON_VERSION=3.12
ARG DEBIAN_RELEASE=trixie

# ------------------------------------------------------------------------------ builder
FROM python:${PYTHON_VERSION}-slim-${DEBIAN_RELEASE} AS builder

# The same uv as the Makefile's UV_VERSION, so the lock is read the same way everywhere.
ARG UV_VERSION=0.13.8
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# msgfmt, for compilemessages: the .mo catalogues are built, not committed.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir "uv==${UV_VERSION}"

WORKDIR /app

# The dependencies alone first: this layer is rebuilt only when the lock changes.
COPY pyproject.toml uv.lock .python-version ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev

COPY . .
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev

ENV PATH="/app/.venv/bin:${PATH}"
# Production settings refuse to load without a key and hosts; these placeholders only let
# collectstatic import them and end up in no layer's environment.
RUN DJANGO_SETTINGS_MODULE=config.settings.production \
    SECRET_KEY=collectstatic-only-build-placeholder \
    ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --no-input -v0 \
    && python manage.py compilemessages --ignore=.venv -v0

# ------------------------------------------------------------------------------ runtime
FROM python:${PYTHON_VERSION}-slim-${DEBIAN_RELEASE} AS runtime

# pg_dump and pg_restore, for `manage.py backup_database` / `restore_database`.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 atlas \
    && useradd --system --uid 10001 --gid atlas --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin atlas

WORKDIR /app
# Owned by root: the application cannot rewrite its own code or static files.
COPY --from=builder /app /app
# The one place the application writes: the nightly open-data dumps (a volume in compose).
RUN install -d -o atlas -g atlas /app/var /app/var/dumps

# The probe behind HEALTHCHECK and compose's healthchecks. Production settings redirect plain
# HTTP to HTTPS and check the Host header, so it asks as the proxy would: HTTPS forwarded,
# for the first allowed host.
COPY --chmod=0755 <<'EOF' /usr/local/bin/atlas-probe
#!/usr/local/bin/python3
"""atlas-probe [PATH]: exit 0 when the local gunicorn answers PATH (default /healthz) with 200."""
import os
import sys
import urllib.request

path = sys.argv[1] if len(sys.argv) > 1 else "/healthz"
hosts = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
host = next((h.lstrip(".") for h in hosts if h != "*"), "localhost")
request = urllib.request.Request(
    f"http://127.0.0.1:{os.environ.get('PORT', '8000')}{path}",
    headers={"Host": host, "X-Forwarded-Proto": "https"},
)
try:
    with urllib.request.urlopen(request, timeout=5) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception as exc:
    print(f"{path}: {exc}", file=sys.stderr)
    sys.exit(1)
EOF

ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    ATLAS_DUMPS_DIR=/app/var/dumps \
    PORT=8000 \
    XDG_RUNTIME_DIR=/tmp \
    WEB_CONCURRENCY=2 \
    GUNICORN_CMD_ARGS="--threads=4 --timeout=30 --graceful-timeout=30 --keep-alive=5 --access-logfile=-"

USER atlas:atlas
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=6s --start-period=20s --retries=3 \
    CMD ["atlas-probe", "/healthz"]

# gthread: threads ride out slow clients and slow queries without a process per connection.
# gunicorn binds 0.0.0.0:$PORT when PORT is set; workers come from WEB_CONCURRENCY and the
# rest from GUNICORN_CMD_ARGS, each overridable from the environment. XDG_RUNTIME_DIR gives
# gunicorn's control socket a writable home (/app is not).
CMD ["gunicorn", "config.wsgi:application", "--worker-class=gthread"]
