"""scripts/harness/calibration/estimates.py: the CV ratio's and the median ratio's CIs cover
the true values on synthetic pairs with known spread.

The pairs are drawn the way a calibration's are: each pair shares a machine factor (both
sides ran on the same machine a few seconds apart, log-normal, 4 %) and each side adds its
own spread (log-normal, 3 % for wrk and SIDE_SD for the harness), so the true CV of each
side, and their ratio, follow from the log-normal's CV, sqrt(exp(sd^2) - 1). Measured with
these seeds at 12 pairs and 400 trials: the nominal 95 % CI of the CV ratio covered the true
ratio in 92.5 % of the trials (both spreads below), the median ratio's in 94.5 %; the
bounds below leave room for the seed, not for a broken CI (a CI of the wrong statistic,
such as the sides swapped, falls far outside them).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from scripts.harness.calibration.estimates import MIN_PAIRS_FOR_CI, estimate, rps_cv

PAIRS = 12
TRIALS = 400
MACHINE_SD = 0.04
WRK_SD = 0.03


def lognormal_cv(sd: float) -> float:
    return math.sqrt(math.exp(sd**2) - 1)


def synthetic_pairs(
    rng: np.random.Generator, harness_sd: float, pairs: int = PAIRS
) -> tuple[list[float], list[float]]:
    machine = rng.normal(0.0, MACHINE_SD, pairs)
    wrk = 500 * np.exp(machine + rng.normal(0.0, WRK_SD, pairs))
    harness = 475 * np.exp(machine + rng.normal(0.0, harness_sd, pairs))
    return list(harness), list(wrk)


@pytest.mark.parametrize("harness_sd", [0.03, 0.06])
def test_the_cv_ratio_ci_covers_the_true_ratio(harness_sd: float) -> None:
    true_ratio = lognormal_cv(math.hypot(MACHINE_SD, harness_sd)) / lognormal_cv(
        math.hypot(MACHINE_SD, WRK_SD)
    )
    rng = np.random.default_rng(20261201)
    covered = 0
    widths = []
    for _ in range(TRIALS):
        harness, wrk = synthetic_pairs(rng, harness_sd)
        found = estimate("cv_ratio", "harness", "wrk", harness, wrk)
        assert found.ci_low is not None and found.ci_high is not None
        assert found.ci_low <= found.point <= found.ci_high  # type: ignore[operator]
        covered += found.ci_low <= true_ratio <= found.ci_high
        widths.append(found.ci_high / found.ci_low)
    coverage = covered / TRIALS
    assert 0.86 <= coverage <= 0.99, f"coverage {coverage:.3f} of the true {true_ratio:.3f}"
    assert 1.5 < float(np.median(widths)) < 4, "12 pairs bound a CV ratio only loosely"


def test_the_median_ratio_ci_covers_the_true_median() -> None:
    rng = np.random.default_rng(17)
    covered = 0
    for _ in range(TRIALS):
        harness, wrk = synthetic_pairs(rng, 0.03)
        found = estimate("median_ratio", "harness", "wrk", harness, wrk)
        assert found.ci_low is not None and found.ci_high is not None
        covered += found.ci_low <= 0.95 <= found.ci_high  # the ratio's median is 475/500
    assert 0.89 <= covered / TRIALS <= 0.995


def test_too_few_pairs_or_no_spread_give_a_point_without_a_ci() -> None:
    rng = np.random.default_rng(3)
    harness, wrk = synthetic_pairs(rng, 0.03, pairs=MIN_PAIRS_FOR_CI - 1)
    few = estimate("cv_ratio", "harness", "wrk", harness, wrk)
    assert few.point is not None and few.ci_low is None and few.ci_high is None
    assert f"{MIN_PAIRS_FOR_CI - 1} pairs" in few.method
    flat = estimate("cv_ratio", "harness", "wrk", [400.0 + i for i in range(8)], [500.0] * 8)
    assert flat.point is None and flat.ci_low is None, "wrk without spread: no ratio of CVs"
    one = estimate("median_ratio", "harness", "wrk", [450.0], [500.0])
    assert one.point == pytest.approx(0.9) and one.ci_low is None
    assert rps_cv([500.0]) is None
    assert rps_cv([90.0, 110.0]) == pytest.approx(math.sqrt(200) / 100)


def test_the_same_pairs_always_give_the_same_ci() -> None:
    harness, wrk = synthetic_pairs(np.random.default_rng(5), 0.05)
    assert estimate("cv_ratio", "h", "w", harness, wrk) == estimate(
        "cv_ratio", "h", "w", harness, wrk
    )
