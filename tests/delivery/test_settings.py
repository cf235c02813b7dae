"""The worker, broker and beat settings the delivery guarantees rest on."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.conf import settings

import council.tasks
import initiatives.tasks
from config.celery import app
from config.settings import base
from initiatives import delivery
from tests.config.test_settings import probe
from tests.delivery.broker import publishing_to


def visibility_timeout() -> int:
    return int(settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"])


def test_no_retry_countdown_is_longer_than_the_visibility_timeout(monkeypatch):
    """Even the largest jittered wait, after any number of attempts, stays below it."""
    monkeypatch.setattr(delivery._random, "uniform", lambda low, high: high)
    countdowns = [
        delivery.retry_countdown(n) for n in range(1, settings.ATLAS_DELIVERY_MAX_ATTEMPTS + 20)
    ]
    assert max(countdowns) <= settings.ATLAS_DELIVERY_RETRY_MAX_SECONDS
    assert visibility_timeout() > settings.ATLAS_DELIVERY_RETRY_MAX_SECONDS


def test_retry_waits_grow_exponentially_with_full_jitter(monkeypatch):
    """The ceiling doubles with each attempt from the base; the draw starts at zero."""
    draws: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        draws.append((low, high))
        return high

    monkeypatch.setattr(delivery._random, "uniform", uniform)
    base_seconds = settings.ATLAS_DELIVERY_RETRY_BASE_SECONDS
    for attempts in (1, 2, 3):
        delivery.retry_countdown(attempts)
    assert draws == [(0, base_seconds), (0, 2 * base_seconds), (0, 4 * base_seconds)]


def test_no_task_runs_longer_than_the_visibility_timeout():
    """
    The hard time limit ends any task before Redis would hand its message out again, and
    a whole chunk of SMTP timeouts fits within that limit.
    """
    assert visibility_timeout() > settings.CELERY_TASK_TIME_LIMIT
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT
    worst_chunk = settings.ATLAS_DIGEST_CHUNK_SIZE * base._smtp_options["timeout"]
    assert worst_chunk < settings.CELERY_TASK_TIME_LIMIT


def test_worker_acknowledges_late_and_hands_back_lost_tasks():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert settings.ATLAS_DELIVERY_MAX_ATTEMPTS >= 2


def test_publishing_gives_up_at_once_when_redis_is_down():
    """Short socket timeouts and no publish retries: a web request never waits on Redis."""
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    assert options["socket_connect_timeout"] <= 1
    assert options["max_retries"] == 0
    assert settings.CELERY_TASK_PUBLISH_RETRY is False
    assert settings.CELERY_BROKER_CONNECTION_TIMEOUT <= 1


def test_dispatch_returns_false_at_once_when_the_broker_is_unreachable(db):
    """A broker on a closed port: the outbox hand-over reports failure instead of raising."""
    from initiatives.outbox import dispatch_outgoing

    with publishing_to("redis://127.0.0.1:1/0"):
        started = datetime.datetime.now(tz=datetime.UTC)
        assert dispatch_outgoing(1) is False
        assert dispatch_outgoing(2) is False
        elapsed = datetime.datetime.now(tz=datetime.UTC) - started
    assert elapsed < datetime.timedelta(seconds=3)


@pytest.mark.parametrize(
    ("name", "task", "hour", "minute", "weekdays"),
    [
        ("send-daily-digests", "initiatives.tasks.send_digests", {6}, {0}, set(range(7))),
        ("send-weekly-digests", "initiatives.tasks.send_digests", {6}, {0}, {1}),
        ("send-reminders", "council.tasks.send_reminders", {7}, {0}, set(range(7))),
        ("sweep-outbox", "initiatives.tasks.sweep_outbox", set(range(24)), set(range(60)), None),
    ],
)
def test_beat_schedule_lives_in_settings(name, task, hour, minute, weekdays):
    assert council.tasks
    assert initiatives.tasks  # both registered with the app
    entry = settings.CELERY_BEAT_SCHEDULE[name]
    assert entry["task"] == task
    assert task in app.tasks
    schedule: Any = entry["schedule"]
    assert schedule.hour == hour
    assert schedule.minute == minute
    if weekdays is not None:
        assert schedule.day_of_week == weekdays


def test_test_settings_keep_mail_in_memory_and_tasks_eager_by_default():
    found = probe("config.settings.test")
    assert found["eager"] is True
    assert found["mailer"]["BACKEND"] == "django.core.mail.backends.locmem.EmailBackend"


def test_test_settings_let_a_worker_use_real_services():
    """What the integration tests give their worker process: Redis, no eager tasks, SMTP."""
    found = probe(
        "config.settings.test",
        REDIS_URL="redis://127.0.0.1:6390/0",
        CELERY_TASK_ALWAYS_EAGER="false",
        EMAIL_URL="smtp://127.0.0.1:2525",
    )
    assert found["eager"] is False
    assert found["broker"] == "redis://127.0.0.1:6390/0"
    assert found["mailer"]["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert found["mailer"]["OPTIONS"]["port"] == 2525
