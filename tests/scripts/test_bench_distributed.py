"""The bench on Locust's master/worker mode across the project's test hosts.

The bench (its server, the Locust master and one local worker) runs in the root namespace
on the root's address of the test segment; a remote worker, started with the command
`make loadworker` runs, runs in a namespace of its own and reaches the master and the
server over the switch. One test puts the server on a third host (TARGET), so the master,
the worker and the server are three hosts. Without namespaces these tests skip (never
under CI=true)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from loadtests import latency
from scripts.harness.target import PASSWORD_VARIABLE, USER_PREFIX_VARIABLE
from servers.app import SeedPlan
from servers.ports import free_port
from tests.netns_hosts import ROOT_HOST, TestHost, joined_hosts, require_namespaces
from tests.process import running
from tests.scripts.benchutil import (
    aggregated_row,
    load,
    locust_printed_total,
    processes_mentioning,
    run_dirs,
)
from tests.tls_target import tls_sample_app

pytestmark = pytest.mark.slow

SHORT = ["--server", "gunicorn", "--scenario", "me", "--users", "4"]
SHORT += ["--duration", "3", "--warmup", "1"]


@pytest.fixture
def hosts() -> Iterator[dict[str, TestHost]]:
    require_namespaces()
    with joined_hosts([ROOT_HOST, "far"]) as joined:
        yield joined


def _bench(
    root: TestHost, port: int, results: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "scripts.bench", *SHORT, "--host", root.address]
    argv += ["--expect-remote-workers", "1", "--master-bind", root.address]
    argv += ["--master-port", str(port), "--results", str(results), *extra]
    return subprocess.run(argv, capture_output=True, text=True, timeout=240, check=False)


def _loadworker(far: TestHost, root: TestHost, port: int, *environ: str) -> list[str]:
    command = [sys.executable, "-m", "scripts.loadworker", "--master", f"{root.address}:{port}"]
    return far.command(["env", *environ, *command, "--once"])


def _nothing_left(run_id: str, port: int) -> None:
    assert processes_mentioning(run_id) == []
    assert processes_mentioning(f"--master-port {port}") == []
    assert processes_mentioning(f"--master-bind-port {port}") == []


def test_a_remote_worker_adds_its_requests_to_the_masters_exact_aggregate(
    hosts: dict[str, TestHost], tmp_path: Path
) -> None:
    root, far = hosts[ROOT_HOST], hosts["far"]
    port = free_port(root.address)
    with running(_loadworker(far, root, port), tmp_path / "loadworker.out") as worker:
        done = _bench(root, port, tmp_path / "results")
        assert done.returncode == 0, done.stdout + done.stderr
        assert worker.wait(timeout_s=30) == 0, worker.output  # the master told it to quit
    [run] = run_dirs(tmp_path / "results")
    meta, summary = load(run / "meta.json"), load(run / "summary.json")
    assert meta["status"] == "ok", meta["reason"]
    assert meta["load_workers"]["local"] == 1 and meta["load_workers"]["remote"] == 1
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    recorded = meta["locust_workers"]
    assert sorted(w["index"] for w in recorded) == [0, 1]
    assert {w["commit"] for w in recorded} == {head.strip()}
    assert len({w["pid"] for w in recorded}) == 2 and all(w["host"] for w in recorded)
    assert [w["index"] for w in summary["loadgen_workers"]] == [0, 1]
    assert all(w["cpu_pct"] is not None and w["windows_reported"] == 1 for w in recorded)
    assert all(w["loop_lag_mean_ms"] is not None for w in recorded)
    # the aggregate holds both workers' requests, their histograms merged exactly
    [window] = latency.read(run / latency.FILE_NAME)
    assert window.processes_expected == window.processes_reported == 2
    assert sorted(span.process for span in window.processes) == ["worker 0", "worker 1"]
    assert all(span.recorded > 0 for span in window.processes)
    merged = window.aggregate().get_total_count()
    assert merged == sum(span.recorded for span in window.processes)
    assert merged == summary["requests"] - summary["failures"]
    # the master asked both workers for their last figures before writing its CSV
    row = aggregated_row(run / "locust_stats.csv")
    assert int(row["Request Count"]) == locust_printed_total(run) >= summary["requests"]
    assert "Got quit message from master" in worker.output  # it served this run's master
    _nothing_left(run.name, port)


def test_a_worker_of_another_commit_is_refused(hosts: dict[str, TestHost], tmp_path: Path) -> None:
    root, far = hosts[ROOT_HOST], hosts["far"]
    port = free_port(root.address)
    other = f"DRF_BENCH_COMMIT={'0' * 40}"
    with running(_loadworker(far, root, port, other), tmp_path / "loadworker.out") as worker:
        # the refusal ends the master at once, not at its deadline for the workers
        done = _bench(root, port, tmp_path / "results", "--workers-max-wait", "60")
        worker.wait(timeout_s=30)
    assert done.returncode == 1, done.stdout + done.stderr
    [run] = run_dirs(tmp_path / "results")
    meta = load(run / "meta.json")
    assert meta["status"] == "failed"
    assert "runs commit 000000000000, the master" in meta["reason"], meta["reason"]
    assert "check out the master's commit there" in meta["reason"]
    assert "runs commit 000000000000" in done.stdout
    assert meta["timings_s"]["load"] < 30, "the master waited out its deadline"
    _nothing_left(run.name, port)


def test_a_missing_worker_fails_the_run_in_one_line_by_the_deadline(
    hosts: dict[str, TestHost], tmp_path: Path
) -> None:
    root = hosts[ROOT_HOST]
    port = free_port(root.address)
    started = time.monotonic()
    done = _bench(root, port, tmp_path / "results", "--workers-max-wait", "5")
    elapsed_s = time.monotonic() - started
    assert done.returncode == 1, done.stdout + done.stderr
    [run] = run_dirs(tmp_path / "results")
    meta = load(run / "meta.json")
    assert meta["status"] == "failed"
    assert meta["reason"].startswith("only 1 of 2 Locust workers connected within 5 s"), meta
    assert "\n" not in meta["reason"]
    assert f"make loadworker MASTER=<this host>:{port}" in meta["reason"]
    assert elapsed_s < 60, f"the bench took {elapsed_s:.0f} s"
    _nothing_left(run.name, port)


def test_a_worker_lost_mid_window_is_reported_and_the_run_ends_early(
    hosts: dict[str, TestHost], tmp_path: Path
) -> None:
    root, far = hosts[ROOT_HOST], hosts["far"]
    port = free_port(root.address)
    results = tmp_path / "results"
    argv = [sys.executable, "-m", "scripts.bench", *SHORT, "--duration", "60"]
    argv += ["--host", root.address, "--expect-remote-workers", "1"]
    argv += ["--master-bind", root.address, "--master-port", str(port), "--results", str(results)]
    with (
        running(_loadworker(far, root, port), tmp_path / "loadworker.out") as worker,
        running(argv, tmp_path / "bench.out") as harness,
    ):
        harness.wait_until(
            lambda: any('"window_started_at": 1' in p.read_text() for p in _windows(results)),
            timeout_s=90,
            what="measured window",
        )
        os.killpg(worker.process.pid, signal.SIGKILL)  # no goodbye: heartbeats just stop
        killed = time.monotonic()
        status = harness.wait(timeout_s=60)
        ended_s = time.monotonic() - killed
    assert status == 1, harness.output
    assert ended_s < 30, f"the run went on {ended_s:.0f} s after the worker was lost"
    [run] = run_dirs(results)
    meta = load(run / "meta.json")
    assert meta["status"] == "failed"
    assert "Locust worker 1" in meta["reason"] or "Locust worker 0" in meta["reason"]
    assert "disappeared" in meta["reason"] and "s into the measurement" in meta["reason"]
    lost = [w for w in meta["locust_workers"] if w["lost_at"] is not None]
    assert len(lost) == 1
    _nothing_left(run.name, port)


def _windows(results: Path) -> list[Path]:
    return list((results / "runs").glob(".partial-*/window.json"))


def test_a_step_load_runs_as_the_masters_load_shape_over_two_local_workers(
    tmp_path: Path,
) -> None:
    """No test hosts needed: two local workers on loopback."""
    argv = [sys.executable, "-m", "scripts.bench", "--server", "gunicorn", "--scenario", "me"]
    argv += ["--shape", "steps", "--users", "2,4", "--step", "2", "--warmup", "1"]
    argv += ["--locust-processes", "2", "--results", str(tmp_path)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    [run] = run_dirs(tmp_path)
    summary, window = load(run / "summary.json"), load(run / "window.json")
    assert [step["users"] for step in summary["steps"]] == [2, 4]
    recorded = latency.read(run / latency.FILE_NAME)
    assert [w.users for w in recorded] == [2, 4]
    assert all(w.processes_reported == 2 and w.successes > 0 for w in recorded)
    assert [step["stats_file"] for step in window["steps"]] == [
        "locust_stats_step01_u2.csv",
        "locust_stats_step02_u4.csv",
    ]
    assert all(len(w["windows"]) == 2 for w in window["workers"])  # figures per step


def test_master_worker_and_server_on_three_hosts(tmp_path: Path) -> None:
    """The server runs on a host of its own (a TARGET the bench does not launch); the
    master in the root namespace and its local worker, and a remote worker on a third
    host, all send to it: the aggregate holds both workers' requests."""
    require_namespaces()
    seed = SeedPlan(users=4, items_per_user=1, password="three-hosts-pass-3", prefix="three")
    with joined_hosts([ROOT_HOST, "far", "server"]) as hosts:
        root, far = hosts[ROOT_HOST], hosts["far"]
        with tls_sample_app(hosts["server"], tmp_path / "server", seed, None) as url:
            port = free_port(root.address)
            argv = [sys.executable, "-m", "scripts.bench", "--target", url, "--scenario", "me"]
            argv += ["--users", "4", "--duration", "3", "--warmup", "1"]
            argv += ["--expect-remote-workers", "1", "--master-bind", root.address]
            argv += ["--master-port", str(port), "--results", str(tmp_path / "results")]
            environ = {**os.environ, PASSWORD_VARIABLE: seed.password}
            environ[USER_PREFIX_VARIABLE] = seed.prefix
            with running(_loadworker(far, root, port), tmp_path / "loadworker.out") as worker:
                done = subprocess.run(
                    argv, capture_output=True, text=True, timeout=240, check=False, env=environ
                )
                assert done.returncode == 0, done.stdout + done.stderr
                assert worker.wait(timeout_s=30) == 0, worker.output
    [run] = run_dirs(tmp_path / "results")
    meta, summary = load(run / "meta.json"), load(run / "summary.json")
    assert meta["status"] == "ok", meta["reason"]
    assert meta["target"] is not None and meta["base_url"] == url
    assert meta["load_workers"]["local"] == 1 and meta["load_workers"]["remote"] == 1
    [window] = latency.read(run / latency.FILE_NAME)
    assert sorted(span.process for span in window.processes) == ["worker 0", "worker 1"]
    assert all(span.recorded > 0 for span in window.processes)
    assert window.aggregate().get_total_count() == summary["requests"] - summary["failures"]
    _nothing_left(run.name, port)
