"""The runs left out of the numbers, listed apart with their reason and the figures they have.

A failed or invalid run never enters a table, chart or verdict (issue 16): its figures
describe a broken server or an untrustworthy measurement. They are still evidence of what
happened (a server whose errors were 37 % of its answers, a generator that set the pace),
so they are kept and shown here, from the run's own summary.json when it has one, beside
the reason the run was left out. A run whose directory cannot be read has no figures; it
is listed with what is wrong with it.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from scripts.records.schema import Status, WindowFigures
from scripts.reporting.load import RunRecord
from scripts.reporting.tables import format_value

FIGURE_HEADINGS: Final = (
    "requests",
    "failures",
    "error rate",
    "goodput rps",
    "p50 ms",
    "p99 ms",
    "failures by kind",
)
HEADINGS: Final = ("run", "server", "profile", "status", "reason", *FIGURE_HEADINGS)
UNREADABLE_HEADINGS: Final = ("run", "server", "status", "reason")
# Statuses whose figures were measured, and are shown apart.
MEASURED_STATUSES: Final = frozenset({Status.FAILED, Status.INVALID})
KINDS_SHOWN: Final = 3  # failure kinds named per run, the most frequent first
NO_FIGURES: Final = "-"
EXPLANATION: Final = (
    "Failed and invalid runs are in no table, chart or verdict above: their figures "
    "describe a broken server or a measurement that cannot be trusted. What they measured "
    "is kept here (from each run's summary.json), beside the reason."
)


@dataclass(frozen=True)
class LeftOutRun:
    """One failed or invalid run: its settings, reason and figures as display text."""

    run: RunRecord
    figures: tuple[str, ...]  # as FIGURE_HEADINGS name them; "-" where the run has none

    @property
    def cells(self) -> tuple[str, ...]:
        run = self.run
        server = str(run.setting("server") or "?")
        profile = str(run.setting("profile") or "")
        return (run.run_id, server, profile, run.status.value, run.reason, *self.figures)


def _goodput(figures: WindowFigures) -> float:
    """Goodput where summary.json has it; else (schema 1) rps less the failures' share."""
    if figures.goodput_rps is not None:
        return float(figures.goodput_rps)
    return float(figures.rps) * (1.0 - float(figures.error_rate))


def _kinds(figures: WindowFigures) -> str:
    kinds = sorted(figures.failures_by_kind.items(), key=lambda item: -item[1])
    named = ", ".join(f"{kind} x {count:,}" for kind, count in kinds[:KINDS_SHOWN])
    more = len(kinds) - KINDS_SHOWN
    return (named + (f" and {more} more" if more > 0 else "")) or NO_FIGURES


def _number(metric: str, value: float | None) -> str:
    return NO_FIGURES if value is None else format_value(metric, float(value))


def _figures(run: RunRecord) -> tuple[str, ...]:
    if run.summary is None:
        return (NO_FIGURES,) * len(FIGURE_HEADINGS)
    figures = run.summary.figures  # a step run's: its last step's
    return (
        _number("requests", figures.requests),
        _number("failures", figures.failures),
        _number("error_rate", figures.error_rate),
        _number("rps", _goodput(figures)),
        _number("p50_ms", figures.p50_ms),
        _number("p99_ms", figures.p99_ms),
        _kinds(figures),
    )


def left_out_runs(runs: Sequence[RunRecord]) -> list[LeftOutRun]:
    """The failed and invalid runs, in the report's run order, with their figures."""
    return [LeftOutRun(run, _figures(run)) for run in runs if run.status in MEASURED_STATUSES]


def unreadable_runs(runs: Sequence[RunRecord]) -> list[RunRecord]:
    """Runs left out for another reason: their directory could not be read."""
    return [run for run in runs if not run.usable and run.status not in MEASURED_STATUSES]


def _markdown_table(headings: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    def line(values: Sequence[str]) -> str:
        return "| " + " | ".join(value.replace("|", "\\|") for value in values) + " |"

    return [line(headings), "| " + " | ".join("---" for _ in headings) + " |", *map(line, rows)]


def left_out_markdown(runs: Sequence[RunRecord]) -> str:
    """summary.md's "Runs not in the numbers" ("" when every run was used)."""
    measured, unreadable = left_out_runs(runs), unreadable_runs(runs)
    if not measured and not unreadable:
        return ""
    lines = ["", "## Runs not in the numbers"]
    if measured:
        lines += ["", "### Failed and invalid runs", "", EXPLANATION, ""]
        lines += _markdown_table(HEADINGS, [entry.cells for entry in measured])
    if unreadable:
        lines += ["", "### Unreadable runs", ""]
        lines += _markdown_table(
            UNREADABLE_HEADINGS,
            [
                (run.run_id, str(run.setting("server") or "?"), run.status.value, run.reason)
                for run in unreadable
            ],
        )
    return "\n".join(lines) + "\n"


def _html_table(headings: Sequence[str], rows: Sequence[Sequence[str]], kind: str) -> str:
    head = "".join(f"<th>{html.escape(heading)}</th>" for heading in headings)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return (
        f'<div class="table-scroll"><table class="{kind}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def left_out_html(runs: Sequence[RunRecord], badge: dict[str, str]) -> str:
    """index.html's section; `badge` maps a run id to its rendered status badge."""
    measured, unreadable = left_out_runs(runs), unreadable_runs(runs)
    if not measured and not unreadable:
        return ""

    def link(run: RunRecord) -> str:
        run_id = html.escape(run.run_id)
        return f'<a href="#run-{run_id}">{run_id}</a>'

    parts = ['<section id="excluded"><h2>Runs not in the numbers</h2>']
    if measured:
        rows = [
            [
                link(entry.run),
                *(html.escape(cell) for cell in entry.cells[1:3]),
                badge[entry.run.run_id],
                *(html.escape(cell) for cell in entry.cells[4:]),
            ]
            for entry in measured
        ]
        parts += [
            "<h3>Failed and invalid runs</h3>",
            f'<p class="warning">{html.escape(EXPLANATION)}</p>',
            _html_table(HEADINGS, rows, "text"),
        ]
    if unreadable:
        rows = [
            [
                link(run),
                html.escape(str(run.setting("server") or "?")),
                badge[run.run_id],
                html.escape(run.reason),
            ]
            for run in unreadable
        ]
        parts += [
            "<h3>Unreadable runs</h3>",
            '<p class="warning">These run directories are incomplete or corrupt: nothing of '
            "them is in the report but what is wrong with them.</p>",
            _html_table(UNREADABLE_HEADINGS, rows, "text"),
        ]
    parts.append("</section>")
    return "".join(parts)
