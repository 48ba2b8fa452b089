"""Per-run figures for verdicts (scripts/reporting/run_windows.py): where they come from,
the percentile sample rule, failed runs and step loads."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from loadtests.latency import min_samples
from scripts.records.schema import WindowFigures
from scripts.reporting.load import load_run
from scripts.reporting.run_windows import (
    goodput_rps,
    measured_windows,
    percentile_shortfall,
)
from tests.fixtures.derived_runs import FIXTURE_RUNS, SOURCE, derive_run

STEP_RUNS = FIXTURE_RUNS.parent / "step_runs" / "runs"


def test_goodput_is_summary_json_rps() -> None:
    record, _ = load_run(SOURCE)
    (window,) = measured_windows([record])
    summary = json.loads((SOURCE / "summary.json").read_text())
    assert window.usable
    assert window.values["goodput_rps"] == summary["rps"]
    assert window.values["p50_ms"] == summary["p50_ms"]
    assert window.values["p99_ms"] == summary["p99_ms"]
    assert window.latency_samples == summary["requests"]


def test_goodput_rps_is_preferred_where_a_summary_has_it() -> None:
    """A schema-2 summary has goodput_rps (successes only); a schema-1 one only rps."""
    figures = WindowFigures(requests=10, failures=2, error_rate=0.2, rps=100.0)
    assert goodput_rps(figures) == 100.0
    assert goodput_rps(replace(figures, goodput_rps=80.0)) == 80.0


def test_percentile_rule_is_latency_py_s(tmp_path: Path) -> None:
    needed = min_samples(0.99)
    assert needed == 1000
    just = derive_run(tmp_path / "runs", "aaa001", {"requests": needed})
    short = derive_run(tmp_path / "runs", "aaa002", {"requests": needed - 1})
    windows = measured_windows([load_run(just)[0], load_run(short)[0]])
    assert percentile_shortfall("p99_ms", windows[:1]) == ""
    reason = percentile_shortfall("p99_ms", windows)
    assert "p99 needs 1,000 samples" in reason and short.name in reason and "999" in reason
    assert percentile_shortfall("p50_ms", windows) == ""  # p50 needs 20
    assert percentile_shortfall("goodput_rps", windows) == ""


def test_failed_runs_are_placed_but_not_usable() -> None:
    failed = next(FIXTURE_RUNS.glob("*-fa11ed"))
    unreadable_meta = next(FIXTURE_RUNS.glob("*-c0ffee"))
    windows = measured_windows([load_run(failed)[0], load_run(unreadable_meta)[0]])
    (window,) = windows  # a run without a readable meta.json cannot be placed
    assert not window.usable and window.values == {}
    assert window.configuration.server == "gunicorn" and window.group.users == 4


def test_a_step_run_has_one_window_per_step() -> None:
    run_dir = sorted(STEP_RUNS.iterdir())[0]
    summary = json.loads((run_dir / "summary.json").read_text())
    windows = measured_windows([load_run(run_dir)[0]])
    assert [w.group.users for w in windows] == [step["users"] for step in summary["steps"]]
    assert [w.values["goodput_rps"] for w in windows] == [s["rps"] for s in summary["steps"]]
    assert {w.group.shape for w in windows} == {"steps"}
