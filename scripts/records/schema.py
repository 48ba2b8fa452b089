"""The results schema: what meta.json, summary.json, window.json and calibration.json hold.

Every result file is written from, and read back into, the frozen dataclasses here; the JSON
keys of those files appear in this module only. One SCHEMA_VERSION covers them all, and the
readers accept every version written so far (or refuse with a message naming the version),
so results from older benches keep loading in newer reports, as pyperf's do.

Version history:
    1  2026-11-22  first version: meta.json, summary.json (flat window figures, optional
                   steps and slo), window.json, calibration.json
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, TypeVar

from loadtests.window import WindowRecord

SCHEMA_VERSION: Final = 1
READABLE_VERSIONS: Final = frozenset({1})

_T = TypeVar("_T")


class Status(StrEnum):
    """What a run (or a calibration) ended as."""

    OK = "ok"
    FAILED = "failed"  # did not complete: nothing, or nothing trustworthy, was measured
    INVALID = "invalid"  # measured, but not trustworthy (e.g. the generator was saturated)


class SchemaError(ValueError):
    """A result file that does not match any version of the schema; the message says why."""


def check_version(document: Mapping[str, Any], name: str) -> int:
    """The document's schema_version, or SchemaError when this code cannot read it."""
    version = document.get("schema_version")
    if version not in READABLE_VERSIONS:
        readable = ", ".join(map(str, sorted(READABLE_VERSIONS)))
        raise SchemaError(f"{name} has schema_version {version!r}; this code reads {readable}")
    return int(version)


def _build(cls: type[_T], data: Mapping[str, Any], name: str) -> _T:
    """A dataclass from the mapping's keys that are its fields; SchemaError naming the
    missing required ones. Unknown keys are ignored (a newer writer's additions)."""
    declared = fields(cls)  # type: ignore[arg-type]
    known = {f.name for f in declared}
    required = {f.name for f in declared if f.default is MISSING and f.default_factory is MISSING}
    missing = sorted(required - set(data))
    if missing:
        raise SchemaError(f"{name} lacks {', '.join(missing)}")
    return cls(**{key: value for key, value in data.items() if key in known})


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@dataclass(frozen=True)
class WindowFigures:
    """Request figures of one measured window (or of one endpoint in it)."""

    requests: int
    failures: int
    error_rate: float
    rps: float
    avg_ms: float | None = None
    min_ms: float | None = None
    p50_ms: float | None = None
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    p999_ms: float | None = None
    max_ms: float | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any], name: str = "figures") -> WindowFigures:
        return _build(cls, data, name)


@dataclass(frozen=True)
class WindowResources:
    """CPU and memory of the server and the load generator over one window; None where no
    sample fell in the window."""

    server_cpu_pct: float | None = None
    server_rss_peak_mb: float | None = None
    rps_per_cpu_core: float | None = None
    loadgen_cpu_pct: float | None = None
    loadgen_max_process_cpu_pct: float | None = None
    loadgen_loop_lag_mean_ms: float | None = None
    loadgen_loop_lag_p95_ms: float | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WindowResources:
        return _build(cls, data, "resources")


def _window_json(figures: WindowFigures, endpoints: Mapping[str, WindowFigures]) -> dict[str, Any]:
    return {**asdict(figures), "endpoints": {name: asdict(e) for name, e in endpoints.items()}}


def _endpoints(data: Mapping[str, Any], name: str) -> dict[str, WindowFigures]:
    raw = data.get("endpoints") or {}
    if not isinstance(raw, Mapping):
        raise SchemaError(f"{name}: endpoints is not an object")
    return {key: WindowFigures.from_json(value, f"{name} {key}") for key, value in raw.items()}


@dataclass(frozen=True)
class StepSummary:
    """One step of a step load: its user count, window and figures."""

    users: int
    window_s: float
    figures: WindowFigures
    resources: WindowResources
    endpoints: Mapping[str, WindowFigures] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "users": self.users,
            "window_s": self.window_s,
            **_window_json(self.figures, self.endpoints),
            **asdict(self.resources),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StepSummary:
        name = f"step at {data.get('users')} users"
        return cls(
            users=int(data["users"]),
            window_s=float(data["window_s"]),
            figures=WindowFigures.from_json(data, name),
            resources=WindowResources.from_json(data),
            endpoints=_endpoints(data, name),
        )


@dataclass(frozen=True)
class RunSummary:
    """summary.json: the measured figures of one run. A step run's top-level figures are its
    last (largest) step's."""

    run_id: str
    server: str
    scenario: str
    status: Status
    users: int
    workers: int
    threads: int | None
    window_s: float | None
    figures: WindowFigures
    resources: WindowResources
    endpoints: Mapping[str, WindowFigures] = field(default_factory=dict)
    logins_ready: int | None = None
    logins_failed: int | None = None
    loadgen_cpu_warning: bool = False
    shape: str | None = None
    steps: tuple[StepSummary, ...] = ()
    slo: Mapping[str, Any] | None = None

    @property
    def windows(self) -> tuple[StepSummary, ...]:
        """Every measured window: the steps, or the one window of a constant load."""
        if self.steps:
            return self.steps
        return (
            StepSummary(
                self.users, self.window_s or 0.0, self.figures, self.resources, self.endpoints
            ),
        )

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "run_id": self.run_id,
            "server": self.server,
            "scenario": self.scenario,
            "status": self.status.value,
            "users": self.users,
            "workers": self.workers,
            "threads": self.threads,
            "window_s": self.window_s,
            **asdict(self.resources),
            **_window_json(self.figures, self.endpoints),
            "logins": {"ready": self.logins_ready, "failed": self.logins_failed},
            "loadgen_cpu_warning": self.loadgen_cpu_warning,
        }
        if self.shape is not None:
            document["shape"] = self.shape
            document["steps"] = [step.to_json() for step in self.steps]
        if self.slo is not None:
            document["slo"] = dict(self.slo)
        return document

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunSummary:
        check_version(data, "summary.json")
        raw_logins = data.get("logins")
        logins: Mapping[str, Any] = raw_logins if isinstance(raw_logins, Mapping) else {}
        try:
            return cls(
                run_id=str(data["run_id"]),
                server=str(data["server"]),
                scenario=str(data["scenario"]),
                status=Status(data["status"]),
                users=int(data["users"]),
                workers=int(data["workers"]),
                threads=data.get("threads"),
                window_s=_number(data.get("window_s")),
                figures=WindowFigures.from_json(data, "summary.json"),
                resources=WindowResources.from_json(data),
                endpoints=_endpoints(data, "summary.json"),
                logins_ready=logins.get("ready"),
                logins_failed=logins.get("failed"),
                loadgen_cpu_warning=bool(data.get("loadgen_cpu_warning")),
                shape=data.get("shape"),
                steps=tuple(StepSummary.from_json(step) for step in data.get("steps") or ()),
                slo=data.get("slo"),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise SchemaError(f"summary.json: {error}") from None


@dataclass(frozen=True)
class RunMeta:
    """meta.json: what was run, where, with what, and how it ended."""

    run_id: str
    bench_id: str
    sequence: int
    repeat_index: int
    server: str
    server_version: str | None
    interface: str
    production_grade: bool
    argv: tuple[str, ...]
    config_file: str | None
    config_text: str | None
    workers: int
    threads: int | None
    scenario: str
    users: int
    spawn_rate: float
    warmup_s: float
    duration_s: float
    access_lifetime_s: int
    host: str
    port: int
    base_url: str
    status: Status
    reason: str
    threads_note: str = ""
    started_at: str | None = None
    finished_at: str | None = None
    git_sha: str | None = None
    git_dirty: bool | None = None
    versions: Mapping[str, str | None] = field(default_factory=dict)
    cpu_model: str = "unknown"
    cpu_count: int = 1
    cpu_affinity: tuple[int, ...] = ()
    database_engine: str = "sqlite"
    placement: Mapping[str, Any] = field(default_factory=dict)
    shape: str = "constant"
    user_steps: tuple[int, ...] = ()
    slo_p99_ms: float | None = None
    locust_processes: int = 1
    locust_exit_code: int | None = None
    observed_cpus: Mapping[str, Sequence[int]] | None = None
    timings_s: Mapping[str, float] = field(default_factory=dict)

    def finished(self, status: Status, reason: str, **changes: Any) -> RunMeta:
        """A copy with the outcome (and any other field) set."""
        return replace(self, status=status, reason=reason, **changes)

    def setting(self, name: str) -> Any:
        """A field by name; a dotted name reaches into mappings (`placement.mode`)."""
        head, _, rest = name.partition(".")
        value: Any = getattr(self, head, None)
        for part in rest.split(".") if rest else ():
            value = value.get(part) if isinstance(value, Mapping) else None
        return value

    def to_json(self) -> dict[str, Any]:
        document = {"schema_version": SCHEMA_VERSION, **asdict(self)}
        document["status"] = self.status.value
        for name in ("argv", "cpu_affinity", "user_steps"):
            document[name] = list(document[name])
        return document

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunMeta:
        check_version(data, "meta.json")
        try:
            status = Status(str(data.get("status")))
        except ValueError:
            expected = ", ".join(status.value for status in Status)
            raise SchemaError(
                f"meta.json has status {data.get('status')!r}; expected one of {expected}"
            ) from None
        wrong = [
            name
            for name, types in _REQUIRED_META_TYPES.items()
            if not isinstance(data.get(name), types) or isinstance(data.get(name), bool)
        ]
        if wrong:
            raise SchemaError(f"meta.json lacks or mistypes {', '.join(wrong)}")
        values = {key: value for key, value in data.items() if key != "schema_version"}
        values["status"] = status
        values["shape"] = values.get("shape") or "constant"
        for name in ("argv", "cpu_affinity", "user_steps"):
            values[name] = tuple(values.get(name) or ())
        return _build(cls, values, "meta.json")


# Fields of meta.json every reader relies on, and their JSON types.
_REQUIRED_META_TYPES: Final[Mapping[str, tuple[type, ...]]] = {
    "server": (str,),
    "scenario": (str,),
    "users": (int,),
    "duration_s": (int, float),
    "workers": (int,),
}


def window_to_json(record: WindowRecord) -> dict[str, Any]:
    """window.json as the locustfile writes it (loadtests cannot import the harness, so its
    writer is loadtests.window.WindowRecord itself; this is the one reader)."""
    return asdict(record)


def window_from_json(data: Mapping[str, Any]) -> WindowRecord:
    """window.json back into the locustfile's record (unknown keys are a newer writer's)."""
    if not isinstance(data.get("users_target"), int):
        raise SchemaError("window.json lacks users_target")
    return _build(WindowRecord, data, "window.json")


def read_document(path: Path) -> dict[str, Any]:
    """A JSON object from a result file; SchemaError saying what is wrong with it."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise SchemaError(f"{path.name} is missing") from None
    except OSError as error:
        raise SchemaError(f"{path.name} cannot be read ({error.strerror})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise SchemaError(
            f"{path.name} is not valid JSON (line {error.lineno}, column {error.colno}: "
            f"{error.msg})"
        ) from None
    if not isinstance(data, dict):
        raise SchemaError(f"{path.name} is not a JSON object")
    return data


def read_meta(path: Path) -> RunMeta:
    return RunMeta.from_json(read_document(path))


def read_summary(path: Path) -> RunSummary:
    return RunSummary.from_json(read_document(path))


def read_window(path: Path) -> WindowRecord:
    return window_from_json(read_document(path))


# calibration.json: `make calibrate`'s cross-check of the harness against wrk. One document
# per calibration, rewritten after every side, so an interrupted calibration leaves the sides
# it measured. A side's CPU figures are written flat next to its request figures.


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
    resources = _build(SideResources, data, name)
    return _build(cls, {**data, "resources": resources}, name)


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
            return _build(cls, values, "calibration.json")
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
