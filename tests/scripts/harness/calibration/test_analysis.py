"""scripts/harness/calibration/analysis.py: ratios, notes, the status and the medians."""

from __future__ import annotations

from dataclasses import replace

import pytest

from scripts.harness.calibration.analysis import (
    aggregate,
    finish_pair,
    judge,
    pair_ratio,
    pair_remarks,
    with_pair_notes,
)
from scripts.records.schema import CalibrationPair, SideResources, Status
from tests.scripts.harness.calibration.records import fixture_record, pair, unjudged


def test_the_fixtures_ratios_notes_and_medians_follow_from_its_sides() -> None:
    """A real calibration (of the first version), stripped of everything derived, gets it
    all back exactly; the current aggregation adds its estimates and noise verdict."""
    recorded = fixture_record()
    capacity_pct = 100.0 * len(recorded.placement["server_cpus"])
    stripped = tuple(replace(p, ratio=None, notes=None) for p in recorded.pairs)
    pairs = tuple(finish_pair(p, capacity_pct) for p in stripped)
    assert [p.noise_flags for p in pairs] == [(), (), ()], "steal 3.5 % flags nothing"
    assert judge(pairs, recorded.pairs_planned) == (Status.OK, "")
    first_version = tuple(replace(p, noise_flags=None) for p in pairs)
    base = replace(unjudged(recorded), pairs=first_version)
    rebuilt = with_pair_notes(aggregate(base, estimates=False))
    assert rebuilt.to_json() == recorded.to_json()
    current = aggregate(replace(unjudged(recorded), pairs=pairs))
    assert current.noisy_pairs == 0 and current.machine_too_noisy is False
    cv = current.estimate("cv_ratio")
    assert cv is not None and cv.point is not None and cv.ci_low is None, "3 pairs: no CI"
    assert "no CI: 3 pairs" in cv.method
    median = current.estimate("median_ratio")
    assert median is not None and median.point == pytest.approx(recorded.ratio_median)
    assert current.target_met is (0.95 <= median.point <= 1.05 and cv.point <= 1.5)


def test_median_ratio_and_target_verdict() -> None:
    pairs = (pair(1, 100, 90), pair(2, 100, 99), pair(3, 100, 97))
    assert judge(pairs, 3) == (Status.OK, "")
    record = aggregate(replace(unjudged(fixture_record()), pairs=pairs, status=Status.OK))
    assert record.ratio_median == pytest.approx(0.97)
    assert (record.ratio_min, record.ratio_max) == (pytest.approx(0.9), 0.99)
    assert record.wrk_rps_median == 100 and record.harness_rps_median == 97
    assert record.wrk_p50_ms_median == 12.0 and record.harness_p50_ms_median == 13.0
    assert record.target_met is True
    assert record.notes == (), "a spread of 0.09 is narrow enough"
    below = aggregate(replace(record, pairs=(pair(1, 100, 90),), target_met=None))
    assert below.target_met is False
    wide = aggregate(replace(unjudged(record), pairs=(*pairs, pair(4, 100, 120))))
    [note] = wide.notes
    assert "spread from 0.900 to 1.200" in note


def test_errors_on_either_side_make_the_calibration_invalid_and_unjudged() -> None:
    pairs = (pair(1, 100, 99, wrk_errors=5), pair(2, 100, 99, harness_failures=2))
    status, reason = judge(pairs, 2)
    assert status is Status.INVALID
    assert "pair 1: wrk: 5 non-2xx/3xx responses" in reason
    assert "pair 2: harness: 2 failed requests" in reason
    record = aggregate(replace(unjudged(fixture_record()), pairs=pairs, status=status))
    assert record.ratio_median == pytest.approx(0.99)
    assert record.target_met is None, "an invalid calibration is not judged"
    [first, second] = [finish_pair(replace(p, notes=None), None).notes for p in pairs]
    assert first == ("wrk: 5 non-2xx/3xx responses",)
    assert second == ("harness: 2 failed requests (see its Locust files)",)


def test_missing_pairs_fail_and_an_unfinished_pair_has_no_ratio() -> None:
    assert judge((pair(1, 100, 99),), 3)[0] is Status.FAILED
    unfinished = CalibrationPair(index=2, order=("H", "W"), wrk=pair(2, 100, 99).wrk)
    assert pair_ratio(unfinished) is None
    status, reason = judge((pair(1, 100, 99), unfinished), 2)
    assert status is Status.FAILED and reason == "only 1 of 2 pairs were measured"
    record = replace(unjudged(fixture_record()), pairs=(unfinished,), status=Status.FAILED)
    assert aggregate(record) == record, "nothing measured: nothing to aggregate"


def test_a_saturated_or_lagging_locust_is_a_remark_not_an_error() -> None:
    saturated = pair(1, 100, 70, harness_resources=SideResources(loadgen_cpu_pct=97.0))
    assert judge((saturated,), 1) == (Status.OK, "")
    [remark] = pair_remarks(saturated)
    assert remark == "harness: Locust was CPU-bound (97 % of a CPU), it set the rate"
    warned = pair(1, 100, 70, loadgen_cpu_warning=True)
    assert pair_remarks(warned) == [
        "harness: Locust was CPU-bound (over 90 % of a CPU), it set the rate"
    ]
    lagging = pair(1, 100, 70, loadgen_loop_lag_mean_ms=12.5)
    [remark] = pair_remarks(lagging)
    assert "event loop woke 12.5 ms late on average (limit 5 ms)" in remark


def test_a_busy_machine_and_steal_are_named_per_side() -> None:
    noisy = pair(
        1,
        100,
        99,
        wrk_resources=SideResources(other_cpu_pct=40.0),
        harness_resources=SideResources(steal_pct=3.5),
    )
    assert pair_remarks(noisy) == [
        "harness: the hypervisor took 3.5 % of a CPU from this machine (steal)",
        "wrk: other processes used 40 % of a CPU meanwhile (the machine was not quiet)",
    ]


def test_a_server_bound_on_both_sides_is_named_as_the_cause() -> None:
    def busy(cost_ms: float, loadgen_cpu_pct: float = 30.0) -> SideResources:
        return SideResources(
            server_cpu_pct=99.0,
            loadgen_cpu_pct=loadgen_cpu_pct,
            server_cpu_ms_per_request=cost_ms,
        )

    bound = pair(1, 400, 300, wrk_resources=busy(2.5), harness_resources=busy(3.3))
    [remark] = pair_remarks(bound, server_capacity_pct=100.0)
    assert "server was the bottleneck on both sides" in remark and "2.50/3.30 ms" in remark
    assert pair_remarks(bound, server_capacity_pct=None) == [], "unpinned: no claim"
    assert pair_remarks(bound, server_capacity_pct=200.0) == [], "half of two CPUs: not bound"
    close = pair(1, 400, 390, wrk_resources=busy(2.5), harness_resources=busy(3.3))
    assert pair_remarks(close, server_capacity_pct=100.0) == [], "within the target"
    saturated = pair(1, 400, 300, wrk_resources=busy(2.5), harness_resources=busy(3.3, 95.0))
    [remark] = pair_remarks(saturated, server_capacity_pct=100.0)
    assert "Locust was CPU-bound" in remark, "a saturated generator is the cause instead"
