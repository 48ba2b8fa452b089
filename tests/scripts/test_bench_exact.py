"""Exact numbers through the real bench: errors are not speed, a dead server fails the run,
a respawned worker does not, and the server's own count agrees with the harness's."""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
from pathlib import Path
from types import MappingProxyType

import pytest

from scripts import bench
from servers import registry
from tests.process import running
from tests.scripts.benchutil import load, run_dirs

pytestmark = pytest.mark.slow
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _session_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[3])


def _server_processes(port: int) -> tuple[int, list[int]]:
    """(the server's main process, its other processes) listening on `port`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if f"127.0.0.1:{port}" in cmdline and "-m gunicorn" in cmdline:
            found.append(int(entry.name))
    leaders = [pid for pid in found if _session_of(pid) == pid]
    assert len(leaders) == 1, found
    return leaders[0], [pid for pid in found if pid != leaders[0]]


def _gunicorn_serving(app_module: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Register gunicorn serving a fixture app (tests/fixtures) under a name of its own."""
    name = f"gunicorn-{app_module.split('_')[0]}"
    server = dataclasses.replace(
        registry.get_server("gunicorn"),
        name=name,
        app_module=app_module,
        python_path=(str(FIXTURES),),
    )
    monkeypatch.setattr(registry, "SERVERS", MappingProxyType({**registry.SERVERS, name: server}))
    return name


def test_a_server_erroring_20_percent_fails_the_run_and_its_errors_are_not_goodput(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flaky = _gunicorn_serving("flaky_app:application", monkeypatch)
    argv = ["--server", flaky, "--duration", "3", "--warmup", "1", "--users", "4"]
    assert bench.main([*argv, "--results", str(tmp_path)]) == 1
    [run] = run_dirs(tmp_path)
    meta, summary = load(run / "meta.json"), load(run / "summary.json")
    assert meta["status"] == "failed"
    assert "% of responses were errors: HTTP 500 x " in meta["reason"]
    assert 0.15 < summary["error_rate"] < 0.25
    successes = summary["requests"] - summary["failures"]
    assert summary["goodput_rps"] == pytest.approx(successes / summary["window_s"], rel=0.01)
    assert summary["goodput_rps"] < summary["rps"]


def _bench_argv(results: Path, duration_s: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "scripts.bench",
        "--server",
        "gunicorn",
        "--workers",
        "2",
        "--duration",
        str(duration_s),
        "--warmup",
        "1",
        "--users",
        "4",
        "--results",
        str(results),
    ]


def _wait_for_window(harness: object, results: Path) -> Path:
    from tests.process import CommandUnderTest

    assert isinstance(harness, CommandUnderTest)

    def window_open() -> bool:
        for window in (results / "runs").glob(".partial-*/window.json"):
            if load(window).get("window_started_at"):
                return True
        return False

    harness.wait_until(window_open, timeout_s=60, what="an open measured window")
    return next((results / "runs").glob(".partial-*"))


def test_a_server_killed_mid_window_is_a_failed_run_naming_the_exit(tmp_path: Path) -> None:
    results = tmp_path / "results"
    # killed as soon as the window opens: 4 s leave it well inside
    with running(_bench_argv(results, 4), tmp_path / "bench.out") as harness:
        partial = _wait_for_window(harness, results)
        master, _ = _server_processes(int(load(partial / "meta.json")["port"]))
        os.kill(master, signal.SIGKILL)
        assert harness.wait(90) == 1, harness.output
    [run] = run_dirs(results)
    meta = load(run / "meta.json")
    assert meta["status"] == "failed"
    assert meta["reason"].startswith("the server exited (signal 9)")
    assert "s into the window" in meta["reason"]


def test_a_worker_its_master_respawns_is_counted_and_the_run_stands(tmp_path: Path) -> None:
    results = tmp_path / "results"
    with running(_bench_argv(results, 6), tmp_path / "bench.out") as harness:
        partial = _wait_for_window(harness, results)
        _, workers = _server_processes(int(load(partial / "meta.json")["port"]))
        os.kill(workers[0], signal.SIGKILL)
        assert harness.wait(90) == 0, harness.output
    [run] = run_dirs(results)
    summary = load(run / "summary.json")
    assert load(run / "meta.json")["status"] == "ok"
    assert summary["worker_restarts"] >= 1


def test_the_servers_own_count_agrees_with_the_harness(tmp_path: Path) -> None:
    argv = ["--server", "gunicorn", "--workers", "2", "--duration", "3", "--warmup", "1"]
    assert bench.main([*argv, "--users", "4", "--results", str(tmp_path)]) == 0
    [run] = run_dirs(tmp_path)
    summary = load(run / "summary.json")
    assert summary["server_counted"] == pytest.approx(summary["requests"], rel=0.005)
    assert not [warning for warning in summary["warnings"] if "server says" in warning]
    counts = load(run / "server_counts.json")["windows"][0]
    assert counts["health_probes"] == 0 and counts["served_total"] == summary["server_counted"]


def test_answers_the_server_did_not_count_earn_a_warning_naming_both_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cache in front answers one repeated GET in ten: the harness sees them, the app's
    counters do not, and the run says by how much."""
    cached = _gunicorn_serving("cached_app:application", monkeypatch)
    argv = ["--server", cached, "--workers", "2", "--scenario", "me", "--duration", "3"]
    assert bench.main([*argv, "--warmup", "1", "--users", "4", "--results", str(tmp_path)]) == 0
    [run] = run_dirs(tmp_path)
    summary = load(run / "summary.json")
    assert summary["server_counted"] < summary["requests"] * 0.95
    [warning] = [warning for warning in summary["warnings"] if "server says" in warning]
    assert f"{summary['requests']:,} requests" in warning
    assert f"answered {summary['server_counted']:,}" in warning
