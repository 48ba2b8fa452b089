"""The API tests again, on PostgreSQL (slow): the whole fast part of tests/sampleapp in a
child pytest whose Django talks to the harness's own cluster over its Unix socket, so what
the app does on SQLite it is shown to do on the database production uses."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from servers.postgres import (
    PostgresBinaries,
    cluster_user,
    default_cluster_dir,
    ensure_cluster,
    start_cluster,
)
from tests.sampleapp.settings import TEST_DATABASE_ENV
from tests.servers.conftest import require_system_binary

PROJECT = Path(__file__).resolve().parents[2]
SUITE_TIMEOUT_S = 600


def _binaries() -> PostgresBinaries | None:
    try:
        return PostgresBinaries.find()
    except Exception:  # DatabaseUnavailableError: reported by require_system_binary
        return None


@pytest.mark.slow
def test_the_api_tests_pass_on_the_harness_s_postgres(tmp_path: Path) -> None:
    binaries = _binaries()
    require_system_binary(binaries is not None, "PostgreSQL")
    assert binaries is not None
    user = cluster_user()
    # a cluster kept for the tests between runs (initdb once), apart from the benches'
    data_dir = ensure_cluster(
        binaries, default_cluster_dir(binaries.major).parent / f"tests-pg{binaries.major}", user
    )
    cluster = start_cluster(binaries, data_dir, user=user, cpus=None, log_path=tmp_path / "pg.log")
    try:
        env = {**os.environ, TEST_DATABASE_ENV: cluster.url("postgres")}
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "tests/sampleapp",
                "-m",
                "not slow",
                "-q",
                "-p",
                "no:cacheprovider",
            ],
            cwd=PROJECT,
            env=env,
            capture_output=True,
            text=True,
            timeout=SUITE_TIMEOUT_S,
            check=False,
        )
    finally:
        report = cluster.stop()
    tail = "\n".join(done.stdout.strip().splitlines()[-15:])
    assert done.returncode == 0, tail + done.stderr[-2000:]
    passed = re.search(r"(\d+) passed", done.stdout)
    assert passed and int(passed[1]) >= 50, tail
    assert "skipped" not in tail.splitlines()[-1], tail
    assert report.leftovers == ()
