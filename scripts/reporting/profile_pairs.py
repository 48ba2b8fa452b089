"""Dev against production: the same servers under both deployments, side by side.

Issue 19 names two worlds: `dev` (the server alone on SQLite) and `production` (nginx in
front, PostgreSQL behind, workers as people deploy them). When one comparison group holds
both for a server, a reader asks what the production deployment costs or gains, server by
server: this section pairs each such server's dev configuration with its production one
(every pairing when a server has several of either, e.g. a worker sweep) and shows goodput
and p99 beside each other, with the ratio of the medians. The ratio is descriptive; whether
it is more than noise is the verdicts' question (both profiles are configurations of the
same group there).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import pandas as pd

from scripts.reporting.profiles import DEV_PROFILE, PRODUCTION_PROFILE
from scripts.reporting.tables import Cell, Group, Row, format_cell, groups_of

HEADINGS: Final = (
    "server",
    f"{DEV_PROFILE} configuration",
    f"{PRODUCTION_PROFILE} configuration",
    f"goodput rps {DEV_PROFILE}",
    f"goodput rps {PRODUCTION_PROFILE}",
    f"{PRODUCTION_PROFILE} / {DEV_PROFILE}",
    f"p99 ms {DEV_PROFILE}",
    f"p99 ms {PRODUCTION_PROFILE}",
)
EXPLANATION: Final = (
    f"Servers measured under both the {DEV_PROFILE} profile (the server alone, SQLite) and "
    f"the {PRODUCTION_PROFILE} profile (nginx in front, PostgreSQL, workers as deployed) in "
    "one comparison group: medians over each configuration's runs, and the ratio of the "
    "goodput medians. Whether a difference is more than noise is the verdicts' question "
    "(verdicts.json; both profiles are configurations of the same group there)."
)


@dataclass(frozen=True)
class ProfilePair:
    """One server's dev configuration and its production one, in one comparison group."""

    server: str
    dev_label: str
    production_label: str
    dev_goodput_rps: float
    production_goodput_rps: float
    dev_p99_ms: float
    production_p99_ms: float
    cells: tuple[Cell, ...]  # the table row, as HEADINGS name it

    @property
    def goodput_ratio(self) -> float:
        if not self.dev_goodput_rps or math.isnan(self.dev_goodput_rps):
            return math.nan
        return self.production_goodput_rps / self.dev_goodput_rps


@dataclass(frozen=True)
class GroupPairs:
    """The pairs of one comparison group, in the summary's server order."""

    group: Group
    pairs: tuple[ProfilePair, ...]


def _setting(row: Row) -> str:
    count: int | None = None if pd.isna(row["threads"]) else int(row["threads"])
    threads = "" if count is None else f" x {count} thread{'s' if count > 1 else ''}"
    runs = int(row["runs"])
    return f"{int(row['workers'])} workers{threads}, {runs} run{'s' if runs > 1 else ''}"


def _pair(dev: Row, production: Row) -> ProfilePair:
    ratio = float(production["rps"]) / float(dev["rps"]) if float(dev["rps"]) else math.nan
    return ProfilePair(
        server=str(dev["server"]),
        dev_label=str(dev["label"]),
        production_label=str(production["label"]),
        dev_goodput_rps=float(dev["rps"]),
        production_goodput_rps=float(production["rps"]),
        dev_p99_ms=float(dev["p99_ms"]),
        production_p99_ms=float(production["p99_ms"]),
        cells=(
            Cell(str(dev["server"])),
            Cell(_setting(dev)),
            Cell(_setting(production)),
            format_cell(dev, "rps"),
            format_cell(production, "rps"),
            Cell("-" if math.isnan(ratio) else f"{ratio:.2f}x"),
            format_cell(dev, "p99_ms"),
            format_cell(production, "p99_ms"),
        ),
    )


def profile_pairs(summary: pd.DataFrame) -> list[GroupPairs]:
    """Every comparison group in which some server ran under both dev and production."""
    found = []
    for group, rows in groups_of(summary):
        pairs: list[ProfilePair] = []
        for server in dict.fromkeys(rows["server"]):
            own = rows[rows["server"] == server]
            devs = own[own["profile"] == DEV_PROFILE]
            productions = own[own["profile"] == PRODUCTION_PROFILE]
            pairs += [
                _pair(dev, production)
                for _, dev in devs.iterrows()
                for _, production in productions.iterrows()
            ]
        if pairs:
            found.append(GroupPairs(group, tuple(pairs)))
    return found


def pairs_frame(pairs: Sequence[ProfilePair]) -> pd.DataFrame:
    """The figures a chart of the pairs draws (plain columns: picklable for drawing)."""
    return pd.DataFrame(
        [
            {
                "server": pair.server,
                "name": pair.server
                if sum(p.server == pair.server for p in pairs) == 1
                else f"{pair.dev_label} / {pair.production_label}",
                "dev_goodput_rps": pair.dev_goodput_rps,
                "production_goodput_rps": pair.production_goodput_rps,
                "dev_p99_ms": pair.dev_p99_ms,
                "production_p99_ms": pair.production_p99_ms,
            }
            for pair in pairs
        ]
    )


def _markdown_row(values: Sequence[str]) -> str:
    return "| " + " | ".join(value.replace("|", "\\|") for value in values) + " |"


def profiles_markdown(found: Sequence[GroupPairs]) -> str:
    """The "dev vs production" section of summary.md ("" when no server ran under both)."""
    if not found:
        return ""
    lines = ["", f"## {DEV_PROFILE} vs {PRODUCTION_PROFILE}", "", EXPLANATION]
    for entry in found:
        lines += ["", f"### {entry.group.label}", "", _markdown_row(HEADINGS)]
        lines.append("| " + " | ".join(["---"] * 3 + ["---:"] * (len(HEADINGS) - 3)) + " |")
        lines += [_markdown_row([cell.text for cell in pair.cells]) for pair in entry.pairs]
    return "\n".join(lines) + "\n"


def profiles_html(found: Sequence[GroupPairs], images: Sequence[str]) -> str:
    """The section of index.html: a table per group, then the charts (already rendered)."""
    if not found:
        return ""
    head = "".join(f"<th>{html.escape(heading)}</th>" for heading in HEADINGS)
    parts = [
        f'<section id="profiles"><h2>{DEV_PROFILE} vs {PRODUCTION_PROFILE}</h2>',
        f"<p>{html.escape(EXPLANATION)}</p>",
    ]
    for entry in found:
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(cell.text)}</td>" for cell in pair.cells) + "</tr>"
            for pair in entry.pairs
        )
        parts += [
            f"<h3>{html.escape(entry.group.label)}</h3>",
            f'<div class="table-scroll"><table class="numbers"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>",
        ]
    parts.append('<div class="charts">' + "".join(images) + "</div></section>")
    return "\n".join(parts)
