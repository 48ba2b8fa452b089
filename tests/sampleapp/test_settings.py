"""Settings come from the environment; the app refuses to start without a SECRET_KEY.

Child processes check what a server started from a shell would see; ``load_settings`` loads
a fresh copy of config/settings.py in-process to check each variable's parsing quickly.
"""

import importlib.util
import secrets
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.sampleapp.helpers import SAMPLEAPP_DIR, run_in_sampleapp

STRONG_KEY = secrets.token_urlsafe(50)
SECRET_KEY_MESSAGE = "SECRET_KEY environment variable is required"


def load_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> ModuleType:
    """Execute config/settings.py as a new module under exactly the given app variables."""
    for name in (
        "DEBUG",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
        "JWT_ACCESS_LIFETIME_S",
        "JWT_REFRESH_LIFETIME_S",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location(
        "settings_under_test", SAMPLEAPP_DIR / "config" / "settings.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("secret_key", [None, "", "   "])
def test_missing_secret_key_stops_the_app(secret_key: str | None) -> None:
    env = {} if secret_key is None else {"SECRET_KEY": secret_key}

    result = run_in_sampleapp(["manage.py", "check"], env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert SECRET_KEY_MESSAGE in result.stderr
    assert "secrets.token_urlsafe(50)" in result.stderr


def test_missing_secret_key_raises_improperly_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "")
    spec = importlib.util.spec_from_file_location(
        "settings_without_key", SAMPLEAPP_DIR / "config" / "settings.py"
    )
    assert spec is not None and spec.loader is not None

    with pytest.raises(ImproperlyConfigured, match=SECRET_KEY_MESSAGE):
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


def test_check_deploy_is_clean(tmp_path: Path) -> None:
    env = {"SECRET_KEY": STRONG_KEY, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}

    result = run_in_sampleapp(["manage.py", "check", "--deploy"], env)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_wsgi_and_asgi_applications_import(tmp_path: Path) -> None:
    code = (
        "from config.wsgi import application as w; from config.asgi import application as a; "
        "print(callable(w), callable(a))"
    )
    env = {"SECRET_KEY": STRONG_KEY, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}

    result = run_in_sampleapp(["-c", code], env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True True"


def test_defaults_are_production_like(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(monkeypatch)

    assert settings.SECRET_KEY == STRONG_KEY
    assert settings.DEBUG is False
    assert settings.ALLOWED_HOSTS == ["127.0.0.1", "localhost"]
    assert settings.REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] == [
        "rest_framework.renderers.JSONRenderer"
    ]
    assert settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] == [
        "rest_framework_simplejwt.authentication.JWTAuthentication"
    ]
    assert "rest_framework_simplejwt.token_blacklist" in settings.INSTALLED_APPS


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *[("1", True), ("true", True), ("YES", True), ("On", True)],
        *[("0", False), ("false", False), ("", False), ("debug", False)],
    ],
)
def test_debug_flag(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    assert load_settings(monkeypatch, DEBUG=value).DEBUG is expected


def test_allowed_hosts_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(monkeypatch, ALLOWED_HOSTS=" a.example, b.example ,,")

    assert settings.ALLOWED_HOSTS == ["a.example", "b.example"]


def test_default_database_is_sqlite_tuned_for_several_writers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    database = load_settings(monkeypatch).DATABASES["default"]

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert Path(database["NAME"]) == SAMPLEAPP_DIR / "db.sqlite3"
    assert database["OPTIONS"] == {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }


def test_postgres_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgres://bench:pw@127.0.0.1:5432/benchdb"

    database = load_settings(monkeypatch, DATABASE_URL=url).DATABASES["default"]

    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["NAME"], database["USER"], database["HOST"]) == (
        "benchdb",
        "bench",
        "127.0.0.1",
    )
    assert database["CONN_MAX_AGE"] == 0
    assert "init_command" not in database.get("OPTIONS", {})


def test_jwt_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    jwt = load_settings(
        monkeypatch, JWT_ACCESS_LIFETIME_S="900", JWT_REFRESH_LIFETIME_S="3600"
    ).SIMPLE_JWT

    assert jwt["ACCESS_TOKEN_LIFETIME"] == timedelta(seconds=900)
    assert jwt["REFRESH_TOKEN_LIFETIME"] == timedelta(seconds=3600)
    assert jwt["ROTATE_REFRESH_TOKENS"] is True
    assert jwt["BLACKLIST_AFTER_ROTATION"] is True
    assert jwt["UPDATE_LAST_LOGIN"] is False
    assert jwt["ALGORITHM"] == "HS256"
    assert "SIGNING_KEY" not in jwt


def test_jwt_lifetimes_default_to_5_minutes_and_1_day(monkeypatch: pytest.MonkeyPatch) -> None:
    jwt = load_settings(monkeypatch).SIMPLE_JWT

    assert jwt["ACCESS_TOKEN_LIFETIME"] == timedelta(minutes=5)
    assert jwt["REFRESH_TOKEN_LIFETIME"] == timedelta(days=1)


@pytest.mark.parametrize("value", ["abc", "0", "-5", "1.5"])
def test_bad_jwt_lifetime_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="JWT_ACCESS_LIFETIME_S must be a positive"):
        load_settings(monkeypatch, JWT_ACCESS_LIFETIME_S=value)
