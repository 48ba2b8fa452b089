"""meta.json, summary.json (and its steps) and window.json: one run of `make bench`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from loadtests.window import WindowRecord
from scripts.records.schema.arrival import ArrivalFigures, open_model_json
from scripts.records.schema.base import (
    SCHEMA_VERSION,
    SchemaError,
    Status,
    build,
    check_version,
    number,
    read_document,
)
from scripts.records.schema.workers import LocustWorker, workers_from_json, workers_to_json

# Where a window's latency figures come from (a report labels them).
LATENCY_HDR: Final = "hdr_us"  # microsecond HDR histograms of the successes (schema 2)
LATENCY_LOCUST: Final = "locust_ms_buckets"  # Locust's rounded buckets (schema 1)


@dataclass(frozen=True)
class WindowFigures:
    """Request figures of one measured window (or of one endpoint in it).

    Schema 2: `requests` and `failures` count what completed between the window's own
    timestamps, `rps` is requests / the window's measured length, `goodput_rps` the same for
    successes only, and the latency figures come from the successes' microsecond histogram,
    a percentile None where the histogram holds too few samples for it (`samples`; the rule
    is loadtests/latency.py's). Schema 1 runs carry Locust's figures (`latency_source`)."""

    requests: int
    failures: int
    error_rate: float
    rps: float
    goodput_rps: float | None = None
    samples: int | None = None
    latency_source: str = LATENCY_LOCUST
    failures_by_kind: Mapping[str, int] = field(default_factory=dict)
    not_recorded: int = 0
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
        return build(cls, data, name)


@dataclass(frozen=True)
class WindowResources:
    """CPU and memory of the server and the load generator over one window; None where no
    sample fell in the window."""

    server_cpu_pct: float | None = None
    server_rss_peak_mb: float | None = None
    server_threads_peak: int | None = None  # the server tree's most OS threads in the window
    rps_per_cpu_core: float | None = None
    loadgen_cpu_pct: float | None = None
    loadgen_max_process_cpu_pct: float | None = None
    loadgen_loop_lag_mean_ms: float | None = None
    loadgen_loop_lag_p95_ms: float | None = None
    proxy_cpu_pct: float | None = None  # nginx in front (PROXY=nginx), % of one CPU
    database_cpu_pct: float | None = None  # the harness's own PostgreSQL (DB=postgres)
    deployment_cpu_pct: float | None = None  # server + proxy + database: what the answers cost
    steal_pct: float | None = None  # CPU the hypervisor took, in % of one CPU
    other_cpu_pct: float | None = None  # busy CPU of processes outside the run, % of one CPU
    machine_noisy: bool = False  # either above its limit (scripts/harness/judge.py)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WindowResources:
        return build(cls, data, "resources")


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
    arrival: ArrivalFigures | None = None  # the open model's figures (ARRIVAL_RATE runs)

    def to_json(self) -> dict[str, Any]:
        document = {
            "users": self.users,
            "window_s": self.window_s,
            **_window_json(self.figures, self.endpoints),
            **asdict(self.resources),
        }
        if self.arrival is not None:
            document["arrival"] = self.arrival.to_json()
        return document

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StepSummary:
        name = f"step at {data.get('users')} users"
        return cls(
            users=int(data["users"]),
            window_s=float(data["window_s"]),
            figures=WindowFigures.from_json(data, name),
            resources=WindowResources.from_json(data),
            endpoints=_endpoints(data, name),
            arrival=_arrival(data, name),
        )


def _arrival(data: Mapping[str, Any], name: str) -> ArrivalFigures | None:
    raw = data.get("arrival")
    return None if raw is None else ArrivalFigures.from_json(raw, f"{name} arrival")


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
    server_counted: int | None = None  # what the server says it answered in the window(s)
    worker_restarts: int | None = None  # processes that began answering inside the window
    warnings: tuple[str, ...] = ()
    robustness: Mapping[str, Any] | None = None  # CHECKS=robustness (harness/robustness.py)
    loadgen_workers: tuple[LocustWorker, ...] = ()  # distributed: each worker's figures
    arrival: ArrivalFigures | None = None  # the open model's (last) window (ARRIVAL_RATE)

    @property
    def windows(self) -> tuple[StepSummary, ...]:
        """Every measured window: the steps, or the one window of a constant load."""
        if self.steps:
            return self.steps
        return (
            StepSummary(
                self.users,
                self.window_s or 0.0,
                self.figures,
                self.resources,
                self.endpoints,
                self.arrival,
            ),
        )

    @property
    def open_model(self) -> dict[str, Any] | None:
        """Whether an ARRIVAL_RATE run kept up, per window (None for a closed loop)."""
        return open_model_json(tuple(window.arrival for window in self.windows))

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
        document["server_counted"] = self.server_counted
        document["worker_restarts"] = self.worker_restarts
        document["warnings"] = list(self.warnings)
        if self.robustness is not None:
            document["robustness"] = dict(self.robustness)
        if self.loadgen_workers:
            document["loadgen_workers"] = workers_to_json(self.loadgen_workers)
        if self.arrival is not None:
            document["arrival"] = self.arrival.to_json()
            document["open_model"] = self.open_model
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
                window_s=number(data.get("window_s")),
                figures=WindowFigures.from_json(data, "summary.json"),
                resources=WindowResources.from_json(data),
                endpoints=_endpoints(data, "summary.json"),
                logins_ready=logins.get("ready"),
                logins_failed=logins.get("failed"),
                loadgen_cpu_warning=bool(data.get("loadgen_cpu_warning")),
                shape=data.get("shape"),
                steps=tuple(StepSummary.from_json(step) for step in data.get("steps") or ()),
                slo=data.get("slo"),
                server_counted=data.get("server_counted"),
                worker_restarts=data.get("worker_restarts"),
                warnings=tuple(data.get("warnings") or ()),
                robustness=data.get("robustness"),
                loadgen_workers=workers_from_json(data.get("loadgen_workers")),
                arrival=_arrival(data, "summary.json"),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise SchemaError(f"summary.json: {error}") from None


@dataclass(frozen=True)
class ExternalTarget:
    """meta.json's `target`: the run measured a deployment the harness did not launch
    (TARGET=...), and what the harness could and could not observe of it from here.

    No server process runs on this machine, so its CPU, memory and threads are not sampled,
    its own request counters (files on its machine) are not read, its exit is not watched
    (only whether /healthz still answers after the load), and repeats do not get a fresh
    server process: they share the deployment's, with whatever state it carries over."""

    url: str
    tls: str  # how TLS was verified ("none (http)" for http://)
    ca_file: str | None = None
    server_cpu_observed: bool = False
    server_memory_observed: bool = False
    server_counts_observed: bool = False
    server_exit_observed: bool = False
    fresh_process_per_run: bool = False
    unobserved_why: str = (
        "the server runs on another machine: no sampler or request counter of the harness "
        "runs there"
    )

    @classmethod
    def from_json(cls, data: Any) -> ExternalTarget:
        if not isinstance(data, Mapping):
            raise SchemaError("meta.json: target is not an object")
        return build(cls, data, "meta.json target")


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
    workers_rule: str = ""  # how workers and threads were chosen (WORKERS=auto: whose rule)
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
    tokens: Mapping[str, Any] | None = None
    max_error_rate: float | None = None  # the error gate (None: schema 1, no gate)
    errors_expected: bool = False  # errors are what the run measures, not a gate
    login_throttle: Mapping[str, str] | None = None  # the app's login limits for this run
    # the deployment around the server: its name (PROFILE, or the PROXY+DB pair), nginx's
    # facts (None: no proxy) and the database's ({"engine": "sqlite"} or PostgreSQL's facts)
    profile: str = "dev"
    proxy: Mapping[str, Any] | None = None
    database: Mapping[str, Any] | None = None
    checks: tuple[str, ...] = ()  # extra checks run after the load (CHECKS=robustness)
    shares_machine: bool = False  # run with SHARE_MACHINE=1, beside another bench maybe
    max_requests: int | None = None  # each worker replaced after this many (MAX_REQUESTS)
    target: ExternalTarget | None = None  # TARGET: an external deployment (None: launched here)
    # distributed load (scripts/harness/distributed.py): the master's set-up, its workers
    load_workers: Mapping[str, Any] | None = None
    locust_workers: tuple[LocustWorker, ...] = ()
    # closed: each user waits for its answer (coordinated omission); open: ARRIVAL_RATE
    load_model: str = "closed"
    arrival_rates_rps: tuple[float, ...] = ()  # the open model's offered rates, per window
    max_in_flight: int | None = None  # the open model's pool of users

    @property
    def external(self) -> bool:
        """Whether the run measured a deployment the harness did not launch."""
        return self.target is not None

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
        document["locust_workers"] = workers_to_json(self.locust_workers)
        for name in ("argv", "cpu_affinity", "user_steps", "checks", "arrival_rates_rps"):
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
        for name in ("argv", "cpu_affinity", "user_steps", "checks", "arrival_rates_rps"):
            values[name] = tuple(values.get(name) or ())
        if values.get("target") is not None:
            values["target"] = ExternalTarget.from_json(values["target"])
        values["locust_workers"] = workers_from_json(values.get("locust_workers"))
        return build(cls, values, "meta.json")


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
    return build(WindowRecord, data, "window.json")


def read_meta(path: Path) -> RunMeta:
    return RunMeta.from_json(read_document(path))


def read_summary(path: Path) -> RunSummary:
    return RunSummary.from_json(read_document(path))


def read_window(path: Path) -> WindowRecord:
    return window_from_json(read_document(path))


def step_stats_files(record: WindowRecord) -> tuple[str, ...]:
    """The statistics file of each step of a step load, in step order: window.json's steps
    name them, so no reader has to parse a user count back out of a file name."""
    names = tuple(step.get("stats_file") for step in record.steps)
    if not all(isinstance(name, str) and name for name in names):
        raise SchemaError("window.json has a step without its stats_file")
    return tuple(str(name) for name in names)
