"""The dev vs production chart: goodput and p99 per server, the two profiles side by side.

Colours here stand for the profile, not the server (every bar pair is one server), so a
reader compares the two deployments at a glance; the servers are named under the bars.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from scripts.reporting.charts_style import draw_grid, new_figure
from scripts.reporting.profiles import DEV_PROFILE, PRODUCTION_PROFILE
from scripts.reporting.tables import Group

PROFILE_COLOURS: Final[Mapping[str, str]] = MappingProxyType(
    {DEV_PROFILE: "#9e9e9e", PRODUCTION_PROFILE: "#1f77b4"}  # grey, blue
)
PANELS: Final[Mapping[str, str]] = MappingProxyType(
    {"goodput_rps": "goodput (successful requests/s)", "p99_ms": "p99 response time (ms)"}
)
BAR_WIDTH: Final = 0.38


def _panel(axes: Axes, frame: pd.DataFrame, metric: str, label: str) -> None:
    positions = np.arange(len(frame))
    tops = [1.0]
    for offset, profile in ((-0.5, DEV_PROFILE), (0.5, PRODUCTION_PROFILE)):
        values = frame[f"{profile}_{metric}"].to_numpy(dtype=float)
        places = positions + offset * BAR_WIDTH
        axes.bar(
            places,
            np.nan_to_num(values),
            width=BAR_WIDTH * 0.95,
            color=PROFILE_COLOURS[profile],
            edgecolor="#333333",
            linewidth=0.6,
            label=profile,
        )
        for place, value in zip(places, values, strict=True):
            text = "n/a" if math.isnan(value) else f"{value:,.0f}" if value >= 10 else f"{value:g}"
            axes.annotate(
                text,
                (place, 0.0 if math.isnan(value) else value),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=8,
            )
        tops += [value for value in values if not math.isnan(value)]
    axes.set_xticks(positions, [str(name) for name in frame["name"]])
    axes.set_ylabel(label)
    axes.set_ylim(0, max(tops) * 1.18)
    draw_grid(axes)


def profiles_chart(group: Group, frame: pd.DataFrame) -> Figure:
    """Two panels, goodput and p99, one pair of bars (dev, production) per server."""
    figure = new_figure(min(15.0, max(9.0, 1.6 * len(frame) + 5)), 5.0)
    panels = figure.subplots(1, len(PANELS), squeeze=False)[0]
    for axes, (metric, label) in zip(panels, PANELS.items(), strict=True):
        _panel(axes, frame, metric, label)
    handles, labels = panels[0].get_legend_handles_labels()
    figure.legend(handles, labels, title="profile", fontsize=9, loc="outside right upper")
    figure.suptitle(
        f"{DEV_PROFILE} vs {PRODUCTION_PROFILE}: goodput and p99 by server",
        fontsize=14,
        fontweight="bold",
    )
    figure.supxlabel(
        group.label + " · medians over each configuration's runs", fontsize=10, color="#444444"
    )
    return figure
