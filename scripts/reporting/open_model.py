"""The open model's section: corrected and uncorrected latency against the offered rate.

ARRIVAL_RATE runs (loadtests/arrival.py) send requests on a fixed schedule, so their
latency can be counted from each request's intended send time (corrected) as well as from
its actual send (uncorrected, the service time a closed loop would report). Across the
steps of a run (or separate runs at several rates) the two part where the server stops
keeping up: below the knee they agree, above it the uncorrected latency stays bounded by
the pool of users while the corrected one grows with the backlog. The table says, for
each window, whether it kept up ("did not keep up at 30 rps" is a result, not a failure).
Closed-loop runs get a note instead: their latency is coordinated-omission latency.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from matplotlib.ticker import ScalarFormatter

from scripts.records.schema import ArrivalFigures, LatencyFigures
from scripts.reporting.charts import PNG_COMPRESS_LEVEL, ChartFile, slug
from scripts.reporting.charts_style import DPI, draw_grid, new_figure, set_titles
from scripts.reporting.load import RunRecord

SECTION: Final = "open model"
CLOSED_LOOP_NOTE: Final = (
    "Closed-loop runs (every run without ARRIVAL_RATE): each user waits for its answer "
    "before it sends again, so a stalled server receives fewer requests and its tail latency "
    "is understated (coordinated omission). ARRIVAL_RATE runs count latency from each "
    "request's intended send time as well: see the open model section."
)
OPEN_IN_TABLES_NOTE: Final = (
    "ARRIVAL_RATE runs appear in the tables and charts above with their uncorrected latency "
    "(the service time), in the comparison group of their scenario, pool of users and window: "
    "their corrected latency is in the open model section."
)
HEADINGS: Final = (
    "run",
    "server",
    "in flight",
    "offered rps",
    "achieved rps",
    "result",
    "not sent",
    "late",
    "corrected p50 ms",
    "corrected p99 ms",
    "corrected max ms",
    "uncorrected p50 ms",
    "uncorrected p99 ms",
    "uncorrected max ms",
)


@dataclass(frozen=True)
class OpenRow:
    """One window of one ARRIVAL_RATE run."""

    run_id: str
    server: str
    workers: int
    scenario: str
    figures: ArrivalFigures

    @property
    def series(self) -> str:
        """The line a row belongs to: one run's steps, or one configuration's runs."""
        in_flight = self.figures.max_in_flight
        return f"{self.server} {self.workers}w · {self.scenario} · {in_flight} in flight"


def open_rows(runs: Sequence[RunRecord]) -> list[OpenRow]:
    """Every window of the usable ARRIVAL_RATE runs, by series then offered rate."""
    rows = [
        OpenRow(
            run.run_id, run.summary.server, run.summary.workers, run.summary.scenario, w.arrival
        )
        for run in runs
        if run.usable and run.summary is not None
        for w in run.summary.windows
        if w.arrival is not None
    ]
    return sorted(rows, key=lambda row: (row.series, row.figures.offered_rps, row.run_id))


def closed_loop_notes(runs: Sequence[RunRecord]) -> list[str]:
    """The coordinated-omission note, when any usable run is closed-loop, and where an open
    run's corrected latency is, when any is open."""
    usable = [run.summary for run in runs if run.usable and run.summary is not None]
    closed = any(summary.arrival is None for summary in usable)
    opened = any(summary.arrival is not None for summary in usable)
    notes = []
    if closed:
        notes.append(CLOSED_LOOP_NOTE)
    if opened:
        notes.append(OPEN_IN_TABLES_NOTE)
    return notes


def _ms(value: float | None, samples: int) -> str:
    return f"n/a ({samples:,} samples)" if value is None else f"{value:,.1f}"


def _cells(row: OpenRow) -> list[str]:
    figures = row.figures
    corrected, uncorrected = figures.corrected, figures.uncorrected
    return [
        row.run_id,
        f"{row.server} ({row.workers}w)",
        str(figures.max_in_flight),
        f"{figures.offered_rps:g}",
        f"{figures.achieved_rps:,.1f}",
        figures.verdict,
        f"{figures.not_sent:,} of {figures.intended:,}",
        f"{figures.late:,}",
        _ms(corrected.p50_ms, corrected.samples),
        _ms(corrected.p99_ms, corrected.samples),
        _ms(corrected.max_ms, corrected.samples),
        _ms(uncorrected.p50_ms, uncorrected.samples),
        _ms(uncorrected.p99_ms, uncorrected.samples),
        _ms(uncorrected.max_ms, uncorrected.samples),
    ]


def _tail(figures: LatencyFigures) -> float | None:
    """The highest shown tail: p99 with enough samples, else the maximum."""
    return figures.p99_ms if figures.p99_ms is not None else figures.max_ms


def draw_open_model_chart(runs: Sequence[RunRecord], charts_dir: Path) -> list[ChartFile]:
    """Latency against offered rate, corrected and uncorrected, one colour per series; the
    windows that did not keep up are marked. No chart without ARRIVAL_RATE runs."""
    rows = open_rows(runs)
    if not rows:
        return []
    figure = new_figure(11, 6)
    axes = figure.add_subplot()
    series = sorted({row.series for row in rows})
    colours = [f"C{index % 10}" for index in range(len(series))]
    for name, colour in zip(series, colours, strict=True):
        mine = [row for row in rows if row.series == name]
        offered = [row.figures.offered_rps for row in mine]
        lines = (
            ("corrected p50", [r.figures.corrected.p50_ms for r in mine], "-", "o"),
            ("corrected tail", [_tail(r.figures.corrected) for r in mine], "-", "^"),
            ("uncorrected p50", [r.figures.uncorrected.p50_ms for r in mine], "--", "o"),
            ("uncorrected tail", [_tail(r.figures.uncorrected) for r in mine], "--", "^"),
        )
        for label, values, style, marker in lines:
            points = [(x, y) for x, y in zip(offered, values, strict=True) if y is not None]
            if points:
                axes.plot(
                    *zip(*points, strict=True),
                    linestyle=style,
                    marker=marker,
                    color=colour,
                    label=f"{name}: {label}",
                )
        missed = [row for row in mine if not row.figures.kept_up]
        for row in missed:
            axes.axvline(row.figures.offered_rps, color=colour, alpha=0.25, linewidth=6)
    axes.set_yscale("log")
    axes.yaxis.set_major_formatter(ScalarFormatter())
    axes.set_xlabel("offered rate (requests/s)")
    axes.set_ylabel("latency (ms, log scale)")
    draw_grid(axes, "both")
    axes.legend(fontsize=8, loc="upper left")
    set_titles(
        figure,
        axes,
        "Open model: latency against offered rate",
        "solid: corrected (from the intended send) · dashed: uncorrected · "
        "triangle: p99, or max with too few samples · shaded: did not keep up",
    )
    path = charts_dir / f"open_model_{slug(series[0])}.png"
    figure.savefig(
        path,
        format="png",
        dpi=DPI,
        facecolor="white",
        pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL},
    )
    return [ChartFile(path, "Open model: latency against offered rate", SECTION, wide=True)]


def open_model_html(runs: Sequence[RunRecord], images: Sequence[str]) -> str:
    """The section: what the model is, the chart(s) (already rendered) and the table."""
    rows = open_rows(runs)
    if not rows:
        return ""
    head = "".join(f"<th>{html.escape(heading)}</th>" for heading in HEADINGS)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in _cells(row)) + "</tr>"
        for row in rows
    )
    intro = (
        "<p>ARRIVAL_RATE runs send requests on a fixed schedule (evenly spaced intended send "
        "times) from a bounded pool of users; when every user is busy a request goes out "
        "late, and its corrected latency counts from its intended time. Where the server "
        "keeps up the two latencies agree; past the knee the uncorrected one stays bounded by "
        "the pool while the corrected one grows with the backlog. A window did not keep up "
        "when its achieved rate fell more than 5 % short of the offered rate: a result, not "
        "a failure.</p>"
    )
    return (
        f'<section id="open-model"><h2>Open model: latency against offered rate</h2>{intro}'
        f'<div class="charts">{"".join(images)}</div>'
        f'<div class="table-scroll"><table class="numbers"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div></section>"
    )


def open_model_markdown(runs: Sequence[RunRecord]) -> str:
    """The same table for summary.md."""
    rows = open_rows(runs)
    if not rows:
        return ""
    lines = ["", "## Open model: latency against offered rate", ""]
    lines.append("| " + " | ".join(HEADINGS) + " |")
    lines.append("|" + "---|" * len(HEADINGS))
    lines.extend("| " + " | ".join(_cells(row)) + " |" for row in rows)
    return "\n".join(lines) + "\n"
