"""`make calibrate` as a command: a short real calibration, its failure paths, exit codes.

The package's units are tested in tests/scripts/harness/calibration/. The real runs need
wrk; without it they skip with the reason, except on CI (CI=true), where `make system-deps`
installs wrk and a skip would hide a missing reference.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import MappingProxyType

import pytest

from scripts import calibrate
from scripts.harness.calibration import run
from scripts.records.schema import SCHEMA_VERSION
from scripts.reporting.calibration import calibration_section
from servers import registry
from tests.scripts.benchutil import load, processes_mentioning
from tests.scripts.test_wrk import require_wrk

PROJECT_DIR = Path(__file__).resolve().parents[2]
SHORT = ["--server", "gunicorn", "--duration", "2", "--users", "4", "--pairs", "1"]


def calibration_dirs(results: Path) -> list[Path]:
    root = results / "calibrations"
    return sorted(p for p in root.iterdir() if not p.name.startswith(".")) if root.exists() else []


def wrk_processes(base_url: str) -> list[str]:
    """Live wrk processes loading `base_url` (other wrk runs on the machine do not count)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if comm == "wrk" and base_url in cmdline and state != "Z":
            found.append(f"{entry.name}: {cmdline}")
    return found


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scripts.calibrate", *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


@pytest.mark.slow
def test_short_calibration_writes_a_complete_result(tmp_path: Path) -> None:
    require_wrk()
    status = calibrate.main([*SHORT, "--warmup", "1", "--results", str(tmp_path)])
    [directory] = calibration_dirs(tmp_path)
    document = load(directory / "calibration.json")
    assert status == 0, document["reason"]
    assert not list((tmp_path / "calibrations").glob(".partial-*"))
    assert {"calibration.json", "wrk-1.txt", "harness-1", "server.log"} <= {
        p.name for p in directory.iterdir()
    }
    assert not list(directory.glob(".wrk-*")), "the warm-up output is discarded"
    harness_dir = directory / "harness-1"
    assert (harness_dir / "locust_stats.csv").exists() and (harness_dir / "window.json").exists()

    assert document["schema_version"] == SCHEMA_VERSION
    assert document["calibration_id"] == directory.name
    assert document["status"] == "ok" and document["reason"] == ""
    assert document["server"] == "gunicorn"
    assert document["users"] == document["connections"] == 4
    assert document["duration_s"] == 2 and document["target"] == 0.95
    assert document["versions"]["wrk"].startswith("wrk ")
    assert document["versions"]["locust"]
    assert document["placement"]["mode"] in {"split", "none"}
    argv = " ".join(document["wrk_argv"])
    assert "-s wrk-tokens.lua" in argv and argv.endswith("-- <tokens file>")
    assert (directory / "wrk-tokens.lua").exists()
    published = [p for p in directory.rglob("*") if p.is_file()]
    assert not [p for p in published if "eyJ" in p.read_text(errors="replace")], "no JWT kept"
    [pair] = document["pairs"]
    wrk, harness = pair["wrk"], pair["harness"]
    assert pair["index"] == 1 and pair["order"] == ["W", "H"]
    assert wrk["rps"] > 0 and harness["rps"] > 0
    assert wrk["errors"] == 0 and harness["failures"] == 0
    assert wrk["p50_ms"] > 0 and harness["p50_ms"] > 0
    assert pair["ratio"] == pytest.approx(harness["rps"] / wrk["rps"])
    assert pair["ratio"] > 0 and document["ratio_median"] == pair["ratio"]
    # a shared machine may be noisy right now: then there is no verdict, and the flags say why
    assert document["noisy_pairs"] == (1 if pair["noise_flags"] else 0)
    assert document["machine_too_noisy"] is bool(pair["noise_flags"])
    assert isinstance(document["target_met"], bool) != document["machine_too_noisy"]
    assert [e["name"] for e in document["estimates"]] == ["cv_ratio", "median_ratio"]
    assert harness["run_dir"] == "harness-1"
    for side in (wrk, harness):  # the series saw what the server served, one connection each
        series = side["series"]
        assert series["served_requests"] > 0
        assert 0.95 < series["connections_per_request"] < 1.1, "gunicorn closes each one"
        assert series["server_user_ms_per_request"] > 0
    wrk_text = (directory / wrk["output"]).read_text()
    assert f"{wrk['requests']} requests in" in wrk_text
    assert document["started_at"] <= document["finished_at"]

    port = document["base_url"].rsplit(":", 1)[1]
    assert processes_mentioning(f"127.0.0.1:{port}") == []
    assert processes_mentioning(str(tmp_path)) == []
    assert wrk_processes(document["base_url"]) == []
    section = calibration_section(tmp_path)
    assert 'id="calibration"' in section and directory.name in section


@pytest.mark.slow
def test_a_stop_signal_during_wrk_stops_everything_and_exits_with_its_status(
    tmp_path: Path,
) -> None:
    require_wrk()
    results = tmp_path / "results"
    harness = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scripts.calibrate",
            *SHORT[:2],
            "--duration",
            "30",
            "--warmup",
            "0",
            "--users",
            "2",
            "--pairs",
            "1",
            "--results",
            str(results),
        ],
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 40
        outputs: list[Path] = []
        while time.monotonic() < deadline and not outputs:
            outputs = list((results / "calibrations").glob(".partial-*/wrk-1.txt"))
            time.sleep(0.2)
        assert outputs, "wrk never started"
        time.sleep(1.0)
        base_url = load(outputs[0].parent / "calibration.json")["base_url"]
        assert wrk_processes(base_url), "wrk should be running"
        harness.send_signal(signal.SIGTERM)  # Ctrl-C takes the same path, as 130
        output, _ = harness.communicate(timeout=40)
    finally:
        if harness.poll() is None:
            harness.kill()
            harness.wait()
    assert harness.returncode == 143, output
    [directory] = calibration_dirs(results)
    document = load(directory / "calibration.json")
    assert document["status"] == "failed" and document["reason"] == "interrupted by SIGTERM"
    assert document["target_met"] is None and document["finished_at"] is not None
    port = document["base_url"].rsplit(":", 1)[1]
    assert processes_mentioning(f"127.0.0.1:{port}") == []
    assert processes_mentioning(str(results)) == []
    assert wrk_processes(document["base_url"]) == []


def _with_extra_server(monkeypatch: pytest.MonkeyPatch, spec: registry.ServerSpec) -> None:
    monkeypatch.setattr(
        registry, "SERVERS", MappingProxyType({**registry.SERVERS, spec.name: spec})
    )


def assert_nothing_left(document: dict[str, object], results: Path) -> None:
    base_url = str(document["base_url"])
    assert processes_mentioning(f"127.0.0.1:{base_url.rsplit(':', 1)[1]}") == []
    assert processes_mentioning(str(results)) == []
    assert wrk_processes(base_url) == []


@pytest.mark.slow
def test_a_server_that_fails_the_response_check_is_a_failed_calibration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    require_wrk()
    broken = dataclasses.replace(
        registry.get_server("gunicorn"),
        name="gunicorn-wrong-app",
        app_module="broken_app:application",
        python_path=(str(PROJECT_DIR / "tests" / "fixtures"),),
    )
    _with_extra_server(monkeypatch, broken)
    status = calibrate.main(["--server", broken.name, *SHORT[2:], "--results", str(tmp_path)])
    assert status == 1
    [directory] = calibration_dirs(tmp_path)
    document = load(directory / "calibration.json")
    assert document["status"] == "failed"
    assert document["reason"].startswith("response check failed: POST /api/auth/token/: status 500")
    assert document["pairs"] == [] and document["target_met"] is None
    assert not list(directory.glob("wrk-*.txt")) and not list(directory.glob("harness-*"))
    printed = capsys.readouterr().out
    assert "priming" not in printed, "no load on a server that answers wrongly"
    assert "median ratio harness/wrk in 0.95-1.05" in printed
    assert "not judged, status failed" in printed
    assert_nothing_left(document, tmp_path)


@pytest.mark.slow
def test_an_unexpected_error_is_recorded_published_and_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_wrk()

    def broken_priming(base_url: str, seed: object) -> None:
        raise RuntimeError("a bug in the harness")

    monkeypatch.setattr(run, "prime_server", broken_priming)
    with pytest.raises(RuntimeError, match="a bug in the harness"):
        calibrate.main([*SHORT, "--results", str(tmp_path)])
    [directory] = calibration_dirs(tmp_path)
    document = load(directory / "calibration.json")
    assert document["status"] == "failed"
    assert document["reason"] == "internal error: RuntimeError: a bug in the harness"
    assert document["finished_at"] is not None
    assert_nothing_left(document, tmp_path)


@pytest.mark.slow
def test_plain_locust_and_candidate_causes_run_as_sides_of_their_own(tmp_path: Path) -> None:
    """One calibration with every kind of extra side: plain Locust as a third reference,
    and two candidate causes, each a wrk side right before the plain one in pair 1."""
    require_wrk()
    extra = ["--reference", "wrk,locust", "--causes", "locust-headers,busy-generator"]
    status = calibrate.main([*SHORT, "--warmup", "1", *extra, "--results", str(tmp_path)])
    [directory] = calibration_dirs(tmp_path)
    document = load(directory / "calibration.json")
    assert status == 0, document["reason"]
    assert document["references"] == ["wrk", "locust"]
    [pair] = document["pairs"]
    assert pair["order"] == ["X", "B", "W", "L", "H"]
    locust = pair["locust"]
    assert locust["run_dir"] == "locust-1" and locust["failures"] == 0
    assert 2.0 < locust["window_s"] < 3.5, "from the reset to the stop, -t with its slack"
    assert locust["rps"] == pytest.approx(locust["requests"] / locust["window_s"])
    assert pair["locust_ratio"] == pytest.approx(locust["rps"] / pair["wrk"]["rps"])
    assert locust["series"]["served_requests"] > 0
    assert (directory / "locust-1" / "locust_stats.csv").exists()
    names = {(e["name"], e["numerator"], e["denominator"]) for e in document["estimates"]}
    assert ("median_ratio", "harness", "locust") in names
    assert ("cv_ratio", "locust", "wrk") in names
    assert document["causes"] == ["locust-headers", "busy-generator"]
    for name in document["causes"]:
        side = pair["causes"][name]
        assert side["rps"] > 0 and side["errors"] == 0
        assert side["output"] == f"wrk-{name}-1.txt" and (directory / side["output"]).exists()
        assert side["series"]["served_requests"] > 0
        assert side["server_cpu_ms_per_request"] > 0
        assert (directory / f"wrk-{name}.lua").exists()
    # the loop beside wrk is another process on the machine: the busy CPU shows it
    busy, plain = pair["causes"]["busy-generator"], pair["wrk"]
    assert busy["other_cpu_pct"] > plain["other_cpu_pct"] + 30
    assert not list(directory.glob(".busy-generator-*")), "the loop's output is removed"
    effects = {effect["cause"]: effect for effect in document["cause_effects"]}
    assert list(effects) == document["causes"]
    assert all(
        effect["pairs"] == 1 and effect["rps_reading"] == "no CI" for effect in effects.values()
    )
    assert_nothing_left(document, tmp_path)


def test_missing_wrk_binary_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    results = tmp_path / "results"
    done = run_cli("--wrk", str(tmp_path / "no-such-wrk"), "--results", str(results))
    assert done.returncode == 2
    assert "wrk not found" in done.stderr and "make system-deps" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not results.exists()


def test_wrk_not_on_path_exits_2(tmp_path: Path) -> None:
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    env = {**os.environ, "PATH": str(empty_bin)}
    done = run_cli("--results", str(tmp_path / "results"), env=env)
    assert done.returncode == 2
    assert "wrk not found ('wrk' on PATH)" in done.stderr and "make system-deps" in done.stderr
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--server", "tomcat", "valid servers: runserver, gunicorn"),
        ("--duration", "1.5s", "whole seconds"),
        ("--duration", "0", "duration above zero"),
        ("--users", "abc", "expected a whole number >= 1"),
        ("--pairs", "0", "expected a whole number >= 1"),
        ("--pin", "half", "invalid choice"),
        ("--workers", "0", "expected a whole number >= 1"),
    ],
)
def test_bad_input_exits_2(
    flag: str, value: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # in-process: bad input is found before anything starts (the two tests above run the
    # module as a command, as make does)
    with pytest.raises(SystemExit) as exit_:
        calibrate.main([flag, value, "--results", str(tmp_path / "results")])
    stderr = capsys.readouterr().err
    assert exit_.value.code == 2
    assert message in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert not (tmp_path / "results").exists()


def test_make_calibrate_passes_causes_and_reference_on() -> None:
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "calibrate", "CAUSES=all", "REFERENCE=wrk,locust"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--causes 'all'" in done.stdout and "--reference 'wrk,locust'" in done.stdout
