"""Reading run directories into pandas: the report's only input.

The report is a pure function of `results/runs/*/`. Every run directory becomes one
`RunRecord` (what was run, its status and why), and the runs whose status is `ok` also
contribute rows to three tidy frames: Locust's statistics (one row per run and endpoint),
its per-second history, and resource samples when a run has them. A directory that cannot be
read is never fatal: it becomes a record with status `unreadable` and the reason, so one
corrupt run cannot hide the others, and failed or invalid runs never reach the numbers.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import pandas as pd

SCHEMA_VERSION: Final = 1
AGGREGATED: Final = "Aggregated"

STATUS_OK: Final = "ok"
STATUS_FAILED: Final = "failed"
STATUS_INVALID: Final = "invalid"
STATUS_UNREADABLE: Final = "unreadable"
# What each status means to a reader of the report; the bench writes the first three.
STATUS_MEANINGS: Final[Mapping[str, str]] = MappingProxyType(
    {
        STATUS_OK: "measured and used in the numbers",
        STATUS_FAILED: "did not complete; not used",
        STATUS_INVALID: "measured but not trustworthy; not used",
        STATUS_UNREADABLE: "the run directory is incomplete or corrupt; not used",
    }
)
WRITTEN_STATUSES: Final = frozenset({STATUS_OK, STATUS_FAILED, STATUS_INVALID})

# Fields of meta.json the numbers of an ok run cannot do without, and their JSON types.
REQUIRED_META: Final[Mapping[str, tuple[type, ...]]] = MappingProxyType(
    {
        "server": (str,),
        "scenario": (str,),
        "users": (int,),
        "duration_s": (int, float),
        "workers": (int,),
    }
)

# Our column name -> Locust's percentile column, in increasing order of the fraction.
PERCENTILE_COLUMNS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "p50_ms": "50%",
        "p66_ms": "66%",
        "p75_ms": "75%",
        "p80_ms": "80%",
        "p90_ms": "90%",
        "p95_ms": "95%",
        "p98_ms": "98%",
        "p99_ms": "99%",
        "p999_ms": "99.9%",
        "p9999_ms": "99.99%",
        "p100_ms": "100%",
    }
)
PERCENTILE_FRACTIONS: Final[Mapping[str, float]] = MappingProxyType(
    {name: float(column.rstrip("%")) / 100 for name, column in PERCENTILE_COLUMNS.items()}
)
STATS_COLUMNS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "Request Count": "requests",
        "Failure Count": "failures",
        "Requests/s": "rps",
        "Failures/s": "failures_per_s",
        "Average Response Time": "avg_ms",
        "Min Response Time": "min_ms",
        "Max Response Time": "max_ms",
        **{column: name for name, column in PERCENTILE_COLUMNS.items()},
    }
)
HISTORY_COLUMNS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "Timestamp": "timestamp_s",
        "User Count": "user_count",
        "Requests/s": "rps",
        "Failures/s": "failures_per_s",
        **{column: name for name, column in PERCENTILE_COLUMNS.items()},
        "Total Request Count": "total_requests",
    }
)
# Run-level figures taken from summary.json (the bench's resource sampling), in MB and in
# percent of one CPU core (so 200 is two cores busy).
RUN_FIGURES: Final = ("server_cpu_pct", "server_rss_peak_mb", "loadgen_cpu_pct")
RESOURCE_COLUMNS: Final = ("timestamp", "role", "cpu_pct", "rss_mb")

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
)
SHAPE_CONSTANT: Final = "constant"
SHAPE_STEPS: Final = "steps"
# A step-load run's statistics, one file per step: locust_stats_step<NN>_u<users>.csv
STEP_STATS_FILE: Final = re.compile(r"locust_stats_step(\d+)_u(\d+)\.csv")


class UnreadableRun(Exception):
    """A run directory whose files cannot be trusted; the message says why."""


@dataclass(frozen=True)
class RunRecord:
    """One run directory as the report sees it: its settings, status and any caveats."""

    run_id: str
    path: Path
    status: str
    reason: str
    meta: Mapping[str, Any]
    summary: Mapping[str, Any] | None = None
    window: Mapping[str, Any] | None = None
    has_locust_html: bool = False
    notes: tuple[str, ...] = ()

    @property
    def usable(self) -> bool:
        """Whether this run's numbers may be shown."""
        return self.status == STATUS_OK

    def setting(self, name: str) -> Any:
        """A meta.json field; a dotted name reaches into objects (`placement.mode`)."""
        value: Any = self.meta
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


def _read_json_object(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise UnreadableRun(f"{path.name} is missing") from None
    except OSError as error:
        raise UnreadableRun(f"{path.name} cannot be read ({error.strerror})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise UnreadableRun(
            f"{path.name} is not valid JSON (line {error.lineno}, column {error.colno}: "
            f"{error.msg})"
        ) from None
    if not isinstance(data, dict):
        raise UnreadableRun(f"{path.name} is not a JSON object")
    return data


def _check_meta(meta: Mapping[str, Any]) -> None:
    version = meta.get("schema_version")
    if version != SCHEMA_VERSION:
        raise UnreadableRun(
            f"meta.json has schema_version {version!r}; this report reads {SCHEMA_VERSION}"
        )
    status = meta.get("status")
    if status not in WRITTEN_STATUSES:
        expected = ", ".join(sorted(WRITTEN_STATUSES))
        raise UnreadableRun(f"meta.json has status {status!r}; expected one of {expected}")


def _check_required_meta(meta: Mapping[str, Any]) -> None:
    wrong = [
        name
        for name, types in REQUIRED_META.items()
        if not isinstance(meta.get(name), types) or isinstance(meta.get(name), bool)
    ]
    if wrong:
        raise UnreadableRun(f"meta.json lacks or mistypes {', '.join(wrong)}")


def _run_settings(run_id: str, meta: Mapping[str, Any]) -> dict[str, Any]:
    threads = meta.get("threads")
    return {
        "run_id": run_id,
        "server": str(meta["server"]),
        "production_grade": bool(meta.get("production_grade", True)),
        "scenario": str(meta["scenario"]),
        "shape": str(meta.get("shape") or SHAPE_CONSTANT),
        "duration_s": float(meta["duration_s"]),
        "workers": int(meta["workers"]),
        "threads": int(threads) if isinstance(threads, int) else pd.NA,
    }


# Columns without which a Locust CSV is not the file it claims to be.
_CORE_COLUMNS: Final = frozenset({"Request Count", "Failure Count", "Requests/s", "Timestamp"})


def _read_locust_csv(path: Path, columns: Mapping[str, str]) -> pd.DataFrame:
    """A Locust CSV with our column names; `N/A` (no requests) becomes NaN, and so does any
    other text in a numeric column."""
    try:
        raw = pd.read_csv(path, na_values=["N/A"], keep_default_na=False)
    except FileNotFoundError:
        raise UnreadableRun(f"{path.name} is missing") from None
    except (OSError, ValueError, pd.errors.ParserError) as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UnreadableRun(f"{path.name} cannot be parsed ({first_line})") from None
    needed = ["Type", "Name", *(column for column in columns if column in _CORE_COLUMNS)]
    missing = [column for column in needed if column not in raw.columns]
    if missing:
        raise UnreadableRun(f"{path.name} lacks column(s) {', '.join(missing)}")
    present = {column: name for column, name in columns.items() if column in raw.columns}
    numbers = raw[list(present)].rename(columns=present)
    text_columns = [name for name in numbers.columns if numbers[name].dtype == object]
    if text_columns:
        numbers[text_columns] = numbers[text_columns].apply(pd.to_numeric, errors="coerce")
    numbers = numbers.reindex(columns=list(columns.values()))
    numbers.insert(0, "endpoint", raw["Name"].astype(str))
    numbers.insert(0, "method", raw["Type"].astype(str))
    return numbers


def read_stats(path: Path) -> pd.DataFrame:
    """Locust's statistics of the measured window: one row per endpoint with requests,
    plus the Aggregated row (login rows from before the window were reset to zero)."""
    frame = _read_locust_csv(path, STATS_COLUMNS)
    if not (frame["endpoint"] == AGGREGATED).any():
        raise UnreadableRun(f"{path.name} has no {AGGREGATED} row")
    if frame[["requests", "failures"]].isna().any().any():
        raise UnreadableRun(f"{path.name} has rows without request or failure counts")
    frame = frame[(frame["requests"] > 0) | (frame["endpoint"] == AGGREGATED)]
    requests = frame["requests"]
    return frame.assign(
        requests=requests.astype("int64"),
        failures=frame["failures"].astype("int64"),
        error_rate=(frame["failures"] / requests.where(requests > 0)).fillna(0.0),
    ).reset_index(drop=True)


def _read_history_rows(path: Path, window_start_s: float) -> pd.DataFrame:
    """The history file as it is, plus `t_s`; `derive_history` does the rest."""
    frame = _read_locust_csv(path, HISTORY_COLUMNS)
    frame = frame[frame["timestamp_s"].notna()]
    return frame.assign(t_s=frame["timestamp_s"] - window_start_s)


def derive_history(frame: pd.DataFrame) -> pd.DataFrame:
    """Clean Locust's history rows (of one run or many, told apart by `run_id`).

    Locust writes its "current" percentiles there (over roughly the last 10 s); a row whose
    100 % percentile is 0 had no such span yet, so its percentiles are unknown, not 0 ms.
    Locust's own "Requests/s" there is a 10 s average that lags 2 s and reads 0 for the
    first seconds after the reset, so `rps_counted` is the throughput of each second from
    the change of the cumulative request count (unknown across the reset, where it drops).
    """
    keys = [key for key in ("run_id", "method", "endpoint") if key in frame.columns]
    frame = frame.drop_duplicates(subset=[*keys, "timestamp_s"], keep="last")
    frame = frame.sort_values([*keys, "timestamp_s"]).reset_index(drop=True)
    no_data = frame["p100_ms"].fillna(0) <= 0
    frame.loc[no_data, list(PERCENTILE_COLUMNS)] = math.nan
    by_series = frame.groupby(keys, sort=False)
    counted = by_series["total_requests"].diff() / by_series["timestamp_s"].diff()
    return frame.assign(
        rps_counted=counted.where(counted >= 0),
        in_window=frame["t_s"] >= -0.5,
    )


def read_history(path: Path, window_start_s: float) -> pd.DataFrame:
    """One run's per-second history, with `t_s` in seconds since the measured window began
    (see `derive_history` for the columns it adds)."""
    return derive_history(_read_history_rows(path, window_start_s))


def read_resources(path: Path, window_start_s: float) -> pd.DataFrame:
    """Resource samples (`timestamp,role,cpu_pct,rss_mb`); timestamps may be Unix seconds
    or ISO 8601, and `t_s` is seconds since the measured window began."""
    try:
        raw = pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise UnreadableRun(f"{path.name} cannot be parsed ({type(error).__name__})") from None
    missing = [column for column in RESOURCE_COLUMNS if column not in raw.columns]
    if missing:
        raise UnreadableRun(f"{path.name} lacks column(s) {', '.join(missing)}")
    numeric_time = pd.to_numeric(raw["timestamp"], errors="coerce")
    if numeric_time.isna().all() and len(raw):
        parsed = pd.to_datetime(raw["timestamp"], utc=True, errors="coerce")
        numeric_time = (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
    frame = pd.DataFrame(
        {
            "timestamp_s": numeric_time,
            "role": raw["role"].astype(str),
            "cpu_pct": pd.to_numeric(raw["cpu_pct"], errors="coerce"),
            "rss_mb": pd.to_numeric(raw["rss_mb"], errors="coerce"),
        }
    ).dropna(subset=["timestamp_s"])
    frame["t_s"] = frame["timestamp_s"] - window_start_s
    return frame.reset_index(drop=True)


def _window_start_s(
    window: Mapping[str, Any] | None, history_path: Path, duration_s: float, notes: list[str]
) -> float | None:
    """When the measured window began (Unix seconds): from window.json, or else estimated
    as the history's last second minus the window length (Locust quits when it ends)."""
    started = (window or {}).get("window_started_at")
    if isinstance(started, int | float) and not isinstance(started, bool):
        return float(started)
    try:
        timestamps = pd.read_csv(history_path, usecols=["Timestamp"])["Timestamp"]
        last = float(pd.to_numeric(timestamps, errors="coerce").max())
    except (OSError, ValueError, KeyError, pd.errors.ParserError):
        return None
    if math.isnan(last):
        return None
    notes.append("window.json gives no window start; estimated from the history's end")
    return last - duration_s


def _run_stats(run_dir: Path, meta: Mapping[str, Any]) -> pd.DataFrame:
    """The run's statistics with the user count they were measured at: one window at
    `users`, or for a step-load run one window per step (each its own Locust CSV)."""
    if str(meta.get("shape") or SHAPE_CONSTANT) != SHAPE_STEPS:
        return read_stats(run_dir / "locust_stats.csv").assign(users=int(meta["users"]))
    steps = sorted(
        (int(match[1]), int(match[2]), path)
        for path in run_dir.glob("locust_stats_step*_u*.csv")
        if (match := STEP_STATS_FILE.fullmatch(path.name))
    )
    if not steps:
        raise UnreadableRun("its shape is steps but it has no locust_stats_stepNN_uU.csv")
    return pd.concat(
        [read_stats(path).assign(users=users) for _, users, path in steps], ignore_index=True
    )


def _with_run_figures(
    stats: pd.DataFrame, meta: Mapping[str, Any], summary: Mapping[str, Any]
) -> pd.DataFrame:
    """Add the run-level figures of summary.json (resource use) to the Aggregated rows, per
    step for a step-load run; NaN where the run has none (made before resource sampling)."""
    windows = summary.get("steps") if str(meta.get("shape")) == SHAPE_STEPS else None
    if not isinstance(windows, list):
        windows = [{**summary, "users": meta.get("users")}]
    by_users = {window.get("users"): window for window in windows if isinstance(window, dict)}
    aggregated = stats["endpoint"] == AGGREGATED

    def figure(name: str, users: Any, is_aggregated: bool) -> float:
        value = by_users.get(int(users), {}).get(name) if is_aggregated else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        return math.nan

    return stats.assign(
        **{
            name: [
                figure(name, users, bool(flag))
                for users, flag in zip(stats["users"], aggregated, strict=True)
            ]
            for name in RUN_FIGURES
        }
    )


def _load_usable(
    run_dir: Path,
    meta: Mapping[str, Any],
    summary: Mapping[str, Any],
    window: Mapping[str, Any] | None,
) -> _RunFrames:
    """The frames of a run whose status is ok; raises UnreadableRun when its numbers are
    missing (an ok run without summary.json or statistics is not a whole run)."""
    _check_required_meta(meta)
    frames = _RunFrames()
    frames.stats = _with_run_figures(_run_stats(run_dir, meta), meta, summary)
    history_path = run_dir / "locust_stats_history.csv"
    start_s = _window_start_s(window, history_path, float(meta["duration_s"]), frames.notes)
    if not history_path.exists():
        frames.notes.append("no locust_stats_history.csv: no time series for this run")
    elif start_s is None:
        frames.notes.append("locust_stats_history.csv has no timestamps: no time series")
    else:
        try:
            frames.history = _read_history_rows(history_path, start_s)
        except UnreadableRun as problem:
            frames.notes.append(f"{problem}: no time series for this run")
    resources_path = run_dir / "resources.csv"
    if resources_path.exists() and start_s is not None:
        try:
            frames.resources = read_resources(resources_path, start_s)
        except UnreadableRun as problem:
            frames.notes.append(f"{problem}: no resource chart for this run")
    for frame in (frames.stats, frames.history, frames.resources):
        if frame is not None:
            frame.insert(0, "run_id", run_dir.name)
    return frames


def _summary_notes(summary: Mapping[str, Any], stats: pd.DataFrame) -> list[str]:
    """Where summary.json and Locust's CSV disagree (the numbers come from the CSV). A
    step-load run's top-level figures are its last step's."""
    aggregate = stats[stats["endpoint"] == AGGREGATED].iloc[-1]
    claimed = summary.get("requests")
    if isinstance(claimed, int) and claimed != int(aggregate["requests"]):
        return [
            f"summary.json says {claimed} requests, locust_stats.csv {int(aggregate['requests'])}; "
            "the report uses locust_stats.csv"
        ]
    return []


def load_run(run_dir: Path) -> tuple[RunRecord, _RunFrames]:
    """Read one run directory; never raises for a corrupt one (it becomes `unreadable`)."""
    has_html = (run_dir / "locust.html").is_file()

    def record(status: str, reason: str, meta: Mapping[str, Any], **more: Any) -> RunRecord:
        return RunRecord(
            run_dir.name, run_dir, status, reason, meta, has_locust_html=has_html, **more
        )

    meta: dict[str, Any] = {}
    try:
        meta = _read_json_object(run_dir / "meta.json")
        _check_meta(meta)
    except UnreadableRun as problem:
        return record(STATUS_UNREADABLE, str(problem), meta), _RunFrames()
    if meta["status"] != STATUS_OK:
        reason = str(meta.get("reason") or "no reason given")
        return record(str(meta["status"]), reason, meta), _RunFrames()
    notes: list[str] = []
    window: dict[str, Any] | None = None
    try:
        window = _read_json_object(run_dir / "window.json")
    except UnreadableRun as problem:
        notes.append(str(problem))
    try:
        summary = _read_json_object(run_dir / "summary.json")
        frames = _load_usable(run_dir, meta, summary, window)
    except UnreadableRun as problem:
        return record(STATUS_UNREADABLE, f"status is ok but {problem}", meta), _RunFrames()
    assert frames.stats is not None
    notes += [*frames.notes, *_summary_notes(summary, frames.stats)]
    usable = record(STATUS_OK, "", meta, summary=summary, window=window, notes=tuple(notes))
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
        [_run_settings(record.run_id, record.meta) for record in records if record.usable],
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
