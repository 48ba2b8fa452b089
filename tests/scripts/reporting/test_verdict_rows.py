"""What a verdict row promises a CI pipeline (scripts/reporting/verdict_rows.py): when a
slowdown beyond the threshold counts as ruled out (the line between exit 0 and exit 5)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from scripts.records.schema import NotCompared, VerdictEntry
from scripts.reporting.verdict_rows import slowdown_ruled_out

BAND = 1 / 1.05  # the lower edge of the 5 % band in log space


def entry(metric: str, outcome: str, low: float | None, high: float | None) -> VerdictEntry:
    return VerdictEntry(
        metric=metric,
        baseline="base",
        candidate="candidate",
        baseline_run_ids=("a", "b"),
        candidate_run_ids=("c", "d"),
        baseline_n=2,
        candidate_n=2,
        baseline_geomean=100.0,
        candidate_geomean=100.0,
        outcome=outcome,
        threshold=0.05,
        ratio=None if low is None or high is None else math.sqrt(low * high),
        ci_low=low,
        ci_high=high,
        p_value=None if low is None else 0.5,
        holm_p_value=None if low is None else 0.5,
        repetitions_to_decide=None,
        reason="",
        headline="",
    )


@pytest.mark.parametrize(
    ("metric", "outcome", "low", "high", "ruled_out"),
    [
        ("goodput_rps", "faster", 1.1, 1.3, True),
        ("goodput_rps", "no detectable difference", 0.97, 1.03, True),
        ("goodput_rps", "slower", 0.7, 0.8, False),
        # inconclusive only about being better: the worse end is inside the band
        ("goodput_rps", "inconclusive", BAND + 1e-9, 1.4, True),
        ("goodput_rps", "inconclusive", 0.9, 1.4, False),
        # latency: lower is better, so the worse end is the upper one
        ("p99_ms", "inconclusive", 0.6, 1.049, True),
        ("p99_ms", "inconclusive", 0.6, 1.06, False),
        ("p50_ms", "not enough data", None, None, False),
    ],
)
def test_slowdown_ruled_out(
    metric: str, outcome: str, low: float | None, high: float | None, ruled_out: bool
) -> None:
    assert slowdown_ruled_out(entry(metric, outcome, low, high)) is ruled_out


def test_entries_refuse_an_unknown_outcome() -> None:
    with pytest.raises(ValueError, match="outcome"):
        replace(entry("p50_ms", "faster", 1.1, 1.2), outcome="quicker")
    assert NotCompared(metric="p99_ms", baseline="a", candidate="b", reason="r").to_json()
