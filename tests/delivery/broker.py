"""Point this process's Celery app at another broker for a while, tasks no longer eager."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kombu import pools

from config.celery import app


def _drop_pools() -> None:
    # kombu keeps pools per connection URL; drop them all, with the app's references to them.
    pools.reset()
    celery: Any = app
    celery._pool = None
    amqp = celery.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@contextmanager
def publishing_to(url: str) -> Iterator[None]:
    conf: Any = app.conf
    saved = (conf.broker_url, conf.task_always_eager)
    conf.broker_url = url
    conf.task_always_eager = False
    _drop_pools()
    try:
        yield
    finally:
        conf.broker_url, conf.task_always_eager = saved
        _drop_pools()
