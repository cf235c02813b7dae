"""The request id: taken from the client when it looks like one, returned, logged, and carried
into the Celery tasks the request enqueues."""

import contextvars
import logging
import re
from types import SimpleNamespace
from typing import Any

import pytest
from celery import shared_task
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory, modify_settings

from config.celery import (
    REQUEST_ID_HEADER,
    attach_request_id,
    enter_request_id,
    leave_request_id,
)
from config.request_id import (
    RequestIdFilter,
    RequestIdMiddleware,
    get_request_id,
    request_id_var,
)

GENERATED = re.compile(r"[0-9a-f]{32}")
first_in_middleware = modify_settings(
    MIDDLEWARE={"prepend": "config.request_id.RequestIdMiddleware"}
)
view_log = logging.getLogger("tests.request_id.view")
task_log = logging.getLogger("tests.request_id.task")


@shared_task
def log_from_task() -> str | None:
    task_log.info("task ran")
    return get_request_id()


def _run(header: str | None = None) -> tuple[HttpResponse, list[str | None]]:
    seen: list[str | None] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(get_request_id())
        return HttpResponse("ok")

    request = RequestFactory().get("/", headers={"X-Request-ID": header} if header else {})
    return RequestIdMiddleware(view)(request), seen


def test_a_request_without_an_id_gets_a_fresh_one_in_the_response():
    first, seen = _run()
    second, _ = _run()
    assert GENERATED.fullmatch(first["X-Request-ID"])
    assert seen == [first["X-Request-ID"]]
    assert first["X-Request-ID"] != second["X-Request-ID"]
    # Nothing leaks to whatever this thread runs next.
    assert get_request_id() is None


def test_an_acceptable_client_id_is_kept():
    response, seen = _run("edge-proxy.2f1c_9A")
    assert response["X-Request-ID"] == "edge-proxy.2f1c_9A"
    assert seen == ["edge-proxy.2f1c_9A"]


@pytest.mark.parametrize(
    "header",
    [
        "short",  # under 8 characters
        "x" * 65,  # over 64
        "abcdefgh\nINFO forged log line",
        "<script>alert(1)</script>",
        "abc defgh ijk",
        "ab%0d%0aSet-Cookie",
    ],
)
def test_an_unacceptable_client_id_is_replaced(header):
    response, seen = _run(header)
    assert GENERATED.fullmatch(response["X-Request-ID"])
    assert seen == [response["X-Request-ID"]]


@pytest.mark.django_db
@first_in_middleware
def test_every_response_of_the_site_carries_the_id(client, settings):
    assert settings.MIDDLEWARE[0] == "config.request_id.RequestIdMiddleware"
    response = client.get("/healthz", headers={"X-Request-ID": "lb-0123456789"})
    assert response["X-Request-ID"] == "lb-0123456789"
    missing = client.get("/no-such-page-anywhere/")
    assert missing.status_code == 404
    assert GENERATED.fullmatch(missing["X-Request-ID"])


def test_a_task_enqueued_by_a_view_logs_with_the_views_request_id(caplog):
    """Tasks run eagerly here: the id reaches them through the ContextVar and the prerun
    handler leaves it in place, since an eager task carries no message header."""
    caplog.handler.addFilter(RequestIdFilter())
    caplog.set_level(logging.INFO)

    def view(request: HttpRequest) -> HttpResponse:
        view_log.info("view ran")
        log_from_task.delay()
        return HttpResponse("ok")

    request = RequestFactory().get("/", headers={"X-Request-ID": "req-from-client-42"})
    RequestIdMiddleware(view)(request)
    logged = {r.getMessage(): r.request_id for r in caplog.records if r.name.startswith("tests.")}
    assert logged == {"view ran": "req-from-client-42", "task ran": "req-from-client-42"}

    caplog.clear()
    log_from_task.delay()
    (outside,) = [r for r in caplog.records if r.name == task_log.name]
    assert outside.request_id == "-"


def test_the_publish_handler_puts_the_current_id_in_the_message_headers():
    headers: dict[str, str] = {}
    attach_request_id(headers=headers)
    assert headers == {}  # no request, no header

    token = request_id_var.set("abcdef123456")
    try:
        attach_request_id(headers=headers, body=(), exchange="", routing_key="celery")
    finally:
        request_id_var.reset(token)
    assert headers == {REQUEST_ID_HEADER: "abcdef123456"}


def _as_in_a_worker(task_request: SimpleNamespace) -> tuple[str | None, str | None, str | None]:
    """Runs prerun, the task body and postrun as a worker does, in a fresh context."""

    def run() -> tuple[str | None, str | None, str | None]:
        task: Any = SimpleNamespace(request=task_request)
        before = get_request_id()
        enter_request_id(task_id="t-1", task=task, args=(), kwargs={})
        during = get_request_id()
        leave_request_id(task_id="t-1", task=task, args=(), kwargs={}, retval=None, state="OK")
        return before, during, get_request_id()

    return contextvars.Context().run(run)


def test_a_worker_takes_the_id_from_the_message_headers_and_restores_it_after():
    # Protocol 2: the worker exposes message headers as attributes of task.request.
    assert _as_in_a_worker(SimpleNamespace(**{REQUEST_ID_HEADER: "abcdef123456"})) == (
        None,
        "abcdef123456",
        None,
    )
    # Eager tasks and apply_async(headers=...) give them under request.headers.
    assert _as_in_a_worker(SimpleNamespace(headers={REQUEST_ID_HEADER: "abcdef123456"})) == (
        None,
        "abcdef123456",
        None,
    )


def test_a_worker_ignores_a_missing_or_malformed_header():
    assert _as_in_a_worker(SimpleNamespace(headers=None)) == (None, None, None)
    forged = SimpleNamespace(**{REQUEST_ID_HEADER: "abcdefgh\nforged"})
    assert _as_in_a_worker(forged) == (None, None, None)


def test_the_id_travels_through_a_real_publish(monkeypatch):
    """before_task_publish fires when a message is really sent (not for eager tasks): send one
    to an in-memory broker and read the header the worker would receive."""
    from config.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", False)
    with app.connection_for_write("memory://") as connection:
        token = request_id_var.set("published-id-1")
        try:
            # celery-types leaves out apply_async's publishing options.
            options: dict[str, Any] = {"connection": connection, "queue": "request-id-test"}
            log_from_task.apply_async(**options)
        finally:
            request_id_var.reset(token)
        with connection.SimpleQueue("request-id-test") as queue:
            message = queue.get(timeout=5)
            message.ack()
    assert message.headers[REQUEST_ID_HEADER] == "published-id-1"
