"""Fixtures for tests that run real server sessions: a migrated, seeded SQLite template made
once per test session, and launch requests on free loopback ports."""

from __future__ import annotations

from pathlib import Path

import pytest

from servers.app import AppSettings, SeedPlan, prepare_database
from servers.ports import free_port
from servers.registry import get_server
from servers.supervisor import LaunchRequest

SESSION_SECRET_KEY = "test-only-key-for-server-sessions-" + "y" * 40
SESSION_SEED = SeedPlan(users=2, items_per_user=3)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("session-template") / "db.sqlite3"
    prepare_database(
        AppSettings(secret_key=SESSION_SECRET_KEY, database_url=f"sqlite:///{path}"),
        SESSION_SEED,
    )
    return path


def session_launch(
    server: str, run_dir: Path, *, workers: int = 2, cpus: tuple[int, ...] | None = None
) -> LaunchRequest:
    """A launch of `server` whose database is run_dir/db.sqlite3 (the session copies it)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    return LaunchRequest(
        spec=get_server(server),
        app=AppSettings(
            secret_key=SESSION_SECRET_KEY, database_url=f"sqlite:///{run_dir / 'db.sqlite3'}"
        ),
        host="127.0.0.1",
        port=free_port(),
        workers=workers,
        threads=1,
        log_path=run_dir / "server.log",
        cpus=cpus,
    )
