"""What every chart shares: a server's colour and line style, figure set-up and notes.

A server keeps one colour in every chart, and servers not meant for production (runserver)
are drawn apart: warm colours, hatched bars, dashed lines. Charts are drawn with
matplotlib's object API (no pyplot state).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeAlias

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from scripts.reporting.tables import Row
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
    "#393b79",  # indigo
    "#637939",  # moss
    "#8c6d31",  # ochre
    "#7b4173",  # plum: twelve, one for each production server of SERVER=every
)
DEVELOPMENT_COLOURS: Final = ("#d62728", "#ff7f0e")  # red, orange: "not for production"
DPI: Final = 100
# A value range wider than this factor is drawn on a log scale, or small values vanish.
LOG_SCALE_RATIO: Final = 20.0
DEV_NOTE: Final = "red/orange, hatched or dashed: development server, not for production"


LineStyle: TypeAlias = Literal["-", "--"]


@dataclass(frozen=True)
class SeriesStyle:
    """How one server is drawn everywhere in the report."""

    colour: str
    hatch: str
    linestyle: LineStyle
    marker: str


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


def style_of(row: Row) -> SeriesStyle:
    """The style of a summary row's server."""
    return series_style(str(row["server"]), bool(row["production_grade"]))


def new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def set_titles(figure: Figure, axes: Axes, title: str, subtitle: str) -> None:
    """The chart's title, and under it the comparison group (as the top axes' title, so the
    layout engine keeps the two apart)."""
    figure.suptitle(title, fontsize=14, fontweight="bold")
    axes.set_title(subtitle, fontsize=10, color="#444444")


def needs_log_scale(values: Sequence[float]) -> bool:
    """Whether the values span more than LOG_SCALE_RATIO: on a linear axis the small ones
    would vanish."""
    positive = [value for value in values if value > 0 and not math.isnan(value)]
    return bool(positive) and max(positive) / min(positive) > LOG_SCALE_RATIO


def draw_grid(axes: Axes, axis: Literal["x", "y", "both"] = "y") -> None:
    axes.grid(axis=axis, which="major", alpha=0.35)
    axes.set_axisbelow(True)


def spread_extents(rows: pd.DataFrame, metric: str) -> np.ndarray[Any, np.dtype[np.float64]] | None:
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


def spread_note(rows: pd.DataFrame) -> str:
    """What a chart's whiskers mean, for its subtitle (nothing when nothing was repeated)."""
    most = int(rows["runs"].max())
    return f" · medians of up to {most} runs, whiskers min-max" if most > 1 else ""


def _dev_present(rows: pd.DataFrame) -> bool:
    return not bool(rows["production_grade"].all())


def dev_footnote(figure: Figure, rows: pd.DataFrame) -> None:
    """Explain the development-server styling under the chart (laid out, never overlapping)."""
    if _dev_present(rows):
        figure.supxlabel(DEV_NOTE, x=0.01, ha="left", fontsize=8, color="#a00000")


def legend_handles(rows: pd.DataFrame) -> list[Line2D]:
    """One legend entry per configuration, for figures with several panels."""
    return [
        Line2D(
            [],
            [],
            color=style_of(row).colour,
            linestyle=style_of(row).linestyle,
            marker=style_of(row).marker,
            linewidth=2,
            label=str(row["label"]),
        )
        for _, row in rows.iterrows()
    ]
