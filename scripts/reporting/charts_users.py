"""The users chart: throughput and latency against the number of simulated users.

It compares user counts, so it spans comparison groups, but only of one scenario, window
length and load shape: separate runs per user count, or the steps of step-load runs, never
both on one chart.
"""

from __future__ import annotations

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
    spread_note,
    style_of,
)
from scripts.reporting.profiles import several_profiles
from scripts.reporting.tables import config_label, server_rank

USERS_PANELS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "rps": "throughput (requests/s)",
        "p50_ms": "p50 response time (ms)",
        "p99_ms": "p99 response time (ms)",
    }
)


def _users_labels(rows: pd.DataFrame) -> list[str]:
    """Line labels across user counts: the server, plus workers/threads if they vary within
    one profile, plus the profile when the rows hold several (one line per deployment)."""
    settings: dict[tuple[str, str], set[tuple[int, int]]] = {}
    for _, row in rows.iterrows():
        threads = -1 if pd.isna(row["threads"]) else int(row["threads"])
        key = (str(row["server"]), str(row["profile"]))
        settings.setdefault(key, set()).add((int(row["workers"]), threads))
    shown = several_profiles(rows["profile"])
    return [
        config_label(
            row,
            ambiguous=len(settings[(str(row["server"]), str(row["profile"]))]) > 1,
            profiles_shown=shown,
        )
        for _, row in rows.iterrows()
    ]


def users_chart(scenario: str, duration_s: float, stepped: bool, rows: pd.DataFrame) -> Figure:
    """Throughput and latency against the number of users, one line per configuration:
    separate runs per user count, or the steps of step-load runs (never both together)."""
    rows = rows.assign(series=_users_labels(rows))
    figure = new_figure(15.0, 5.0)
    panels = figure.subplots(1, len(USERS_PANELS), squeeze=False)[0]
    user_counts = sorted({int(users) for users in rows["users"]})
    log_users = user_counts[-1] / max(user_counts[0], 1) >= 8
    ordered = sorted(rows["series"].unique(), key=lambda name: server_rank(str(name).split(" ")[0]))
    for axes, (metric, label) in zip(panels, USERS_PANELS.items(), strict=True):
        every_value: list[float] = []
        for series in ordered:
            line = rows[rows["series"] == series].sort_values("users")
            style = style_of(line.iloc[0])
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
        if metric != "rps" and needs_log_scale(every_value):
            axes.set_yscale("log")
            axes.set_ylabel(label.replace("(ms)", "(ms, log scale)"))
        else:
            axes.set_ylabel(label)
            axes.set_ylim(0, max([*every_value, 1.0]) * 1.15)
        draw_grid(axes, "both")
    panels[0].legend(title="server", fontsize=9)
    set_titles(
        figure,
        panels[len(panels) // 2],
        "Throughput and latency vs users",
        f"scenario {scenario} · {duration_s:g} s window · "
        + ("steps of step-load runs" if stepped else "each user count is its own comparison group")
        + spread_note(rows),
    )
    dev_footnote(figure, rows)
    return figure
