"""Each run's measured windows as the verdicts see them: one figure per run, window and metric.

The unit of evidence is one repetition with a fresh server process (issue 18), so verdicts
work on one value per run, never on requests pooled across runs. The values come from
summary.json, where the harness writes its own figures of the window: goodput (its
`goodput_rps` where the run has one, else `rps`, the same quantity under its older name)
and the p50 and p99 latency. A constant load has one window per run; a step load one per
step, each in the comparison group of its own user count, as in the summary tables.

A percentile is only a figure when the window held enough samples for it: the rule of
loadtests/latency.py (q needs 10 / (1 - q) samples: p50 20, p99 1,000). A run below it has
no p99 to compare, and the comparison says so instead of comparing noise.

Runs that failed, were invalid or whose summary cannot be read still have a window here
(`usable` False, no values), placed by meta.json: a configuration whose runs all failed is
then "not enough data", not silently absent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from loadtests.latency import min_samples, percentile_label
from scripts.records.schema import RunMeta, StepSummary, WindowFigures
from scripts.reporting.load import RunRecord
from scripts.reporting.profiles import DEV_PROFILE, profile_rank, with_profile
from scripts.reporting.tables import Group, server_rank

GOODPUT_METRIC: Final = "goodput_rps"
# Latency metric -> the percentile it is, for the sample rule.
LATENCY_QUANTILES: Final[Mapping[str, float]] = MappingProxyType({"p50_ms": 0.5, "p99_ms": 0.99})
VERDICT_METRICS: Final = (GOODPUT_METRIC, *LATENCY_QUANTILES)
# How each metric is named in tables.
METRIC_HEADINGS: Final[Mapping[str, str]] = MappingProxyType(
    {GOODPUT_METRIC: "goodput rps", "p50_ms": "p50 ms", "p99_ms": "p99 ms"}
)


@dataclass(frozen=True, order=True)
class Configuration:
    """What makes a server's numbers what they are, within one comparison group: the server,
    its workers and threads, and the deployment around it (meta.json's profile: runs of
    different profiles are different configurations, never pooled)."""

    server: str
    workers: int
    threads: int | None
    profile: str = DEV_PROFILE

    @property
    def order(self) -> tuple[tuple[int, int, str], tuple[int, str], int, int]:
        """Registry order of servers (the bench's), then profile, workers and threads (the
        summary tables' order)."""
        return (
            server_rank(self.server),
            profile_rank(self.profile),
            self.workers,
            -1 if self.threads is None else self.threads,
        )

    def label(self, ambiguous: bool, profiles_shown: bool = False) -> str:
        """The server's name, with workers and threads when the same server appears with
        several settings, and the profile when the runs hold several (the summary tables'
        labels: `gunicorn 3w · production`)."""
        name = self.server
        if ambiguous:
            threads = "" if self.threads is None else f"x{self.threads}t"
            name = f"{self.server} {self.workers}w{threads}"
        return with_profile(name, self.profile, profiles_shown)


@dataclass(frozen=True)
class MeasuredWindow:
    """One measured window of one run: where it belongs and its per-run figures."""

    run_id: str
    meta: RunMeta
    group: Group
    configuration: Configuration
    usable: bool
    values: Mapping[str, float | None] = field(default_factory=dict)
    latency_samples: int = 0
    machine_noisy: bool = False

    @property
    def bench_id(self) -> str:
        return self.meta.bench_id

    def value(self, metric: str) -> float:
        """The figure, NaN where the run has none (the engine then says why)."""
        found = self.values.get(metric)
        return math.nan if found is None else found


def goodput_rps(figures: WindowFigures) -> float | None:
    """Successful responses per second over the window: `goodput_rps` where summary.json
    has it (issue 16 names it so), else `rps`, which is what older runs call it."""
    for value in (getattr(figures, GOODPUT_METRIC, None), figures.rps):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def latency_samples(figures: WindowFigures) -> int:
    """How many samples the window's percentiles were taken from: summary.json's requests,
    every response of the window (what Locust's percentiles count)."""
    return int(figures.requests)


def _values(figures: WindowFigures) -> dict[str, float | None]:
    return {
        GOODPUT_METRIC: goodput_rps(figures),
        **{metric: getattr(figures, metric) for metric in LATENCY_QUANTILES},
    }


def _configuration(meta: RunMeta) -> Configuration:
    return Configuration(meta.server, int(meta.workers), meta.threads, meta.profile or DEV_PROFILE)


def _step_group(meta: RunMeta, step: StepSummary) -> Group:
    return Group(meta.scenario, step.users, float(meta.duration_s), meta.shape)


def measured_windows(runs: Sequence[RunRecord]) -> list[MeasuredWindow]:
    """Every window of every run whose meta.json can be read (a run without it cannot be
    placed in any group), usable or not."""
    windows: list[MeasuredWindow] = []
    for run in runs:
        meta = run.meta
        if meta is None:
            continue
        configuration = _configuration(meta)
        if not (run.usable and run.summary is not None):
            windows.append(
                MeasuredWindow(run.run_id, meta, Group.of_run(meta), configuration, usable=False)
            )
            continue
        for step in run.summary.windows:
            windows.append(
                MeasuredWindow(
                    run.run_id,
                    meta,
                    _step_group(meta, step),
                    configuration,
                    usable=True,
                    values=_values(step.figures),
                    latency_samples=latency_samples(step.figures),
                    machine_noisy=step.resources.machine_noisy,
                )
            )
    return windows


def percentile_shortfall(metric: str, windows: Sequence[MeasuredWindow]) -> str:
    """Why `metric` cannot be compared over these windows ("" when it can): a percentile
    needs enough samples in every run's window."""
    quantile = LATENCY_QUANTILES.get(metric)
    if quantile is None:
        return ""
    needed = min_samples(quantile)
    runs = {window.run_id: window for window in windows}  # a run may stand on both sides
    short = [window for window in runs.values() if window.latency_samples < needed]
    if not short:
        return ""
    fewest = min(short, key=lambda window: window.latency_samples)
    return (
        f"{percentile_label(quantile)} needs {needed:,} samples in each run's window "
        f"(loadtests/latency.py); {len(short)} of {len(runs)} runs have fewer "
        f"({fewest.run_id}: {fewest.latency_samples:,})"
    )
