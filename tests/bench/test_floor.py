"""The floor answers, from memory, exactly the bytes captured from the Atlas."""

import json
from pathlib import Path

import pytest
from django.test import Client

from bench import views

pytestmark = pytest.mark.urls("bench.urls")


@pytest.fixture
def captured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    bodies = {
        "list": b'{"next":null,"previous":null,"results":[{"id":1,"title":"Caf\xc3\xa9"}]}',
        "city": b"<!DOCTYPE html><html lang=en><title>Chicago</title></html>\n",
    }
    (tmp_path / "list.json").write_bytes(bodies["list"])
    (tmp_path / "city.html").write_bytes(bodies["city"])
    (tmp_path / views.FLOOR_MANIFEST).write_text(
        json.dumps(
            {
                "list": {"file": "list.json", "content_type": "application/json"},
                "city": {"file": "city.html", "content_type": "text/html; charset=utf-8"},
            }
        )
    )
    monkeypatch.setattr(views, "FLOOR", views.load_floor(tmp_path))
    return bodies


def test_the_floor_answers_the_captured_bytes(client: Client, captured: dict[str, bytes]) -> None:
    for case, body in captured.items():
        response = client.get(f"/bench/floor/{case}")
        assert response.status_code == 200
        assert response.content == body
    assert client.get("/bench/floor/list")["Content-Type"] == "application/json"
    assert client.get("/bench/floor/city")["Content-Type"] == "text/html; charset=utf-8"


def test_an_uncaptured_case_is_a_404_naming_the_captured_ones(
    client: Client, captured: dict[str, bytes]
) -> None:
    response = client.get("/bench/floor/search")
    assert response.status_code == 404
    assert json.loads(response.content)["cases"] == ["city", "list"]


def test_the_floor_only_answers_get(client: Client, captured: dict[str, bytes]) -> None:
    assert client.post("/bench/floor/list").status_code == 405


def test_nothing_captured_means_an_empty_floor(tmp_path: Path) -> None:
    assert views.load_floor(None) == {}
    assert views.load_floor(tmp_path) == {}
