"""The charts of one comparison group: its configurations side by side.

Throughput bars, latency percentile bars and the whole percentile curve, each with the
spread of repeated runs, so a reader sees at once which server is faster and by how much
more than the noise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from scripts.reporting.charts_style import (
    dev_footnote,
    draw_grid,
    needs_log_scale,
    new_figure,
    set_titles,
    spread_extents,
    spread_note,
    style_of,
)
from scripts.reporting.frames import PERCENTILE_FRACTIONS
from scripts.reporting.tables import Group, Row

LATENCY_PERCENTILES: Final[Mapping[str, str]] = MappingProxyType(
    {"p50_ms": "p50", "p95_ms": "p95", "p99_ms": "p99"}
)


def _tick_label(row: Row) -> str:
    runs = int(row["runs"])
    return str(row["label"]) + (f"\n{runs} runs" if runs > 1 else "")


def throughput_chart(group: Group, rows: pd.DataFrame) -> Figure:
    """Bars of requests per second per configuration, with the spread of repeats."""
    figure = new_figure(min(12.0, max(6.0, 1.3 * len(rows) + 3)), 5.0)
    axes = figure.add_subplot()
    positions = np.arange(len(rows))
    values = rows["rps"].to_numpy(dtype=float)
    styles = [style_of(row) for _, row in rows.iterrows()]
    bars = axes.bar(
        positions,
        values,
        width=0.6,
        color=[style.colour for style in styles],
        hatch=None,
        edgecolor="#333333",
        linewidth=0.6,
        yerr=spread_extents(rows, "rps"),
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
    draw_grid(axes)
    set_titles(figure, axes, "Throughput by server", group.label + spread_note(rows))
    dev_footnote(figure, rows)
    return figure


def failures_chart(group: Group, rows: pd.DataFrame) -> Figure:
    """Failures apart from throughput: the error rate of each configuration (median over its
    repeats, with their range) and the failures counted, so fast errors never hide in a
    throughput bar (which counts successful answers only)."""
    figure = new_figure(min(12.0, max(6.0, 1.3 * len(rows) + 3)), 4.0)
    axes = figure.add_subplot()
    positions = np.arange(len(rows))
    rates = rows["error_rate"].to_numpy(dtype=float) * 100
    styles = [style_of(row) for _, row in rows.iterrows()]
    axes.bar(
        positions,
        rates,
        width=0.6,
        color=[style.colour for style in styles],
        edgecolor="#333333",
        linewidth=0.6,
    )
    failures = rows["failures"].to_numpy(dtype=float)
    for position, rate, count in zip(positions, rates, failures, strict=True):
        axes.annotate(
            f"{rate:.2f} % ({count:,.0f})",
            (position, rate),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=9,
        )
    axes.set_xticks(positions, [_tick_label(row) for _, row in rows.iterrows()])
    axes.set_ylabel("failed responses (% of requests)")
    top = float(np.nanmax(rates)) if len(rates) else 0.0
    axes.set_ylim(0, max(top * 1.3, 1.0))
    draw_grid(axes)
    set_titles(
        figure,
        axes,
        "Failures by server",
        group.label + " · runs above MAX_ERROR_RATE are failed and not shown",
    )
    dev_footnote(figure, rows)
    return figure


def latency_chart(group: Group, rows: pd.DataFrame) -> Figure:
    """p50, p95 and p99 side by side for every configuration; log scale when the values
    span more than a factor of LOG_SCALE_RATIO (a slow server would flatten the others)."""
    figure = new_figure(min(12.0, max(7.0, 0.6 * len(rows) * len(LATENCY_PERCENTILES) + 3)), 5.0)
    axes = figure.add_subplot()
    width = 0.8 / max(len(rows), 1)
    centres = np.arange(len(LATENCY_PERCENTILES))
    every_value: list[float] = []
    for offset, (_, row) in enumerate(rows.iterrows()):
        style = style_of(row)
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
    if needs_log_scale(every_value):
        axes.set_yscale("log")
        axes.set_ylabel("response time (ms, log scale)")
    else:
        axes.set_ylabel("response time (ms)")
        axes.set_ylim(0, max([*every_value, 1.0]) * 1.15)
    axes.set_xlabel("percentile of the measured window")
    draw_grid(axes)
    axes.legend(title="server", fontsize=9, loc="upper left")
    set_titles(figure, axes, "Latency percentiles by server", group.label + spread_note(rows))
    dev_footnote(figure, rows)
    return figure


def _nines(fraction: float) -> float:
    """Position on a "number of nines" axis: 0.9 -> 1, 0.99 -> 2; the maximum goes one
    step past 99.99 %."""
    return 5.0 if fraction >= 1.0 else -math.log10(1.0 - fraction)


def distribution_chart(group: Group, rows: pd.DataFrame, per_run: pd.DataFrame) -> Figure:
    """Every configuration's percentile curve (its latency distribution) on one plot: the
    whole tail, not three points of it."""
    figure = new_figure(9.0, 5.5)
    axes = figure.add_subplot()
    positions = [_nines(fraction) for fraction in PERCENTILE_FRACTIONS.values()]
    every_value: list[float] = []
    for _, row in rows.iterrows():
        style = style_of(row)
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
    if needs_log_scale(every_value):
        axes.set_yscale("log")
        axes.set_ylabel("response time (ms, log scale)")
    else:
        axes.set_ylabel("response time (ms)")
        axes.set_ylim(0, max([*every_value, 1.0]) * 1.1)
    draw_grid(axes, "both")
    axes.legend(title="server", fontsize=9, loc="upper left")
    set_titles(
        figure,
        axes,
        "Latency distribution (percentile curve)",
        group.label + " · medians over runs of each percentile",
    )
    dev_footnote(figure, rows)
    return figure
