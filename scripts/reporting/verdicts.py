"""Verdicts: "A is faster than B" with a confidence interval, from a handful of repetitions.

The unit of evidence is one repetition (one fresh server process), and we can afford 3-6 of
them, so rank tests cannot decide (issue 18). Each comparison is a Welch t-test on the log of
the per-run values: the difference of log means is the log of the ratio of geometric means, so
the effect reads as "17 % more", and the t interval exponentiated is the ratio's CI. Holm's
correction runs over every comparison of one table, because a report that makes twenty
comparisons would otherwise find a "faster" by chance in one of them.

The practical threshold band is symmetric in log space, [1/(1+t), 1+t], not [1-t, 1+t]:
the test is symmetric in log space, and only then does swapping baseline and candidate turn
"faster" into "slower" (and keep "no detectable difference") for the same runs. With [1-t, 1+t]
a ratio of 0.951 would be "no difference" one way round and its inverse, 1.0515, "beyond the
threshold" the other way round.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import Final

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests

DEFAULT_THRESHOLD: Final = 0.05  # a difference smaller than 5 % is no difference in practice
DEFAULT_ALPHA: Final = 0.05  # family-wise error rate of one table, for Holm
CONFIDENCE: Final = 0.95  # of every CI shown and of the "no detectable difference" rule
_CI: Final = f"{CONFIDENCE * 100:g} % CI"
NOISY_CV: Final = 0.05  # above this run-to-run CV a configuration gets a warning
MIN_REPETITIONS: Final = 2  # per side: one run has no variance to judge by
MAX_REPETITIONS_ESTIMATE: Final = 10_000  # searched up to this many per side


class Direction(Enum):
    HIGHER_IS_BETTER = "higher is better"
    LOWER_IS_BETTER = "lower is better"


@dataclass(frozen=True)
class MetricSpec:
    """What a metric's ratio means: which way is better, and the headline's wording."""

    direction: Direction
    label: str  # names the metric in a sentence
    increase: str  # "{candidate} <increase> {baseline}", {pct} is the percent change
    decrease: str


_GOODPUT: Final = MetricSpec(
    Direction.HIGHER_IS_BETTER,
    label="requests per second",
    increase="served {pct} % more requests per second than",
    decrease="served {pct} % fewer requests per second than",
)


def _latency(name: str) -> MetricSpec:
    return MetricSpec(
        Direction.LOWER_IS_BETTER,
        label=f"{name} latency",
        increase=f"had a {{pct}} % higher {name} latency than",
        decrease=f"had a {{pct}} % lower {name} latency than",
    )


# Metric name (summary column) -> its spec. "rps" is the report's goodput column today;
# "goodput_rps" is the same quantity under the name "Exact numbers" (issue 16) may give it.
METRICS: Final[Mapping[str, MetricSpec]] = MappingProxyType(
    {
        "rps": _GOODPUT,
        "goodput_rps": _GOODPUT,
        "p50_ms": _latency("p50"),
        "p90_ms": _latency("p90"),
        "p95_ms": _latency("p95"),
        "p99_ms": _latency("p99"),
        "p999_ms": _latency("p99.9"),
    }
)


class Outcome(Enum):
    FASTER = "faster"
    SLOWER = "slower"
    NO_DIFFERENCE = "no detectable difference"
    INCONCLUSIVE = "inconclusive"
    NOT_ENOUGH_DATA = "not enough data"


@dataclass(frozen=True)
class Comparison:
    """One question of a table: is `candidate` better than `baseline` on `metric`?"""

    metric: str
    baseline: str
    baseline_values: tuple[float, ...]
    candidate: str
    candidate_values: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"unknown metric {self.metric!r}; known: {', '.join(METRICS)}")


@dataclass(frozen=True)
class Verdict:
    """The answer to one Comparison. Ratio and CI are candidate / baseline geometric means."""

    metric: str
    baseline: str
    candidate: str
    baseline_n: int
    candidate_n: int
    outcome: Outcome
    threshold: float
    ratio: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    holm_p_value: float | None = None
    repetitions_to_decide: int | None = None  # per side; only when inconclusive, None if > max
    reason: str = ""  # why there is not enough data


@dataclass(frozen=True)
class _Test:
    log_ratio: float
    ci_low: float  # of the log ratio
    ci_high: float
    p_value: float
    pooled_log_var: float


def _usable(values: tuple[float, ...]) -> bool:
    return all(math.isfinite(v) and v > 0 for v in values)


def _welch(comparison: Comparison) -> _Test:
    base = np.log(np.asarray(comparison.baseline_values, dtype=float))
    cand = np.log(np.asarray(comparison.candidate_values, dtype=float))
    log_ratio = float(cand.mean() - base.mean())
    dof = len(base) + len(cand) - 2
    pooled = float(((len(base) - 1) * base.var(ddof=1) + (len(cand) - 1) * cand.var(ddof=1)) / dof)
    if np.ptp(base) == 0 and np.ptp(cand) == 0:
        # No variance at all: the ratio is exact (scipy would give NaN for equal values).
        return _Test(log_ratio, log_ratio, log_ratio, 0.0 if log_ratio != 0 else 1.0, 0.0)
    result = stats.ttest_ind(cand, base, equal_var=False)
    interval = result.confidence_interval(confidence_level=CONFIDENCE)
    return _Test(log_ratio, float(interval.low), float(interval.high), float(result.pvalue), pooled)


def repetitions_to_decide(pooled_log_var: float, threshold: float) -> int | None:
    """Roughly how many repetitions per side would turn "inconclusive" into a verdict.

    The smallest n >= 2 with  q(n) * s * sqrt(2 / n) <= log(1 + threshold) / 2,  where s^2
    is the observed pooled variance of the log values and q(n) the t quantile at
    (1 + CONFIDENCE) / 2 with 2n - 2 degrees of freedom: the n at which the CI's half-width
    is half the band.
    Then with no true difference the CI lands inside the band about 95 % of the time, and
    a true difference of 1.5 times the threshold comes out "faster" or "slower" about 97 %
    of the time (less after Holm); ratios in between stay undecided more often, and a true
    ratio right at the threshold at any n.
    It deliberately ignores the observed ratio: at n = 4 that estimate is itself noise, and
    "how far is it from the band's edge" would swing the answer from 5 to 5,000.
    None when even MAX_REPETITIONS_ESTIMATE would not do.
    """
    quantile, spread = (1 + CONFIDENCE) / 2, math.sqrt(pooled_log_var)
    target = math.log1p(threshold) / 2
    # Start at the normal approximation's n: the t quantile is larger, so never fewer.
    n: int = max(
        MIN_REPETITIONS, math.ceil(2 * (float(stats.norm.ppf(quantile)) * spread / target) ** 2)
    )
    while n <= MAX_REPETITIONS_ESTIMATE:
        if stats.t.ppf(quantile, 2 * n - 2) * spread * math.sqrt(2 / n) <= target:
            return n
        n += 1
    return None


def judge_table(
    comparisons: Sequence[Comparison],
    threshold: float = DEFAULT_THRESHOLD,
    alpha: float = DEFAULT_ALPHA,
) -> tuple[Verdict, ...]:
    """Verdicts for a whole table, in order, with Holm's correction over all of them.

    Comparisons without enough data have no p-value and are not counted in Holm's family.
    """
    if threshold <= 0 or not 0 < alpha < 1:
        raise ValueError(f"need threshold > 0 and 0 < alpha < 1, got {threshold}, {alpha}")
    shortfalls = [_shortfall(c) for c in comparisons]
    tests = [None if short else _welch(c) for c, short in zip(comparisons, shortfalls, strict=True)]
    raw = [t.p_value for t in tests if t is not None]
    # Holm over a family of one is the raw test. Skipping the call there is not a shortcut
    # of the formula but of its cost: statsmodels runs gc.collect() on every Holm call
    # (about 15 ms), which would make the 2,000-trial A/A simulation take a minute.
    holm_p, rejected = list(raw), [p <= alpha for p in raw]
    if len(raw) > 1:
        reject, corrected, _, _ = multipletests(raw, alpha=alpha, method="holm")
        rejected, holm_p = [bool(r) for r in reject], [float(p) for p in corrected]
    family = iter(zip(rejected, holm_p, strict=True))
    verdicts = []
    for comparison, test, short in zip(comparisons, tests, shortfalls, strict=True):
        if test is None:
            outcome = Outcome.NOT_ENOUGH_DATA
            verdicts.append(Verdict(*_sides(comparison), outcome, threshold, reason=short))
        else:
            significant, adjusted = next(family)
            verdicts.append(_classify(comparison, test, significant, adjusted, threshold))
    return tuple(verdicts)


def judge(
    comparison: Comparison, threshold: float = DEFAULT_THRESHOLD, alpha: float = DEFAULT_ALPHA
) -> Verdict:
    """A single comparison: a table of one, so Holm changes nothing."""
    return judge_table([comparison], threshold, alpha)[0]


def _sides(comparison: Comparison) -> tuple[str, str, str, int, int]:
    """The first fields of its Verdict: metric, labels and repetitions per side."""
    baseline, candidate = comparison.baseline_values, comparison.candidate_values
    return (
        comparison.metric,
        comparison.baseline,
        comparison.candidate,
        len(baseline),
        len(candidate),
    )


def _shortfall(comparison: Comparison) -> str:
    """Why the comparison has not enough data to judge, or "" when it has."""
    sides = (
        (comparison.baseline, comparison.baseline_values),
        (comparison.candidate, comparison.candidate_values),
    )
    unusable = [label for label, values in sides if not _usable(values)]
    few = [f"{len(values)} of {label}" for label, values in sides if len(values) < MIN_REPETITIONS]
    if unusable:
        return f"zero, negative or missing values for {' and '.join(unusable)}"
    return f"fewer than {MIN_REPETITIONS} repetitions: {', '.join(few)}" if few else ""


def _classify(
    comparison: Comparison,
    test: _Test,
    significant: bool,
    holm_p: float,
    threshold: float,
) -> Verdict:
    bound = math.log1p(threshold)
    repetitions = None
    if significant and abs(test.log_ratio) > bound:
        higher = test.log_ratio > 0
        better = higher == (METRICS[comparison.metric].direction is Direction.HIGHER_IS_BETTER)
        outcome = Outcome.FASTER if better else Outcome.SLOWER
    elif -bound <= test.ci_low and test.ci_high <= bound:
        outcome = Outcome.NO_DIFFERENCE
    else:
        outcome = Outcome.INCONCLUSIVE
        repetitions = repetitions_to_decide(test.pooled_log_var, threshold)
    return Verdict(
        *_sides(comparison),
        outcome,
        threshold,
        ratio=math.exp(test.log_ratio),
        ci_low=math.exp(test.ci_low),
        ci_high=math.exp(test.ci_high),
        p_value=test.p_value,
        holm_p_value=holm_p,
        repetitions_to_decide=repetitions,
    )


def _pct(value: float) -> str:
    """Two significant figures below 10 %, whole percent above: 0.83, 9.2, 17, 125."""
    return f"{value:.0f}" if abs(value) >= 10 else f"{value:.2g}"


def _signed_pct(ratio: float) -> str:
    change = (ratio - 1) * 100
    return ("+" if change >= 0 else "") + _pct(change)


def _repetitions(verdict: Verdict) -> str:
    if verdict.baseline_n == verdict.candidate_n:
        return f"{verdict.candidate_n} repetitions each"
    candidate = f"{verdict.candidate_n} repetitions of {verdict.candidate}"
    return f"{candidate}, {verdict.baseline_n} of {verdict.baseline}"


def headline(verdict: Verdict) -> str:
    """One plain sentence for the report's headline; never rounds "inconclusive" away."""
    spec = METRICS[verdict.metric]
    subject = f"{verdict.candidate} vs {verdict.baseline}, {spec.label}"
    if verdict.outcome is Outcome.NOT_ENOUGH_DATA:
        return f"{subject}: not enough data ({verdict.reason})"
    assert verdict.ratio is not None and verdict.ci_low is not None and verdict.ci_high is not None
    interval = f"{_CI} {_signed_pct(verdict.ci_low)} % to {_signed_pct(verdict.ci_high)} %"
    if verdict.outcome is Outcome.NO_DIFFERENCE:
        return (
            f"{subject}: no detectable difference ({interval}, within the "
            f"{_pct(verdict.threshold * 100)} % threshold, {_repetitions(verdict)})"
        )
    if verdict.outcome is Outcome.INCONCLUSIVE:
        needed = verdict.repetitions_to_decide
        decide = (
            f"about {needed} repetitions each would decide"
            if needed is not None
            else f"more than {MAX_REPETITIONS_ESTIMATE} repetitions each would be needed"
        )
        return f"{subject}: inconclusive, {interval}, {_repetitions(verdict)}; {decide}"
    up = verdict.ratio > 1
    low, high = (verdict.ci_low, verdict.ci_high) if up else (verdict.ci_high, verdict.ci_low)
    change = (spec.increase if up else spec.decrease).format(pct=_pct(abs(verdict.ratio - 1) * 100))
    span = f"{_pct(abs(low - 1) * 100)}-{_pct(abs(high - 1) * 100)} %"
    return (
        f"{verdict.candidate} {change} {verdict.baseline} ({_CI} {span}, {_repetitions(verdict)})"
    )


@dataclass(frozen=True)
class Variation:
    cv: float  # sample standard deviation / mean
    noisy: bool  # above NOISY_CV: the verdicts beside it deserve a warning


def coefficient_of_variation(values: Sequence[float], limit: float = NOISY_CV) -> Variation | None:
    """Run-to-run CV of one configuration; None with fewer than two runs or a zero mean."""
    if len(values) < MIN_REPETITIONS:
        return None
    array = np.asarray(values, dtype=float)
    mean = float(array.mean())
    if mean == 0:
        return None
    cv = float(array.std(ddof=1)) / abs(mean)
    return Variation(cv, cv > limit)
