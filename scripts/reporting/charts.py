"""The report's charts: which ones the data allows, and drawing them as PNG files.

Readers look at charts before numbers, so every chart carries a title, the comparison group
it belongs to, and axis labels with units. Runs that cannot be compared never share a chart:
every chart is drawn for one comparison group (scenario, users, window length, load shape),
except the users charts, which compare user counts at one scenario, window length and load
shape, and say so. The charts themselves are in charts_groups, charts_time and charts_users.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Final

import pandas as pd
from matplotlib.figure import Figure

from scripts.reporting.charts_groups import (
    distribution_chart,
    failures_chart,
    latency_chart,
    throughput_chart,
)
from scripts.reporting.charts_profiles import profiles_chart
from scripts.reporting.charts_style import DPI
from scripts.reporting.charts_time import resources_chart, timeline_chart
from scripts.reporting.charts_users import users_chart
from scripts.reporting.frames import AGGREGATED
from scripts.reporting.load import SHAPE_CONSTANT, LoadedResults
from scripts.reporting.profile_pairs import pairs_frame, profile_pairs
from scripts.reporting.tables import aggregate_rows, groups_of

PNG_COMPRESS_LEVEL: Final = 1
# Charts of a run's whole timeline: not drawn per step of a step-load run (whose history
# and resource samples span every step).
WHOLE_RUN_CHARTS: Final = frozenset({"timeline", "resources"})
# The section of the dev vs production charts (one per group that has both).
PROFILES_SECTION: Final = "profiles"


@dataclass(frozen=True)
class ChartFile:
    """A chart written to disk, with what the HTML page needs to show it."""

    path: Path
    title: str
    section: str
    wide: bool = False


def slug(text: str) -> str:
    """Text safe in a file name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


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
    dev vs production charts (one per group where some server ran under both), then the
    users charts (one per scenario, window length and load shape with several user counts)."""
    jobs: list[ChartJob] = []
    per_run = aggregate_rows(results.stats)
    history = results.history[results.history["endpoint"] == AGGREGATED]
    for group, rows in groups_of(summary):
        ids = ";".join(rows["run_ids"]).split(";")
        drawings: Sequence[tuple[str, str, Callable[[], Figure | None], bool]] = (
            ("throughput", "Throughput by server", partial(throughput_chart, group, rows), False),
            ("failures", "Failures by server", partial(failures_chart, group, rows), False),
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
    for entry in profile_pairs(summary):
        chart = ChartFile(
            path=output_dir / f"{PROFILES_SECTION}-{slug(entry.group.slug)}.png",
            title=f"dev vs production — {entry.group.label}",
            section=PROFILES_SECTION,
            wide=True,
        )
        frame = pairs_frame(entry.pairs)
        jobs.append(ChartJob(partial(profiles_chart, entry.group, frame), chart))
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
