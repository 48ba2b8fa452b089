"""The verdict engine: outcomes on fixtures, Holm over a table, and the A/A simulation."""

from __future__ import annotations

import math
import warnings
from collections import Counter

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from scripts.reporting.verdicts import (
    Comparison,
    Outcome,
    Variation,
    coefficient_of_variation,
    headline,
    judge,
    judge_table,
    repetitions_to_decide,
)

GUNICORN = (140.0, 145.0, 138.0, 143.0)
UWSGI = (165.0, 170.0, 160.0, 168.0)  # about 17 % more than GUNICORN
TIGHT_A = (100.0, 101.0, 99.0, 100.5)
TIGHT_B = (100.5, 99.5, 100.0, 101.0)
WIDE_A = (100.0, 130.0, 80.0, 110.0)
WIDE_B = (120.0, 85.0, 100.0, 95.0)
# Holm fixture: one large difference and two of about 7 % with raw p of 0.039 and 0.036.
HOLM_BASE = (100.0, 104.0, 96.0, 100.0)
HOLM_LARGE = (130.0, 131.0, 129.0, 130.0)
HOLM_SMALL = ((106.0, 112.0, 102.0, 108.0), (106.0, 111.0, 102.0, 108.0))

AA_TRIALS = 2000
AA_REPETITIONS = 4


def rps(baseline: tuple[float, ...], candidate: tuple[float, ...]) -> Comparison:
    return Comparison("rps", "Gunicorn", baseline, "uWSGI", candidate)


def lognormal_runs(
    rng: np.random.Generator, cv: float, n: int, factor: float = 1.0
) -> tuple[float, ...]:
    """n per-run values around 100 * factor whose coefficient of variation is cv."""
    sigma = math.sqrt(math.log1p(cv**2))
    return tuple(float(v) for v in rng.lognormal(math.log(100.0 * factor), sigma, n))


def aa_outcomes(cv: float, n: int, trials: int, seed: int) -> Counter[Outcome]:
    """Outcomes of `trials` independent A/A comparisons (each its own table)."""
    rng = np.random.default_rng(seed)
    return Counter(
        judge(rps(lognormal_runs(rng, cv, n), lognormal_runs(rng, cv, n))).outcome
        for _ in range(trials)
    )


def test_clearly_faster_has_a_ci_that_excludes_one() -> None:
    verdict = judge(rps(GUNICORN, UWSGI))
    assert verdict.outcome is Outcome.FASTER
    assert verdict.ci_low is not None and verdict.ci_high is not None and verdict.ratio is not None
    assert 1.05 < verdict.ci_low < verdict.ratio < verdict.ci_high
    assert (verdict.baseline_n, verdict.candidate_n) == (4, 4)
    assert headline(verdict) == (
        "uWSGI served 17 % more requests per second than Gunicorn (95 % CI 12-22 %, "
        "4 repetitions each)"
    )


def test_the_same_tight_distribution_is_no_detectable_difference() -> None:
    verdict = judge(rps(TIGHT_A, TIGHT_B))
    assert verdict.outcome is Outcome.NO_DIFFERENCE
    assert verdict.repetitions_to_decide is None
    assert headline(verdict) == (
        "uWSGI vs Gunicorn, requests per second: no detectable difference "
        "(95 % CI -1.2 % to +1.5 %, within the 5 % threshold, 4 repetitions each)"
    )


def test_the_same_wide_distribution_is_inconclusive_with_a_repetitions_estimate() -> None:
    verdict = judge(rps(WIDE_A, WIDE_B))
    assert verdict.outcome is Outcome.INCONCLUSIVE
    assert verdict.repetitions_to_decide is not None and verdict.repetitions_to_decide > 4
    assert headline(verdict) == (
        "uWSGI vs Gunicorn, requests per second: inconclusive, 95 % CI -30 % to +31 %, "
        f"4 repetitions each; about {verdict.repetitions_to_decide} repetitions each would decide"
    )


def test_the_repetitions_estimate_comes_from_the_pooled_log_variance() -> None:
    verdict = judge(rps(WIDE_A, WIDE_B))
    logs = np.log(WIDE_A), np.log(WIDE_B)
    pooled = (3 * logs[0].var(ddof=1) + 3 * logs[1].var(ddof=1)) / 6
    assert verdict.repetitions_to_decide == repetitions_to_decide(float(pooled), 0.05)


def test_at_the_estimated_repetitions_the_verdicts_its_docstring_promises_come_out() -> None:
    """A/A lands inside the band about 95 % of the time, a true 7.5 % "faster" about 97 %;
    at half that n A/A is decided only about half the time (measured 0.95, 0.99, 0.44)."""
    cv = 0.03
    n = repetitions_to_decide(math.log1p(cv**2), 0.05)
    assert n is not None and 4 < n < 40
    rng = np.random.default_rng(3)

    def rate(outcome: Outcome, factor: float, runs: int) -> float:
        trials = [
            judge(rps(lognormal_runs(rng, cv, runs), lognormal_runs(rng, cv, runs, factor)))
            for _ in range(400)
        ]
        return sum(t.outcome is outcome for t in trials) / len(trials)

    assert rate(Outcome.NO_DIFFERENCE, 1.0, n) >= 0.9
    assert rate(Outcome.FASTER, 1.075, n) >= 0.9
    assert rate(Outcome.NO_DIFFERENCE, 1.0, n // 2) <= 0.7


def test_one_repetition_is_not_enough_data() -> None:
    verdict = judge(rps(GUNICORN, (150.0,)))
    assert verdict.outcome is Outcome.NOT_ENOUGH_DATA
    assert verdict.ratio is None and verdict.p_value is None and verdict.holm_p_value is None
    assert headline(verdict) == (
        "uWSGI vs Gunicorn, requests per second: not enough data "
        "(fewer than 2 repetitions: 1 of uWSGI)"
    )


@pytest.mark.parametrize("bad", [0.0, -3.0, math.nan, math.inf])
def test_a_non_positive_or_non_finite_value_is_not_enough_data(bad: float) -> None:
    verdict = judge(rps(GUNICORN, (150.0, bad, 149.0)))
    assert verdict.outcome is Outcome.NOT_ENOUGH_DATA
    assert "uWSGI" in verdict.reason


def test_direction_comes_from_the_metric_lower_p99_is_faster() -> None:
    lower_latency = judge(Comparison("p99_ms", "Gunicorn", UWSGI, "uWSGI", GUNICORN))
    fewer_requests = judge(Comparison("rps", "Gunicorn", UWSGI, "uWSGI", GUNICORN))
    assert lower_latency.outcome is Outcome.FASTER
    assert fewer_requests.outcome is Outcome.SLOWER
    assert headline(lower_latency).startswith("uWSGI had a 15 % lower p99 latency than Gunicorn")


def test_swapping_baseline_and_candidate_mirrors_the_outcome() -> None:
    """The band is symmetric in log space: [1 - t, 1 + t] would break this near its edges."""
    mirror = {Outcome.FASTER: Outcome.SLOWER, Outcome.SLOWER: Outcome.FASTER}
    rng = np.random.default_rng(11)
    for _ in range(400):
        a = lognormal_runs(rng, 0.02, 4)
        b = tuple(v * float(rng.uniform(0.9, 1.1)) for v in lognormal_runs(rng, 0.02, 4))
        forward, backward = judge(rps(a, b)).outcome, judge(rps(b, a)).outcome
        assert backward is mirror.get(forward, forward)
    # At the edge, exactly: 0.951 lies inside [0.95, 1.05] but its inverse, 1.0515, outside.
    edge = judge(rps((100.0, 100.0), (95.1, 95.1)))
    assert edge.outcome is Outcome.SLOWER
    assert judge(rps((95.1, 95.1), (100.0, 100.0))).outcome is Outcome.FASTER


def test_zero_variance_decides_by_the_exact_ratio_without_nan() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scipy warns (and returns NaN) on constant samples
        same = judge(rps((100.0, 100.0, 100.0), (100.0, 100.0)))
        close = judge(rps((100.0, 100.0), (102.0, 102.0)))
        apart = judge(rps((100.0, 100.0, 100.0), (120.0, 120.0, 120.0)))
    assert same.outcome is Outcome.NO_DIFFERENCE
    assert (same.ratio, same.ci_low, same.ci_high, same.p_value) == (1.0, 1.0, 1.0, 1.0)
    assert close.outcome is Outcome.NO_DIFFERENCE
    assert close.ratio == pytest.approx(1.02)
    assert apart.outcome is Outcome.FASTER
    assert apart.ratio == apart.ci_low == apart.ci_high == pytest.approx(1.2)
    assert apart.p_value == 0.0


def test_p_value_and_ci_are_scipys_welch_test_on_the_logs() -> None:
    verdict = judge(rps(WIDE_A, WIDE_B))
    direct = stats.ttest_ind(np.log(WIDE_B), np.log(WIDE_A), equal_var=False)
    interval = direct.confidence_interval(confidence_level=0.95)
    assert verdict.p_value == pytest.approx(direct.pvalue, rel=1e-12)
    assert verdict.ci_low == pytest.approx(math.exp(interval.low), rel=1e-12)
    assert verdict.ci_high == pytest.approx(math.exp(interval.high), rel=1e-12)
    assert verdict.ratio == pytest.approx(stats.gmean(WIDE_B) / stats.gmean(WIDE_A), rel=1e-12)


def test_holm_over_the_table_lets_only_the_large_difference_through() -> None:
    table = [
        Comparison("rps", "base", HOLM_BASE, name, values)
        for name, values in [
            ("large", HOLM_LARGE),
            ("small 1", HOLM_SMALL[0]),
            ("small 2", HOLM_SMALL[1]),
        ]
    ]
    verdicts = judge_table(table)
    assert [v.outcome for v in verdicts] == [
        Outcome.FASTER,
        Outcome.INCONCLUSIVE,
        Outcome.INCONCLUSIVE,
    ]
    for small in verdicts[1:]:
        # Alone, each small one would be "faster": significant and beyond the threshold.
        assert small.p_value is not None and small.p_value < 0.05
        assert small.ratio is not None and small.ratio > 1.05
        assert judge(table[verdicts.index(small)]).outcome is Outcome.FASTER
        assert small.holm_p_value is not None and small.holm_p_value > 0.05
    expected = multipletests([v.p_value for v in verdicts], method="holm")[1]
    assert [v.holm_p_value for v in verdicts] == pytest.approx(list(expected))


def test_comparisons_without_enough_data_are_not_in_holms_family() -> None:
    pair = [rps(HOLM_BASE, HOLM_LARGE), rps(HOLM_BASE, HOLM_SMALL[0])]
    alone = judge_table(pair)
    with_empty = judge_table([*pair, rps(HOLM_BASE, (101.0,))])
    assert [v.holm_p_value for v in with_empty[:2]] == [v.holm_p_value for v in alone]
    assert with_empty[2].outcome is Outcome.NOT_ENOUGH_DATA


def test_the_practical_threshold_is_configurable() -> None:
    assert judge(rps(GUNICORN, UWSGI), threshold=0.05).outcome is Outcome.FASTER
    # 17 % with a CI of 12-22 % is neither beyond nor within a 20 % threshold.
    assert judge(rps(GUNICORN, UWSGI), threshold=0.20).outcome is Outcome.INCONCLUSIVE


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown metric"):
        Comparison("speed", "a", (1.0, 2.0), "b", (1.0, 2.0))
    with pytest.raises(ValueError, match="threshold"):
        judge(rps(GUNICORN, UWSGI), threshold=0.0)


def test_aa_at_cv_10_percent_is_faster_or_slower_at_most_5_percent_of_the_time() -> None:
    outcomes = aa_outcomes(cv=0.10, n=AA_REPETITIONS, trials=AA_TRIALS, seed=1)
    wrong = (outcomes[Outcome.FASTER] + outcomes[Outcome.SLOWER]) / AA_TRIALS
    assert wrong <= 0.05, outcomes
    # Most trials are honestly inconclusive, not "no difference": CV 10 % at n = 4 cannot tell.
    assert outcomes[Outcome.INCONCLUSIVE] / AA_TRIALS > 0.9, outcomes


def test_aa_at_cv_1_percent_is_no_detectable_difference() -> None:
    """At CV 1 % and n = 4 the CI's half-width is about 2 % against a 4.9 % band, so only
    the rare trial whose Welch degrees of freedom collapse spills over: we measured 99.9 %
    and assert 98 %, room for the seed, not for a broken rule (which gives far less)."""
    outcomes = aa_outcomes(cv=0.01, n=AA_REPETITIONS, trials=AA_TRIALS, seed=2)
    assert outcomes[Outcome.NO_DIFFERENCE] / AA_TRIALS >= 0.98, outcomes
    assert outcomes[Outcome.FASTER] + outcomes[Outcome.SLOWER] == 0, outcomes


def test_cv_is_sample_standard_deviation_over_mean_flagged_above_5_percent() -> None:
    noisy = coefficient_of_variation([90.0, 100.0, 110.0])
    quiet = coefficient_of_variation([99.0, 100.0, 101.0])
    assert noisy is not None and noisy.cv == pytest.approx(0.10) and noisy.noisy
    assert quiet is not None and quiet.cv == pytest.approx(0.01) and not quiet.noisy
    assert coefficient_of_variation([100.0]) is None
    assert coefficient_of_variation([90.0, 100.0, 110.0], limit=0.2) == Variation(noisy.cv, False)
