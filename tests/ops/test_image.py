"""
The Dockerfile's promises that hold without building it: uv from the lock at the Makefile's
version, a non-root runtime, gunicorn with gthread workers, a HEALTHCHECK whose probe works
(run here against a live server), and nothing secret or bulky sent to the build.
"""

import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
DOCKERFILE = REPO_ROOT / "Dockerfile"


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str
    heredoc: str = ""


def instructions() -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined and heredocs attached."""
    found: list[Instruction] = []
    lines = iter(DOCKERFILE.read_text(encoding="utf-8").splitlines())
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        while line.endswith("\\"):
            line = line[:-1] + " " + next(lines).strip()
        keyword, _, arguments = line.strip().partition(" ")
        heredoc = ""
        if marker := re.search(r"<<-?'?(\w+)'?", arguments):
            body = []
            for body_line in lines:
                if body_line == marker.group(1):
                    break
                body.append(body_line)
            heredoc = "\n".join(body) + "\n"
        found.append(Instruction(keyword.upper(), " ".join(arguments.split()), heredoc))
    return found


def stages() -> dict[str, list[Instruction]]:
    result: dict[str, list[Instruction]] = {}
    current: list[Instruction] = []
    for instruction in instructions():
        if instruction.keyword == "FROM":
            current = []
            result[instruction.arguments.split()[-1]] = current
        current.append(instruction)
    return result


def probe_source() -> str:
    (copy,) = [i for i in instructions() if i.heredoc and "atlas-probe" in i.arguments]
    return copy.heredoc


def test_uv_is_the_makefiles_version_and_installs_from_the_lock_without_dev_tools():
    makefile_version = re.search(
        r"^UV_VERSION := (\S+)$", (REPO_ROOT / "Makefile").read_text(), re.M
    )
    assert makefile_version
    builder = stages()["builder"]
    assert f"UV_VERSION={makefile_version.group(1)}" in [
        i.arguments for i in builder if i.keyword == "ARG"
    ]
    syncs = [i.arguments for i in builder if i.keyword == "RUN" and "uv sync" in i.arguments]
    assert syncs
    assert all("uv sync --frozen --no-dev" in sync for sync in syncs)


def test_static_files_and_translations_are_built_into_the_image():
    runs = " ".join(i.arguments for i in stages()["builder"] if i.keyword == "RUN")
    assert "manage.py collectstatic --no-input" in runs
    assert "manage.py compilemessages" in runs


def test_the_runtime_stage_is_last_and_runs_as_an_unprivileged_user():
    all_stages = stages()
    assert list(all_stages)[-1] == "runtime"
    runtime = all_stages["runtime"]
    users = [i.arguments for i in runtime if i.keyword == "USER"]
    assert users, "the runtime stage never leaves root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    # Only what the builder produced is copied in: no compilers, no uv, no dev group.
    copies = [i.arguments for i in runtime if i.keyword == "COPY" and not i.heredoc]
    assert copies == ["--from=builder /app /app"]


def test_the_default_command_is_gunicorn_with_gthread_workers():
    (cmd,) = [i.arguments for i in stages()["runtime"] if i.keyword == "CMD"]
    assert cmd.startswith('["gunicorn", "config.wsgi:application"')
    assert '"--worker-class=gthread"' in cmd


def test_the_healthcheck_probes_healthz():
    (check,) = [i.arguments for i in stages()["runtime"] if i.keyword == "HEALTHCHECK"]
    assert check.endswith('CMD ["atlas-probe", "/healthz"]')


def test_the_programs_the_stack_runs_are_runtime_dependencies():
    """`uv sync --no-dev` must install gunicorn and celery, or the containers cannot start."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    names = {
        re.split(r"[\s<>=!~\[;]", spec, maxsplit=1)[0].lower() for spec in project["dependencies"]
    }
    missing = {"gunicorn", "celery", "psycopg2-binary"} - names
    assert not missing, f"add to [project].dependencies with `uv add`: {sorted(missing)}"


def test_the_build_context_leaves_out_secrets_and_local_state():
    ignored = set((REPO_ROOT / ".dockerignore").read_text().split())
    assert {".env", ".git", ".venv", "node_modules", "db.sqlite3", "staticfiles"} <= ignored
    assert "!.env.example" in ignored


@pytest.fixture
def probe(tmp_path: Path) -> Path:
    script = tmp_path / "atlas-probe"
    script.write_text(probe_source(), encoding="utf-8")
    return script


def run_probe(probe: Path, path: str, *, port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - this interpreter and the probe, no shell.
        [sys.executable, str(probe), path],
        env={"PORT": str(port), "ALLOWED_HOSTS": ".localhost,localhost"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.django_db(transaction=True)
def test_the_probe_passes_on_a_healthy_server(live_server, probe, settings):
    settings.REDIS_URL = ""
    port = int(live_server.url.rsplit(":", 1)[1])
    assert run_probe(probe, "/healthz", port=port).returncode == 0
    assert run_probe(probe, "/readyz", port=port).returncode == 0


@pytest.mark.django_db(transaction=True)
def test_the_probe_fails_on_a_503_and_on_a_missing_page(live_server, probe, settings):
    port = int(live_server.url.rsplit(":", 1)[1])
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # readiness now fails on its broker
    not_ready = run_probe(probe, "/readyz", port=port)
    assert not_ready.returncode == 1
    assert "503" in not_ready.stderr
    assert run_probe(probe, "/no-such-page", port=port).returncode == 1


def test_the_probe_fails_when_nothing_listens(probe):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run_probe(probe, "/healthz", port=port)
    assert result.returncode == 1
    assert "refused" in result.stderr.lower()
