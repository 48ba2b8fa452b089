"""Settings for the sample app, read from environment variables only.

Production-like by default: DEBUG off, SECRET_KEY required, ALLOWED_HOSTS restricted. The app
is meant to be served by several kinds of servers, often with several worker processes, so
nothing here may differ between processes (no random fallbacks, no per-process keys).

Environment variables:
    SECRET_KEY              required; also the JWT signing key, shared by every worker.
    DEBUG                   "1", "true", "yes" or "on" (any case) turns it on; off otherwise.
    ALLOWED_HOSTS           comma-separated; default "127.0.0.1,localhost".
    DATABASE_URL            any URL dj-database-url understands; default SQLite db.sqlite3.
    JWT_ACCESS_LIFETIME_S   access-token lifetime in seconds; default 300.
    JWT_REFRESH_LIFETIME_S  refresh-token lifetime in seconds; default 86400.
    REQUEST_COUNTS_DIR      when set, every process counts the requests it answers in a file
                            there (per method, route and status; format in api/counters.py).
    STATIC_ROOT             where `collectstatic` copies the static files (for a proxy to
                            serve); unset by default.
    DB_POOL_MAX_SIZE        PostgreSQL only: connections in each process's pool (Django's
                            native pool, psycopg 3); no pool when unset.
"""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
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


def _require_secret_key() -> str:
    """Return SECRET_KEY from the environment, refusing to start without one.

    A random fallback would give each worker process its own JWT signing key, so a token issued
    by one worker would be rejected by the next: fail loudly instead.
    """
    key = os.environ.get("SECRET_KEY", "")
    if not key.strip():
        raise ImproperlyConfigured(
            "SECRET_KEY environment variable is required and must not be empty: it signs the "
            "JWTs and every worker process must share it (generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))')"
        )
    return key


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


SECRET_KEY = _require_secret_key()
DEBUG = _env_flag("DEBUG")
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
    "whitenoise.middleware.WhiteNoiseMiddleware",
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

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_THROTTLE_CLASSES": [],
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": _env_seconds("JWT_ACCESS_LIFETIME_S", 300),
    "REFRESH_TOKEN_LIFETIME": _env_seconds("JWT_REFRESH_LIFETIME_S", 86400),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
}

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
