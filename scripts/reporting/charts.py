"""The report's charts, drawn with matplotlib's object API (no pyplot state) as PNG files.

Readers look at charts before numbers, so every chart carries a title, the comparison group
it belongs to, and axis labels with units. A server keeps one colour in every chart, and
servers not meant for production (runserver) are drawn apart: warm colours, hatched bars,
dashed lines. Runs that cannot be compared never share a chart: every chart is drawn for one
comparison group (scenario, users, window length, load shape), except the users charts, which
compare user counts at one scenario, window length and load shape, and say so.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal, TypeAlias

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from scripts.reporting.frames import AGGREGATED, PERCENTILE_FRACTIONS
from scripts.reporting.load import SHAPE_CONSTANT, LoadedResults
from scripts.reporting.tables import (
    Group,
    Row,
    aggregate_rows,
    config_label,
    groups_of,
    server_rank,
)
from servers.registry import SERVERS

PRODUCTION_COLOURS: Final = (
    "#1f77b4",  # blue
    "#2ca02c",  # green
    "#9467bd",  # purple
    "#17becf",  # cyan
    "#8c564b",  # brown
    "#e377c2",  # pink
    "#bcbd22",  # olive
    "#7f7f7f",  # grey
)
DEVELOPMENT_COLOURS: Final = ("#d62728", "#ff7f0e")  # red, orange: "not for production"
DPI: Final = 100
PNG_COMPRESS_LEVEL: Final = 1
# A value range wider than this factor is drawn on a log scale, or small values vanish.
LOG_SCALE_RATIO: Final = 20.0
LOADGEN_CPU_LIMIT_PCT: Final = 90.0
LATENCY_PERCENTILES: Final[Mapping[str, str]] = MappingProxyType(
    {"p50_ms": "p50", "p95_ms": "p95", "p99_ms": "p99"}
)
TIMELINE_PANELS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "rps_counted": "throughput (requests/s)",
        "p50_ms": "p50 response time (ms)",
        "p95_ms": "p95 response time (ms)",
    }
)
USERS_PANELS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "rps": "throughput (requests/s)",
        "p50_ms": "p50 response time (ms)",
        "p99_ms": "p99 response time (ms)",
    }
)
RESOURCE_PANELS: Final = (
    ("server", "cpu_pct", "server CPU (% of one core)"),
    ("server", "rss_mb", "server memory, RSS (MB)"),
    ("loadgen", "cpu_pct", "load generator CPU (% of one core)"),
    ("loadgen", "rss_mb", "load generator memory, RSS (MB)"),
)
# Charts of a run's whole timeline: not drawn per step of a step-load run (whose history
# and resource samples span every step).
WHOLE_RUN_CHARTS: Final = frozenset({"timeline", "resources"})
DEV_NOTE: Final = "red/orange, hatched or dashed: development server, not for production"


LineStyle: TypeAlias = Literal["-", "--"]


@dataclass(frozen=True)
class SeriesStyle:
    """How one server is drawn everywhere in the report."""

    colour: str
    hatch: str
    linestyle: LineStyle
    marker: str


@dataclass(frozen=True)
class ChartFile:
    """A chart written to disk, with what the HTML page needs to show it."""

    path: Path
    title: str
    section: str
    wide: bool = False


def series_style(server: str, production_grade: bool) -> SeriesStyle:
    """A server's colour follows its place in the registry among servers of its grade, so
    it keeps its colour from one report to the next whatever other servers were run."""
    palette = PRODUCTION_COLOURS if production_grade else DEVELOPMENT_COLOURS
    peers = [spec.name for spec in SERVERS.values() if spec.production_grade == production_grade]
    index = peers.index(server) if server in peers else zlib.crc32(server.encode())
    colour = palette[index % len(palette)]
    if production_grade:
        return SeriesStyle(colour=colour, hatch="", linestyle="-", marker="o")
    return SeriesStyle(colour=colour, hatch="///", linestyle="--", marker="X")


def _style(row: Row) -> SeriesStyle:
    return series_style(str(row["server"]), bool(row["production_grade"]))


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def _new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _titles(figure: Figure, axes: Axes, title: str, subtitle: str) -> None:
    """The chart's title, and under it the comparison group (as the top axes' title, so the
    layout engine keeps the two apart)."""
    figure.suptitle(title, fontsize=14, fontweight="bold")
    axes.set_title(subtitle, fontsize=10, color="#444444")


def _wide(values: Sequence[float]) -> bool:
    positive = [value for value in values if value > 0 and not math.isnan(value)]
    return bool(positive) and max(positive) / min(positive) > LOG_SCALE_RATIO


def _grid(axes: Axes, axis: Literal["x", "y", "both"] = "y") -> None:
    axes.grid(axis=axis, which="major", alpha=0.35)
    axes.set_axisbelow(True)


def _spread(rows: pd.DataFrame, metric: str) -> np.ndarray[Any, np.dtype[np.float64]] | None:
    """Error bar extents (median to min, median to max) for configurations run more than
    once (NaN, so no whisker, for single runs), or None when nothing was repeated."""
    if int(rows["runs"].max()) <= 1:
        return None
    middle = rows[metric].to_numpy(dtype=float)
    repeated = rows["runs"].to_numpy(dtype=int) > 1
    extents = np.vstack(
        [
            middle - rows[f"{metric}_min"].to_numpy(dtype=float),
            rows[f"{metric}_max"].to_numpy(dtype=float) - middle,
        ]
    )
    return np.where(repeated, extents, math.nan)


def _spread_note(rows: pd.DataFrame) -> str:
    most = int(rows["runs"].max())
    return f" · medians of up to {most} runs, whiskers min-max" if most > 1 else ""


def _dev_present(rows: pd.DataFrame) -> bool:
    return not bool(rows["production_grade"].all())


def _footnote(figure: Figure, rows: pd.DataFrame) -> None:
    """Explain the development-server styling under the chart (laid out, never overlapping)."""
    if _dev_present(rows):
        figure.supxlabel(DEV_NOTE, x=0.01, ha="left", fontsize=8, color="#a00000")


def _tick_label(row: Row) -> str:
    runs = int(row["runs"])
    return str(row["label"]) + (f"\n{runs} runs" if runs > 1 else "")


def throughput_chart(group: Group, rows: pd.DataFrame) -> Figure:
    """Bars of requests per second per configuration, with the spread of repeats."""
    figure = _new_figure(min(12.0, max(6.0, 1.3 * len(rows) + 3)), 5.0)
    axes = figure.add_subplot()
    positions = np.arange(len(rows))
    values = rows["rps"].to_numpy(dtype=float)
    styles = [_style(row) for _, row in rows.iterrows()]
    bars = axes.bar(
        positions,
        values,
        width=0.6,
        color=[style.colour for style in styles],
        hatch=None,
        edgecolor="#333333",
        linewidth=0.6,
        yerr=_spread(rows, "rps"),
        capsize=6,
        error_kw={"elinewidth": 1.2, "ecolor": "#222222"},
    )
    for bar, style in zip(bars, styles, strict=True):
        bar.set_hatch(style.hatch)
    tops = rows["rps_max"].to_numpy(dtype=float)
    for position, value, top in zip(positions, values, tops, strict=True):
        axes.annotate(
            f"{value:,.0f}",
            (position, max(value, top)),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=9,
            fontweight="bold",
        )
    axes.set_xticks(positions, [_tick_label(row) for _, row in rows.iterrows()])
    axes.set_ylabel("throughput (requests/s)")
    axes.set_ylim(0, max(float(np.nanmax(tops)) if len(tops) else 1.0, 1.0) * 1.15)
    _grid(axes)
    _titles(figure, axes, "Throughput by server", group.label + _spread_note(rows))
    _footnote(figure, rows)
    return figure


def latency_chart(group: Group, rows: pd.DataFrame) -> Figure:
    """p50, p95 and p99 side by side for every configuration; log scale when the values
    span more than a factor of LOG_SCALE_RATIO (a slow server would flatten the others)."""
    figure = _new_figure(min(12.0, max(7.0, 0.6 * len(rows) * len(LATENCY_PERCENTILES) + 3)), 5.0)
    axes = figure.add_subplot()
    width = 0.8 / max(len(rows), 1)
    centres = np.arange(len(LATENCY_PERCENTILES))
    every_value: list[float] = []
    for offset, (_, row) in enumerate(rows.iterrows()):
        style = _style(row)
        values = [float(row[metric]) for metric in LATENCY_PERCENTILES]
        every_value += values
        positions = centres - 0.4 + width * (offset + 0.5)
        error = None
        if int(row["runs"]) > 1:
            lows = [float(row[f"{metric}_min"]) for metric in LATENCY_PERCENTILES]
            highs = [float(row[f"{metric}_max"]) for metric in LATENCY_PERCENTILES]
            error = np.array(values) - np.array(lows), np.array(highs) - np.array(values)
        axes.bar(
            positions,
            values,
            width=width * 0.92,
            color=style.colour,
            hatch=style.hatch or None,
            edgecolor="#333333",
            linewidth=0.6,
            label=str(row["label"]),
            yerr=error,
            capsize=3,
        )
        tops = [
            max(value, float(row[f"{metric}_max"]))
            for metric, value in zip(LATENCY_PERCENTILES, values, strict=True)
        ]
        every_value += tops
        for position, value, top in zip(positions, values, tops, strict=True):
            axes.annotate(
                f"{value:.0f}" if value >= 10 else f"{value:g}",
                (position, top),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=7,
            )
    axes.set_xticks(centres, list(LATENCY_PERCENTILES.values()))
    if _wide(every_value):
        axes.set_yscale("log")
        axes.set_ylabel("response time (ms, log scale)")
    else:
        axes.set_ylabel("response time (ms)")
        axes.set_ylim(0, max([*every_value, 1.0]) * 1.15)
    axes.set_xlabel("percentile of the measured window")
    _grid(axes)
    axes.legend(title="server", fontsize=9, loc="upper left")
    _titles(figure, axes, "Latency percentiles by server", group.label + _spread_note(rows))
    _footnote(figure, rows)
    return figure


def _nines(fraction: float) -> float:
    """Position on a "number of nines" axis: 0.9 -> 1, 0.99 -> 2; the maximum goes one
    step past 99.99 %."""
    return 5.0 if fraction >= 1.0 else -math.log10(1.0 - fraction)


def distribution_chart(group: Group, rows: pd.DataFrame, per_run: pd.DataFrame) -> Figure:
    """Every configuration's percentile curve (its latency distribution) on one plot: the
    whole tail, not three points of it."""
    figure = _new_figure(9.0, 5.5)
    axes = figure.add_subplot()
    positions = [_nines(fraction) for fraction in PERCENTILE_FRACTIONS.values()]
    every_value: list[float] = []
    for _, row in rows.iterrows():
        style = _style(row)
        ids = str(row["run_ids"]).split(";")
        runs = per_run[per_run["run_id"].isin(ids)]
        curve = [
            float(pd.to_numeric(runs[name], errors="coerce").median())
            for name in PERCENTILE_FRACTIONS
        ]
        every_value += curve
        axes.plot(
            positions,
            curve,
            color=style.colour,
            linestyle=style.linestyle,
            marker=style.marker,
            markersize=5,
            linewidth=2,
            label=str(row["label"]),
        )
    ticks = {"p50": _nines(0.5), "p90": 1.0, "p99": 2.0, "p99.9": 3.0, "p99.99": 4.0, "max": 5.0}
    axes.set_xticks(list(ticks.values()), list(ticks))
    axes.set_xlim(0.2, 5.2)
    axes.set_xlabel("percentile (spaced by number of nines)")
    if _wide(every_value):
        axes.set_yscale("log")
        axes.set_ylabel("response time (ms, log scale)")
    else:
        axes.set_ylabel("response time (ms)")
        axes.set_ylim(0, max([*every_value, 1.0]) * 1.1)
    _grid(axes, "both")
    axes.legend(title="server", fontsize=9, loc="upper left")
    _titles(
        figure,
        axes,
        "Latency distribution (percentile curve)",
        group.label + " · medians over runs of each percentile",
    )
    _footnote(figure, rows)
    return figure


def _shade_unmeasured(axes: Axes, start_s: float, duration_s: float, label: bool) -> None:
    if start_s < 0:
        axes.axvspan(start_s, 0, color="#999999", alpha=0.15, linewidth=0)
        if label:
            axes.text(
                start_s,
                1.0,
                " ramp-up + warm-up (not measured; may exceed the axis)",
                transform=axes.get_xaxis_transform(),
                fontsize=8,
                va="top",
                color="#555555",
            )
    axes.axvline(0, color="#555555", linewidth=0.8, linestyle=":")
    axes.axvline(duration_s, color="#555555", linewidth=0.8, linestyle=":")


def _run_lines(
    axes: Axes,
    rows: pd.DataFrame,
    samples: pd.DataFrame,
    column: str,
) -> None:
    """One line per run, in its configuration's style."""
    for _, row in rows.iterrows():
        style = _style(row)
        ids = str(row["run_ids"]).split(";")
        for run_id in ids:
            run = samples[samples["run_id"] == run_id].sort_values("t_s")
            if run.empty:
                continue
            axes.plot(
                run["t_s"].to_numpy(dtype=float),
                pd.to_numeric(run[column], errors="coerce").to_numpy(dtype=float),
                color=style.colour,
                linestyle=style.linestyle,
                linewidth=1.6,
                marker=".",
                markersize=5,
                alpha=0.9 if len(ids) == 1 else 0.6,
            )


def _measured_top(samples: pd.DataFrame, column: str, duration_s: float) -> float | None:
    """The y-axis top that shows the measured window in full: logins before it (PBKDF2,
    hundreds of milliseconds) would otherwise squash the window's values into a line."""
    inside = samples[(samples["t_s"] >= 0) & (samples["t_s"] <= duration_s + 1)]
    values = pd.to_numeric(inside[column], errors="coerce").dropna()
    return float(values.max()) * 1.25 if not values.empty and values.max() > 0 else None


def _legend_handles(rows: pd.DataFrame) -> list[Line2D]:
    return [
        Line2D(
            [],
            [],
            color=_style(row).colour,
            linestyle=_style(row).linestyle,
            marker=_style(row).marker,
            linewidth=2,
            label=str(row["label"]),
        )
        for _, row in rows.iterrows()
    ]


def timeline_chart(group: Group, rows: pd.DataFrame, history: pd.DataFrame) -> Figure | None:
    """Throughput and latency second by second, from Locust's history (Aggregated rows)."""
    samples = history[
        (history["endpoint"] == AGGREGATED)
        & history["run_id"].isin(";".join(rows["run_ids"]).split(";"))
    ]
    if samples.empty:
        return None
    figure = _new_figure(10.0, 8.5)
    panels = figure.subplots(len(TIMELINE_PANELS), 1, sharex=True, squeeze=False)[:, 0]
    start_s = float(samples["t_s"].min())
    for index, (axes, (column, label)) in enumerate(
        zip(panels, TIMELINE_PANELS.items(), strict=True)
    ):
        _shade_unmeasured(axes, start_s, group.duration_s, label=index == 0)
        _run_lines(axes, rows, samples, column)
        axes.set_ylabel(label)
        axes.set_ylim(0, _measured_top(samples, column, group.duration_s))
        _grid(axes, "both")
    panels[-1].set_xlabel("seconds since the measured window began")
    figure.legend(
        handles=_legend_handles(rows), loc="outside right upper", title="server", fontsize=9
    )
    _titles(
        figure,
        panels[0],
        "Throughput and latency over time",
        group.label + " · per second; latency percentiles over Locust's rolling ~10 s",
    )
    _footnote(figure, rows)
    return figure


def resources_chart(group: Group, rows: pd.DataFrame, resources: pd.DataFrame) -> Figure | None:
    """Server and load-generator CPU and memory over time, when runs carry samples."""
    samples = resources[resources["run_id"].isin(";".join(rows["run_ids"]).split(";"))]
    if samples.empty:
        return None
    figure = _new_figure(12.0, 7.5)
    grid = figure.subplots(2, 2, sharex=True, squeeze=False)
    start_s = float(samples["t_s"].min())
    for axes, (role, column, label) in zip(grid.flat, RESOURCE_PANELS, strict=True):
        role_samples = samples[samples["role"] == role]
        _shade_unmeasured(axes, start_s, group.duration_s, label=False)
        _run_lines(axes, rows, role_samples, column)
        if role == "loadgen" and column == "cpu_pct":
            axes.axhline(LOADGEN_CPU_LIMIT_PCT, color="#a00000", linewidth=1, linestyle="-.")
            axes.text(
                start_s,
                LOADGEN_CPU_LIMIT_PCT,
                f" {LOADGEN_CPU_LIMIT_PCT:.0f} %: the generator is the bottleneck above",
                fontsize=8,
                color="#a00000",
                va="bottom",
            )
        axes.set_ylabel(label)
        axes.set_ylim(bottom=0)
        if role_samples.empty:
            axes.text(
                0.5, 0.5, "no samples", transform=axes.transAxes, ha="center", color="#777777"
            )
        _grid(axes, "both")
    for axes in grid[-1]:
        axes.set_xlabel("seconds since the measured window began")
    figure.legend(
        handles=_legend_handles(rows), loc="outside right upper", title="server", fontsize=9
    )
    figure.suptitle("Server and load-generator resources", fontsize=14, fontweight="bold")
    grid[0, 0].set_title(group.label, fontsize=10, color="#444444", loc="left")
    _footnote(figure, rows)
    return figure


def _users_labels(rows: pd.DataFrame) -> list[str]:
    """Line labels across user counts: the server, plus workers/threads if they vary."""
    settings: dict[str, set[tuple[int, int]]] = {}
    for _, row in rows.iterrows():
        threads = -1 if pd.isna(row["threads"]) else int(row["threads"])
        settings.setdefault(str(row["server"]), set()).add((int(row["workers"]), threads))
    return [
        config_label(row, ambiguous=len(settings[str(row["server"])]) > 1)
        for _, row in rows.iterrows()
    ]


def users_chart(scenario: str, duration_s: float, stepped: bool, rows: pd.DataFrame) -> Figure:
    """Throughput and latency against the number of users, one line per configuration:
    separate runs per user count, or the steps of step-load runs (never both together)."""
    rows = rows.assign(series=_users_labels(rows))
    figure = _new_figure(15.0, 5.0)
    panels = figure.subplots(1, len(USERS_PANELS), squeeze=False)[0]
    user_counts = sorted({int(users) for users in rows["users"]})
    log_users = user_counts[-1] / max(user_counts[0], 1) >= 8
    ordered = sorted(rows["series"].unique(), key=lambda name: server_rank(str(name).split(" ")[0]))
    for axes, (metric, label) in zip(panels, USERS_PANELS.items(), strict=True):
        every_value: list[float] = []
        for series in ordered:
            line = rows[rows["series"] == series].sort_values("users")
            style = _style(line.iloc[0])
            values = line[metric].to_numpy(dtype=float)
            every_value += [*values, *line[f"{metric}_max"].to_numpy(dtype=float)]
            error = None
            if int(line["runs"].max()) > 1:
                error = np.vstack(
                    [
                        values - line[f"{metric}_min"].to_numpy(dtype=float),
                        line[f"{metric}_max"].to_numpy(dtype=float) - values,
                    ]
                )
            axes.errorbar(
                line["users"].to_numpy(dtype=float),
                values,
                yerr=error,
                color=style.colour,
                linestyle=style.linestyle,
                marker=style.marker,
                linewidth=2,
                capsize=4,
                label=str(series),
            )
        if log_users:
            axes.set_xscale("log", base=2)
        axes.set_xticks(user_counts, [str(count) for count in user_counts])
        axes.set_xlabel("simulated users")
        if metric != "rps" and _wide(every_value):
            axes.set_yscale("log")
            axes.set_ylabel(label.replace("(ms)", "(ms, log scale)"))
        else:
            axes.set_ylabel(label)
            axes.set_ylim(0, max([*every_value, 1.0]) * 1.15)
        _grid(axes, "both")
    panels[0].legend(title="server", fontsize=9)
    _titles(
        figure,
        panels[len(panels) // 2],
        "Throughput and latency vs users",
        f"scenario {scenario} · {duration_s:g} s window · "
        + ("steps of step-load runs" if stepped else "each user count is its own comparison group")
        + _spread_note(rows),
    )
    _footnote(figure, rows)
    return figure


def _save(figure: Figure, path: Path) -> Path:
    """Write the PNG with light compression: zlib's default level triples the encoding
    time for files a tenth smaller, and encoding is a good part of the report's run time."""
    figure.savefig(
        path,
        format="png",
        dpi=DPI,
        facecolor="white",
        pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL},
    )
    return path


@dataclass(frozen=True)
class ChartJob:
    """One chart to draw: the call that draws it (None when the data has nothing to show)
    and where and how it appears. Picklable, so charts can be drawn in other processes."""

    draw: Callable[[], Figure | None]
    chart: ChartFile


def _render(job: ChartJob) -> ChartFile | None:
    figure = job.draw()
    if figure is None:
        return None
    _save(figure, job.chart.path)
    return job.chart


def plan_charts(results: LoadedResults, summary: pd.DataFrame, output_dir: Path) -> list[ChartJob]:
    """Every chart the data allows, in reading order: a set per comparison group, then the
    users charts (one per scenario, window length and load shape with several user counts)."""
    jobs: list[ChartJob] = []
    per_run = aggregate_rows(results.stats)
    history = results.history[results.history["endpoint"] == AGGREGATED]
    for group, rows in groups_of(summary):
        ids = ";".join(rows["run_ids"]).split(";")
        drawings: Sequence[tuple[str, str, Callable[[], Figure | None], bool]] = (
            ("throughput", "Throughput by server", partial(throughput_chart, group, rows), False),
            (
                "latency",
                "Latency percentiles by server",
                partial(latency_chart, group, rows),
                False,
            ),
            (
                "distribution",
                "Latency distribution",
                partial(distribution_chart, group, rows, per_run[per_run["run_id"].isin(ids)]),
                False,
            ),
            (
                "timeline",
                "Throughput and latency over time",
                partial(timeline_chart, group, rows, history[history["run_id"].isin(ids)]),
                True,
            ),
            (
                "resources",
                "Server and load-generator resources",
                partial(
                    resources_chart,
                    group,
                    rows,
                    results.resources[results.resources["run_id"].isin(ids)],
                ),
                True,
            ),
        )
        for kind, title, draw, wide in drawings:
            if group.stepped and kind in WHOLE_RUN_CHARTS:
                continue
            chart = ChartFile(
                path=output_dir / f"{slug(group.slug)}-{kind}.png",
                title=f"{title} — {group.label}",
                section=group.label,
                wide=wide,
            )
            jobs.append(ChartJob(draw, chart))
    settings = sorted(
        {
            (str(scenario), str(shape), float(duration_s))
            for scenario, shape, duration_s in zip(
                summary["scenario"], summary["shape"], summary["duration_s"], strict=True
            )
        }
    )
    for scenario, shape, duration_s in settings:
        rows = summary[
            (summary["scenario"] == scenario)
            & (summary["shape"] == shape)
            & (summary["duration_s"] == duration_s)
        ]
        if rows["users"].nunique() < 2:
            continue
        stepped = shape != SHAPE_CONSTANT
        chart = ChartFile(
            path=output_dir
            / f"users-{slug(scenario)}-{duration_s:g}s{'-steps' if stepped else ''}.png",
            title=f"Throughput and latency vs users — scenario {scenario}, "
            f"{duration_s:g} s window{', step load' if stepped else ''}",
            section="users",
            wide=True,
        )
        jobs.append(ChartJob(partial(users_chart, scenario, duration_s, stepped, rows), chart))
    return jobs


def draw_charts(
    results: LoadedResults, summary: pd.DataFrame, output_dir: Path, processes: int | None = None
) -> list[ChartFile]:
    """Draw and write every chart; return those drawn, in reading order.

    Drawing is CPU-bound and charts are independent, so they are drawn in parallel, one
    process per usable CPU by default (fork: the children already have matplotlib loaded).
    """
    jobs = plan_charts(results, summary, output_dir)
    if processes is None:
        processes = len(os.sched_getaffinity(0))
    processes = min(processes, len(jobs))
    if processes <= 1:
        drawn = [_render(job) for job in jobs]
    else:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
            drawn = list(pool.map(_render, jobs))
    return [chart for chart in drawn if chart is not None]
