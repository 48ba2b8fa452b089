"""The bench for real: short runs against real servers, and its failure paths."""

from __future__ import annotations

import dataclasses
import signal
import subprocess
import sys
from pathlib import Path
from types import MappingProxyType

import pytest

from loadtests import latency
from scripts import bench
from scripts.records.schema import SCHEMA_VERSION
from servers import registry
from tests.process import running
from tests.scripts.benchutil import (
    SHORT,
    FinishedBench,
    aggregated_row,
    agrees_with_locust,
    load,
    locust_printed_total,
    processes_mentioning,
    run_dirs,
)

EXPECTED_FILES = {
    "meta.json",
    "summary.json",
    "window.json",
    "locust_stats.csv",
    "locust_stats_history.csv",
    "locust_failures.csv",
    "locust.html",
    "server.log",
}


def _assert_a_complete_run(results: Path, server: str, with_report: bool) -> None:
    assert (results / "report" / "index.html").exists() == with_report
    [run] = run_dirs(results)
    assert {p.name for p in run.iterdir()} >= EXPECTED_FILES
    assert not list((results / "runs").glob(".partial-*"))
    meta, summary = load(run / "meta.json"), load(run / "summary.json")
    assert meta["status"] == "ok" and meta["reason"] == ""
    assert meta["server"] == server and meta["users"] == 4 and meta["scenario"] == "mixed"
    assert meta["schema_version"] == SCHEMA_VERSION
    assert meta["versions"]["django"].startswith("5.2")
    assert meta["argv"] and meta["started_at"] <= meta["finished_at"]
    assert summary["requests"] > 0 and summary["failures"] == 0
    assert 2.9 < summary["window_s"] < 3.5
    # the figures are our own microsecond recording; Locust's CSV stays beside it
    row = aggregated_row(run / "locust_stats.csv")
    assert agrees_with_locust(summary["requests"], int(row["Request Count"]))
    assert summary["failures"] == int(row["Failure Count"]) == 0
    # written at once when the users stopped, the CSV holds Locust's final figures
    assert int(row["Request Count"]) == locust_printed_total(run)
    [window] = latency.read(run / "latency.json")
    assert summary["latency_source"] == "hdr_us" and summary["samples"] == window.recorded
    assert summary["p50_ms"] == latency.percentile(window.aggregate(), 0.5).value_ms
    assert summary["max_ms"] == window.aggregate().get_max_value() / 1000
    # rps over the window agrees with requests / window length (Locust's own rps uses the
    # last request's time, a few ms shorter)
    assert summary["rps"] == pytest.approx(summary["requests"] / summary["window_s"], rel=0.05)
    assert sum(e["requests"] for e in summary["endpoints"].values()) == summary["requests"]
    assert not any(name.endswith("(setup)") for name in summary["endpoints"])
    probe = load(results / "noise" / f"{meta['bench_id']}.json")
    assert probe["bench_id"] == meta["bench_id"] and probe["wall_s"] < 3.0
    assert all(0 < cpu_set["lent"] <= 1 for cpu_set in probe["sets"]), "the probe ran"


@pytest.mark.slow
def test_short_bench_with_report_writes_a_complete_run(
    gunicorn_split_bench: FinishedBench,
) -> None:
    assert gunicorn_split_bench.status == 0
    _assert_a_complete_run(gunicorn_split_bench.results, "gunicorn", with_report=True)


@pytest.mark.slow
def test_short_bench_writes_a_complete_run(tmp_path: Path) -> None:
    status = bench.main(["--server", "runserver", *SHORT, "--results", str(tmp_path)])
    assert status == 0
    _assert_a_complete_run(tmp_path, "runserver", with_report=False)


def _with_extra_server(monkeypatch: pytest.MonkeyPatch, spec: registry.ServerSpec) -> None:
    monkeypatch.setattr(
        registry, "SERVERS", MappingProxyType({**registry.SERVERS, spec.name: spec})
    )


@pytest.mark.slow
def test_wrong_app_is_a_failed_run_not_a_run_of_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    gunicorn = registry.get_server("gunicorn")
    broken = dataclasses.replace(
        gunicorn,
        name="gunicorn-wrong-app",
        app_module="broken_app:application",
        python_path=(str(fixtures),),
    )
    _with_extra_server(monkeypatch, broken)
    status = bench.main(["--server", broken.name, *SHORT, "--results", str(tmp_path)])
    assert status == 1
    [run] = run_dirs(tmp_path)
    meta = load(run / "meta.json")
    assert meta["status"] == "failed"
    assert meta["reason"].startswith("response check failed: POST /api/auth/token/: status 500")
    assert not (run / "summary.json").exists()
    assert not (run / "locust_stats.csv").exists(), "nothing may be measured"


@pytest.mark.slow
def test_server_that_cannot_import_is_a_failed_run_and_others_still_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gunicorn = registry.get_server("gunicorn")
    missing = dataclasses.replace(
        gunicorn,
        name="gunicorn-missing-app",
        app_module="config.missing:application",
    )
    _with_extra_server(monkeypatch, missing)
    status = bench.main(
        ["--server", f"{missing.name},gunicorn", *SHORT, "--results", str(tmp_path)]
    )
    assert status == 1
    by_server = {
        load(run / "meta.json")["server"]: load(run / "meta.json") for run in run_dirs(tmp_path)
    }
    assert by_server[missing.name]["status"] == "failed"
    assert "exited with status" in by_server[missing.name]["reason"]
    assert "config.missing" in by_server[missing.name]["reason"]
    assert by_server["gunicorn"]["status"] == "ok"


@pytest.mark.slow
def test_run_longer_than_token_lifetime_has_no_auth_failures(tmp_path: Path) -> None:
    status = bench.main(
        [
            "--server",
            "gunicorn",
            "--duration",
            "5",
            "--warmup",
            "0",
            "--users",
            "3",
            "--access-lifetime",
            "3",
            "--results",
            str(tmp_path),
        ]
    )
    assert status == 0
    [run] = run_dirs(tmp_path)
    summary = load(run / "summary.json")
    assert summary["failures"] == 0
    refreshes = summary["endpoints"]["POST /api/auth/token/refresh/"]["requests"]
    assert refreshes >= 3, "each user must have renewed its 3-second token in a 5-second window"
    assert summary["requests"] > refreshes


def _exit_of(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[object, str]:
    """(the exit status, stderr) of a bench that refuses its input: in-process, since bad
    input is found before anything starts (the results-path test below runs the module as a
    command, `python -m scripts.bench`, as make does)."""
    with pytest.raises(SystemExit) as exit_:
        bench.main(argv)
    return exit_.value.code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--server", "tomcat", "valid servers: all, every, runserver, gunicorn"),
        ("--users", "abc", "expected a whole number >= 1"),
        ("--users", "0", "expected a whole number >= 1"),
        ("--spawn-rate", "-1", "above 0"),
        ("--duration", "-5", "positive duration"),
        ("--duration", "ten", "positive duration"),
        ("--warmup", "-1", "positive duration"),
        ("--scenario", "nope", "invalid choice"),
        ("--workers", "0", "expected a whole number >= 1"),
        ("--threads", "x", "expected a whole number >= 1"),
        ("--port", "70000", "expected a port 1-65535"),
        ("--repeats", "0", "expected a whole number >= 1"),
        ("--access-lifetime", "0", "duration above zero"),
        ("--users", "8,16", "USERS takes one number unless SHAPE=steps"),
        ("--shape", "triangle", "invalid choice"),
        ("--step", "5s", "STEP is the window of each step"),
        ("--slo-p99-ms", "-3", "above 0"),
        ("--pin", "half", "invalid choice"),
        ("--locust-processes", "0", "expected a whole number >= 1"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(
    flag: str, value: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "results"
    status, stderr = _exit_of([flag, value, "--results", str(results)], capsys)
    assert status == 2
    assert message in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert not results.exists()


def test_workers_a_single_process_server_cannot_take_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--server", "daphne", "--workers", "2", "--results", str(tmp_path / "r")]
    status, stderr = _exit_of(argv, capsys)
    assert status == 2
    assert "daphne runs 1 process at most" in stderr
    assert not (tmp_path / "r").exists()


def test_results_path_that_is_a_file_exits_2(tmp_path: Path) -> None:
    occupied = tmp_path / "file"
    occupied.write_text("x")
    done = subprocess.run(
        [sys.executable, "-m", "scripts.bench", "--results", str(occupied)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "is not a directory" in done.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sent", "status_expected", "named"),
    [
        (signal.SIGINT, 130, "Ctrl-C (SIGINT)"),
        (signal.SIGHUP, 129, "SIGHUP (the terminal was closed)"),
        (signal.SIGTERM, 143, "SIGTERM"),
    ],
)
def test_a_signal_mid_run_leaves_no_process_and_records_a_failed_run(
    sent: signal.Signals, status_expected: int, named: str, tmp_path: Path
) -> None:
    results = tmp_path / "results"
    argv = [sys.executable, "-m", "scripts.bench", "--server", "gunicorn", "--duration", "60"]
    argv += ["--warmup", "0", "--users", "2", "--results", str(results)]
    with running(argv, tmp_path / "bench.out") as harness:
        harness.wait_until(
            lambda: bool(list((results / "runs").glob(".partial-*/window.json"))),
            timeout_s=60,
            what="measured window",
        )
        partial = next((results / "runs").glob(".partial-*/window.json")).parent
        run_id = partial.name.removeprefix(".partial-")
        port = str(load(partial / "meta.json")["port"])
        assert processes_mentioning(run_id), "Locust should be running"
        status = harness.interrupt(sent)
        output = harness.output
    assert status == status_expected, output
    [run] = run_dirs(results)
    meta = load(run / "meta.json")
    assert meta["status"] == "failed"
    assert meta["reason"] == f"interrupted by {named}"
    assert f"bench: interrupted by {named}" in output
    assert meta["finished_at"] is not None
    assert processes_mentioning(run_id) == []
    assert processes_mentioning(f"127.0.0.1:{port}") == []
    assert processes_mentioning(str(results)) == []
    assert not list((results / "runs").glob(".partial-*"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shape", "steps", "--users", "16,8"], "at least two increasing user counts"),
        (["--shape", "steps", "--users", "8"], "at least two increasing user counts"),
        (
            ["--expect-remote-workers", "1"],
            "EXPECT_REMOTE_WORKERS needs HOST=<this machine's address",
        ),
        (["--expect-remote-workers", "-1"], "expected a whole number >= 0"),
        (["--master-port", "0"], "expected a port 1-65535"),
        (["--workers-max-wait", "soon"], "positive duration"),
    ],
)
def test_bad_step_and_worker_plans_exit_2(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, stderr = _exit_of([*args, "--results", str(tmp_path / "r")], capsys)
    assert status == 2
    assert message in stderr
    assert not (tmp_path / "r").exists()
