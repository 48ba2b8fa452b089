"""calibration.json: `make calibrate`'s cross-check of the harness against wrk.

One document per calibration, rewritten after every side, so an interrupted calibration
leaves the sides it measured. A side's CPU figures are written flat next to its request
figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Final, TypeVar

from scripts.records.schema.base import (
    SCHEMA_VERSION,
    SchemaError,
    Status,
    build,
    check_version,
    read_document,
)


@dataclass(frozen=True)
class SideResources:
    """CPU figures of one calibration side over its measured window, in % of one CPU;
    None where no sample fell in the window (or the figure has no meaning, like the CPU
    per request of a side that answered nothing)."""

    loadgen_cpu_pct: float | None = None
    server_cpu_pct: float | None = None
    server_cpu_ms_per_request: float | None = None
    machine_cpu_pct: float | None = None
    other_cpu_pct: float | None = None
    steal_pct: float | None = None


def _side_json(side: WrkSide | HarnessSide) -> dict[str, Any]:
    values = asdict(side)
    resources = values.pop("resources")
    return {**values, **resources}


_Side = TypeVar("_Side", "WrkSide", "HarnessSide")


def _side_from_json(cls: type[_Side], data: Mapping[str, Any], name: str) -> _Side:
    resources = build(SideResources, data, name)
    return build(cls, {**data, "resources": resources}, name)


@dataclass(frozen=True, kw_only=True)
class WrkSide:
    """wrk's measured run of one pair, as wrk reported it (wrk-<n>.txt is `output`)."""

    rps: float
    p50_ms: float | None
    requests: int
    errors: int
    non_2xx_3xx: int
    socket_errors: Mapping[str, int]
    error_summary: str
    elapsed_s: float
    latency_percentiles_ms: Mapping[str, float]
    output: str
    exit_code: int
    resources: SideResources = field(default_factory=SideResources)

    def to_json(self) -> dict[str, Any]:
        return _side_json(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WrkSide:
        return _side_from_json(cls, data, "wrk side")


@dataclass(frozen=True, kw_only=True)
class HarnessSide:
    """The harness's (Locust's) measured window of one pair; its files are in `run_dir`."""

    rps: float
    p50_ms: float | None
    requests: int
    failures: int
    window_s: float | None
    run_dir: str
    locust_exit_code: int
    loadgen_cpu_warning: bool
    loadgen_loop_lag_mean_ms: float | None
    resources: SideResources = field(default_factory=SideResources)

    def to_json(self) -> dict[str, Any]:
        return _side_json(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HarnessSide:
        return _side_from_json(cls, data, "harness side")


@dataclass(frozen=True)
class CalibrationPair:
    """One wrk side and one harness side, measured one after the other. A side is None
    until it ran; `notes` is None (and absent from the file) until both did."""

    index: int
    order: tuple[str, ...]
    wrk: WrkSide | None = None
    harness: HarnessSide | None = None
    ratio: float | None = None
    notes: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "index": self.index,
            "order": list(self.order),
            "wrk": self.wrk.to_json() if self.wrk else None,
            "harness": self.harness.to_json() if self.harness else None,
            "ratio": self.ratio,
        }
        if self.notes is not None:
            document["notes"] = list(self.notes)
        return document

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CalibrationPair:
        wrk, harness, notes = data.get("wrk"), data.get("harness"), data.get("notes")
        return cls(
            index=int(data["index"]),
            order=tuple(data["order"]),
            wrk=WrkSide.from_json(wrk) if wrk is not None else None,
            harness=HarnessSide.from_json(harness) if harness is not None else None,
            ratio=data.get("ratio"),
            notes=tuple(notes) if notes is not None else None,
        )


@dataclass(frozen=True, kw_only=True)
class CalibrationRecord:
    """calibration.json: what one calibration ran, each pair's two sides, the medians over
    the pairs and the verdict on the target. The fields after `pairs` stay None until the
    pairs ran; `target_met` stays None unless the calibration is ok (a failed or invalid one
    is not judged)."""

    calibration_id: str
    server: str
    server_version: str | None
    server_argv: tuple[str, ...]
    workers: int
    users: int
    connections: int
    scenario: str
    endpoint: str
    duration_s: int
    warmup_s: int
    access_lifetime_s: int
    pairs_planned: int
    order: str
    token_note: str
    wrk_argv: tuple[str, ...]
    base_url: str
    pairs: tuple[CalibrationPair, ...] = ()
    ratio_median: float | None = None
    ratio_min: float | None = None
    ratio_max: float | None = None
    wrk_rps_median: float | None = None
    harness_rps_median: float | None = None
    wrk_p50_ms_median: float | None = None
    harness_p50_ms_median: float | None = None
    target: float
    target_met: bool | None = None
    placement: Mapping[str, Any]
    versions: Mapping[str, str | None]
    git_sha: str | None
    git_dirty: bool | None
    cpu_model: str
    cpu_count: int
    load_average_at_start: tuple[float, ...]
    load_average_at_end: tuple[float, ...] | None = None
    started_at: str | None = None
    finished_at: str | None = None
    status: Status
    reason: str
    notes: tuple[str, ...] = ()

    @property
    def measured_pairs(self) -> int:
        """Pairs whose two sides both ran (the ones a ratio exists for)."""
        return sum(1 for pair in self.pairs if pair.ratio is not None)

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
        for declared in fields(self):
            value = getattr(self, declared.name)
            if declared.name == "pairs":
                value = [pair.to_json() for pair in value]
            elif isinstance(value, Status):
                value = value.value
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            document[declared.name] = value
        return document

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CalibrationRecord:
        check_version(data, "calibration.json")
        try:
            values = {key: value for key, value in data.items() if key != "schema_version"}
            values["status"] = Status(str(data.get("status")))
            values["pairs"] = tuple(CalibrationPair.from_json(p) for p in data.get("pairs") or ())
            for name in _CALIBRATION_LISTS:
                if values.get(name) is not None:
                    values[name] = tuple(values[name])
            return build(cls, values, "calibration.json")
        except SchemaError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise SchemaError(f"calibration.json: {type(error).__name__}: {error}") from None


# calibration.json's lists, held as tuples (a missing one is reported, never filled in)
_CALIBRATION_LISTS: Final = (
    "server_argv",
    "wrk_argv",
    "load_average_at_start",
    "load_average_at_end",
    "notes",
)


def read_calibration(path: Path) -> CalibrationRecord:
    return CalibrationRecord.from_json(read_document(path))
