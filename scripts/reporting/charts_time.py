"""The charts of runs over time: throughput, latency and resources second by second.

They show what a table cannot: a ramp that never settled, a server that slowed down during
the window, a load generator at its limit. Each run is one line in its server's style.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from scripts.reporting.charts_style import (
    dev_footnote,
    draw_grid,
    legend_handles,
    new_figure,
    set_titles,
    style_of,
)
from scripts.reporting.frames import AGGREGATED
from scripts.reporting.tables import Group, any_flagged

LOADGEN_CPU_LIMIT_PCT: Final = 90.0
TIMELINE_PANELS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "rps_counted": "throughput (requests/s)",
        "p50_ms": "p50 response time (ms)",
        "p95_ms": "p95 response time (ms)",
    }
)
RESOURCE_PANELS: Final = (
    ("server", "cpu_pct", "server CPU (% of one core)"),
    ("server", "rss_mb", "server memory, RSS (MB)"),
    ("loadgen", "cpu_pct", "load generator CPU (% of one core)"),
    ("loadgen", "rss_mb", "load generator memory, RSS (MB)"),
)


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
        style = style_of(row)
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


def timeline_chart(group: Group, rows: pd.DataFrame, history: pd.DataFrame) -> Figure | None:
    """Throughput and latency second by second, from Locust's history (Aggregated rows)."""
    samples = history[
        (history["endpoint"] == AGGREGATED)
        & history["run_id"].isin(";".join(rows["run_ids"]).split(";"))
    ]
    if samples.empty:
        return None
    figure = new_figure(10.0, 8.5)
    panels = figure.subplots(len(TIMELINE_PANELS), 1, sharex=True, squeeze=False)[:, 0]
    start_s = float(samples["t_s"].min())
    for index, (axes, (column, label)) in enumerate(
        zip(panels, TIMELINE_PANELS.items(), strict=True)
    ):
        _shade_unmeasured(axes, start_s, group.duration_s, label=index == 0)
        _run_lines(axes, rows, samples, column)
        axes.set_ylabel(label)
        axes.set_ylim(0, _measured_top(samples, column, group.duration_s))
        draw_grid(axes, "both")
    panels[-1].set_xlabel("seconds since the measured window began")
    figure.legend(
        handles=legend_handles(rows), loc="outside right upper", title="server", fontsize=9
    )
    set_titles(
        figure,
        panels[0],
        "Throughput and latency over time",
        group.label + " · per second; latency percentiles over Locust's rolling ~10 s",
    )
    dev_footnote(figure, rows)
    return figure


def resources_chart(group: Group, rows: pd.DataFrame, resources: pd.DataFrame) -> Figure | None:
    """Server and load-generator CPU and memory over time, when runs carry samples."""
    samples = resources[resources["run_id"].isin(";".join(rows["run_ids"]).split(";"))]
    if samples.empty:
        return None
    figure = new_figure(12.0, 7.5)
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
            external = role == "server" and any_flagged(rows, "server_unobserved")
            what = "server " + ("CPU" if column == "cpu_pct" else "memory")
            axes.text(
                0.5,
                0.5,
                f"{what} not observed (external target)" if external else "no samples",
                transform=axes.transAxes,
                ha="center",
                color="#777777",
            )
        draw_grid(axes, "both")
    for axes in grid[-1]:
        axes.set_xlabel("seconds since the measured window began")
    figure.legend(
        handles=legend_handles(rows), loc="outside right upper", title="server", fontsize=9
    )
    figure.suptitle("Server and load-generator resources", fontsize=14, fontweight="bold")
    grid[0, 0].set_title(group.label, fontsize=10, color="#444444", loc="left")
    dev_footnote(figure, rows)
    return figure
