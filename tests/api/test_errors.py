"""Every API error answers in one shape: application/problem+json (RFC 9457)."""

import json
import logging

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from council.services import api_key_create

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.api.keys_urls")]

PROBLEM = "application/problem+json"
ECHO = "/api/test/echo/"
MIDDLEWARE = "config.middleware.ApiProblemMiddleware"
STANDARD_MEMBERS = {"type", "title", "status", "detail", "instance"}


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """LocaleMiddleware leaves a request's language active; later tests expect the default."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _api_problem_middleware(settings):
    """The middleware as MIDDLEWARE should hold it: just after CommonMiddleware."""
    if MIDDLEWARE not in settings.MIDDLEWARE:
        middleware = list(settings.MIDDLEWARE)
        middleware.insert(
            middleware.index("django.middleware.common.CommonMiddleware") + 1, MIDDLEWARE
        )
        settings.MIDDLEWARE = middleware


def problem_of(response, status: int) -> dict:
    """The response's problem document, after checking the status, media type and members."""
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    body = json.loads(response.content)
    assert body.keys() >= STANDARD_MEMBERS
    assert body["status"] == status
    assert body["type"].startswith("/api/v1/problems/")
    return body


def post_json(client: Client, data: object, **extra):
    return client.post(ECHO, data=data, content_type="application/json", **extra)


# ------------------------------------------------------------------ 400


def test_validation_errors_list_messages_per_field(client):
    """A 400 names each invalid field with its messages."""
    body = problem_of(post_json(client, {"name": "x" * 21, "count": -1}), 400)

    assert body["type"] == "/api/v1/problems/validation-error"
    assert body["title"] == "Invalid input"
    assert body["instance"] == ECHO
    assert body["errors"] == {
        "name": ["Ensure this field has no more than 20 characters."],
        "count": ["Ensure this value is greater than or equal to 0."],
    }


def test_validation_errors_of_nested_objects_stay_nested(client):
    """A nested object's errors sit under its field."""
    body = problem_of(
        post_json(client, {"name": "a", "count": 1, "address": {"postcode": "abc"}}), 400
    )

    assert body["errors"] == {
        "address": {
            "city": ["This field is required."],
            "postcode": ["This value does not match the required pattern."],
        }
    }


def test_validation_messages_follow_accept_language(client):
    """Accept-Language: fr gives French messages."""
    body = problem_of(post_json(client, {"count": 1}, HTTP_ACCEPT_LANGUAGE="fr"), 400)

    assert body["errors"] == {"name": ["Ce champ est obligatoire."]}


def test_wrong_types_are_a_400(client):
    """A string where a number belongs is a validation error, not a 500."""
    body = problem_of(post_json(client, {"name": "a", "count": "many"}), 400)

    assert body["errors"] == {"count": ["A valid integer is required."]}


def test_malformed_json_is_a_400(client):
    """A body that is not JSON is a malformed request."""
    response = client.post(ECHO, data=b'{"name": ', content_type="application/json")

    body = problem_of(response, 400)
    assert body["type"] == "/api/v1/problems/malformed-request"


def test_a_django_validation_error_is_a_400_with_field_errors(client):
    """A service's django ValidationError keeps its fields; __all__ becomes non_field_errors."""
    body = problem_of(client.get("/api/test/raise/django-validation-error/"), 400)

    assert body["errors"] == {"status": ["Unknown status."], "non_field_errors": ["Nothing fits."]}


def test_a_single_non_field_message_is_also_the_detail(client):
    """When one message says it all, detail repeats it."""
    body = problem_of(client.get("/api/test/raise/django-validation-message/"), 400)

    assert body["detail"] == "A plain message."
    assert body["errors"] == {"non_field_errors": ["A plain message."]}


# ------------------------------------------------------------------ 401, 403


def test_an_unauthenticated_write_is_a_401_problem(client):
    """A protected endpoint without credentials answers 401 with WWW-Authenticate."""
    response = client.post("/api/test/whoami/", data={}, content_type="application/json")

    body = problem_of(response, 401)
    assert body["type"] == "/api/v1/problems/not-authenticated"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_bad_key_is_a_401_problem(client):
    body = problem_of(client.get(ECHO, HTTP_AUTHORIZATION="Bearer nonsense"), 401)

    assert body["type"] == "/api/v1/problems/authentication-failed"


def test_a_read_only_key_writing_is_a_403_problem(client, outsider):
    _, key = api_key_create(user=outsider, read_only=True, actor=None)

    body = problem_of(post_json(client, {}, HTTP_AUTHORIZATION=f"Bearer {key}"), 403)

    assert body["title"] == "This key is read-only"


def test_a_django_permission_denied_is_a_403_problem_with_its_message(client):
    body = problem_of(client.get("/api/test/raise/django-permission-denied/"), 403)

    assert body["type"] == "/api/v1/problems/permission-denied"
    assert body["detail"] == "You may not edit this initiative."


# ------------------------------------------------------------------ 404, 405, 409


def test_http404_in_a_view_is_a_404_problem_that_names_no_model(client):
    """Django's message would name the model; the problem says only "Not found"."""
    body = problem_of(client.get("/api/test/raise/http404/"), 404)

    assert body["type"] == "/api/v1/problems/not-found"
    assert "Initiative" not in body["detail"]


def test_an_unknown_url_under_the_api_is_a_404_problem(client):
    """No view at all: the middleware still answers in problem+json."""
    body = problem_of(client.get("/api/test/nothing-here/"), 404)

    assert body["instance"] == "/api/test/nothing-here/"


def test_a_method_the_endpoint_lacks_is_a_405_problem(client):
    response = client.delete(ECHO)

    body = problem_of(response, 405)
    assert body["type"] == "/api/v1/problems/method-not-allowed"
    assert "GET" in response["Allow"]


def test_a_protected_error_is_a_409_problem(client):
    """Deleting what others still refer to is a conflict, not a 500."""
    body = problem_of(client.get("/api/test/raise/protected/"), 409)

    assert body["type"] == "/api/v1/problems/conflict"


# ------------------------------------------------------------------ 413, 415


def test_a_two_mebibyte_body_is_a_413_problem(client):
    """Bodies over DATA_UPLOAD_MAX_MEMORY_SIZE (1 MiB) are refused before parsing."""
    payload = json.dumps({"name": "a", "count": 1, "padding": "x" * (2 * 1024 * 1024)})

    body = problem_of(client.post(ECHO, data=payload, content_type="application/json"), 413)

    assert body["type"] == "/api/v1/problems/content-too-large"


def test_an_oversized_body_is_a_413_even_without_the_middleware(client, settings):
    """Inside an API view the parser's limit answers the same problem."""
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != MIDDLEWARE]
    payload = json.dumps({"padding": "x" * (2 * 1024 * 1024)})

    body = problem_of(client.post(ECHO, data=payload, content_type="application/json"), 413)

    assert body["type"] == "/api/v1/problems/content-too-large"


def test_request_data_too_big_raised_in_a_view_is_a_413_problem(client):
    """Django's own RequestDataTooBig (from request.body) maps to 413, not 400."""
    body = problem_of(client.get("/api/test/raise/too-big/"), 413)

    assert body["type"] == "/api/v1/problems/content-too-large"


def test_an_unsupported_media_type_is_a_415_problem(client):
    response = client.post(ECHO, data="name=a", content_type="text/plain")

    body = problem_of(response, 415)
    assert body["type"] == "/api/v1/problems/unsupported-media-type"


# ------------------------------------------------------------------ 429, 500


def test_throttling_is_a_429_problem_with_retry_after(client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "1/min", "key": "1/min", "user": "1/min"},
    }
    client.get(ECHO)

    response = client.get(ECHO)

    body = problem_of(response, 429)
    assert body["type"] == "/api/v1/problems/throttled"
    assert int(response["Retry-After"]) > 0


def test_an_unforeseen_error_is_logged_and_a_500_problem(client, caplog):
    """A bug still answers in the API's shape, and leaves its traceback in the log."""
    with caplog.at_level(logging.ERROR, logger="atlas.api"):
        response = client.get("/api/test/raise/bug/")

    body = problem_of(response, 500)
    assert body["type"] == "/api/v1/problems/server-error"
    assert "unforeseen bug" not in body["detail"]
    assert any(record.exc_info for record in caplog.records if record.name == "atlas.api")


# ------------------------------------------------------------------ negotiation


def test_errors_are_problem_json_whatever_format_was_asked_for(client):
    """A CSV request that fails gets a problem document, not a CSV rendering of one."""
    body = problem_of(client.get("/api/test/raise/http404/?format=csv"), 404)

    assert body["type"] == "/api/v1/problems/not-found"


def test_every_problem_detail_follows_accept_language(client):
    """Not only validation messages: DRF's other messages come in French too."""
    body = problem_of(client.get("/api/test/raise/http404/", HTTP_ACCEPT_LANGUAGE="fr"), 404)

    assert body["detail"] == "Non trouvé."
