"""Point estimates over a calibration's pairs, each with a 95 % bootstrap CI.

Two figures answer the calibration's questions, each of one side (the numerator) against
another (the denominator), both measured in every pair:
- `cv_ratio`: the numerator's CV of rps across the pairs divided by the denominator's
  (sample standard deviation / mean): does the harness add spread of its own?
- `median_ratio`: the median over the pairs of numerator_rps / denominator_rps: does the
  harness read low or high?

The CI is scipy's BCa bootstrap (`scipy.stats.bootstrap`) with paired resampling: a
resample draws whole pairs, so the two sides of a pair, measured a few seconds apart on
the same machine, stay together, and what the machine did to both is not mistaken for a
difference between them. The resampling is seeded (RESAMPLING_SEED), so the same pairs
always give the same CI.

How far to trust it, measured by tests/scripts/harness/calibration/test_estimates.py on
synthetic pairs with known spread (a shared machine factor of 4 % and 3 % of each side's
own, log-normal): at 12 pairs a nominal 95 % CI of the CV ratio covered the true ratio in
92.5 % of 400 seeded trials (the median ratio's in 94.5 %), and its upper bound was
typically 2.5x its lower bound: a CV ratio can be estimated at this size, not proven.
(Resampling each side on its own covered 95 % in the same trials: pairing is kept because
the pair is the unit the calibration measures, and it keeps the median of per-pair ratios
well defined.)
Below MIN_PAIRS_FOR_CI pairs no CI is given: at 6 pairs almost half of the bootstraps
failed (with 9,999 resamples of 6 pairs, some draw one pair six times, a CV of 0 on both
sides, 0/0), and the rest covered less (82-92 %); at 8 pairs none failed and 92 % covered.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from scripts.records.schema import Estimate

CONFIDENCE: Final = 0.95
RESAMPLES: Final = 9999
RESAMPLING_SEED: Final = 17
MIN_PAIRS_FOR_CI: Final = 8
METHOD: Final = "BCa"

Statistic = Callable[[NDArray[np.float64], NDArray[np.float64], int], NDArray[np.float64]]


def coefficient_of_variation(values: NDArray[np.float64], axis: int = -1) -> NDArray[np.float64]:
    """Sample standard deviation / mean along `axis`."""
    result: NDArray[np.float64] = np.std(values, axis=axis, ddof=1) / np.mean(values, axis=axis)
    return result


def cv_ratio(
    numerator: NDArray[np.float64], denominator: NDArray[np.float64], axis: int = -1
) -> NDArray[np.float64]:
    return coefficient_of_variation(numerator, axis) / coefficient_of_variation(denominator, axis)


def median_ratio(
    numerator: NDArray[np.float64], denominator: NDArray[np.float64], axis: int = -1
) -> NDArray[np.float64]:
    result: NDArray[np.float64] = np.median(numerator / denominator, axis=axis)
    return result


# Estimate name -> its statistic (vectorised along `axis`, as scipy's bootstrap wants).
STATISTICS: Final[Mapping[str, Statistic]] = MappingProxyType(
    {"cv_ratio": cv_ratio, "median_ratio": median_ratio}
)


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def estimate(
    name: str,
    numerator: str,
    denominator: str,
    numerator_rps: Sequence[float],
    denominator_rps: Sequence[float],
) -> Estimate:
    """The named estimate of `numerator` against `denominator` from the pairs' rates (one
    value per pair on each side, in pair order), with its CI when there are enough pairs."""
    statistic = STATISTICS[name]
    top = np.asarray(numerator_rps, dtype=float)
    bottom = np.asarray(denominator_rps, dtype=float)
    pairs = len(top)
    point = None
    with np.errstate(divide="ignore", invalid="ignore"):
        if pairs >= 2 or (name == "median_ratio" and pairs > 0):
            point = _finite(float(statistic(top, bottom, -1)))
    low = high = None
    if pairs >= MIN_PAIRS_FOR_CI and point is not None:
        with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
            warnings.simplefilter("ignore")  # degenerate resamples: the CI is then None
            result = stats.bootstrap(
                (top, bottom),
                statistic,
                paired=True,
                vectorized=True,
                n_resamples=RESAMPLES,
                confidence_level=CONFIDENCE,
                method=METHOD,
                random_state=np.random.default_rng(RESAMPLING_SEED),
            )
        low = _finite(float(result.confidence_interval.low))
        high = _finite(float(result.confidence_interval.high))
        if low is None or high is None:
            low = high = None
    method = (
        f"{METHOD} bootstrap over {pairs} pairs (paired resampling, {RESAMPLES} resamples, "
        f"seed {RESAMPLING_SEED})"
        if low is not None
        else f"no CI: {pairs} pairs (a CI needs at least {MIN_PAIRS_FOR_CI} with spread)"
    )
    return Estimate(
        name=name,
        numerator=numerator,
        denominator=denominator,
        point=point,
        ci_low=low,
        ci_high=high,
        confidence=CONFIDENCE,
        method=method,
    )


def rps_cv(values: Sequence[float]) -> float | None:
    """One side's CV of rps across the pairs; None with fewer than two."""
    if len(values) < 2:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        return _finite(float(coefficient_of_variation(np.asarray(values, dtype=float))))
