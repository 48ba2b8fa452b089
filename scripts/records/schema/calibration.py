"""calibration.json: `make calibrate`'s cross-check of the harness against wrk.

One document per calibration, rewritten after every side, so an interrupted calibration
leaves the sides it measured. A side's CPU figures are written flat next to its request
figures.

Added within schema version 1 (issue 17), every one optional with a default that means "not
recorded": a side's per-second `series` figures, a pair's plain-Locust side (`locust`,
`locust_ratio`) and `noise_flags`, and the calibration's `references`, `estimates` (point
estimates with bootstrap CIs), `rps_cv`, the targets' upper bounds and the noise verdict;
the candidate causes a calibration tested (`causes`), each pair's side per candidate
(`causes` of a pair) and each candidate's effect (`cause_effects`).
They are left out of the file while they hold their default, so a file written before them
(the committed fixture) reads back and writes out byte for byte, and a reader of the first
version ignores them.
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


@dataclass(frozen=True)
class SideSeries:
    """What a side's per-second series (`<side>-<n>-series.csv`) say over its measured
    window: the server's own count of what it answered, and per answered request the
    server's user and system CPU, its context switches and the TCP connections the machine
    accepted; the mean run-queue length (runnable tasks, machine-wide) and the steal on the
    server's CPUs. None where the series has no figure for the window."""

    served_requests: int | None = None
    server_user_ms_per_request: float | None = None
    server_system_ms_per_request: float | None = None
    server_voluntary_switches_per_request: float | None = None
    server_involuntary_switches_per_request: float | None = None
    connections_per_request: float | None = None
    tcp_resets_per_request: float | None = None
    run_queue_mean: float | None = None
    server_cpu_steal_pct: float | None = None
    rps_per_second_cv: float | None = None  # of the server's per-second counts in the window

    @property
    def server_switches_per_request(self) -> float | None:
        """Voluntary and involuntary context switches together, per answered request."""
        voluntary = self.server_voluntary_switches_per_request
        if voluntary is None:
            return None
        return voluntary + (self.server_involuntary_switches_per_request or 0)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SideSeries:
        return build(cls, data, "series")


def _side_json(side: WrkSide | HarnessSide | LocustSide) -> dict[str, Any]:
    values = asdict(side)
    resources = values.pop("resources")
    series = values.pop("series")
    document = {**values, **resources}
    if series is not None:
        document["series"] = series
    return document


_Side = TypeVar("_Side", "WrkSide", "HarnessSide", "LocustSide")


def _side_from_json(cls: type[_Side], data: Mapping[str, Any], name: str) -> _Side:
    resources = build(SideResources, data, name)
    raw_series = data.get("series")
    series = SideSeries.from_json(raw_series) if isinstance(raw_series, Mapping) else None
    return build(cls, {**data, "resources": resources, "series": series}, name)


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
    series: SideSeries | None = None

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
    series: SideSeries | None = None

    def to_json(self) -> dict[str, Any]:
        return _side_json(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HarnessSide:
        return _side_from_json(cls, data, "harness side")


@dataclass(frozen=True, kw_only=True)
class LocustSide:
    """Plain Locust's measured run of one pair (loadtests/plain_locustfile.py: no harness
    code), the third side that separates the harness's own cost from Locust's; its files
    are in `run_dir`. `window_s` runs from its statistics reset (after the warm-up) to its
    stop, and `rps` is the window's requests over it."""

    rps: float
    p50_ms: float | None
    requests: int
    failures: int
    window_s: float | None
    run_dir: str
    locust_exit_code: int
    loadgen_cpu_warning: bool
    resources: SideResources = field(default_factory=SideResources)
    series: SideSeries | None = None

    def to_json(self) -> dict[str, Any]:
        return _side_json(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LocustSide:
        return _side_from_json(cls, data, "locust side")


@dataclass(frozen=True)
class CalibrationPair:
    """One wrk side and one harness side (and, when asked for, a plain-Locust side),
    measured one after the other. A side is None until it ran; `notes` and `noise_flags`
    are None (and absent from the file) until every side did; `locust` and `locust_ratio`
    (plain Locust / wrk) are absent from the file when plain Locust was not run."""

    index: int
    order: tuple[str, ...]
    wrk: WrkSide | None = None
    harness: HarnessSide | None = None
    ratio: float | None = None
    notes: tuple[str, ...] | None = None
    locust: LocustSide | None = None
    locust_ratio: float | None = None
    noise_flags: tuple[str, ...] | None = None
    causes: Mapping[str, WrkSide] = field(default_factory=dict)  # candidate -> its wrk side

    @property
    def noisy(self) -> bool:
        """Whether a side of this pair ran on a noisy machine (its flags say why)."""
        return bool(self.noise_flags)

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
        if self.locust is not None:
            document["locust"] = self.locust.to_json()
        if self.locust_ratio is not None:
            document["locust_ratio"] = self.locust_ratio
        if self.noise_flags is not None:
            document["noise_flags"] = list(self.noise_flags)
        if self.causes:
            document["causes"] = {name: side.to_json() for name, side in self.causes.items()}
        return document

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CalibrationPair:
        wrk, harness, notes = data.get("wrk"), data.get("harness"), data.get("notes")
        locust, flags = data.get("locust"), data.get("noise_flags")
        return cls(
            index=int(data["index"]),
            order=tuple(data["order"]),
            wrk=WrkSide.from_json(wrk) if wrk is not None else None,
            harness=HarnessSide.from_json(harness) if harness is not None else None,
            ratio=data.get("ratio"),
            notes=tuple(notes) if notes is not None else None,
            locust=LocustSide.from_json(locust) if locust is not None else None,
            locust_ratio=data.get("locust_ratio"),
            noise_flags=tuple(flags) if flags is not None else None,
            causes={
                str(name): WrkSide.from_json(side)
                for name, side in (data.get("causes") or {}).items()
            },
        )


@dataclass(frozen=True)
class Estimate:
    """A point estimate over the pairs and its bootstrap CI: `name` of `numerator` against
    `denominator` ("cv_ratio" of "harness" against "wrk" is the harness's CV of rps across
    the pairs divided by wrk's). The CI is None when too few pairs were measured or the
    bootstrap had no spread to work with; `method` says how it was computed."""

    name: str
    numerator: str
    denominator: str
    point: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float
    method: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Estimate:
        return build(cls, data, "estimate")


@dataclass(frozen=True)
class CauseEffect:
    """One candidate cause's effect (scripts/harness/calibration/causes.py): the median
    over the pairs of its wrk side against the plain wrk side, of the server's CPU time
    per request and of the rate, each with its CI and how it reads ("higher", "lower",
    "within 2 %", "inconclusive", "no CI")."""

    cause: str
    question: str
    change: str
    pairs: int
    server_cpu_per_request: Estimate
    rps: Estimate
    server_cpu_reading: str
    rps_reading: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CauseEffect:
        values = dict(data)
        values["server_cpu_per_request"] = Estimate.from_json(data["server_cpu_per_request"])
        values["rps"] = Estimate.from_json(data["rps"])
        return build(cls, values, "cause effect")


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
    # added within version 1 (module docstring): absent from the file while unset
    references: tuple[str, ...] = ("wrk",)
    estimates: tuple[Estimate, ...] = ()
    rps_cv: Mapping[str, float | None] | None = None
    locust_rps_median: float | None = None
    locust_p50_ms_median: float | None = None
    target_ratio_max: float | None = None
    target_cv_ratio_max: float | None = None
    noise_thresholds: Mapping[str, float] | None = None
    noise_rule: str | None = None
    noisy_pairs: int | None = None
    machine_too_noisy: bool | None = None
    causes: tuple[str, ...] = ()
    cause_effects: tuple[CauseEffect, ...] = ()

    @property
    def measured_pairs(self) -> int:
        """Pairs whose two sides both ran (the ones a ratio exists for)."""
        return sum(1 for pair in self.pairs if pair.ratio is not None)

    def estimate(
        self, name: str, numerator: str = "harness", denominator: str = "wrk"
    ) -> Estimate | None:
        """The estimate of that name and sides, if it was computed."""
        for estimate in self.estimates:
            if (estimate.name, estimate.numerator, estimate.denominator) == (
                name,
                numerator,
                denominator,
            ):
                return estimate
        return None

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
        for declared in fields(self):
            value = getattr(self, declared.name)
            if declared.name in _ADDED_IN_VERSION_1 and value == declared.default:
                continue
            if declared.name == "pairs":
                value = [pair.to_json() for pair in value]
            elif declared.name in ("estimates", "cause_effects"):
                value = [asdict(item) for item in value]
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
            values["estimates"] = tuple(Estimate.from_json(e) for e in data.get("estimates") or ())
            values["cause_effects"] = tuple(
                CauseEffect.from_json(effect) for effect in data.get("cause_effects") or ()
            )
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
    "references",
    "causes",
)
# Fields written only when set (module docstring); each one's default means "not recorded".
_ADDED_IN_VERSION_1: Final = frozenset(
    {
        "references",
        "estimates",
        "rps_cv",
        "locust_rps_median",
        "locust_p50_ms_median",
        "target_ratio_max",
        "target_cv_ratio_max",
        "noise_thresholds",
        "noise_rule",
        "noisy_pairs",
        "machine_too_noisy",
        "causes",
        "cause_effects",
    }
)


def read_calibration(path: Path) -> CalibrationRecord:
    return CalibrationRecord.from_json(read_document(path))
