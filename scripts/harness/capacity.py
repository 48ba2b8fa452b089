"""Capacity under a latency SLO, from the windows of a step load.

A server's capacity is the highest user count it serves with p99 at or under the SLO and an
error rate under 1 %, counting steps from the lowest up and stopping at the first step that
misses: a step that passes again above a miss is noise, not capacity. A step whose window
holds too few samples for a p99 (the rule of loadtests/latency.py) and no excess of errors
is not judged: the count stops there too, and the verdict says it could not be reached.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from scripts.records.schema import StepSummary

MAX_ERROR_RATE = 0.01


@dataclass(frozen=True)
class StepVerdict:
    users: int
    p99_ms: float | None
    error_rate: float
    rps: float
    meets_slo: bool
    samples: int | None = None
    lower_bound_ms: float | None = None  # the highest lower percentile measured (p95, p90, p50)

    @property
    def judged(self) -> bool:
        """Whether the window could say: a p99 was measurable, the errors alone miss, or a
        lower percentile already exceeds the SLO (so p99, above it, does too)."""
        return (
            self.p99_ms is not None
            or self.error_rate >= MAX_ERROR_RATE
            or (self.lower_bound_ms is not None and not self.meets_slo)
        )


@dataclass(frozen=True)
class Capacity:
    slo_p99_ms: float
    capacity_users: int | None  # None: not even the first step met the SLO
    capacity_rps: float | None
    first_miss_users: int | None  # None: no step missed the SLO
    steps: tuple[StepVerdict, ...]
    first_unjudged_users: int | None = None  # a step too short for a p99, before any miss

    @property
    def met_everywhere(self) -> bool:
        return self.first_miss_users is None and self.first_unjudged_users is None

    def as_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "steps": [asdict(step) for step in self.steps],
            "met_everywhere": self.met_everywhere,
        }


def meets_slo(p99_ms: float | None, error_rate: float, slo_p99_ms: float) -> bool:
    return p99_ms is not None and p99_ms <= slo_p99_ms and error_rate < MAX_ERROR_RATE


def _lower_bound_ms(step: StepSummary) -> float | None:
    figures = step.figures
    return next(
        (value for value in (figures.p95_ms, figures.p90_ms, figures.p50_ms) if value is not None),
        None,
    )


def capacity(steps: Sequence[StepSummary], slo_p99_ms: float) -> Capacity:
    """`steps` are the run's windows, in step order."""
    verdicts = tuple(
        StepVerdict(
            users=step.users,
            p99_ms=step.figures.p99_ms,
            error_rate=step.figures.error_rate,
            rps=step.figures.rps,
            meets_slo=meets_slo(step.figures.p99_ms, step.figures.error_rate, slo_p99_ms),
            samples=step.figures.samples,
            lower_bound_ms=_lower_bound_ms(step),
        )
        for step in steps
    )
    best: StepVerdict | None = None
    first_miss: int | None = None
    first_unjudged: int | None = None
    for verdict in verdicts:
        if not verdict.judged:
            first_unjudged = verdict.users
            break
        if not verdict.meets_slo:
            first_miss = verdict.users
            break
        best = verdict
    return Capacity(
        slo_p99_ms=slo_p99_ms,
        capacity_users=best.users if best else None,
        capacity_rps=best.rps if best else None,
        first_miss_users=first_miss,
        steps=verdicts,
        first_unjudged_users=first_unjudged,
    )
