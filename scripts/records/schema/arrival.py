"""summary.json's `arrival`: one window of the open arrival-rate model (loadtests/arrival.py).

Each window of an ARRIVAL_RATE run carries, beside its usual figures (whose latency is the
uncorrected service time, as in a closed loop), the schedule's accounting and two latency
distributions over the same successful requests: `corrected`, counted from each request's
intended send time, and `uncorrected`, from its actual send. `kept_up` is the result the
report shows ("did not keep up at 30 rps"): the achieved rate fell short of the offered one
by more than `keep_up_margin` (loadtests/arrival.py says why 5 %). It is a figure, not a
harness failure: the run's status does not depend on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from scripts.records.schema.base import SchemaError, build


@dataclass(frozen=True)
class LatencyFigures:
    """Percentiles of one microsecond histogram, in ms; None where too few samples."""

    samples: int
    avg_ms: float | None = None
    p50_ms: float | None = None
    p90_ms: float | None = None
    p99_ms: float | None = None
    p999_ms: float | None = None
    max_ms: float | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any], name: str) -> LatencyFigures:
        return build(cls, data, name)


@dataclass(frozen=True)
class ArrivalFigures:
    """The open model's figures of one measured window."""

    offered_rps: float
    achieved_rps: float
    max_in_flight: int
    keep_up_margin: float
    kept_up: bool
    intended: int  # requests whose intended send time fell inside the window
    sent: int  # requests sent inside the window (late ones of earlier times included)
    not_sent: int  # the window's intended requests still unsent when it closed
    late: int  # requests sent more than late_after_ms after their intended time
    late_after_ms: float
    failures: int
    corrected: LatencyFigures
    uncorrected: LatencyFigures
    # the mean of each second of the window (completions in that second), to see it grow
    corrected_mean_ms_by_second: tuple[float | None, ...] = ()
    uncorrected_mean_ms_by_second: tuple[float | None, ...] = ()

    @property
    def verdict(self) -> str:
        """What the report says of this window."""
        if self.kept_up:
            return f"kept up at {self.offered_rps:g} rps"
        return f"did not keep up at {self.offered_rps:g} rps"

    def to_json(self) -> dict[str, Any]:
        document = asdict(self)
        document["verdict"] = self.verdict
        for name in ("corrected_mean_ms_by_second", "uncorrected_mean_ms_by_second"):
            document[name] = list(document[name])
        return document

    @classmethod
    def from_json(cls, data: Mapping[str, Any], name: str = "arrival") -> ArrivalFigures:
        if not isinstance(data, Mapping):
            raise SchemaError(f"{name} is not an object")
        values = dict(data)
        for part in ("corrected", "uncorrected"):
            if not isinstance(values.get(part), Mapping):
                raise SchemaError(f"{name} lacks {part}")
            values[part] = LatencyFigures.from_json(values[part], f"{name} {part}")
        for series in ("corrected_mean_ms_by_second", "uncorrected_mean_ms_by_second"):
            values[series] = tuple(values.get(series) or ())
        return build(cls, values, name)


def open_model_json(windows: tuple[ArrivalFigures | None, ...]) -> dict[str, Any] | None:
    """summary.json's top-level `open_model`: whether every window kept up, and the offered
    rates at which one did not (None for a closed-loop run)."""
    figures = [window for window in windows if window is not None]
    if not figures:
        return None
    missed = [window.offered_rps for window in figures if not window.kept_up]
    return {
        "load_model": "open",
        "kept_up": not missed,
        "did_not_keep_up_at_rps": missed,
        "verdicts": [window.verdict for window in figures],
    }
