"""The open model for real: a server with a known service time, offered below and above it.

`/api/slow/?ms=50` (the `io` scenario) under one gunicorn sync worker serves one request at a
time, about 20 per second. One step load with ARRIVAL_RATE=10,30 and MAX_IN_FLIGHT=4
measures both sides of that capacity in one server process: at 10 rps both latencies stay
near the 50 ms service time and the window keeps up; at 30 rps the backlog grows by about
10 requests a second, so the corrected latency grows through the window, while the
uncorrected one stays bounded near 4 x 50 ms (four requests queue at the one worker), and
the run says it did not keep up, as a result, with status ok.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from loadtests import arrival
from scripts import bench, report
from tests.scripts.benchutil import load, run_dirs

SERVICE_MS = 50.0
IN_FLIGHT = 4


@pytest.mark.slow
def test_open_model_keeps_up_below_capacity_and_falls_behind_above_it(tmp_path: Path) -> None:
    status = bench.main(
        [
            "--server", "gunicorn", "--workers", "1", "--scenario", "io",
            "--shape", "steps", "--arrival-rate", "10,30", "--max-in-flight", str(IN_FLIGHT),
            "--duration", "5", "--warmup", "1", "--results", str(tmp_path),
        ]
    )  # fmt: skip
    assert status == 0
    [run] = run_dirs(tmp_path)
    meta, summary = load(run / "meta.json"), load(run / "summary.json")
    assert meta["status"] == "ok", meta["reason"]
    assert meta["load_model"] == "open" and meta["arrival_rates_rps"] == [10.0, 30.0]
    assert meta["max_in_flight"] == IN_FLIGHT and meta["user_steps"] == [IN_FLIGHT, IN_FLIGHT]
    below, above = (step["arrival"] for step in summary["steps"])

    assert below["offered_rps"] == 10.0 and below["kept_up"], below
    assert below["not_sent"] <= 1 and below["late"] <= 2
    for side in ("corrected", "uncorrected"):
        assert SERVICE_MS <= below[side]["p50_ms"] < 2 * SERVICE_MS, below[side]
    assert below["corrected"]["p50_ms"] - below["uncorrected"]["p50_ms"] < 10

    assert above["offered_rps"] == 30.0 and not above["kept_up"], above
    assert above["verdict"] == "did not keep up at 30 rps"
    assert 15 < above["achieved_rps"] < 24 and above["not_sent"] > 30
    assert 3 * SERVICE_MS < above["uncorrected"]["max_ms"] < 6 * SERVICE_MS, above
    by_second = above["corrected_mean_ms_by_second"]
    assert all(later > earlier for earlier, later in itertools.pairwise(by_second))
    assert by_second[-1] - by_second[0] > 1000  # ~0.5 s later for every second of backlog
    assert above["corrected"]["max_ms"] > 4 * above["uncorrected"]["max_ms"]
    assert summary["open_model"] == {
        "load_model": "open",
        "kept_up": False,
        "did_not_keep_up_at_rps": [30.0],
        "verdicts": ["kept up at 10 rps", "did not keep up at 30 rps"],
    }
    # the corrected histograms are on disk, one per step, exactly what summary.json says
    windows = arrival.read(run / arrival.FILE_NAME)
    assert [w.corrected.get_total_count() for w in windows] == [
        below["corrected"]["samples"],
        above["corrected"]["samples"],
    ]

    assert report.main(["--results", str(tmp_path)]) == 0
    page = (tmp_path / "report" / "index.html").read_text()
    assert 'id="open-model"' in page and "did not keep up at 30 rps" in page
    assert list((tmp_path / "report" / "charts").glob("open_model_*.png"))
