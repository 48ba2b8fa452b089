"""One verdict table's rows, from sides of runs: what `make report` and `make compare` share.

A side is one configuration's usable windows under a label. A table is a list of questions
(metric, baseline side, candidate side); those that cannot be asked (a p99 from too few
samples) are set aside with the reason before the engine runs, so they are neither judged
nor counted in Holm's family. Everything else goes to scripts/reporting/verdicts.py in one
call, so Holm's correction covers exactly the verdicts the table shows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scripts.records.schema import NotCompared, VerdictEntry
from scripts.reporting.run_windows import GOODPUT_METRIC, MeasuredWindow, percentile_shortfall
from scripts.reporting.verdicts import (
    METRICS,
    Comparison,
    Direction,
    Outcome,
    Variation,
    Verdict,
    coefficient_of_variation,
    headline,
    judge_table,
)


@dataclass(frozen=True)
class Side:
    """One configuration's usable windows, named as the table names it."""

    label: str
    windows: tuple[MeasuredWindow, ...]

    @property
    def run_ids(self) -> tuple[str, ...]:
        return tuple(window.run_id for window in self.windows)

    def values(self, metric: str) -> tuple[float, ...]:
        return tuple(window.value(metric) for window in self.windows)

    def geomean(self, metric: str) -> float | None:
        """The geometric mean the engine's ratio divides; None when a value is missing."""
        values = np.asarray(self.values(metric), dtype=float)
        if values.size == 0 or not bool(np.all(np.isfinite(values) & (values > 0))):
            return None
        return float(np.exp(np.log(values).mean()))

    @property
    def shared_process(self) -> bool:
        """Whether these runs measured an external target (TARGET=...): its repeats all hit
        the deployment's one server process, never a fresh one."""
        return any(window.meta.external for window in self.windows)

    def goodput_variation(self) -> Variation | None:
        values = self.values(GOODPUT_METRIC)
        if not all(math.isfinite(value) for value in values):
            return None
        return coefficient_of_variation(values)


@dataclass(frozen=True)
class Question:
    metric: str
    baseline: Side
    candidate: Side


def shared_process_caveat(sides: Sequence[Side]) -> str:
    """The caveat of a verdict over runs against an external target: the unit of evidence
    is a run with a fresh server process, and these runs shared one ("" when none did)."""
    shared = [side.label for side in sides if side.shared_process]
    if not shared:
        return ""
    return (
        f"{' and '.join(dict.fromkeys(shared))}: repeats against one external server share "
        "its process (no fresh process per run), so the runs are not independent and this "
        "verdict covers that process's run-to-run noise only"
    )


def _entry(question: Question, verdict: Verdict) -> VerdictEntry:
    return VerdictEntry(
        metric=verdict.metric,
        baseline=verdict.baseline,
        candidate=verdict.candidate,
        baseline_run_ids=question.baseline.run_ids,
        candidate_run_ids=question.candidate.run_ids,
        baseline_n=verdict.baseline_n,
        candidate_n=verdict.candidate_n,
        baseline_geomean=question.baseline.geomean(question.metric),
        candidate_geomean=question.candidate.geomean(question.metric),
        outcome=verdict.outcome.value,
        threshold=verdict.threshold,
        ratio=verdict.ratio,
        ci_low=verdict.ci_low,
        ci_high=verdict.ci_high,
        p_value=verdict.p_value,
        holm_p_value=verdict.holm_p_value,
        repetitions_to_decide=verdict.repetitions_to_decide,
        reason=verdict.reason,
        headline=headline(verdict),
        caveat=shared_process_caveat((question.baseline, question.candidate)),
    )


def judge_questions(
    questions: Sequence[Question], threshold: float, alpha: float
) -> tuple[VerdictEntry | NotCompared, ...]:
    """One answer per question, in order: its verdict, or why it was not asked. The askable
    ones are judged together, one Holm family."""
    reasons = [
        percentile_shortfall(q.metric, (*q.baseline.windows, *q.candidate.windows))
        for q in questions
    ]
    askable = [q for q, reason in zip(questions, reasons, strict=True) if not reason]
    comparisons = [
        Comparison(
            q.metric,
            q.baseline.label,
            q.baseline.values(q.metric),
            q.candidate.label,
            q.candidate.values(q.metric),
        )
        for q in askable
    ]
    verdicts = iter(judge_table(comparisons, threshold, alpha) if comparisons else ())
    answers: list[VerdictEntry | NotCompared] = []
    for question, reason in zip(questions, reasons, strict=True):
        if reason:
            answers.append(
                NotCompared(
                    metric=question.metric,
                    baseline=question.baseline.label,
                    candidate=question.candidate.label,
                    reason=reason,
                )
            )
        else:
            answers.append(_entry(question, next(verdicts)))
    return tuple(answers)


def split_answers(
    answers: Sequence[VerdictEntry | NotCompared],
) -> tuple[tuple[VerdictEntry, ...], tuple[NotCompared, ...]]:
    """The verdicts and the comparisons not made, each in order."""
    verdicts = tuple(a for a in answers if isinstance(a, VerdictEntry))
    return verdicts, tuple(a for a in answers if isinstance(a, NotCompared))


def family_size(entries: Sequence[VerdictEntry]) -> int:
    """How many p-values Holm's correction ran over (not-enough-data rows have none)."""
    return sum(1 for entry in entries if entry.p_value is not None)


def rule_text(family: int, alpha: float, threshold: float) -> str:
    """The rule a table was judged by, stated under it."""
    return (
        f"Holm over {family} comparison{'s' if family != 1 else ''}, alpha {alpha:g}, "
        f"practical threshold {threshold * 100:g} %"
    )


def slowdown_ruled_out(entry: VerdictEntry) -> bool:
    """Whether the candidate is shown not to be worse than the baseline by more than the
    threshold: faster, no detectable difference, or an inconclusive CI whose worse end
    still lies inside the threshold band (it is only undecided about being better)."""
    outcome = Outcome(entry.outcome)
    if outcome in {Outcome.FASTER, Outcome.NO_DIFFERENCE}:
        return True
    if outcome is not Outcome.INCONCLUSIVE or entry.ci_low is None or entry.ci_high is None:
        return False
    bound = math.log1p(entry.threshold)
    if METRICS[entry.metric].direction is Direction.HIGHER_IS_BETTER:
        return math.log(entry.ci_low) >= -bound
    return math.log(entry.ci_high) <= bound
