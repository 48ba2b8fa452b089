"""The sample app's environment and its management commands, as the harness runs them.

Every server and every `manage.py` call gets the same explicit environment built here (never
the caller's own), so a stray DJANGO_SETTINGS_MODULE or DEBUG in a user's shell cannot change
what is measured, and all workers of a server share one SECRET_KEY (JWTs signed by one
worker must verify in another).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from servers.registry import SAMPLEAPP_DIR

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-pass-123"  # local use only; printed by `make serve`
BENCH_USER_PREFIX = "bench"
BENCH_PASSWORD = "bench-pass-123"
# The app throttles logins per account and per address by default (5/min, 20/min). The harness
# logs in from one address (its response check, calibrate's priming, the `login` scenario), so
# every run it makes raises both limits explicitly, far above any rate a run can reach, while
# keeping the throttle's own work (a shared cache read and write per login) in what is measured.
BENCH_LOGIN_THROTTLE_RATE = "100000/min"


class AppCommandError(RuntimeError):
    """A manage.py command failed; the message carries the tail of its output."""


def shared_secret_key() -> str:
    """SECRET_KEY from the environment if set, else a new random one for this invocation;
    the caller passes the same key to every worker it launches."""
    return os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50)


@dataclass(frozen=True)
class AppSettings:
    """What the sample app reads from its environment."""

    secret_key: str
    database_url: str
    allowed_hosts: str = "127.0.0.1,localhost"
    access_lifetime_s: int = 300
    refresh_lifetime_s: int = 86400
    request_counts_dir: Path | None = None
    login_throttle_user_rate: str = BENCH_LOGIN_THROTTLE_RATE
    login_throttle_address_rate: str = BENCH_LOGIN_THROTTLE_RATE
    static_root: Path | None = None  # where collectstatic copies to (for a proxy)
    db_pool_max_size: int | None = None  # PostgreSQL pool per process; None: no pool
    debug: bool = False  # DEBUG on: the development settings (the lesson shows what it leaks)

    @classmethod
    def for_sqlite(cls, db_path: Path, *, access_lifetime_s: int = 300) -> AppSettings:
        """Settings for a fresh SQLite file; SECRET_KEY from the environment if set, else a new
        random one for this invocation (shared by every worker it launches)."""
        return cls(
            secret_key=shared_secret_key(),
            database_url=f"sqlite:///{db_path.resolve()}",
            access_lifetime_s=access_lifetime_s,
        )

    def environ(self) -> dict[str, str]:
        """The complete environment for a child process of the app."""
        bin_dir = str(Path(sys.executable).parent)
        optional: dict[str, str] = {}
        if self.request_counts_dir is not None:
            optional["REQUEST_COUNTS_DIR"] = str(self.request_counts_dir.resolve())
        if self.static_root is not None:
            optional["STATIC_ROOT"] = str(self.static_root.resolve())
        if self.db_pool_max_size is not None:
            optional["DB_POOL_MAX_SIZE"] = str(self.db_pool_max_size)
        return {
            "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(SAMPLEAPP_DIR),
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SECRET_KEY": self.secret_key,
            "DATABASE_URL": self.database_url,
            "ALLOWED_HOSTS": self.allowed_hosts,
            "DEBUG": "1" if self.debug else "0",
            "JWT_ACCESS_LIFETIME_S": str(self.access_lifetime_s),
            "JWT_REFRESH_LIFETIME_S": str(self.refresh_lifetime_s),
            "LOGIN_THROTTLE_USER_RATE": self.login_throttle_user_rate,
            "LOGIN_THROTTLE_ADDRESS_RATE": self.login_throttle_address_rate,
            **optional,
        }


def manage(settings: AppSettings, *args: str, timeout_s: float = 120.0) -> str:
    """Run `manage.py <args>` for the app and return its output; AppCommandError on failure."""
    argv = [sys.executable, "manage.py", *args]
    try:
        done = subprocess.run(
            argv,
            cwd=SAMPLEAPP_DIR,
            env=settings.environ(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise AppCommandError(f"manage.py {' '.join(args)} took over {timeout_s:.0f} s") from exc
    if done.returncode != 0:
        tail = "\n".join(done.stdout.splitlines()[-15:])
        raise AppCommandError(
            f"manage.py {' '.join(args)} failed with status {done.returncode}:\n{tail}"
        )
    return done.stdout


def collect_static(settings: AppSettings, static_root: Path) -> None:
    """Copy the app's static files into `static_root` (`manage.py collectstatic`), for a
    proxy to serve them as a deployment would."""
    manage(replace(settings, static_root=static_root), "collectstatic", "--noinput", "-v", "0")


@dataclass(frozen=True)
class SeedPlan:
    """Who exists in a prepared database."""

    users: int
    items_per_user: int
    password: str = BENCH_PASSWORD
    prefix: str = BENCH_USER_PREFIX
    demo_username: str = DEMO_USERNAME
    demo_password: str = DEMO_PASSWORD

    def username(self, index: int) -> str:
        """The seeded username for 1-based `index` (matches the seed command's pattern)."""
        return f"{self.prefix}{index:04d}"


def prepare_database(settings: AppSettings, seed: SeedPlan) -> float:
    """Migrate and seed the database; return how long it took in seconds."""
    started = time.monotonic()
    manage(settings, "migrate", "--noinput", "--verbosity", "0")
    manage(
        settings,
        "seed",
        "--users",
        str(seed.users),
        "--items",
        str(seed.items_per_user),
        "--prefix",
        seed.prefix,
        "--password",
        seed.password,
        "--demo-username",
        seed.demo_username,
        "--demo-password",
        seed.demo_password,
    )
    return time.monotonic() - started


@dataclass(frozen=True)
class UserTokens:
    """One seeded user's JWT pair, issued without a login."""

    username: str
    access: str
    refresh: str


@dataclass(frozen=True)
class IssuedTokens:
    """What `manage.py issue_tokens` wrote, read back, plus how long obtaining it took."""

    issued_at: datetime
    access_lifetime_s: int
    users: tuple[UserTokens, ...]
    path: Path
    command_wall_s: float

    @property
    def access_expires_at(self) -> datetime:
        """When every access token of this issue expires (they share one lifetime)."""
        return self.issued_at + timedelta(seconds=self.access_lifetime_s)

    @classmethod
    def read(cls, path: Path, *, command_wall_s: float) -> IssuedTokens:
        """Load the command's JSON file (format in the command's docstring)."""
        document: dict[str, Any] = json.loads(path.read_text())
        return cls(
            issued_at=datetime.fromisoformat(document["issued_at"]),
            access_lifetime_s=int(document["access_lifetime_s"]),
            users=tuple(
                UserTokens(
                    username=user["username"], access=user["access"], refresh=user["refresh"]
                )
                for user in document["users"]
            ),
            path=path,
            command_wall_s=command_wall_s,
        )


def issue_tokens(
    settings: AppSettings, seed: SeedPlan, access_lifetime_s: int, output: Path
) -> IssuedTokens:
    """Have the app issue a JWT pair per seeded bench user (no password hashing) into `output`
    (mode 0600) and read them back; `command_wall_s` is the whole manage.py call, start-up
    included, so it can stand beside what the HTTP logins used to cost."""
    started = time.monotonic()
    manage(
        settings,
        "issue_tokens",
        "--users",
        str(seed.users),
        "--prefix",
        seed.prefix,
        "--access-lifetime-s",
        str(access_lifetime_s),
        "--output",
        str(output.resolve()),
    )
    return IssuedTokens.read(output, command_wall_s=time.monotonic() - started)
