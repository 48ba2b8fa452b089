"""The measures that make the numbers trustworthy, on real short runs: CPU placement,
resource samples, generator saturation, interleaved repeats, several Locust processes."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from scripts import bench
from tests.scripts.benchutil import (
    FinishedBench,
    aggregated_row,
    agrees_with_locust,
    load,
    run_dirs,
)

pytestmark = pytest.mark.slow

SHORT = ["--duration", "4", "--warmup", "1", "--users", "4"]
TWO_CPUS = len(os.sched_getaffinity(0)) >= 2


@pytest.mark.skipif(not TWO_CPUS, reason="pinning needs at least two CPUs")
def test_split_pinning_puts_server_and_locust_on_disjoint_cpus(
    gunicorn_split_bench: FinishedBench,
) -> None:
    assert gunicorn_split_bench.status == 0
    [run] = run_dirs(gunicorn_split_bench.results)
    meta = load(run / "meta.json")
    placement, observed = meta["placement"], meta["observed_cpus"]
    assert placement["mode"] == "split"
    # read back from the kernel (psutil) while the load ran, not copied from the plan
    assert observed["server"] == placement["server_cpus"]
    assert observed["loadgen"] == placement["loadgen_cpus"]
    assert not set(observed["server"]) & set(observed["loadgen"])
    assert meta["workers"] == len(placement["server_cpus"])


def test_resources_csv_has_a_row_per_second_per_role(tmp_path: Path) -> None:
    assert bench.main(["--server", "uwsgi", *SHORT, "--results", str(tmp_path)]) == 0
    [run] = run_dirs(tmp_path)
    window = load(run / "window.json")
    with (run / "resources.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for role in ("server", "loadgen"):
        in_window = [
            r
            for r in rows
            if r["role"] == role
            and window["window_started_at"] <= float(r["timestamp"]) <= window["window_ended_at"]
        ]
        assert 3 <= len(in_window) <= 5, f"{role}: one sample a second over a 4 s window"
        assert all(float(r["rss_mb"]) > 10 for r in in_window)
        assert max(float(r["cpu_pct"]) for r in in_window) > 5
    server_rows = [r for r in rows if r["role"] == "server"]
    assert int(server_rows[-1]["processes"]) >= 2, "uWSGI master and worker both sampled"
    summary = load(run / "summary.json")
    assert summary["server_cpu_pct"] > 10
    assert summary["server_rss_peak_mb"] > 10
    assert summary["loadgen_cpu_pct"] > 0
    assert summary["rps_per_cpu_core"] == pytest.approx(
        summary["rps"] / (summary["server_cpu_pct"] / 100)
    )


def test_starved_generator_is_marked_invalid(tmp_path: Path) -> None:
    # every task burns 40 ms of Locust's CPU: the generator, not the server, is the limit
    status = bench.main(
        ["--server", "gunicorn", *SHORT, "--loadgen-burn-ms", "40", "--results", str(tmp_path)]
    )
    assert status == 1
    [run] = run_dirs(tmp_path)
    meta, summary = load(run / "meta.json"), load(run / "summary.json")
    assert meta["status"] == "invalid"
    assert meta["reason"].startswith("load generator saturated")
    assert summary["status"] == "invalid"
    # the CPU may be shared with other work, so the event loop's lateness is the sure sign
    assert summary["loadgen_loop_lag_mean_ms"] > 5


def test_repeats_are_interleaved_and_recorded(tmp_path: Path) -> None:
    assert (
        bench.main(
            [
                "--server",
                "gunicorn,runserver",
                "--repeats",
                "2",
                # the order is what is asserted, not the figures: the shortest window will do
                "--duration",
                "1",
                "--warmup",
                "0",
                "--users",
                "2",
                "--results",
                str(tmp_path),
            ]
        )
        == 0
    )
    metas = sorted(
        (load(run / "meta.json") for run in run_dirs(tmp_path)), key=lambda meta: meta["sequence"]
    )
    order = [(meta["server"], meta["repeat_index"]) for meta in metas]
    assert order == [("gunicorn", 0), ("runserver", 0), ("gunicorn", 1), ("runserver", 1)]
    assert len({meta["bench_id"] for meta in metas}) == 1
    assert len({meta["run_id"] for meta in metas}) == 4


def test_several_locust_processes_count_only_the_window(tmp_path: Path) -> None:
    assert (
        bench.main(
            [
                "--server",
                "gunicorn",
                "--locust-processes",
                "2",
                "--pin",
                "none",
                *SHORT,
                "--results",
                str(tmp_path),
            ]
        )
        == 0
    )
    [run] = run_dirs(tmp_path)
    summary, window = load(run / "summary.json"), load(run / "window.json")
    assert summary["failures"] == 0 and summary["requests"] > 0
    row = aggregated_row(run / "locust_stats.csv")
    assert agrees_with_locust(summary["requests"], int(row["Request Count"]))
    assert not any(name.endswith("(setup)") for name in summary["endpoints"])
    assert window["users_ready"] == 4
    # no pre-window report slipped in: requests per second of window stay plausible
    assert summary["requests"] / summary["window_s"] == pytest.approx(summary["rps"], rel=0.25)


def test_step_load_measures_one_window_per_step_and_applies_the_slo(tmp_path: Path) -> None:
    status = bench.main(
        [
            "--server",
            "gunicorn",
            "--shape",
            "steps",
            "--users",
            "2,4",
            # GET /api/me/ alone, the lightest request: 7 s steps still hold the 1,000
            # samples a p99 needs (loadtests/latency.py), which the SLO is judged on
            "--scenario",
            "me",
            "--step",
            "7",
            "--warmup",
            "0",
            "--slo-p99-ms",
            "100000",
            "--results",
            str(tmp_path),
        ]
    )
    assert status == 0
    [run] = run_dirs(tmp_path)
    meta, summary, window = (
        load(run / name) for name in ("meta.json", "summary.json", "window.json")
    )
    assert meta["shape"] == "steps" and meta["user_steps"] == [2, 4] and meta["users"] == 4
    steps = summary["steps"]
    assert [step["users"] for step in steps] == [2, 4]
    for step, observed in zip(steps, window["steps"], strict=True):
        row = aggregated_row(run / observed["stats_file"])
        assert agrees_with_locust(step["requests"], int(row["Request Count"]))
        assert step["requests"] > 1000 and step["p99_ms"] is not None
        assert 6.9 < step["window_s"] < 7.5
    first, second = window["steps"]
    assert first["window_ended_at"] <= second["window_started_at"], "windows do not overlap"
    assert summary["requests"] == steps[-1]["requests"], "top level = the largest step"
    assert summary["window_s"] == steps[-1]["window_s"]
    assert summary["slo"]["capacity_users"] == 4 and summary["slo"]["met_everywhere"]


def test_a_missed_slo_exits_3(tmp_path: Path) -> None:
    status = bench.main(
        ["--server", "runserver", *SHORT, "--slo-p99-ms", "0.001", "--results", str(tmp_path)]
    )
    assert status == bench.SLO_MISSED_STATUS == 3
    [run] = run_dirs(tmp_path)
    slo = load(run / "summary.json")["slo"]
    assert slo["met_everywhere"] is False and slo["first_miss_users"] == 4
