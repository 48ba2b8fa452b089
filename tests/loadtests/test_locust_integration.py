"""The real locustfile with two Locust worker processes against a real server: the master's
merged histogram holds exactly what the workers recorded, and agrees with Locust's own count
of the window."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from loadtests import latency, progress
from servers.app import AppSettings
from servers.registry import get_server
from servers.supervisor import RunningServer
from tests.servers.conftest import SEED, launch_request, start_tracked

PROJECT_DIR = Path(__file__).resolve().parents[2]
PROCESSES = 2
WINDOW_S = 3.0


def _locust_argv(base_url: str, run_dir: Path) -> list[str]:
    return [
        sys.executable, "-m", "locust",
        "-f", str(PROJECT_DIR / "loadtests" / "locustfile.py"),
        "--headless", "--host", base_url,
        "--users", "4", "--spawn-rate", "4", "--run-time", "60s", "--stop-timeout", "0",
        "--only-summary", "--csv", str(run_dir / "locust"),
        "--loglevel", "INFO", "--logfile", str(run_dir / "locust.log"),
        "--processes", str(PROCESSES),
        "--scenario", "read",
        "--seeded-users", str(SEED.users), "--user-prefix", SEED.prefix,
        "--user-password", SEED.password,
        "--warmup-s", "1", "--window-s", f"{WINDOW_S:g}",
        "--window-file", str(run_dir / "window.json"), "--ready-timeout-s", "40",
    ]  # fmt: skip


def _run_locust(argv: list[str], run_dir: Path) -> int:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("LOCUST_")}
    with (run_dir / "locust.out").open("wb") as output:
        process = subprocess.Popen(
            argv, cwd=PROJECT_DIR, env=environ, stdin=subprocess.DEVNULL, stdout=output,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        return process.wait(timeout=90)
    finally:  # Locust and its forked workers share the session: end all of them
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _aggregated(stats_csv: Path) -> dict[str, str]:
    with stats_csv.open(newline="") as handle:
        return next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")


@pytest.mark.slow
def test_two_locust_processes_merge_into_one_exact_histogram(
    app_settings: AppSettings, launched: list[RunningServer], tmp_path: Path
) -> None:
    server = start_tracked(
        launch_request(get_server("gunicorn"), app_settings, tmp_path, workers=1), launched
    )
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    status = _run_locust(_locust_argv(server.base_url, run_dir), run_dir)
    log = (run_dir / "locust.out").read_text()[-3000:]
    assert status == 0, log
    record = json.loads((run_dir / "window.json").read_text())
    assert record["completed"], record

    [window] = latency.read(run_dir / latency.FILE_NAME)
    assert window.processes_expected == window.processes_reported == PROCESSES
    assert sorted(span.process for span in window.processes) == ["worker 0", "worker 1"]
    # the master merged exactly what each worker recorded
    assert window.aggregate().get_total_count() == sum(s.recorded for s in window.processes)
    assert window.recorded == sum(e.recorded for e in window.endpoints.values())
    assert window.failures == 0 and window.not_recorded == 0
    assert all(span.recorded > 0 for span in window.processes)
    # framed by the controller's own window; each worker counted for (almost) all of it
    assert (window.started_at, window.ended_at) == (
        record["window_started_at"],
        record["window_ended_at"],
    )
    for span in window.processes:
        assert window.started_at <= span.armed_at < window.started_at + 0.2
        assert window.ended_at <= span.disarmed_at < window.ended_at + 0.2

    # Locust counts from each worker's stats reset (just before the window opens) to its
    # users' stop (just after it closes): the same requests give or take a few milliseconds
    row = _aggregated(run_dir / "locust_stats.csv")
    locust_requests = int(row["Request Count"])
    ours = window.successes + window.failures
    assert ours <= locust_requests <= ours * 1.02 + 5, (ours, locust_requests)
    assert window.goodput_rps == pytest.approx(ours / WINDOW_S, rel=0.05)

    final = progress.WindowProgress.read(run_dir / progress.FILE_NAME)
    assert not final.open and final.processes_reporting == PROCESSES
    assert final.requests == ours and final.window_elapsed_s == window.window_s
