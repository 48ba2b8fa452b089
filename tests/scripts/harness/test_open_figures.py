"""arrival.json's windows as summary.json's figures (scripts/harness/open_figures.py)."""

from __future__ import annotations

from pathlib import Path

from loadtests import arrival
from loadtests.arrival import ArrivalSpan, ArrivalWindow
from scripts.harness.open_figures import read_arrival
from scripts.records.schema import ArrivalFigures


def _window() -> ArrivalWindow:
    window = ArrivalWindow(index=0, max_in_flight=4, started_at=10.0, ended_at=14.0)
    for n in range(40):  # 40 completions, each 10 ms later than the one before
        window.record(n // 10, corrected_us=50_000 + n * 10_000, uncorrected_us=50_000)
    window.intended, window.sent, window.not_sent, window.late = 120, 40, 80, 39
    window.processes = [ArrivalSpan("local", 10.0, 14.0, 30.0, 40)]
    return window


def test_figures_carry_the_accounting_both_latencies_and_the_verdict(tmp_path: Path) -> None:
    arrival.write(tmp_path / arrival.FILE_NAME, [_window()])
    [figures] = read_arrival(tmp_path)
    assert (figures.offered_rps, figures.achieved_rps) == (30.0, 10.0)
    assert not figures.kept_up and figures.verdict == "did not keep up at 30 rps"
    assert (figures.intended, figures.sent, figures.not_sent, figures.late) == (120, 40, 80, 39)
    assert figures.uncorrected.p50_ms is not None and 50 <= figures.uncorrected.p50_ms < 50.1
    assert figures.uncorrected.p99_ms is None  # 40 samples: too few for a p99
    assert figures.corrected.max_ms is not None and 439 < figures.corrected.max_ms < 441
    means = figures.corrected_mean_ms_by_second
    assert len(means) == 4 and means[0] is not None and means[3] is not None
    assert means[3] - means[0] == 300.0
    assert ArrivalFigures.from_json(figures.to_json()) == figures


def test_a_closed_loop_run_has_no_open_figures(tmp_path: Path) -> None:
    assert read_arrival(tmp_path) == []
