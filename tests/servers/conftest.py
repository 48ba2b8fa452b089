"""Fixtures for launching the real servers: a migrated, seeded database made once per session
and copied for each test (a fresh database per server, without paying migrate each time)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers.app import AppSettings, SeedPlan, prepare_database
from servers.placement import Placement, place
from servers.ports import free_port
from servers.registry import ServerSpec
from servers.supervisor import LaunchRequest, RunningServer, start, stop

TEST_SECRET_KEY = "test-only-key-for-launched-servers-" + "x" * 40
SEED = SeedPlan(users=2, items_per_user=3)


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "db.sqlite3"
    app = AppSettings(secret_key=TEST_SECRET_KEY, database_url=f"sqlite:///{path}")
    prepare_database(app, SEED)
    return path


@pytest.fixture
def app_settings(template_database: Path, tmp_path: Path) -> AppSettings:
    db_path = tmp_path / "db.sqlite3"
    shutil.copyfile(template_database, db_path)
    return AppSettings(secret_key=TEST_SECRET_KEY, database_url=f"sqlite:///{db_path}")


def launch_request(
    spec: ServerSpec, app: AppSettings, tmp_path: Path, **overrides: object
) -> LaunchRequest:
    """A request for `spec` on a free loopback port with small worker counts."""
    fields: dict[str, object] = {
        "spec": spec,
        "app": app,
        "host": "127.0.0.1",
        "port": free_port(),
        "workers": spec.default_workers(2),
        "threads": 1,
        "log_path": tmp_path / "server.log",
    }
    fields.update(overrides)
    return LaunchRequest(**fields)  # type: ignore[arg-type]


@pytest.fixture
def launched() -> Iterator[list[RunningServer]]:
    """Servers a test started; whatever the test did, they are stopped afterwards."""
    servers: list[RunningServer] = []
    yield servers
    for server in servers:
        if not server.stopped:
            stop(server, check=False)


def start_tracked(request: LaunchRequest, launched: list[RunningServer]) -> RunningServer:
    server = start(request)
    launched.append(server)
    return server


def require_system_binary(available: bool, what: str) -> None:
    """Skip a test whose Debian package is missing, saying which and how to install it;
    under CI=true fail instead, since CI installs them (`make system-deps`)."""
    if available:
        return
    message = f"{what} is not installed (make system-deps)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI must have it")
    pytest.skip(message)


def machine_split() -> Placement:
    """PIN=split over the machine's CPUs, not this process's affinity: an in-process entry
    point run by an earlier test (calibrate's main) may have narrowed that."""
    return place("split", tuple(range(os.cpu_count() or 1)))
