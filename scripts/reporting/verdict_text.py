"""A verdict as table cells of plain text: the same words on the page, in the console and in
compare.html, so no output can round "inconclusive" to something kinder than the others.

Changes are signed percentages of candidate / baseline (geometric means); the CI is the
engine's 95 % interval of that ratio; p-values are shown raw and after Holm's correction.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from scripts.records.schema import VerdictEntry
from scripts.reporting.run_windows import GOODPUT_METRIC, METRIC_HEADINGS
from scripts.reporting.verdicts import MAX_REPETITIONS_ESTIMATE, NOISY_CV, Outcome

# Headings of verdict_cells, in order.
VERDICT_COLUMNS: Final = (
    "metric",
    "baseline",
    "candidate",
    "change",
    "95 % CI",
    "p",
    "p (Holm)",
    "verdict",
)
# One word per outcome for CSS classes and compact output.
OUTCOME_CLASSES: Final[Mapping[str, str]] = MappingProxyType(
    {
        Outcome.FASTER.value: "faster",
        Outcome.SLOWER.value: "slower",
        Outcome.NO_DIFFERENCE.value: "same",
        Outcome.INCONCLUSIVE.value: "inconclusive",
        Outcome.NOT_ENOUGH_DATA.value: "nodata",
    }
)


def figure(metric: str, value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.1f}" if metric == GOODPUT_METRIC else f"{value:,.2f}"


def change(ratio: float | None) -> str:
    """1.17 -> "+17 %", 0.912 -> "-8.8 %": two significant figures below 10 %."""
    if ratio is None:
        return "-"
    percent = (ratio - 1) * 100
    text = f"{abs(percent):.0f}" if abs(percent) >= 10 else f"{abs(percent):.2g}"
    return ("-" if percent < 0 else "+") + text + " %"


def interval(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return "-"
    return f"{change(low)} to {change(high)}"


def p_text(p_value: float | None) -> str:
    if p_value is None:
        return "-"
    return "<0.001" if p_value < 0.001 else f"{p_value:.3f}"


def verdict_detail(entry: VerdictEntry) -> str:
    """What would settle an inconclusive verdict, or why data is missing, and the
    verdict's caveat (a shared external server process) ("" when none of these)."""
    return "; ".join(filter(None, [_outcome_detail(entry), entry.caveat]))


def _outcome_detail(entry: VerdictEntry) -> str:
    if entry.outcome == Outcome.INCONCLUSIVE.value:
        needed = entry.repetitions_to_decide
        if needed is None:
            return f"more than {MAX_REPETITIONS_ESTIMATE:,} runs each would decide"
        return f"about {needed:,} runs each would decide"
    if entry.outcome == Outcome.NOT_ENOUGH_DATA.value:
        return entry.reason
    return ""


def verdict_word(entry: VerdictEntry) -> str:
    """The outcome with its detail, as one phrase (the caveat, said once per configuration
    under a console table, is left out)."""
    detail = _outcome_detail(entry)
    return f"{entry.outcome} ({detail})" if detail else entry.outcome


def verdict_cells(entry: VerdictEntry) -> list[str]:
    """The cells under VERDICT_COLUMNS; baseline and candidate are geometric means with the
    run count; the last cell is the outcome alone (verdict_detail has the rest)."""
    return [
        METRIC_HEADINGS.get(entry.metric, entry.metric),
        f"{figure(entry.metric, entry.baseline_geomean)} ({entry.baseline_n})",
        f"{figure(entry.metric, entry.candidate_geomean)} ({entry.candidate_n})",
        change(entry.ratio),
        interval(entry.ci_low, entry.ci_high),
        p_text(entry.p_value),
        p_text(entry.holm_p_value),
        entry.outcome,
    ]


def noise_warning(named_cvs: Mapping[str, float | None]) -> str:
    """The warning beside a verdict whose sides' goodput CV is above the limit, e.g.
    "gunicorn 42 %" ("" when neither side's is)."""
    noisy = [
        f"{name} {cv * 100:.0f} %"
        for name, cv in named_cvs.items()
        if cv is not None and cv > NOISY_CV
    ]
    return ", ".join(noisy)
