"""The Atlas's Celery application. Its settings live in Django settings under CELERY_*.

A task enqueued during a web request logs with that request's id: the id travels in a message
header and the worker puts it back in the request-id ContextVar while the task runs.
"""

import os
from contextvars import Token
from typing import Any

from celery import Celery, Task
from celery.signals import before_task_publish, task_postrun, task_prerun

from config.request_id import clean_request_id, get_request_id, request_id_var

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("atlas")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The message header that carries the id. With protocol 2 a worker exposes custom headers as
# attributes of task.request; tasks run eagerly see the headers given to apply_async instead.
REQUEST_ID_HEADER = "atlas_request_id"

# Tokens to restore the ContextVar after each task, by task id. A worker process runs one task
# at a time per thread, but a task run eagerly can enqueue (and so run) another inside it.
_tokens: dict[str, Token[str | None]] = {}


@before_task_publish.connect
def attach_request_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    request_id = get_request_id()
    if request_id and headers is not None:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


def _request_id_of(task: Task) -> str | None:
    request = task.request
    value = getattr(request, REQUEST_ID_HEADER, None)
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(REQUEST_ID_HEADER)
    # Headers come from the broker: the same rule as for a client's X-Request-ID.
    return clean_request_id(value)


@task_prerun.connect
def enter_request_id(task_id: str | None = None, task: Task | None = None, **_: Any) -> None:
    if task_id is None or task is None:
        return
    request_id = _request_id_of(task)
    # Without a header (beat, or an eager task) the current id, if any, stays in place.
    if request_id is not None:
        _tokens[task_id] = request_id_var.set(request_id)


@task_postrun.connect
def leave_request_id(task_id: str | None = None, **_: Any) -> None:
    token = _tokens.pop(task_id, None) if task_id is not None else None
    if token is not None:
        request_id_var.reset(token)
