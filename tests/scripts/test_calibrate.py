"""`make calibrate`: a short real calibration, its failure paths, and the report section.

The real runs need wrk; without it they skip with the reason, except on CI (CI=true), where
`make system-deps` installs wrk and a skip would hide a missing reference.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from scripts import calibrate
from scripts.reporting.calibration import calibration_section
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

    assert document["schema_version"] == 1
    assert document["calibration_id"] == directory.name
    assert document["status"] == "ok" and document["reason"] == ""
    assert document["server"] == "gunicorn"
    assert document["users"] == document["connections"] == 4
    assert document["duration_s"] == 2 and document["target"] == 0.95
    assert document["versions"]["wrk"].startswith("wrk ")
    assert document["versions"]["locust"]
    assert document["placement"]["mode"] in {"split", "none"}
    assert "<token>" in " ".join(document["wrk_argv"])
    [pair] = document["pairs"]
    wrk, harness = pair["wrk"], pair["harness"]
    assert pair["index"] == 1 and pair["order"] == ["W", "H"]
    assert wrk["rps"] > 0 and harness["rps"] > 0
    assert wrk["errors"] == 0 and harness["failures"] == 0
    assert wrk["p50_ms"] > 0 and harness["p50_ms"] > 0
    assert pair["ratio"] == pytest.approx(harness["rps"] / wrk["rps"])
    assert pair["ratio"] > 0 and document["ratio_median"] == pair["ratio"]
    assert isinstance(document["target_met"], bool)
    assert harness["run_dir"] == "harness-1"
    wrk_text = (directory / wrk["output"]).read_text()
    assert f"{wrk['requests']} requests in" in wrk_text
    assert document["started_at"] <= document["finished_at"]

    port = document["base_url"].rsplit(":", 1)[1]
    assert processes_mentioning(f"127.0.0.1:{port}") == []
    assert processes_mentioning(str(tmp_path)) == []
    assert wrk_processes(document["base_url"]) == []
    section = calibration_section(tmp_path)
    assert 'id="calibration"' in section and directory.name in section


def test_sigint_during_wrk_stops_everything_and_records_a_failure(tmp_path: Path) -> None:
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
        harness.send_signal(signal.SIGINT)
        output, _ = harness.communicate(timeout=40)
    finally:
        if harness.poll() is None:
            harness.kill()
            harness.wait()
    assert harness.returncode == 130, output
    [directory] = calibration_dirs(results)
    document = load(directory / "calibration.json")
    assert document["status"] == "failed" and "interrupted" in document["reason"]
    assert document["target_met"] is None and document["finished_at"] is not None
    port = document["base_url"].rsplit(":", 1)[1]
    assert processes_mentioning(f"127.0.0.1:{port}") == []
    assert processes_mentioning(str(results)) == []
    assert wrk_processes(document["base_url"]) == []


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
def test_bad_input_exits_2(flag: str, value: str, message: str, tmp_path: Path) -> None:
    done = run_cli(flag, value, "--results", str(tmp_path / "results"))
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "results").exists()


def test_pairs_alternate_which_side_goes_first() -> None:
    orders = [calibrate.pair_order(index) for index in range(4)]
    assert orders == [("wrk", "harness"), ("harness", "wrk")] * 2


def _pair(index: int, wrk_rps: float, harness_rps: float, **extra: Any) -> dict[str, Any]:
    wrk = {"rps": wrk_rps, "p50_ms": 10.0 + index, "errors": 0, "error_summary": ""}
    harness = {"rps": harness_rps, "p50_ms": 11.0 + index, "failures": 0}
    wrk.update(extra.get("wrk", {}))
    harness.update(extra.get("harness", {}))
    return {
        "index": index,
        "order": ["W", "H"],
        "wrk": wrk,
        "harness": harness,
        "ratio": harness_rps / wrk_rps,
    }


def _document(pairs: list[dict[str, Any]], status: str) -> dict[str, Any]:
    return {
        "pairs": pairs,
        "status": status,
        "target": 0.95,
        "target_met": None,
        "ratio_median": None,
        "notes": [],
    }


def test_median_ratio_and_target_verdict() -> None:
    pairs = [_pair(1, 100, 90), _pair(2, 100, 99), _pair(3, 100, 97)]
    assert calibrate.judge(pairs, 3) == ("ok", "")
    document = _document(pairs, "ok")
    calibrate.aggregate(document)
    assert document["ratio_median"] == pytest.approx(0.97)
    assert (document["ratio_min"], document["ratio_max"]) == (pytest.approx(0.9), 0.99)
    assert document["wrk_p50_ms_median"] == 12.0 and document["harness_p50_ms_median"] == 13.0
    assert document["target_met"] is True
    assert document["notes"] == [], "a spread of 0.09 is narrow enough"
    wide = _document([*pairs, _pair(4, 100, 120)], "ok")
    calibrate.aggregate(wide)
    [note] = wide["notes"]
    assert "spread from 0.900 to 1.200" in note


def test_errors_on_either_side_make_the_calibration_invalid() -> None:
    pairs = [
        _pair(1, 100, 99, wrk={"errors": 5, "error_summary": "5 non-2xx/3xx responses"}),
        _pair(2, 100, 99, harness={"failures": 2}),
    ]
    status, reason = calibrate.judge(pairs, 2)
    assert status == "invalid"
    assert "pair 1: wrk: 5 non-2xx/3xx responses" in reason
    assert "pair 2: harness: 2 failed requests" in reason
    document = _document(pairs, status)
    calibrate.aggregate(document)
    assert document["ratio_median"] == pytest.approx(0.99)
    assert document["target_met"] is None, "an invalid calibration is not judged"


def test_missing_pairs_fail_and_a_saturated_locust_is_a_remark_not_an_error() -> None:
    assert calibrate.judge([_pair(1, 100, 99)], 3)[0] == "failed"
    saturated = _pair(1, 100, 70, harness={"loadgen_cpu_pct": 97.0})
    assert calibrate.judge([saturated], 1) == ("ok", "")
    [remark] = calibrate.pair_remarks(saturated)
    assert "Locust was CPU-bound (97 %" in remark


def _write_calibration(results: Path, name: str, content: str) -> None:
    directory = results / "calibrations" / name
    directory.mkdir(parents=True)
    (directory / "calibration.json").write_text(content)


def test_report_section_lists_calibrations_and_notes_unreadable_ones(tmp_path: Path) -> None:
    assert calibration_section(tmp_path) == ""
    document = _document([_pair(1, 100, 97)], "ok")
    calibrate.aggregate(document)
    document.update(
        calibration_id="20260101T000000Z-gunicorn-me-u16-aaaaaa",
        server="gunicorn",
        workers=1,
        connections=16,
        pairs_planned=1,
    )
    _write_calibration(tmp_path, document["calibration_id"], json.dumps(document))
    invalid = {**document, "status": "invalid", "target_met": None, "server": "<uwsgi>"}
    _write_calibration(tmp_path, "20260101T000100Z-uwsgi-me-u16-bbbbbb", json.dumps(invalid))
    _write_calibration(tmp_path, "20260101T000200Z-uvicorn-me-u16-cccccc", "{not json")
    _write_calibration(tmp_path, ".partial-20260101T000300Z-x", "{}")
    section = calibration_section(tmp_path)
    assert section.startswith('<section id="calibration">') and section.endswith("</section>")
    assert section.count("<tbody><tr>") == 1 and section.count("<tr") == 3  # head + 2 rows
    assert "0.970" in section and "yes (&ge; 0.95)" in section and "not judged" in section
    assert "<td>0.970-0.970</td>" in section
    assert "&lt;uwsgi&gt;" in section and "<uwsgi>" not in section
    assert "20260101T000200Z-uvicorn-me-u16-cccccc: JSONDecodeError" in section
    assert ".partial" not in section


def test_a_server_bound_on_both_sides_is_named_as_the_cause() -> None:
    busy = {"server_cpu_pct": 99.0, "loadgen_cpu_pct": 30.0}
    pair = _pair(
        1,
        400,
        300,
        wrk={**busy, "server_cpu_ms_per_request": 2.5},
        harness={**busy, "server_cpu_ms_per_request": 3.3},
    )
    [remark] = calibrate.pair_remarks(pair, server_capacity_pct=100.0)
    assert "server was the bottleneck on both sides" in remark and "2.50/3.30 ms" in remark
    assert calibrate.pair_remarks(pair, server_capacity_pct=None) == [], "unpinned: no claim"
    close = _pair(1, 400, 390, wrk=pair["wrk"], harness=pair["harness"])
    assert calibrate.pair_remarks(close, server_capacity_pct=100.0) == []
    saturated = _pair(
        1, 400, 300, wrk=pair["wrk"], harness={**pair["harness"], "loadgen_cpu_pct": 95.0}
    )
    [remark] = calibrate.pair_remarks(saturated, server_capacity_pct=100.0)
    assert "Locust was CPU-bound" in remark, "a saturated generator is the cause instead"


def test_machine_cpu_usage_over_a_window() -> None:
    meter = calibrate.MachineCpu()
    meter.readings = [
        calibrate.CpuReading(at=10.0, busy_s=100.0, steal_s=1.0),
        calibrate.CpuReading(at=11.0, busy_s=101.5, steal_s=1.1),
        calibrate.CpuReading(at=12.0, busy_s=102.0, steal_s=1.2),
        calibrate.CpuReading(at=20.0, busy_s=200.0, steal_s=9.0),
    ]
    usage = meter.usage(10.0, 12.0)
    assert usage is not None
    assert usage.busy_pct == pytest.approx(100.0) and usage.steal_pct == pytest.approx(10.0)
    assert meter.usage(11.5, 12.5) is None, "one reading is not a rate"
