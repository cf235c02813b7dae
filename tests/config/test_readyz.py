import os
import socket
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A loopback port nothing listens on: bound, then released, so connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_readyz_is_200_with_every_check_when_all_is_well(client, settings):
    settings.REDIS_URL = ""
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "cache": "ok", "broker": "skipped", "migrations": "ok"},
    }
    assert "no-cache" in response["Cache-Control"]


def test_readyz_is_503_naming_pending_migrations(client, settings):
    """Code ahead of its schema is not ready: one latest migration forgotten makes it 503."""
    settings.REDIS_URL = ""
    leaf = next(
        name for app, name in MigrationLoader(connection).graph.leaf_nodes() if app == "cities"
    )
    deleted, _ = MigrationRecorder.Migration.objects.filter(app="cities", name=leaf).delete()
    assert deleted == 1
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["migrations"]
    assert body["checks"]["migrations"] == "pending"
    assert body["checks"]["database"] == "ok"


def test_readyz_is_503_naming_a_broker_that_refuses_connections(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "cache": "ok", "broker": "error", "migrations": "ok"},
        "failed": ["broker"],
    }


def test_readyz_does_not_leak_the_failure_detail(client, settings):
    """The probe is public: the broker's address stays in the log, not in the body."""
    port = closed_port()
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    response = client.get("/readyz")
    assert str(port) not in response.content.decode()


def test_readyz_is_503_when_the_database_is_unreachable(client, settings):
    settings.REDIS_URL = ""
    with mock.patch(
        "django.db.backends.base.base.BaseDatabaseWrapper.cursor",
        side_effect=OperationalError("could not connect to server"),
    ):
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == "error"
    assert "database" in body["failed"]
    assert body["checks"]["cache"] == "ok"


def test_readyz_is_503_when_the_cache_fails(client, settings):
    settings.REDIS_URL = ""
    with mock.patch("config.views.cache.set", side_effect=ConnectionError("cache is down")):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["cache"]


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set")
def test_readyz_reaches_a_real_redis_broker(client, settings):
    settings.REDIS_URL = os.environ["REDIS_URL"]
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == "ok"


def test_readyz_refuses_post(client):
    assert client.post("/readyz").status_code == 405
