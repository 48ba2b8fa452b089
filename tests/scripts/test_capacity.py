from __future__ import annotations

from scripts.harness.capacity import capacity, meets_slo
from scripts.records.schema import StepSummary, WindowFigures, WindowResources


def step(
    users: int, p99_ms: float | None, error_rate: float = 0.0, rps: float = 100.0
) -> StepSummary:
    figures = WindowFigures(
        requests=1000,
        failures=int(1000 * error_rate),
        error_rate=error_rate,
        rps=rps,
        p99_ms=p99_ms,
    )
    return StepSummary(users, 10.0, figures, WindowResources())


def test_capacity_is_the_last_step_under_the_slo() -> None:
    result = capacity(
        [
            step(8, 40, rps=300),
            step(16, 90, rps=320),
            step(32, 210, rps=330),
            step(64, 450, rps=331),
        ],
        slo_p99_ms=100,
    )
    assert result.capacity_users == 16
    assert result.capacity_rps == 320
    assert result.first_miss_users == 32
    assert not result.met_everywhere


def test_a_pass_above_a_miss_is_not_capacity() -> None:
    result = capacity([step(8, 40), step(16, 120), step(32, 95)], slo_p99_ms=100)
    assert result.capacity_users == 8
    assert result.first_miss_users == 16


def test_errors_of_one_percent_miss_the_slo() -> None:
    assert not meets_slo(10, 0.01, 100)
    assert meets_slo(10, 0.0099, 100)
    assert meets_slo(100, 0.0, 100), "p99 equal to the SLO stays under it"
    assert not meets_slo(None, 0.0, 100), "no data is not a pass"


def test_no_capacity_when_the_first_step_misses() -> None:
    result = capacity([step(8, 500), step(16, 900)], slo_p99_ms=100)
    assert result.capacity_users is None and result.capacity_rps is None
    assert result.first_miss_users == 8


def test_every_step_met() -> None:
    result = capacity([step(8, 10), step(16, 20)], slo_p99_ms=100)
    assert result.met_everywhere and result.capacity_users == 16
    assert result.as_json()["met_everywhere"] is True


def test_a_step_too_short_for_a_p99_is_not_judged_and_stops_the_count() -> None:
    result = capacity([step(8, 40), step(16, None), step(32, 50)], slo_p99_ms=100)
    assert result.capacity_users == 8
    assert result.first_unjudged_users == 16 and result.first_miss_users is None
    assert not result.met_everywhere


def test_errors_miss_the_slo_even_without_a_p99() -> None:
    result = capacity([step(8, None, error_rate=0.05)], slo_p99_ms=100)
    assert result.first_miss_users == 8 and result.first_unjudged_users is None


def test_a_lower_percentile_above_the_slo_is_a_miss_without_a_p99() -> None:
    figures = WindowFigures(500, 0, 0.0, 100.0, p50_ms=40.0, p99_ms=None)
    result = capacity([StepSummary(8, 10.0, figures, WindowResources())], slo_p99_ms=10)
    assert result.first_miss_users == 8 and result.first_unjudged_users is None
