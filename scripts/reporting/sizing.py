"""How many workers: for each server measured at several worker counts, the smallest count
that serves nearly as much as the best one.

A sweep (`WORKERS=1,2,4`) is one configuration per count; the answer compares them inside one
comparison group (scenario, users, window, load shape), one thread count and one profile
(the deployment: a production sweep is never mixed with a dev one), on goodput: the
requests per second that succeeded. The rule is the median one, "within 5 % of the best
count's median", and says so: with one run per count it is all the data allows. When every
count has repeats, the verdict engine (scripts/reporting/verdicts.py: Welch on logs, Holm)
answers the same question with confidence, and both answers are shown. Memory per worker and
time to ready stand beside each count, because the cheaper count is the answer only if it is
also the one that starts and fits.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from statistics import median
from typing import Any, Final

import pandas as pd

from scripts.reporting.load import LoadedResults
from scripts.reporting.profiles import DEV_PROFILE, profile_rank, several_profiles, with_profile
from scripts.reporting.tables import Group, aggregate_rows, format_value, server_rank
from scripts.reporting.verdicts import (
    DEFAULT_THRESHOLD,
    MIN_REPETITIONS,
    Comparison,
    Outcome,
    Verdict,
    headline,
    judge_table,
)
from servers.registry import SERVERS

GOODPUT: Final = "goodput_rps"
# Outcomes that make a smaller count "enough": not detectably worse than the best.
ENOUGH: Final = frozenset({Outcome.NO_DIFFERENCE, Outcome.FASTER})
HEADINGS: Final = (
    "workers",
    "runs",
    "goodput rps (median)",
    "vs best",
    "peak RSS MB",
    "RSS per worker MB",
    "ready s",
)
EXPLANATION: Final = (
    "For each server measured at several worker counts (same scenario, users, window, load "
    "shape and threads): the smallest count whose median goodput (requests per second that "
    "succeeded) is within {pct:g} % of the best count's median. That is a median comparison, "
    "not a test; when every count was repeated, the verdict engine's answer (Welch's test on "
    "the logs of the runs' goodput, Holm-corrected, 95 % CI, the same {pct:g} % threshold) "
    "follows it. Peak RSS is the sum over the server's processes (its master included, pages "
    "shared after fork counted in each), per worker that sum divided by the workers; ready "
    "is the time from launch to the first 200 on /healthz."
)


@dataclass(frozen=True)
class CountFigures:
    """One worker count of a sweep: medians over its runs (NaN where nothing was measured)."""

    workers: int
    goodput_values: tuple[float, ...]
    rss_peak_mb: float
    ready_s: float

    @property
    def runs(self) -> int:
        return len(self.goodput_values)

    @property
    def goodput_rps(self) -> float:
        return float(median(self.goodput_values))

    @property
    def rss_per_worker_mb(self) -> float:
        return self.rss_peak_mb / self.workers


@dataclass(frozen=True)
class SizingAnswer:
    """The answer for one server in one comparison group at one thread count."""

    group: Group
    server: str
    threads: int | None
    counts: tuple[CountFigures, ...]  # in increasing worker count
    threshold: float
    # (workers, its verdict against the best count), when every count was repeated
    verdicts: tuple[tuple[int, Verdict], ...] = ()
    profile: str = DEV_PROFILE
    profiles_shown: bool = False  # the report holds several profiles: name this one

    @property
    def label(self) -> str:
        spec = SERVERS.get(self.server)
        name = spec.label(self.threads) if spec else self.server
        name += "" if self.threads is None else f", {self.threads} thread(s)"
        return with_profile(name, self.profile, self.profiles_shown)

    @property
    def best(self) -> CountFigures:
        return max(self.counts, key=lambda count: count.goodput_rps)

    @property
    def enough(self) -> CountFigures:
        """The smallest count whose median goodput is within the threshold of the best's."""
        floor = self.best.goodput_rps * (1 - self.threshold)
        return next(count for count in self.counts if count.goodput_rps >= floor)

    @property
    def enough_with_confidence(self) -> CountFigures | None:
        """The smallest count the verdicts find not detectably worse than the best; None
        without verdicts (some count was measured once)."""
        if not self.verdicts:
            return None
        judged = {workers: verdict.outcome for workers, verdict in self.verdicts}
        return next(
            count
            for count in self.counts
            if count is self.best or judged.get(count.workers) in ENOUGH
        )


def per_run_rows(results: LoadedResults) -> pd.DataFrame:
    """Each usable run's Aggregated row per measured window, with `goodput_rps` (summary's
    goodput where the run has one, else rps x (1 - error rate)) and `ready_s` (meta.json's
    start phase: launch to ready)."""
    rows = aggregate_rows(results.stats)
    if rows.empty:
        return rows.assign(**{GOODPUT: [], "ready_s": []})
    ready = {
        run.run_id: run.meta.timings_s.get("start", math.nan)
        for run in results.usable_runs
        if run.meta is not None
    }
    counted = rows["rps"] * (1 - rows["error_rate"])
    goodput = rows[GOODPUT].fillna(counted) if GOODPUT in rows.columns else counted
    return rows.assign(**{GOODPUT: goodput, "ready_s": rows["run_id"].map(ready)})


def _median(values: Any) -> float:
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    return float(numbers.median()) if len(numbers) else math.nan


def _threads(value: Any) -> int | None:
    return None if pd.isna(value) else int(value)


def sizing_answers(
    per_run: pd.DataFrame, threshold: float = DEFAULT_THRESHOLD
) -> list[SizingAnswer]:
    """One answer per (comparison group, server, threads, profile) measured at two or more
    worker counts, in the report's order (group, then interface and registry order)."""
    keyed: dict[tuple[Group, str, int | None, str], list[Any]] = {}
    for index, row in per_run.iterrows():
        key = (Group.of(row), str(row["server"]), _threads(row["threads"]), str(row["profile"]))
        keyed.setdefault(key, []).append(index)
    shown = several_profiles(per_run["profile"]) if "profile" in per_run else False
    answers = []
    for (group, server, threads, profile), indexes in keyed.items():
        rows = per_run.loc[indexes]
        by_workers: dict[int, pd.DataFrame] = {
            int(str(workers)): runs for workers, runs in rows.groupby("workers")
        }
        if len(by_workers) < 2:
            continue
        counts = tuple(
            CountFigures(
                workers=workers,
                goodput_values=tuple(float(v) for v in runs[GOODPUT]),
                rss_peak_mb=_median(runs["server_rss_peak_mb"]),
                ready_s=_median(runs["ready_s"]),
            )
            for workers, runs in sorted(by_workers.items())
        )
        answer = SizingAnswer(
            group, server, threads, counts, threshold, profile=profile, profiles_shown=shown
        )
        answers.append(_with_verdicts(answer))
    answers.sort(
        key=lambda a: (
            a.group.label,
            server_rank(a.server),
            profile_rank(a.profile),
            a.threads or 0,
        )
    )
    return answers


def _with_verdicts(answer: SizingAnswer) -> SizingAnswer:
    """The answer with every other count judged against the best, when each was repeated."""
    if any(count.runs < MIN_REPETITIONS for count in answer.counts):
        return answer
    best = answer.best
    others = [count for count in answer.counts if count is not best]
    comparisons = [
        Comparison(
            GOODPUT,
            f"{best.workers} workers",
            best.goodput_values,
            f"{count.workers} workers",
            count.goodput_values,
        )
        for count in others
    ]
    verdicts = judge_table(comparisons, threshold=answer.threshold)
    judged = tuple(
        (count.workers, verdict) for count, verdict in zip(others, verdicts, strict=True)
    )
    return replace(answer, verdicts=judged)


def _figure(value: float, digits: int = 1) -> str:
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


def _rows(answer: SizingAnswer) -> list[list[str]]:
    best = answer.best.goodput_rps
    return [
        [
            str(count.workers) + (" (best)" if count is answer.best else ""),
            str(count.runs),
            format_value("rps", count.goodput_rps),
            f"{(count.goodput_rps / best - 1) * 100:+.1f} %" if best else "-",
            _figure(count.rss_peak_mb),
            _figure(count.rss_per_worker_mb),
            _figure(count.ready_s, 2),
        ]
        for count in answer.counts
    ]


def answer_sentence(answer: SizingAnswer) -> str:
    """The answer in one sentence, and the confident one when there are verdicts."""
    enough, best = answer.enough, answer.best
    pct = f"{answer.threshold * 100:g} %"
    text = (
        f"{enough.workers} worker(s): the smallest count whose median goodput "
        f"({format_value('rps', enough.goodput_rps)} rps) is within {pct} of the best, "
        f"{best.workers} worker(s) ({format_value('rps', best.goodput_rps)} rps)."
        if enough is not best
        else f"{best.workers} worker(s): the best median goodput "
        f"({format_value('rps', best.goodput_rps)} rps), and no smaller count within {pct}."
    )
    confident = answer.enough_with_confidence
    if confident is None:
        return text + (
            " Some count ran once: a median comparison only; REPEATS=3 or more gives a "
            "verdict with confidence."
        )
    return text + (
        f" With confidence: {confident.workers} worker(s), the smallest not detectably worse "
        f"than {best.workers} (the verdicts follow)."
    )


def sizing_markdown(answers: Sequence[SizingAnswer]) -> str:
    """The "How many workers" section of summary.md ("" when no sweep was measured)."""
    if not answers:
        return ""
    pct = answers[0].threshold * 100
    lines = ["", "## How many workers", "", EXPLANATION.format(pct=pct)]
    for answer in answers:
        lines += ["", f"### {answer.label} · {answer.group.label}", "", answer_sentence(answer)]
        lines += ["", "| " + " | ".join(HEADINGS) + " |", "|" + "---:|" * len(HEADINGS)]
        lines += ["| " + " | ".join(row) + " |" for row in _rows(answer)]
        if answer.verdicts:
            lines += [""] + [f"- {headline(verdict)}" for _, verdict in answer.verdicts]
    return "\n".join(lines) + "\n"


def sizing_html(answers: Sequence[SizingAnswer]) -> str:
    """The "How many workers" section of index.html ("" when no sweep was measured)."""
    if not answers:
        return ""
    pct = answers[0].threshold * 100
    parts = [
        '<section id="sizing"><h2>How many workers</h2>',
        f"<p>{html.escape(EXPLANATION.format(pct=pct))}</p>",
    ]
    head = "".join(f"<th>{html.escape(heading)}</th>" for heading in HEADINGS)
    for answer in answers:
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
            for row in _rows(answer)
        )
        parts += [
            f"<h3>{html.escape(answer.label)} · {html.escape(answer.group.label)}</h3>",
            f"<p><strong>{html.escape(answer_sentence(answer))}</strong></p>",
            f'<div class="table-scroll"><table class="numbers"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>",
        ]
        if answer.verdicts:
            items = "".join(f"<li>{html.escape(headline(v))}</li>" for _, v in answer.verdicts)
            parts.append(f'<ul class="notes">{items}</ul>')
    parts.append("</section>")
    return "\n".join(parts)
