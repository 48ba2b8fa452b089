"""What the bench prints: a live progress line, and the closing table and SLO verdicts."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from scripts.harness.locust_runner import Progress

if TYPE_CHECKING:
    from scripts.harness.outcome import RunOutcome
    from scripts.records.schema import StepSummary


class Console:
    """Progress output: one rewritten line on a terminal, a line every 5 s otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stdout.isatty()
        self.last_line_at = 0.0

    def progress(self, label: str, total_s: float, progress: Progress) -> None:
        if progress.window_elapsed_s is None:
            where = f"{progress.phase} ({progress.elapsed_s:.0f} s)"
        else:
            where = f"measuring {min(progress.window_elapsed_s, total_s):.0f}/{total_s:.0f} s"
        line = (
            f"{label}  {where}  window goodput {progress.rps:7.1f}/s  "
            f"requests {progress.requests}  failures {progress.failures}"
        )
        if self.tty:
            sys.stdout.write("\r\033[K" + line)
            sys.stdout.flush()
        elif time.monotonic() - self.last_line_at >= 5:
            print(line, flush=True)
            self.last_line_at = time.monotonic()

    def say(self, text: str) -> None:
        if self.tty:
            sys.stdout.write("\r\033[K")
        print(text, flush=True)


def _cell(value: Any, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _table_windows(outcomes: list[RunOutcome]) -> list[tuple[RunOutcome, StepSummary | None]]:
    """One row per measured window (a run that measured nothing gets one empty row)."""
    windows: list[tuple[RunOutcome, StepSummary | None]] = []
    for outcome in outcomes:
        if outcome.summary is None:
            windows.append((outcome, None))
        else:
            windows += [(outcome, window) for window in outcome.summary.windows]
    return windows


def slo_lines(outcomes: list[RunOutcome]) -> list[str]:
    """One line per run that had an SLO: met or not, and the capacity of step runs."""
    lines = []
    for outcome in outcomes:
        slo = outcome.summary.slo if outcome.summary else None
        if not slo:
            continue
        if slo.get("first_unjudged_users") is not None:
            verdict = (
                f"not judged at {slo['first_unjudged_users']} users: too few samples in the "
                "window for a p99 (1,000 needed); use a longer STEP or DURATION"
            )
        elif slo["met_everywhere"]:
            verdict = "met"
        else:
            verdict = f"missed at {slo['first_miss_users']} users"
        capacity_text = ""
        if len(slo["steps"]) > 1:
            capacity_text = (
                f"; capacity {slo['capacity_users']} users ({slo['capacity_rps']:.0f} rps)"
                if slo["capacity_users"] is not None
                else "; no capacity: the first step already misses"
            )
        lines.append(
            f"{outcome.server}: SLO p99 <= {slo['slo_p99_ms']:g} ms and errors < 1 %: "
            f"{verdict}{capacity_text}"
        )
    return lines


def _ms_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} ms"


def open_model_lines(outcomes: list[RunOutcome]) -> list[str]:
    """One line per window of an ARRIVAL_RATE run: kept up or not (a result, not a failure),
    and both latencies, since the table's are the uncorrected ones."""
    lines = []
    for outcome, window in _table_windows(outcomes):
        figures = window.arrival if window else None
        if figures is None:
            continue
        lines.append(
            f"{outcome.server}: open model, {figures.verdict} (achieved "
            f"{figures.achieved_rps:.1f} rps with {figures.max_in_flight} in flight, "
            f"{figures.not_sent} not sent); p50 corrected {_ms_text(figures.corrected.p50_ms)}, "
            f"uncorrected {_ms_text(figures.uncorrected.p50_ms)}; max corrected "
            f"{_ms_text(figures.corrected.max_ms)}, uncorrected "
            f"{_ms_text(figures.uncorrected.max_ms)}"
        )
    return lines


def summary_table(outcomes: list[RunOutcome]) -> str:
    """The closing table: one row per run (per step for a step load), and the SLO verdict
    where one was asked for."""
    header = (
        "server",
        "users",
        "status",
        "requests",
        "failures",
        "rps",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "logins+warm-up s",
        "overhead s",
    )
    rows = [header]
    for outcome, window in _table_windows(outcomes):
        figures = window.figures if window else None
        rows.append(
            (
                outcome.server,
                str(window.users) if window else "-",
                outcome.status.value,
                _cell(figures.requests if figures else None),
                _cell(figures.failures if figures else None),
                _cell(figures.rps if figures else None, 1),
                _cell(figures.p50_ms if figures else None),
                _cell(figures.p95_ms if figures else None),
                _cell(figures.p99_ms if figures else None),
                _cell(outcome.logins_warmup_s, 1),
                _cell(outcome.overhead_s, 1),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.rjust(width) if i > 1 else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
