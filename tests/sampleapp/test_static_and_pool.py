"""The static asset WhiteNoise serves, and the PostgreSQL pool sized from the environment."""

import json

import pytest
from django.test import Client

from loadtests.scenarios import STATIC, Call, UserContext
from tests.sampleapp.helpers import SAMPLEAPP_DIR
from tests.sampleapp.test_settings import load_settings

ASSET = SAMPLEAPP_DIR / "api" / "static" / "bench" / "asset.json"


def test_whitenoise_serves_the_asset_without_collectstatic() -> None:
    response = Client().get("/static/bench/asset.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert body == ASSET.read_bytes()


def test_the_static_scenario_check_accepts_the_asset_in_the_repository() -> None:
    context = UserContext(username="u", password="p")
    call = STATIC.build(context)
    assert call == Call("GET", "/static/bench/asset.json")
    assert STATIC.verdict(200, json.loads(ASSET.read_text()), call, context) is None


def test_a_postgres_url_with_a_pool_size_gets_django_s_native_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = load_settings(
        monkeypatch,
        DATABASE_URL="postgres://bench@/run_1?host=/tmp/sock",
        DB_POOL_MAX_SIZE="3",
    )
    database = settings.DATABASES["default"]
    assert database["OPTIONS"]["pool"] == {"min_size": 3, "max_size": 3, "timeout": 10}
    assert database["OPTIONS"]["host"] == "/tmp/sock"
    assert database["CONN_MAX_AGE"] == 0, "Django's pool refuses persistent connections"


def test_no_pool_without_a_size_and_never_for_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DB_POOL_MAX_SIZE", raising=False)
    plain = load_settings(monkeypatch, DATABASE_URL="postgres://bench@/run_1?host=/tmp/sock")
    assert "pool" not in plain.DATABASES["default"]["OPTIONS"]
    sqlite = load_settings(monkeypatch, DATABASE_URL="sqlite:///x.sqlite3", DB_POOL_MAX_SIZE="3")
    assert "pool" not in sqlite.DATABASES["default"]["OPTIONS"]


def test_static_root_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATIC_ROOT", raising=False)
    assert load_settings(monkeypatch).STATIC_ROOT is None
    assert load_settings(monkeypatch, STATIC_ROOT="/srv/static").STATIC_ROOT == "/srv/static"
