"""scripts/reporting/noise.py: the noise section and the "too noisy" headline, on copies of
the committed fixture runs (tests/fixtures/README.md) with and without recorded noise.

The fixtures predate the bench's noise record, so the copies get `steal_pct`,
`other_cpu_pct` and `machine_noisy` written into their summary.json here: the figures are a
test's choice of machine (a sweep with high steal), not measurements.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from scripts import report
from scripts.reporting.noise import HEADLINE, NO_RECORD, RunNoise, explain

FIXTURE_RUNS = Path(__file__).resolve().parents[2] / "fixtures" / "runs"


def copied_results(tmp_path: Path) -> Path:
    results = tmp_path / "results"
    shutil.copytree(FIXTURE_RUNS, results / "runs")
    return results


def record_noise(results: Path, steal_pct: float, other_cpu_pct: float, noisy: bool) -> int:
    """Write the noise fields into every readable summary.json; how many were written."""
    written = 0
    for summary in sorted((results / "runs").glob("*/summary.json")):
        try:
            document = json.loads(summary.read_text())
        except ValueError:
            continue
        document.update(steal_pct=steal_pct, other_cpu_pct=other_cpu_pct, machine_noisy=noisy)
        summary.write_text(json.dumps(document))
        written += 1
    return written


def produce(results: Path) -> tuple[str, str]:
    assert report.main(["--results", str(results)]) == 0
    output = results / "report"
    return (output / "summary.md").read_text(), (output / "index.html").read_text()


def test_a_sweep_with_high_recorded_steal_is_headlined_too_noisy_to_rank(
    tmp_path: Path,
) -> None:
    results = copied_results(tmp_path)
    assert record_noise(results, steal_pct=30.0, other_cpu_pct=4.0, noisy=True) > 0
    markdown, page = produce(results)
    title, blank, headline = markdown.splitlines()[:3]
    assert title == "# Benchmark summary" and blank == ""
    assert headline.startswith(f"**{HEADLINE}: 9 of 9 runs were flagged noisy")
    assert HEADLINE in page and 'id="noise-headline"' in page
    assert page.index('id="noise-headline"') < page.index("<nav>"), "it opens the page"
    assert "## Run-to-run spread and machine noise" in markdown
    assert "| 34.0 |" in markdown, "the mean recorded steal + other CPU of a configuration"


def test_a_quiet_sweep_has_no_headline_and_unrecorded_runs_say_so(tmp_path: Path) -> None:
    results = copied_results(tmp_path)
    markdown, page = produce(results)
    assert HEADLINE not in markdown and HEADLINE not in page
    noise_table = markdown.split("## Run-to-run spread and machine noise")[1]
    rows = [line for line in noise_table.splitlines() if line.startswith("| scenario")]
    assert len(rows) == 6, "one row per configuration of the constant-load fixtures"
    assert all(row.endswith(f"| {NO_RECORD} |") or "one run" in row for row in rows)
    assert "No run has a noise record" in page
    quiet = copied_results(tmp_path / "quiet")
    record_noise(quiet, steal_pct=0.5, other_cpu_pct=2.0, noisy=False)
    markdown, _ = produce(quiet)
    assert HEADLINE not in markdown and NO_RECORD not in markdown


def _runs(rps: list[float], noise_pct: list[float], cpus: int = 2) -> list[RunNoise]:
    return [
        RunNoise(f"r{i}", value, noise, 0.0, None, cpus)
        for i, (value, noise) in enumerate(zip(rps, noise_pct, strict=True))
    ]


def test_noise_that_took_the_capacity_the_runs_lost_explains_all_their_spread() -> None:
    noise = [0.0, 20.0, 40.0]  # % of one CPU on 2 CPUs: 0, 10 and 20 % of the server's
    rps = [500 * (1 - n / 200) for n in noise]
    adjusted_cv, explained = explain(_runs(rps, noise))
    assert explained == pytest.approx(1.0) and adjusted_cv == pytest.approx(0.0, abs=1e-12)
    unrelated = explain(_runs([450.0, 500.0, 550.0], [0.0, 0.0, 40.0]))
    assert unrelated[1] == 0.0, "noise that does not follow the rates explains nothing"
    raw_cv = float(np.std([450, 500, 550], ddof=1) / 500)
    assert unrelated[0] is not None and unrelated[0] > raw_cv, "the adjustment adds spread"
    half = explain(_runs([400.0, 500.0], [50.0, 0.0]))  # 25 % of the server lost: 400 -> 533
    assert half[1] is not None and 0 < half[1] < 1
    assert half[0] == pytest.approx((400 / 0.75 - 500) / math.sqrt(2) / 516.6667, rel=1e-3)
    assert explain(_runs([400.0], [50.0])) == (None, None), "one run: no spread"
    no_record = [RunNoise("a", 400.0, None, None, None, 2), RunNoise("b", 500.0, 1.0, 1.0, None, 2)]
    assert explain(no_record) == (None, None)
