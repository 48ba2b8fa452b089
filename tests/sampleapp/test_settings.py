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

from tests.sampleapp.helpers import APP_ENV_VARS, SAMPLEAPP_DIR, run_in_sampleapp

STRONG_KEY = secrets.token_urlsafe(50)
SECRET_KEY_MESSAGE = "SECRET_KEY environment variable is required"


def load_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> ModuleType:
    """Execute config/settings.py as a new module under exactly the given app variables."""
    for name in APP_ENV_VARS:
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
    assert jwt["SIGNING_KEY"] == STRONG_KEY


def test_jwt_lifetimes_default_to_5_minutes_and_1_day(monkeypatch: pytest.MonkeyPatch) -> None:
    jwt = load_settings(monkeypatch).SIMPLE_JWT

    assert jwt["ACCESS_TOKEN_LIFETIME"] == timedelta(minutes=5)
    assert jwt["REFRESH_TOKEN_LIFETIME"] == timedelta(days=1)


@pytest.mark.parametrize("value", ["abc", "0", "-5", "1.5"])
def test_bad_jwt_lifetime_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="JWT_ACCESS_LIFETIME_S must be a positive"):
        load_settings(monkeypatch, JWT_ACCESS_LIFETIME_S=value)


WEAK_KEYS = {
    "short": "a1b2c3d4e5f6g7h8i9j0" * 2,  # 40 characters
    "few distinct characters": "abab" * 20,
    "django's insecure prefix": "django-insecure-" + secrets.token_urlsafe(50),
}


@pytest.mark.parametrize("kind", sorted(WEAK_KEYS))
def test_weak_secret_key_is_refused_without_debug(
    monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is too weak"):
        load_settings(monkeypatch, SECRET_KEY=WEAK_KEYS[kind])


@pytest.mark.parametrize("kind", sorted(WEAK_KEYS))
def test_weak_jwt_signing_key_is_refused_without_debug(
    monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match="JWT_SIGNING_KEY is too weak"):
        load_settings(monkeypatch, JWT_SIGNING_KEY=WEAK_KEYS[kind])


def test_a_key_just_at_the_thresholds_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "abcde" * 10  # 50 characters, 5 distinct: Django's W009 accepts it too

    settings = load_settings(monkeypatch, SECRET_KEY=key)

    assert key == settings.SECRET_KEY


def test_debug_accepts_weak_keys_for_local_experiments(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(monkeypatch, DEBUG="1", SECRET_KEY="x", JWT_SIGNING_KEY="y")

    assert settings.SECRET_KEY == "x"
    assert settings.SIMPLE_JWT["SIGNING_KEY"] == "y"


def test_separate_jwt_signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    jwt_key = secrets.token_urlsafe(50)

    settings = load_settings(monkeypatch, JWT_SIGNING_KEY=jwt_key)

    assert settings.SECRET_KEY == STRONG_KEY
    assert settings.SIMPLE_JWT["SIGNING_KEY"] == jwt_key


def test_audience_and_issuer_are_set_by_default_and_configurable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    default = load_settings(monkeypatch).SIMPLE_JWT
    custom = load_settings(monkeypatch, JWT_AUDIENCE="orders", JWT_ISSUER="https://id.example")
    custom_jwt = custom.SIMPLE_JWT

    assert (default["AUDIENCE"], default["ISSUER"]) == ("drf-server-bench-api", "drf-server-bench")
    assert (custom_jwt["AUDIENCE"], custom_jwt["ISSUER"]) == ("orders", "https://id.example")


def test_login_throttle_defaults_are_strict_and_shared_across_processes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = load_settings(monkeypatch)

    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] == {
        "login_user": "5/min",
        "login_address": "20/min",
    }
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0
    assert settings.CACHES["throttle"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"


@pytest.mark.parametrize(
    ("value", "expected"), [("10/s", "10/s"), ("3/Hour", "3/hour"), ("OFF", None), ("", "5/min")]
)
def test_login_throttle_rates(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: str | None
) -> None:
    rates = load_settings(monkeypatch, LOGIN_THROTTLE_USER_RATE=value).REST_FRAMEWORK[
        "DEFAULT_THROTTLE_RATES"
    ]

    assert rates["login_user"] == expected


@pytest.mark.parametrize("value", ["5", "five/min", "0/min", "5/fortnight", "-1/s", "5 / min"])
def test_bad_throttle_rate_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="LOGIN_THROTTLE_ADDRESS_RATE must be a rate"):
        load_settings(monkeypatch, LOGIN_THROTTLE_ADDRESS_RATE=value)


def test_body_limit_defaults_to_1_mib_and_sets_django_s_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    default = load_settings(monkeypatch)
    custom = load_settings(monkeypatch, MAX_REQUEST_BODY_BYTES="4096")

    assert default.MAX_REQUEST_BODY_BYTES == default.DATA_UPLOAD_MAX_MEMORY_SIZE == 1024 * 1024
    assert custom.MAX_REQUEST_BODY_BYTES == custom.DATA_UPLOAD_MAX_MEMORY_SIZE == 4096


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAX_REQUEST_BODY_BYTES", "0"),
        ("MAX_REQUEST_BODY_BYTES", "1MB"),
        ("TRUSTED_PROXY_COUNT", "-1"),
    ],
)
def test_bad_counts_are_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match=f"{name} must be a whole number"):
        load_settings(monkeypatch, **{name: value})


def _deploy_check(tmp_path: Path, **env: str) -> str:
    """`manage.py check --deploy --fail-level WARNING` under exactly the production
    environment plus `env`; returns the combined output, asserting nothing."""
    base = {"SECRET_KEY": STRONG_KEY, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    result = run_in_sampleapp(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], {**base, **env}
    )
    return f"status {result.returncode}\n{result.stdout}{result.stderr}"


def test_check_deploy_passes_with_the_production_settings(tmp_path: Path) -> None:
    output = _deploy_check(tmp_path)

    assert output.startswith("status 0\n"), output
    assert "System check identified no issues" in output


@pytest.mark.parametrize(
    ("name", "kind"),
    [("SECRET_KEY", kind) for kind in sorted(WEAK_KEYS)]
    + [("JWT_SIGNING_KEY", "few distinct characters")],
)
def test_check_deploy_fails_on_a_weak_key(tmp_path: Path, name: str, kind: str) -> None:
    output = _deploy_check(tmp_path, **{name: WEAK_KEYS[kind]})

    assert not output.startswith("status 0\n"), output
    assert "ImproperlyConfigured" in output
    assert f"{name} is too weak" in output
