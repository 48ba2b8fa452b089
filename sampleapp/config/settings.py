"""Settings for the sample app, read from environment variables only.

Production-like by default: DEBUG off, strong keys required, ALLOWED_HOSTS restricted, logins
throttled, request bodies capped. The app is meant to be served by several kinds of servers,
often with several worker processes, so nothing here may differ between processes (no random
fallbacks, no per-process keys, no per-process throttle counts).

Environment variables:
    SECRET_KEY              required. With DEBUG off it must pass Django's own W009 rule (at
                            least 50 characters, at least 5 distinct ones, not starting with
                            "django-insecure-"), or the app refuses to start: a weak key lets
                            anyone who guesses it sign their own tokens.
    JWT_SIGNING_KEY         optional; signs the JWTs (simplejwt's SIGNING_KEY) so the token key
                            can be rotated without touching SECRET_KEY. Same rule; defaults to
                            SECRET_KEY. Every worker process must share both.
    JWT_AUDIENCE            the "aud" claim put in and required of every token; default
                            "drf-server-bench-api" (RFC 8725 3.9: a token for another service
                            must not work here).
    JWT_ISSUER              the "iss" claim put in and required of every token; default
                            "drf-server-bench" (RFC 8725 3.8).
    DEBUG                   "1", "true", "yes" or "on" (any case) turns it on; off otherwise.
                            Only with DEBUG on is a weak key accepted.
    ALLOWED_HOSTS           comma-separated; default "127.0.0.1,localhost".
    DATABASE_URL            any URL dj-database-url understands; default SQLite db.sqlite3.
    JWT_ACCESS_LIFETIME_S   access-token lifetime in seconds; default 300.
    JWT_REFRESH_LIFETIME_S  refresh-token lifetime in seconds; default 86400.
    REQUEST_COUNTS_DIR      when set, every process counts the requests it answers in a file
                            there (per method, route and status; format in api/counters.py).
    LOGIN_THROTTLE_USER_RATE     token obtain + refresh requests allowed per account, DRF rate
                                 syntax ("5/min": N per s, min, hour or day); "off" disables.
                                 Default "5/min".
    LOGIN_THROTTLE_ADDRESS_RATE  the same per client address; default "20/min". Each login
                                 costs a PBKDF2 hash (about half a CPU-second), so unthrottled
                                 logins let anyone burn CPU and guess passwords without limit.
    TRUSTED_PROXY_COUNT     how many proxies in front of the app append to X-Forwarded-For
                            (DRF's NUM_PROXIES); default 0: the client address is the socket's
                            peer, so a client cannot pick its own throttle bucket with a header.
    MAX_REQUEST_BODY_BYTES  the largest request body accepted, in bytes; default 1048576
                            (1 MiB). Larger bodies get 413 from config.body_limit before Django
                            reads them (under ASGI Django would otherwise spool the whole body
                            to disk before any check); also DATA_UPLOAD_MAX_MEMORY_SIZE.
    STATIC_ROOT             where `collectstatic` copies the static files (for a proxy to
                            serve); unset by default.
    DB_POOL_MAX_SIZE        PostgreSQL only: connections in each process's pool (Django's
                            native pool, psycopg 3); no pool when unset.
"""

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE_VALUES = frozenset({"1", "true", "yes", "on"})

# SQLite allows one writer at a time. WAL lets readers proceed during a write, IMMEDIATE takes
# the write lock when a transaction starts (instead of failing on upgrade), and the timeout
# makes a blocked writer wait instead of raising "database is locked" under multi-process load.
_SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}


_KEY_ADVICE = "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"


def _require_secret_key() -> str:
    """Return SECRET_KEY from the environment, refusing to start without one.

    A random fallback would give each worker process its own JWT signing key, so a token issued
    by one worker would be rejected by the next: fail loudly instead.
    """
    key = os.environ.get("SECRET_KEY", "")
    if not key.strip():
        raise ImproperlyConfigured(
            "SECRET_KEY environment variable is required and must not be empty: it signs the "
            f"JWTs and every worker process must share it ({_KEY_ADVICE})"
        )
    return key


def _key_weakness(key: str) -> str | None:
    """Why `key` fails Django's W009 rule (the one `check --deploy` applies), or None.

    Django only warns, and only under `check --deploy`; a server would still start with
    SECRET_KEY=x. Here the same thresholds are a hard error, read from Django itself so the
    two cannot drift apart.
    """
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return f"it has {len(key)} characters, fewer than {SECRET_KEY_MIN_LENGTH}"
    if len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        return (
            f"it has {len(set(key))} distinct characters, "
            f"fewer than {SECRET_KEY_MIN_UNIQUE_CHARACTERS}"
        )
    if key.startswith(SECRET_KEY_INSECURE_PREFIX):
        return f"it starts with {SECRET_KEY_INSECURE_PREFIX!r} (Django's throwaway development key)"
    return None


def _refuse_weak_key(name: str, key: str, *, debug: bool) -> str:
    """Return `key`, or raise ImproperlyConfigured naming why it is weak (unless DEBUG)."""
    weakness = _key_weakness(key)
    if weakness is not None and not debug:
        raise ImproperlyConfigured(
            f"{name} is too weak: {weakness}. Anyone who guesses it can sign their own tokens; "
            f"use a long random value ({_KEY_ADVICE}), or set DEBUG=1 for local experiments"
        )
    return key


def _jwt_signing_key(secret_key: str, *, debug: bool) -> str:
    """JWT_SIGNING_KEY if set (held to the same rule), else SECRET_KEY."""
    key = os.environ.get("JWT_SIGNING_KEY", "")
    if not key.strip():
        return secret_key
    return _refuse_weak_key("JWT_SIGNING_KEY", key, debug=debug)


_RATE_PATTERN = re.compile(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)")
_RATE_OFF = "off"


def _env_rate(name: str, default: str) -> str | None:
    """A DRF throttle rate ("5/min") from the environment; None (no limit) for "off".

    DRF itself would only fail on the first throttled request with an unhelpful error, so a
    bad value stops the app at start instead.
    """
    raw = os.environ.get(name, "").strip().lower() or default
    if raw == _RATE_OFF:
        return None
    if not _RATE_PATTERN.fullmatch(raw):
        raise ImproperlyConfigured(
            f"{name} must be a rate like '5/min' (N per s, min, hour or day) or "
            f"'{_RATE_OFF}', got {raw!r}"
        )
    return raw


def _env_count(name: str, default: int, *, minimum: int) -> int:
    """Read a whole number >= `minimum`, with a clear error for a bad value."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be a whole number >= {minimum}, got {raw!r}")
    return value


def _env_flag(name: str) -> bool:
    """Read a boolean environment variable; anything but an explicit yes means False."""
    return os.environ.get(name, "").strip().lower() in _TRUE_VALUES


def _env_seconds(name: str, default: int) -> timedelta:
    """Read a positive whole number of seconds, with a clear error for a bad value."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return timedelta(seconds=default)
    try:
        seconds = int(raw)
    except ValueError:
        seconds = 0
    if seconds <= 0:
        raise ImproperlyConfigured(f"{name} must be a positive integer (seconds), got {raw!r}")
    return timedelta(seconds=seconds)


def _database_from_env() -> dict[str, Any]:
    """Parse DATABASE_URL (default: SQLite next to manage.py) and tune SQLite for concurrency."""
    database = dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=0,
    )
    if "sqlite" in database["ENGINE"]:
        database["OPTIONS"] = {**database.get("OPTIONS", {}), **_SQLITE_OPTIONS}
    pool_size = os.environ.get("DB_POOL_MAX_SIZE", "").strip()
    if "postgresql" in database["ENGINE"] and pool_size:
        # One pool per worker process, opened in full at start (CONN_MAX_AGE stays 0, which
        # the pool requires); whoever sets the size keeps workers x size under max_connections.
        size = int(pool_size)
        pool = {"min_size": size, "max_size": size, "timeout": 10}
        database["OPTIONS"] = {**database.get("OPTIONS", {}), "pool": pool}
    return dict(database)


DEBUG = _env_flag("DEBUG")
SECRET_KEY = _refuse_weak_key("SECRET_KEY", _require_secret_key(), debug=DEBUG)
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if host.strip()
]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "api",
]

# No session or CSRF middleware: the API authenticates with a JWT in the Authorization header,
# which a browser never attaches on its own, so there is no cookie for CSRF to abuse.
# CommonMiddleware stays because it sets Content-Length, which uWSGI keep-alive needs.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.static_files.AsyncCapableWhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Off unless asked for. First in the chain, so it sees every response, errors included.
REQUEST_COUNTS_DIR = os.environ.get("REQUEST_COUNTS_DIR", "").strip() or None
if REQUEST_COUNTS_DIR:
    MIDDLEWARE.insert(0, "api.counters.RequestCountsMiddleware")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {"default": _database_from_env()}

# Static files: WhiteNoise serves them under every server, from the apps' static directories
# (found once at start-up), so a run needs no collectstatic step; behind nginx, nginx serves
# the collectstatic copy in STATIC_ROOT, the same bytes.
STATIC_URL = "static/"
STATIC_ROOT = os.environ.get("STATIC_ROOT", "").strip() or None
WHITENOISE_USE_FINDERS = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Throttle counts live in the database, in a table created by the api app's migrations, so
# every worker process of every server sees the same counts (DRF's default, the local-memory
# cache, is one per process: N workers would allow N times the rate) with no extra service.
# The harness copies a fresh database per run, so counts never leak from one run to the next.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "throttle": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "api_throttle_cache",
        # Culling drops a third of the entries when full: keep room for many clients so an
        # attacker cannot easily flush a victim's count by filling the table.
        "OPTIONS": {"MAX_ENTRIES": 50_000},
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    # Only the token endpoints are throttled (api.throttles, set on their views): everything
    # else needs a valid token, which only a throttled login can produce.
    "DEFAULT_THROTTLE_CLASSES": [],
    "DEFAULT_THROTTLE_RATES": {
        "login_user": _env_rate("LOGIN_THROTTLE_USER_RATE", "5/min"),
        "login_address": _env_rate("LOGIN_THROTTLE_ADDRESS_RATE", "20/min"),
    },
    "NUM_PROXIES": _env_count("TRUSTED_PROXY_COUNT", 0, minimum=0),
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": _env_seconds("JWT_ACCESS_LIFETIME_S", 300),
    "REFRESH_TOKEN_LIFETIME": _env_seconds("JWT_REFRESH_LIFETIME_S", 86400),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": _jwt_signing_key(SECRET_KEY, debug=DEBUG),
    "AUDIENCE": os.environ.get("JWT_AUDIENCE", "").strip() or "drf-server-bench-api",
    "ISSUER": os.environ.get("JWT_ISSUER", "").strip() or "drf-server-bench",
}

# One limit for every request body: config.body_limit refuses larger ones before Django reads
# them, and Django's own check on request.body says the same.
MAX_REQUEST_BODY_BYTES = _env_count("MAX_REQUEST_BODY_BYTES", 1024 * 1024, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES

# Errors (5xx and unhandled exceptions) go to stderr even with DEBUG off, where Django's
# default would only e-mail the (empty) ADMINS list. 4xx responses are the client's business
# and would flood the server log during load runs, so django.request logs from ERROR up.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(process)d: %(message)s"},
    },
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    "loggers": {
        # Replace Django's own handlers (console only under DEBUG, mail_admins) so each
        # record is written once, to stderr, whatever DEBUG says.
        "django": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        "django.request": {"level": "ERROR"},
    },
}

# The benchmark serves plain HTTP on loopback; in a real deployment TLS would be terminated by
# a proxy in front of the app server, which is where HSTS and the HTTPS redirect belong.
# W003 (no CsrfViewMiddleware) is silenced for the reason given above MIDDLEWARE.
SILENCED_SYSTEM_CHECKS = [
    "security.W003",
    "security.W004",
    "security.W008",
]
