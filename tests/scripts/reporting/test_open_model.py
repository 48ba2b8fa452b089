"""The report's open-model section (scripts/reporting/open_model.py) on fixture runs: a
closed-loop run gets the coordinated-omission note; an open one its table and chart."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

from scripts.records.schema import ArrivalFigures, LatencyFigures, read_summary
from scripts.reporting.load import load_run
from scripts.reporting.open_model import (
    CLOSED_LOOP_NOTE,
    OPEN_IN_TABLES_NOTE,
    closed_loop_notes,
    draw_open_model_chart,
    open_model_html,
    open_model_markdown,
    open_rows,
)

STEP_RUNS = Path(__file__).resolve().parents[2] / "fixtures" / "step_runs" / "runs"


def _window(offered: float, achieved: float, corrected_p50: float) -> ArrivalFigures:
    return ArrivalFigures(
        offered_rps=offered, achieved_rps=achieved, max_in_flight=4, keep_up_margin=0.05,
        kept_up=achieved >= 0.95 * offered, intended=int(offered * 3), sent=int(achieved * 3),
        not_sent=int((offered - achieved) * 3), late=0, late_after_ms=5.0, failures=0,
        corrected=LatencyFigures(30, p50_ms=corrected_p50, max_ms=corrected_p50 * 2),
        uncorrected=LatencyFigures(30, p50_ms=51.0, max_ms=210.0),
    )  # fmt: skip


def _open_copy(tmp_path: Path) -> Path:
    """The gunicorn step run, as if its three steps had been offered 10, 20 and 30 rps."""
    source = next(path for path in STEP_RUNS.iterdir() if "gunicorn" in path.name)
    run = tmp_path / source.name
    shutil.copytree(source, run)
    summary = read_summary(run / "summary.json")
    windows = (_window(10, 10, 52.0), _window(20, 19.6, 60.0), _window(30, 19.0, 1500.0))
    steps = tuple(replace(s, arrival=w) for s, w in zip(summary.steps, windows, strict=True))
    document = replace(summary, steps=steps, arrival=windows[-1]).to_json()
    (run / "summary.json").write_text(json.dumps(document))
    return run


def test_closed_loop_runs_get_the_coordinated_omission_note() -> None:
    records = [load_run(path)[0] for path in sorted(STEP_RUNS.iterdir())]
    assert closed_loop_notes(records) == [CLOSED_LOOP_NOTE]
    assert open_rows(records) == [] and open_model_html(records, []) == ""


def test_an_open_run_has_a_row_per_step_a_chart_and_its_verdicts(tmp_path: Path) -> None:
    record, _ = load_run(_open_copy(tmp_path))
    assert record.usable, record.reason
    rows = open_rows([record])
    assert [row.figures.offered_rps for row in rows] == [10, 20, 30]
    assert [row.figures.kept_up for row in rows] == [True, True, False]
    assert closed_loop_notes([record]) == [OPEN_IN_TABLES_NOTE]
    charts_dir = tmp_path / "charts"
    charts_dir.mkdir()
    [chart] = draw_open_model_chart([record], charts_dir)
    assert chart.path.stat().st_size > 10_000
    page = open_model_html([record], ["<figure>chart</figure>"])
    assert "kept up at 20 rps" in page and "did not keep up at 30 rps" in page
    assert "<figure>chart</figure>" in page and "1,500.0" in page
    assert "| 30 | 19.0 | did not keep up at 30 rps |" in open_model_markdown([record])
