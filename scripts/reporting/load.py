"""Reading run directories: the report's only input.

The report is a pure function of `results/runs/*/`. Every run directory becomes one
`RunRecord` (what was run, its status and why), read through the typed results schema
(scripts/records/schema.py), and the runs whose status is `ok` also contribute rows to three
tidy frames: Locust's statistics (one row per run, window and endpoint), its per-second
history, and resource samples when a run has them. A directory that cannot be read is never
fatal: it becomes a record with status `unreadable` and the reason, so one corrupt run cannot
hide the others, and failed or invalid runs never reach the numbers: their summary.json,
when readable, is kept on the record only, so the report can show their figures apart.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, TypeAlias

import pandas as pd

from loadtests.latency import FILE_NAME as LATENCY_FILE
from loadtests.window import WindowRecord
from scripts.records.schema import (
    LATENCY_HDR,
    RunMeta,
    RunSummary,
    SchemaError,
    Status,
    StepSummary,
    WindowResources,
    read_document,
    read_summary,
    read_window,
    step_stats_files,
)
from scripts.reporting.frames import (
    AGGREGATED,
    HISTORY_COLUMNS,
    STATS_COLUMNS,
    UnreadableRun,
    derive_history,
    last_history_timestamp_s,
    read_history_rows,
    read_resources,
    read_stats,
)
from scripts.reporting.hdr_frames import read_hdr_stats
from scripts.reporting.profiles import DEV_PROFILE, database_unobserved, server_unobserved


class ReportStatus(StrEnum):
    """A status only the report gives (the bench writes `Status`)."""

    UNREADABLE = "unreadable"  # the run directory is incomplete or corrupt


RunStatus: TypeAlias = Status | ReportStatus

# What each status means to a reader of the report.
STATUS_MEANINGS: Final[Mapping[RunStatus, str]] = MappingProxyType(
    {
        Status.OK: "measured and used in the numbers",
        Status.FAILED: "did not complete; not used",
        Status.INVALID: "measured but not trustworthy; not used",
        ReportStatus.UNREADABLE: "the run directory is incomplete or corrupt; not used",
    }
)

# Per-run settings copied from meta.json into every frame, so each frame stands alone.
RUN_COLUMNS: Final = (
    "run_id",
    "server",
    "production_grade",
    "scenario",
    "shape",
    "duration_s",
    "workers",
    "threads",
    "profile",
    "database_unobserved",
    "server_unobserved",
)
SHAPE_CONSTANT: Final = "constant"
SHAPE_STEPS: Final = "steps"
# The statistics of a constant load's one window (a step load names each step's file).
STATS_FILE: Final = "locust_stats.csv"
HISTORY_FILE: Final = "locust_stats_history.csv"
RESOURCES_FILE: Final = "resources.csv"


@dataclass(frozen=True)
class RunRecord:
    """One run directory as the report sees it: its settings, status and any caveats.

    `meta` is None when meta.json does not match the schema; `meta_document` is meta.json
    as written (empty when it is not a JSON object), shown on the page as the run's full
    settings, and the only settings such an unreadable run has to show.
    """

    run_id: str
    path: Path
    status: RunStatus
    reason: str
    meta: RunMeta | None
    meta_document: Mapping[str, Any] = field(default_factory=dict)
    summary: RunSummary | None = None
    window: WindowRecord | None = None
    has_locust_html: bool = False
    notes: tuple[str, ...] = ()

    @property
    def usable(self) -> bool:
        """Whether this run's numbers may be shown."""
        return self.status is Status.OK

    def setting(self, name: str) -> Any:
        """A meta.json field; a dotted name reaches into objects (`placement.mode`)."""
        if self.meta is not None:
            return self.meta.setting(name)
        value: Any = self.meta_document
        for part in name.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        return value


@dataclass(frozen=True)
class LoadedResults:
    """Everything the report knows: every selected run, and the tidy frames of usable ones.

    `stats` has one row per run and endpoint (the `Aggregated` endpoint included), with the
    run's settings repeated on each row and `users`, the load it was measured at (a step-load
    run has one set of rows per step); `history` one row per run, endpoint and second;
    `resources` one row per sample. All three hold usable (status ok) runs only.
    """

    results_dir: Path
    runs: tuple[RunRecord, ...]
    stats: pd.DataFrame
    history: pd.DataFrame
    resources: pd.DataFrame

    @property
    def usable_runs(self) -> tuple[RunRecord, ...]:
        return tuple(run for run in self.runs if run.usable)

    @property
    def excluded_runs(self) -> tuple[RunRecord, ...]:
        return tuple(run for run in self.runs if not run.usable)


@dataclass
class _RunFrames:
    """The frames one run contributes while it is being read."""

    stats: pd.DataFrame | None = None
    history: pd.DataFrame | None = None
    resources: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)


def _number(value: float | None) -> float:
    """A figure of summary.json as a float, NaN where the run has none."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return math.nan


def _run_figures(resources: WindowResources) -> dict[str, float]:
    """The figures the bench's resource sampling adds to a window's Aggregated row: MB, and
    percent of one CPU core (so 200 is two cores busy); NaN for runs made before it, and
    the proxy's and database's CPU NaN for runs without them."""
    return {
        "server_cpu_pct": _number(resources.server_cpu_pct),
        "server_rss_peak_mb": _number(resources.server_rss_peak_mb),
        "loadgen_cpu_pct": _number(resources.loadgen_cpu_pct),
        "proxy_cpu_pct": _number(resources.proxy_cpu_pct),
        "database_cpu_pct": _number(resources.database_cpu_pct),
        "deployment_cpu_pct": _number(resources.deployment_cpu_pct),
    }


RUN_FIGURES: Final = tuple(_run_figures(WindowResources()))


def _run_settings(run_id: str, meta: RunMeta) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "server": meta.server,
        "production_grade": bool(meta.production_grade),
        "scenario": meta.scenario,
        "shape": meta.shape,
        "duration_s": float(meta.duration_s),
        "workers": int(meta.workers),
        "threads": int(meta.threads) if isinstance(meta.threads, int) else pd.NA,
        "profile": meta.profile or DEV_PROFILE,
        "database_unobserved": database_unobserved(meta.database),
        "server_unobserved": server_unobserved(meta),
    }


def _window_start_s(
    window: WindowRecord | None, history_path: Path, duration_s: float, notes: list[str]
) -> float | None:
    """When the measured window began (Unix seconds): from window.json, or else estimated
    as the history's last second minus the window length (Locust quits when it ends)."""
    started = None if window is None else window.window_started_at
    if isinstance(started, int | float) and not isinstance(started, bool):
        return float(started)
    last = last_history_timestamp_s(history_path)
    if last is None:
        return None
    notes.append("window.json gives no window start; estimated from the history's end")
    return last - duration_s


def _step_files(run_dir: Path, window: WindowRecord | None) -> list[Path]:
    """Each step's statistics file, as window.json names it."""
    if window is None:
        raise UnreadableRun(
            "its shape is steps but window.json, which names each step's "
            "statistics file, cannot be read"
        )
    try:
        names = step_stats_files(window)
    except SchemaError as problem:
        raise UnreadableRun(str(problem)) from None
    outside = [name for name in names if Path(name).name != name]
    if outside:
        raise UnreadableRun(f"window.json names step files outside the run: {outside}")
    return [run_dir / name for name in names]


def _measured_windows(
    run_dir: Path, meta: RunMeta, summary: RunSummary, window: WindowRecord | None
) -> list[tuple[StepSummary, Path]]:
    """Every measured window of the run, with the Locust statistics that hold its figures:
    a constant load's one window, or each step of a step load (its user count from
    summary.json, its own statistics file from window.json)."""
    if meta.shape != SHAPE_STEPS:
        return [(summary.windows[0], run_dir / STATS_FILE)]
    if not summary.steps:
        raise UnreadableRun("its shape is steps but summary.json has no steps")
    files = _step_files(run_dir, window)
    if len(files) != len(summary.steps):
        raise UnreadableRun(
            f"summary.json has {len(summary.steps)} steps but window.json {len(files)}"
        )
    return list(zip(summary.steps, files, strict=True))


def _window_stats(step: StepSummary, path: Path, index: int) -> pd.DataFrame:
    """One window's statistics with the user count they were measured at, and its run-level
    figures on the Aggregated row (NaN on the endpoints' rows). A schema-2 window reads our
    own microsecond recording (latency.json), an older one Locust's statistics CSV."""
    hdr_file = path.parent / LATENCY_FILE
    if step.figures.latency_source == LATENCY_HDR and hdr_file.exists():
        stats = read_hdr_stats(hdr_file, index).assign(users=step.users)
    else:
        stats = read_stats(path).assign(users=step.users)
    aggregated = (stats["endpoint"] == AGGREGATED).tolist()
    return stats.assign(
        **{
            name: [value if flag else math.nan for flag in aggregated]
            for name, value in _run_figures(step.resources).items()
        }
    )


def _load_usable(
    run_dir: Path, meta: RunMeta, summary: RunSummary, window: WindowRecord | None
) -> _RunFrames:
    """The frames of a run whose status is ok; raises UnreadableRun when its numbers are
    missing (an ok run without its statistics is not a whole run)."""
    frames = _RunFrames()
    windows = _measured_windows(run_dir, meta, summary, window)
    frames.stats = pd.concat(
        [_window_stats(step, path, index) for index, (step, path) in enumerate(windows)],
        ignore_index=True,
    )
    history_path = run_dir / HISTORY_FILE
    start_s = _window_start_s(window, history_path, float(meta.duration_s), frames.notes)
    if not history_path.exists():
        frames.notes.append(f"no {HISTORY_FILE}: no time series for this run")
    elif start_s is None:
        frames.notes.append(f"{HISTORY_FILE} has no timestamps: no time series")
    else:
        try:
            frames.history = read_history_rows(history_path, start_s)
        except UnreadableRun as problem:
            frames.notes.append(f"{problem}: no time series for this run")
    resources_path = run_dir / RESOURCES_FILE
    if resources_path.exists() and start_s is not None:
        try:
            frames.resources = read_resources(resources_path, start_s)
        except UnreadableRun as problem:
            frames.notes.append(f"{problem}: no resource chart for this run")
    for frame in (frames.stats, frames.history, frames.resources):
        if frame is not None:
            frame.insert(0, "run_id", run_dir.name)
    return frames


def _summary_notes(summary: RunSummary, stats: pd.DataFrame) -> list[str]:
    """Where summary.json and the statistics the report reads disagree (the numbers come
    from the statistics), what the run itself warned of, and where a run's latency comes
    from Locust's rounded buckets. A step-load run's top-level figures are its last step's."""
    notes = list(summary.warnings)
    source = LATENCY_FILE if summary.figures.latency_source == LATENCY_HDR else STATS_FILE
    if source == STATS_FILE:
        notes.append(
            "latency from Locust's millisecond buckets (a schema-1 run): whole milliseconds "
            "below 100 ms, rounded, so differences under 1 ms are below its resolution"
        )
    aggregate = stats[stats["endpoint"] == AGGREGATED].iloc[-1]
    claimed = summary.figures.requests
    if claimed != int(aggregate["requests"]):
        notes.append(
            f"summary.json says {claimed} requests, {source} {int(aggregate['requests'])}; "
            f"the report uses {source}"
        )
    return notes


def _kept_summary(run_dir: Path) -> RunSummary | None:
    """A failed or invalid run's summary.json, when it has a readable one: its figures are
    kept and shown apart (issue 16), never in the numbers. None when it has none."""
    try:
        return read_summary(run_dir / "summary.json")
    except SchemaError:
        return None


def load_run(run_dir: Path) -> tuple[RunRecord, _RunFrames]:
    """Read one run directory; never raises for a corrupt one (it becomes `unreadable`)."""
    has_html = (run_dir / "locust.html").is_file()
    document: Mapping[str, Any] = {}

    def record(status: RunStatus, reason: str, meta: RunMeta | None, **more: Any) -> RunRecord:
        return RunRecord(
            run_dir.name, run_dir, status, reason, meta, document, has_locust_html=has_html, **more
        )

    try:
        document = read_document(run_dir / "meta.json")
        meta = RunMeta.from_json(document)
    except SchemaError as problem:
        return record(ReportStatus.UNREADABLE, str(problem), None), _RunFrames()
    if meta.status is not Status.OK:
        reason = meta.reason or "no reason given"
        return record(meta.status, reason, meta, summary=_kept_summary(run_dir)), _RunFrames()
    notes: list[str] = []
    window: WindowRecord | None = None
    try:
        window = read_window(run_dir / "window.json")
    except SchemaError as problem:
        notes.append(str(problem))
    try:
        summary = read_summary(run_dir / "summary.json")
        frames = _load_usable(run_dir, meta, summary, window)
    except (SchemaError, UnreadableRun) as problem:
        reason = f"status is ok but {problem}"
        return record(ReportStatus.UNREADABLE, reason, meta), _RunFrames()
    assert frames.stats is not None
    notes += [*frames.notes, *_summary_notes(summary, frames.stats)]
    usable = record(Status.OK, "", meta, summary=summary, window=window, notes=tuple(notes))
    return usable, frames


def _combine(
    frames: Iterable[pd.DataFrame | None], settings: pd.DataFrame, columns: Sequence[str]
) -> pd.DataFrame:
    """One frame of every run's rows, each row carrying its run's settings."""
    present = [frame for frame in frames if frame is not None and not frame.empty]
    if not present:
        return pd.DataFrame(columns=[*RUN_COLUMNS, *columns])
    combined = pd.concat(present, ignore_index=True)
    merged = settings.merge(combined, on="run_id", how="inner", validate="one_to_many")
    return merged[[*RUN_COLUMNS, *(c for c in merged.columns if c not in RUN_COLUMNS)]]


def load_results(results_dir: Path, run_dirs: Sequence[Path]) -> LoadedResults:
    """Read the given run directories into one `LoadedResults`."""
    records: list[RunRecord] = []
    stats: list[pd.DataFrame | None] = []
    history: list[pd.DataFrame | None] = []
    resources: list[pd.DataFrame | None] = []
    for run_dir in run_dirs:
        record, frames = load_run(run_dir)
        records.append(record)
        stats.append(frames.stats)
        history.append(frames.history)
        resources.append(frames.resources)
    settings = pd.DataFrame(
        [
            _run_settings(record.run_id, record.meta)
            for record in records
            if record.usable and record.meta is not None
        ],
        columns=list(RUN_COLUMNS),
    )
    history_frame = _combine(history, settings, ["method", "endpoint", *HISTORY_COLUMNS.values()])
    if not history_frame.empty:
        history_frame = derive_history(history_frame)
    return LoadedResults(
        results_dir=results_dir,
        runs=tuple(records),
        stats=_combine(
            stats,
            settings,
            ["method", "endpoint", *STATS_COLUMNS.values(), "users", *RUN_FIGURES],
        ),
        history=history_frame,
        resources=_combine(resources, settings, ["timestamp_s", "role", "cpu_pct", "rss_mb"]),
    )
