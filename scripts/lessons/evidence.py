"""What the lesson's judges read: each experiment's runs, by configuration and load.

A run counts only when it is `ok` (its figures passed the error gate and the generator
check); a failed or invalid run is kept aside, named, and never silently averaged in. A
configuration is labelled the way a reader says it: `gunicorn gthread`, `gunicorn (2
workers)`, `runserver-nothreading`.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scripts.records.schema import (
    RunMeta,
    RunSummary,
    SchemaError,
    Status,
    StepSummary,
    read_meta,
    read_summary,
)
from scripts.records.schema.lesson import ProbeRecord, read_probe
from scripts.reporting.run_windows import goodput_rps
from servers.registry import SERVERS


@dataclass(frozen=True)
class LessonRun:
    """One run an experiment produced."""

    run_id: str
    meta: RunMeta
    summary: RunSummary | None

    @property
    def usable(self) -> bool:
        return self.meta.status is Status.OK and self.summary is not None

    @property
    def label(self) -> str:
        spec = SERVERS.get(self.meta.server)
        name = spec.label(self.meta.threads) if spec else self.meta.server
        if self.meta.threads is not None and self.meta.threads > 1:
            name += f" ({self.meta.threads} threads)"
        return name + (f" ({self.meta.workers} workers)" if self.meta.workers > 1 else "")

    def window(self, users: int | None = None) -> StepSummary | None:
        """The window at `users` (None: the run's only or largest)."""
        if self.summary is None:
            return None
        windows = self.summary.windows
        if users is None:
            return windows[-1] if windows else None
        return next((w for w in windows if w.users == users), None)


@dataclass(frozen=True)
class ExperimentRuns:
    """Every run of one experiment, in the order they ran."""

    key: str
    command: str
    runs: tuple[LessonRun, ...] = ()
    unreadable: tuple[str, ...] = field(default_factory=tuple)
    probe: ProbeRecord | None = None  # a probe's record instead of runs

    @property
    def failed(self) -> tuple[LessonRun, ...]:
        return tuple(run for run in self.runs if not run.usable)

    def labels(self) -> list[str]:
        """Configurations in the order they first ran."""
        return list(dict.fromkeys(run.label for run in self.runs))

    def goodput(self, label: str, users: int | None = None) -> tuple[float, ...]:
        """Goodput of every usable run of `label` (at `users`), one value per run."""
        values = []
        for run in self.runs:
            window = run.window(users) if run.usable and run.label == label else None
            rate = goodput_rps(window.figures) if window is not None else None
            if rate is not None:
                values.append(rate)
        return tuple(values)

    def users(self) -> list[int]:
        """The user counts measured (the steps of a step load)."""
        found = {w.users for run in self.runs if run.summary for w in run.summary.windows}
        return sorted(found)

    def robustness(self, label: str) -> Mapping[str, object] | None:
        """The robustness figures of `label`'s run (the first that has them)."""
        for run in self.runs:
            if run.label == label and run.summary and run.summary.robustness:
                return run.summary.robustness
        return None

    def noisy(self) -> bool:
        """Whether any window of the experiment was measured on a noisy machine."""
        return any(
            window.resources.machine_noisy
            for run in self.runs
            if run.summary
            for window in run.summary.windows
        )


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def read_experiment(key: str, command: str, run_dirs: Sequence[Path]) -> ExperimentRuns:
    """The runs of one experiment from their directories (an unreadable one is named)."""
    runs, unreadable = [], []
    for run_dir in run_dirs:
        try:
            meta = read_meta(run_dir / "meta.json")
        except (SchemaError, OSError):
            unreadable.append(run_dir.name)
            continue
        try:
            summary: RunSummary | None = read_summary(run_dir / "summary.json")
        except (SchemaError, OSError):
            summary = None
        runs.append(LessonRun(run_dir.name, meta, summary))
    return ExperimentRuns(key, command, tuple(runs), tuple(unreadable))


def read_probe_experiment(key: str, command: str, path: Path) -> ExperimentRuns:
    """A probe's record from its file (an unreadable one is named)."""
    try:
        record = read_probe(path)
    except (SchemaError, OSError):
        return ExperimentRuns(key, command, unreadable=(path.name,))
    return ExperimentRuns(key, command, probe=record)
