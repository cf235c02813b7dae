"""
docker-compose.yml, checked without a Docker engine: valid under the Compose Specification
schema (vendored, see README.md), every service it names exists, every long-running service
has a healthcheck, and every variable it substitutes is documented in .env.example.
"""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
SCHEMA_FILE = Path(__file__).with_name("compose-spec.json")
# test.py is the suite's own and reads what only the suite sets.
DEPLOYED_SETTINGS = ("base.py", "production.py", "local.py")

# ${NAME}, ${NAME:-default}, ${NAME:?error} and bare $NAME; "$$" is an escaped dollar that
# reaches the container's shell untouched.
SUBSTITUTION = re.compile(r"(?<!\$)\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))")
DOCUMENTED = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)
SETTINGS_READ = re.compile(r"\benv(?:\.[a-z_]+)?\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']")


def load_compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def schema_errors(document: Any) -> list[str]:
    # The schema declares draft-07 (without the trailing "#" jsonschema would look for).
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def one_shot_services(compose: dict[str, Any]) -> set[str]:
    """Services another waits on to finish (service_completed_successfully)."""
    return {
        name
        for service in compose["services"].values()
        if isinstance(service.get("depends_on"), dict)
        for name, condition in service["depends_on"].items()
        if condition.get("condition") == "service_completed_successfully"
    }


def service_references(service: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(how, service name) for every other service this one names."""
    depends_on = service.get("depends_on") or []
    for name in depends_on:  # a list of names or a mapping keyed by them
        yield "depends_on", name
    for link in service.get("links") or []:
        yield "links", link.split(":")[0]
    for source in service.get("volumes_from") or []:
        if not source.startswith("container:"):
            yield "volumes_from", source.split(":")[0]
    for field in ("network_mode", "pid", "ipc"):
        value = str(service.get(field) or "")
        if value.startswith("service:"):
            yield field, value.removeprefix("service:")
    if isinstance(service.get("extends"), dict) and "file" not in service["extends"]:
        yield "extends", service["extends"]["service"]


def reference_errors(compose: dict[str, Any]) -> list[str]:
    services = compose["services"]
    volumes = set(compose.get("volumes") or {})
    errors = [
        f"{name}: {how} names {target!r}, which is not a service"
        for name, service in services.items()
        for how, target in service_references(service)
        if target not in services
    ]
    for name, service in services.items():
        for mount in service.get("volumes") or []:
            source = mount.get("source") if isinstance(mount, dict) else mount.split(":")[0]
            is_named = source and not source.startswith((".", "/", "~", "$"))
            if is_named and source not in volumes:
                errors.append(f"{name}: volume {source!r} is not declared under volumes")
    return errors


def healthcheck_errors(compose: dict[str, Any]) -> list[str]:
    one_shots = one_shot_services(compose)
    errors = []
    for name, service in compose["services"].items():
        if name in one_shots:
            if str(service.get("restart", "no")) != "no":
                errors.append(f"{name}: a one-shot service must not restart")
            continue
        check = service.get("healthcheck") or {}
        if check.get("disable") or not check.get("test") or check["test"][0] == "NONE":
            errors.append(f"{name}: a long-running service without a healthcheck")
    return errors


def substituted_variables(text: str) -> set[str]:
    return {braced or bare for braced, bare in SUBSTITUTION.findall(text)}


def strings_in(node: Any) -> Iterator[str]:
    """Every string value of a loaded YAML document: what Compose interpolates (not comments)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings_in(value)


def documented_variables() -> set[str]:
    return set(DOCUMENTED.findall(ENV_EXAMPLE.read_text(encoding="utf-8")))


# ------------------------------------------------------------------------------ the file


def test_the_compose_file_is_valid_under_the_compose_specification():
    assert schema_errors(load_compose()) == []


def test_the_stack_has_every_service_the_deployment_needs():
    services = load_compose()["services"]
    assert {"web", "worker", "beat", "postgres", "redis", "migrate", "mailpit"} <= set(services)


def test_every_service_named_in_the_file_exists():
    assert reference_errors(load_compose()) == []


def test_every_long_running_service_has_a_healthcheck():
    compose = load_compose()
    assert one_shot_services(compose) == {"migrate"}
    assert healthcheck_errors(compose) == []


def test_the_application_waits_for_its_services_and_the_migrations():
    services = load_compose()["services"]
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }, name
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--no-input"]


def test_healthchecks_ask_each_service_its_own_question():
    services = load_compose()["services"]

    def command(name: str) -> str:
        return " ".join(services[name]["healthcheck"]["test"][1:])

    assert command("web") == "atlas-probe /readyz"
    assert "pg_isready" in command("postgres")
    assert command("redis") == "redis-cli ping"
    assert "inspect ping" in command("worker")
    assert "celery@$$HOSTNAME" in command("worker")
    assert "celerybeat@$$HOSTNAME" in command("beat")
    assert "--enable-remote-control" in services["beat"]["command"]


def test_web_and_worker_send_mail_to_mailpit_by_default():
    services = load_compose()["services"]
    for name in ("web", "worker"):
        assert services[name]["environment"]["EMAIL_URL"] == "${EMAIL_URL:-smtp://mailpit:1025}"
        assert services[name]["environment"]["REDIS_URL"] == "redis://redis:6379/0"
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://")


def test_every_substituted_variable_is_documented_in_env_example():
    used = set().union(*(substituted_variables(text) for text in strings_in(load_compose())))
    assert {"SECRET_KEY", "POSTGRES_PASSWORD", "ALLOWED_HOSTS"} <= used
    assert sorted(used - documented_variables()) == []


def test_every_variable_the_settings_read_is_documented_in_env_example():
    read: set[str] = set()
    for name in DEPLOYED_SETTINGS:
        read |= set(SETTINGS_READ.findall((REPO_ROOT / "config" / "settings" / name).read_text()))
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "EMAIL_URL"} <= read
    assert sorted(read - documented_variables()) == []


# ------------------------------------------------------------------------------ the checks


BROKEN = """
services:
  web:
    image: atlas
    depends_on:
      db: {condition: service_healthy}
      migrate: {condition: service_completed_successfully}
    volumes: ["media:/app/media"]
    healthcheck: {test: ["CMD", "true"]}
  migrate:
    image: atlas
    restart: always
  worker:
    image: atlas
    network_mode: "service:vpn"
  cache:
    image: redis
    healthcheck: {disable: true}
    restrat: always
"""


def test_the_checks_catch_a_broken_file():
    """Each check finds its fault, so a passing run above means something."""
    compose = yaml.safe_load(BROKEN)
    assert schema_errors(compose) == [
        "services/cache: 'restrat' does not match any of the regexes: '^x-'"
    ]
    assert sorted(reference_errors(compose)) == [
        "web: depends_on names 'db', which is not a service",
        "web: volume 'media' is not declared under volumes",
        "worker: network_mode names 'vpn', which is not a service",
    ]
    assert sorted(healthcheck_errors(compose)) == [
        "cache: a long-running service without a healthcheck",
        "migrate: a one-shot service must not restart",
        "worker: a long-running service without a healthcheck",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${A} ${B:-x} ${C:?set C} $D", {"A", "B", "C", "D"}),
        ("celery@$$HOSTNAME $${ESCAPED}", set()),
        ("postgres://${U:-atlas}:${P:?p}@db/${N:-atlas}", {"U", "P", "N"}),
    ],
)
def test_substitutions_are_found_and_escapes_ignored(text, expected):
    assert substituted_variables(text) == expected
