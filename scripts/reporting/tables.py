"""The report's numbers: one row per configuration, medians over repeats with their spread.

Only comparable runs are put side by side: a comparison group is one (scenario, users,
window length, load shape), and inside a group one configuration is one (server, workers,
threads, profile): runs of different deployments (dev, production, ...) never pool. A
configuration measured several times shows the median and the min-max range of its runs,
because one number from one run is noise and a mean would hide an outlier run.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, TypeAlias

import pandas as pd

from scripts.records.schema import RunMeta
from scripts.reporting.frames import AGGREGATED
from scripts.reporting.hdr_frames import HISTOGRAM_COLUMN, pooled_percentiles
from scripts.reporting.load import SHAPE_CONSTANT, RunRecord
from scripts.reporting.profiles import (
    PROFILE_SEPARATOR,
    database_unobserved,
    profile_rank,
    server_unobserved,
    several_profiles,
    with_profile,
)
from servers.registry import SERVERS, Interface, server_names

# One row of a summary frame (pandas-stubs types a row as a Series).
Row: TypeAlias = "pd.Series[Any]"

GROUP_KEYS: Final = ("scenario", "shape", "users", "duration_s")
CONFIG_KEYS: Final = (*GROUP_KEYS, "server", "workers", "threads", "profile")
# Metric column -> its heading in the Markdown and HTML tables.
SUMMARY_METRICS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "requests": "requests",
        "failures": "failures",
        "error_rate": "error rate",
        "rps": "goodput rps",
        "p50_ms": "p50 ms",
        "p90_ms": "p90 ms",
        "p95_ms": "p95 ms",
        "p99_ms": "p99 ms",
        "p999_ms": "p99.9 ms",
    }
)
# Shown only where runs carry them (summary.json of a bench with resource sampling; the
# proxy's and database's only for runs with nginx or the harness's PostgreSQL).
RESOURCE_METRICS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "server_cpu_pct": "server CPU %",
        "proxy_cpu_pct": "proxy CPU %",
        "database_cpu_pct": "database CPU %",
        "deployment_cpu_pct": "deployment CPU %",
        "server_rss_peak_mb": "server peak RSS MB",
        "loadgen_cpu_pct": "Locust CPU %",
    }
)
# The parts of a deployment besides the server: the deployment's total is shown only beside
# them (without them it is the server's CPU again).
DEPLOYMENT_PARTS: Final = ("proxy_cpu_pct", "database_cpu_pct")
DATABASE_CPU: Final = "database_cpu_pct"
# A database CPU cell of runs on an external PostgreSQL (meta.json database.cpu_observed).
NOT_OBSERVED: Final = "not observed (external database)"
# The server's CPU and memory cells of runs against an external target (TARGET=...).
SERVER_NOT_OBSERVED: Final = "not observed (external target)"
SERVER_FIGURES: Final = ("server_cpu_pct", "server_rss_peak_mb")
# Shown only where a group has repeats.
REPEAT_METRICS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "rps_cv": "goodput CV",
        "pooled_p50_ms": "p50 ms pooled",
        "pooled_p99_ms": "p99 ms pooled",
    }
)
ALL_METRICS: Final[Mapping[str, str]] = MappingProxyType(
    {**SUMMARY_METRICS, "samples": "samples", **RESOURCE_METRICS}
)
PERCENTILE_METRICS: Final = frozenset({"p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms"})
# A configuration whose goodput varies more than this across repeats gets a warning.
CV_LIMIT: Final = 0.05
# Locust keeps whole milliseconds below 100 ms: closer p50s than this cannot be told apart.
LOCUST_RESOLUTION_MS: Final = 1.0
# Settings that make runs of one group incomparable when they differ, and how to say so.
COMPARABILITY_SETTINGS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "cpu_model": "CPU models",
        "cpu_count": "CPU counts",
        "git_sha": "harness commits",
        "warmup_s": "warm-up lengths",
        "spawn_rate": "spawn rates",
        "access_lifetime_s": "token lifetimes",
        "placement.mode": "CPU placements",
        "locust_processes": "Locust process counts",
    }
)


@dataclass(frozen=True)
class Cell:
    """One table cell: a figure, and the spread of the runs behind it (empty if none)."""

    value: str
    spread: str = ""

    @property
    def text(self) -> str:
        return f"{self.value} ({self.spread})" if self.spread else self.value


@dataclass(frozen=True)
class Group:
    """One comparison group: runs that may share a chart."""

    scenario: str
    users: int
    duration_s: float
    shape: str = SHAPE_CONSTANT

    @property
    def stepped(self) -> bool:
        """Whether these are steps of step-load runs (a window after lower steps, not after
        a fresh start: not comparable with constant-load runs)."""
        return self.shape != SHAPE_CONSTANT

    @property
    def label(self) -> str:
        text = f"scenario {self.scenario} · {self.users} users · {self.duration_s:g} s window"
        return text + (" · step load" if self.stepped else "")

    @property
    def slug(self) -> str:
        text = f"{self.scenario}-u{self.users}-{self.duration_s:g}s"
        return text + ("-steps" if self.stepped else "")

    @classmethod
    def of(cls, row: Mapping[str, Any] | Row) -> Group:
        shape = row.get("shape")
        return cls(
            str(row["scenario"]),
            int(row["users"]),
            float(row["duration_s"]),
            str(shape) if isinstance(shape, str) and shape else SHAPE_CONSTANT,
        )

    @classmethod
    def of_run(cls, meta: RunMeta) -> Group:
        """The group a run's settings put it in (a step-load run's by its largest step)."""
        return cls(meta.scenario, meta.users, float(meta.duration_s), meta.shape or SHAPE_CONSTANT)


def server_rank(name: str) -> tuple[int, int, str]:
    """Interface first (dev, wsgi, asgi: tables group servers by interface), then registry
    order (the order the bench runs servers in); unknown names after."""
    known = server_names()
    if name not in known:
        return (len(Interface), len(known), name)
    return (list(Interface).index(SERVERS[name].interface), known.index(name), name)


def interface_of(name: str) -> str:
    """A server's interface from the registry (`-` for a server it no longer has)."""
    spec = SERVERS.get(name)
    return spec.interface.value if spec else "-"


def _threads_text(threads: Any) -> str:
    return "-" if pd.isna(threads) else str(int(threads))


def config_label(row: Row, ambiguous: bool, profiles_shown: bool = False) -> str:
    """A configuration's name in charts: the server (as the registry names it for its thread
    count: gunicorn with THREADS > 1 is `gunicorn gthread`), plus its workers and threads
    when the same server appears with several settings (`ambiguous`), plus its profile when
    the report holds several (`gunicorn 3w · production`)."""
    threads: int | None = None if pd.isna(row["threads"]) else int(row["threads"])
    spec = SERVERS.get(str(row["server"]))
    name = spec.label(threads) if spec else str(row["server"])
    if ambiguous:
        name = f"{name} {int(row['workers'])}w" + ("" if threads is None else f"x{threads}t")
    return with_profile(name, str(row["profile"]), profiles_shown)


def _series_labels(summary: pd.DataFrame) -> list[str]:
    """One label per summary row, made unambiguous within its comparison group; every label
    names its profile when the summary holds several."""
    per_server = summary.groupby([*GROUP_KEYS, "server"])["server"].transform("size")
    shown = several_profiles(summary["profile"])
    return [
        config_label(row, ambiguous=int(count) > 1, profiles_shown=shown)
        for (_, row), count in zip(summary.iterrows(), per_server, strict=True)
    ]


def _config_order(row: Mapping[str, Any]) -> tuple[Any, ...]:
    threads = row["threads"]
    return (
        str(row["scenario"]),
        str(row["shape"]),
        int(row["users"]),
        float(row["duration_s"]),
        server_rank(str(row["server"])),
        profile_rank(str(row["profile"])),
        int(row["workers"]),
        -1 if pd.isna(threads) else int(threads),
    )


def any_flagged(rows: pd.DataFrame, column: str) -> bool:
    """Whether any row has the flag `column` set (frames made before it: none)."""
    return column in rows and bool(rows[column].astype(bool).any())


def aggregate_rows(stats: pd.DataFrame) -> pd.DataFrame:
    """The `Aggregated` row of every run: one row per run with its settings and figures."""
    return stats[stats["endpoint"] == AGGREGATED].reset_index(drop=True)


def _repeat_figures(runs: pd.DataFrame) -> dict[str, float]:
    """With repeats: the CV of goodput over the runs (sample standard deviation / mean), and
    the percentiles of all runs' histograms pooled exactly (only when every run has one:
    schema-1 runs carry Locust's buckets, which do not pool)."""
    figures = dict.fromkeys([*REPEAT_METRICS, "pooled_samples"], math.nan)
    if len(runs) < 2:
        return figures
    goodput = pd.to_numeric(runs["rps"], errors="coerce")
    if goodput.notna().all() and goodput.mean() > 0:
        figures["rps_cv"] = float(goodput.std(ddof=1) / goodput.mean())
    histograms = runs.get(HISTOGRAM_COLUMN)
    if histograms is not None and histograms.notna().all():
        pooled = pooled_percentiles([str(text) for text in histograms])
        figures["pooled_p50_ms"] = pooled["p50_ms"]
        figures["pooled_p99_ms"] = pooled["p99_ms"]
        figures["pooled_samples"] = pooled["samples"]
    return figures


def summarize(stats: pd.DataFrame) -> pd.DataFrame:
    """One row per configuration: median, min and max of each metric over its runs.

    `rps` is the median, `rps_min`/`rps_max` the range; `runs` counts the runs and
    `run_ids` names them. Rows come in group order, then registry order of servers.
    """
    per_run = aggregate_rows(stats)
    columns = [
        *CONFIG_KEYS,
        "label",
        "production_grade",
        "database_unobserved",
        "server_unobserved",
        "runs",
        *itertools.chain.from_iterable(
            (metric, f"{metric}_min", f"{metric}_max") for metric in ALL_METRICS
        ),
        *REPEAT_METRICS,
        "pooled_samples",
        "run_ids",
    ]
    if per_run.empty:
        return pd.DataFrame(columns=columns)
    rows: list[dict[str, Any]] = []
    for keys, runs in per_run.groupby(list(CONFIG_KEYS), dropna=False, sort=False):
        row: dict[str, Any] = dict(zip(CONFIG_KEYS, keys, strict=True))
        row["production_grade"] = bool(runs["production_grade"].all())
        row["database_unobserved"] = bool(runs["database_unobserved"].astype(bool).any())
        row["server_unobserved"] = any_flagged(runs, "server_unobserved")
        row["runs"] = len(runs)
        for metric in ALL_METRICS:
            values = pd.to_numeric(runs.get(metric, pd.Series(dtype=float)), errors="coerce")
            row[metric] = float(values.median())
            row[f"{metric}_min"] = float(values.min())
            row[f"{metric}_max"] = float(values.max())
        row.update(_repeat_figures(runs))
        row["run_ids"] = ";".join(sorted(runs["run_id"].astype(str)))
        rows.append(row)
    rows.sort(key=_config_order)
    summary = pd.DataFrame(rows)
    summary["threads"] = summary["threads"].astype("Int64")
    summary["label"] = _series_labels(summary)
    return summary[columns]


def groups_of(summary: pd.DataFrame) -> list[tuple[Group, pd.DataFrame]]:
    """The summary split into comparison groups, in the summary's order."""
    groups: dict[Group, list[int]] = {}
    for index, row in summary.iterrows():
        groups.setdefault(Group.of(row), []).append(int(str(index)))
    return [(group, summary.loc[indexes]) for group, indexes in groups.items()]


def resolution_notes(summary: pd.DataFrame) -> list[str]:
    """Say where two configurations' p50 differ by less than Locust's resolution."""
    notes = []
    for group, rows in groups_of(summary):
        close = [
            f"{a['label']} ({a['p50_ms']:g} ms) and {b['label']} ({b['p50_ms']:g} ms)"
            for (_, a), (_, b) in itertools.combinations(rows.iterrows(), 2)
            if abs(float(a["p50_ms"]) - float(b["p50_ms"])) < LOCUST_RESOLUTION_MS
        ]
        if close:
            notes.append(
                f"{group.label}: the p50 of {'; '.join(close)} differ by less than "
                f"{LOCUST_RESOLUTION_MS:g} ms, which is below Locust's resolution (whole "
                "milliseconds): treat them as equal."
            )
    return notes


def comparability_notes(runs: Sequence[RunRecord]) -> list[str]:
    """Say where runs of one group differ in a setting that should have been the same."""
    by_group: dict[Group, list[RunRecord]] = {}
    for run in runs:
        if run.usable and run.meta is not None:
            by_group.setdefault(Group.of_run(run.meta), []).append(run)
    notes = []
    for group, members in sorted(by_group.items(), key=lambda item: item[0].label):
        for setting, plural in COMPARABILITY_SETTINGS.items():
            values = {
                str(run.setting(setting)) for run in members if run.setting(setting) is not None
            }
            if len(values) > 1:
                notes.append(
                    f"{group.label}: the runs span {len(values)} {plural} "
                    f"({', '.join(sorted(values))}); compare with care."
                )
    return notes


def database_notes(runs: Sequence[RunRecord]) -> list[str]:
    """Say which runs used a database whose CPU the harness could not observe (an external
    PostgreSQL given by DATABASE_URL, meta.json database.cpu_observed false): their
    database CPU is unknown, not zero, and their goodput per core counts the server alone."""
    unobserved = [
        run.run_id
        for run in runs
        if run.usable and run.meta is not None and database_unobserved(run.meta.database)
    ]
    if not unobserved:
        return []
    return [
        f"The database's CPU was not observed for {len(unobserved)} run(s) on an external "
        f"database ({', '.join(unobserved)}): its CPU is not in their database or deployment "
        "CPU, nor in their goodput per CPU core."
    ]


def target_notes(runs: Sequence[RunRecord]) -> list[str]:
    """Say which runs measured an external target (TARGET=...): nothing of its server was
    observed from here (CPU, memory, its own request count), and its repeats shared one
    server process instead of a fresh one each."""
    external = [
        run for run in runs if run.usable and run.meta is not None and server_unobserved(run.meta)
    ]
    if not external:
        return []
    urls = sorted({run.meta.target.url for run in external if run.meta and run.meta.target})
    return [
        f"{len(external)} run(s) measured an external target ({', '.join(urls)}): server CPU "
        "not observed (external target), nor its memory or its own request count; its "
        "repeats share one server process (not a fresh one per run), so their spread "
        "understates what a restart would change."
    ]


WHOLE_NUMBER_SETTINGS: Final = ("workers", "threads", "users", "repeat_index")


def _whole(value: Any) -> int | None:
    """A whole-number setting, or None when meta.json has none (or something else)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def runs_table(runs: Sequence[RunRecord]) -> pd.DataFrame:
    """Every selected run with its settings and status (usable or not); an unreadable run
    shows what its meta.json says, as far as it can be read."""
    rows = []
    for run in runs:
        rows.append(
            {
                "run_id": run.run_id,
                "status": run.status.value,
                "reason": run.reason,
                "server": run.setting("server") or "",
                "server_version": run.setting("server_version"),
                "profile": run.setting("profile") or "",
                "workers": _whole(run.setting("workers")),
                "threads": _whole(run.setting("threads")),
                "scenario": run.setting("scenario") or "",
                "shape": run.setting("shape") or (SHAPE_CONSTANT if run.meta_document else ""),
                "users": _whole(run.setting("users")),
                "user_steps": " ".join(map(str, run.setting("user_steps") or [])),
                "duration_s": run.setting("duration_s"),
                "warmup_s": run.setting("warmup_s"),
                "repeat_index": _whole(run.setting("repeat_index")),
                "bench_id": run.setting("bench_id") or "",
                "started_at": run.setting("started_at") or "",
                "pinning": run.setting("placement.mode") or "",
                "git_sha": str(run.setting("git_sha") or "")[:12],
                "notes": "; ".join(run.notes),
            }
        )
    return pd.DataFrame(rows).astype({name: "Int64" for name in WHOLE_NUMBER_SETTINGS})


def format_value(metric: str, value: float) -> str:
    """One figure as a reader wants it: counts whole, rates with one decimal, error rate
    and CV as percentages, milliseconds whole when Locust gave whole milliseconds."""
    if pd.isna(value):
        return "-"
    if metric in {"requests", "failures", "samples"}:
        return f"{value:,.0f}"
    if metric == "rps_cv":
        flag = " (above 5 %: noisy)" if value > CV_LIMIT else ""
        return f"{value * 100:.1f} %{flag}"
    if metric == "error_rate":
        return f"{value * 100:.2f} %"
    if metric == "rps":
        return f"{value:,.1f}"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def format_cell(row: Row, metric: str) -> Cell:
    """The median, and the min-max range of the runs when there were several and they
    differ as displayed. A percentile the window holds too few samples for is
    "n/a (N samples)" (the rule of loadtests/latency.py), never a number."""
    samples = row.get("samples")
    if metric in PERCENTILE_METRICS and pd.isna(row[metric]) and pd.notna(samples):
        return Cell(f"n/a ({float(samples):,.0f} samples)")
    if metric in REPEAT_METRICS:
        value = row.get(metric)
        if metric.startswith("pooled_") and pd.isna(value) and pd.notna(row.get("pooled_samples")):
            return Cell(f"n/a ({float(row['pooled_samples']):,.0f} samples)")
        return Cell(format_value(metric, float(value)) if value is not None else "-")
    cell = Cell(format_value(metric, float(row[metric])))
    if int(row["runs"]) > 1:
        low = format_value(metric, float(row[f"{metric}_min"]))
        high = format_value(metric, float(row[f"{metric}_max"]))
        if low != high:
            cell = Cell(cell.value, f"{low}-{high}")
    return cell


def _resource_metrics(rows: pd.DataFrame) -> list[str]:
    """The resource columns one group's table shows: those some run of it has (the database
    also where its CPU was not observed, to say so), the deployment's total only beside a
    proxy or database column."""
    unobserved = bool(rows["database_unobserved"].astype(bool).any())
    external = any_flagged(rows, "server_unobserved")
    shown = [
        m
        for m in RESOURCE_METRICS
        if rows[m].notna().any()
        or (m == DATABASE_CPU and unobserved)
        or (m in SERVER_FIGURES and external)
    ]
    if not any(part in shown for part in DEPLOYMENT_PARTS):
        shown = [m for m in shown if m != "deployment_cpu_pct"]
    return shown


def _dev_mark(row: Row) -> str:
    """ "(dev)" marks a development server; beside a profile's name (`· dev`) it says so in
    full, so a server and a deployment are never confused."""
    return " (dev server)" if PROFILE_SEPARATOR in str(row["label"]) else " (dev)"


def _metric_cell(row: Row, metric: str) -> Cell:
    if metric == DATABASE_CPU and bool(row["database_unobserved"]) and pd.isna(row[metric]):
        return Cell(NOT_OBSERVED)
    if metric in SERVER_FIGURES and bool(row.get("server_unobserved")) and pd.isna(row[metric]):
        return Cell(SERVER_NOT_OBSERVED)
    return format_cell(row, metric)


def _workers_text(row: Row) -> str:
    """An external target's workers are its own, unknown here (meta.json's 0)."""
    return "unknown" if bool(row.get("server_unobserved")) else str(int(row["workers"]))


def display_rows(rows: pd.DataFrame) -> tuple[list[str], list[list[Cell]]]:
    """Headings and cells of one group's summary table (resource columns only when some
    run of the group has them)."""
    metrics = [*SUMMARY_METRICS, *_resource_metrics(rows)]
    if (rows["runs"] > 1).any():
        metrics += [m for m in REPEAT_METRICS if m in rows and rows[m].notna().any()]
    names = {**ALL_METRICS, **REPEAT_METRICS}
    headings = ["server", "interface", "workers", "threads", "runs"]
    headings += [names[m] for m in metrics]
    cells = [
        [
            Cell(str(row["label"]) + ("" if row["production_grade"] else _dev_mark(row))),
            Cell(interface_of(str(row["server"]))),
            Cell(_workers_text(row)),
            Cell(_threads_text(row["threads"])),
            Cell(str(int(row["runs"]))),
            *(_metric_cell(row, metric) for metric in metrics),
        ]
        for _, row in rows.iterrows()
    ]
    return headings, cells


def _markdown_table(
    headings: Sequence[str], cells: Sequence[Sequence[str]], text_columns: int = 1
) -> list[str]:
    def line(values: Sequence[str]) -> str:
        return "| " + " | ".join(value.replace("|", "\\|") for value in values) + " |"

    align = ["---" if index < text_columns else "---:" for index in range(len(headings))]
    return [line(headings), "| " + " | ".join(align) + " |", *(line(row) for row in cells)]


def summary_markdown(summary: pd.DataFrame, notes: Sequence[str]) -> str:
    """summary.md's start: one table per comparison group and the notes (the runs left out
    follow, from left_out.py)."""
    lines = ["# Benchmark summary", ""]
    lines.append(
        "Figures cover each run's measured window only. With several runs of one "
        "configuration a cell shows the median and, in brackets, the min-max over the runs. "
        "Runs with a different scenario, user count, window length or load shape (constant or "
        "steps) are in separate tables; runs of different profiles (the deployment around the "
        "server) are separate rows, named by their profile."
    )
    for group, rows in groups_of(summary):
        lines += ["", f"## {group.label}", ""]
        headings, cells = display_rows(rows)
        lines += _markdown_table(headings, [[cell.text for cell in row] for row in cells], 2)
    if summary.empty:
        lines += ["", "No usable runs: nothing to summarize."]
    if notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"
