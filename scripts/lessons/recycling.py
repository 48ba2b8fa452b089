"""Section 7's worker recycling read into a table and a sentence.

Each run loads one server set to replace a worker after MAX_REQUESTS requests; the harness
counts the worker processes that began answering inside the window (`worker_restarts`,
from the app's own per-process request counts) and Locust counts what failed. A server
whose workers were never replaced inside the window says nothing about recycling, and the
sentence says so instead of calling it clean.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scripts.lessons.evidence import ExperimentRuns
from scripts.lessons.findings import Fact, Figure, Table
from servers.registry import SERVERS


@dataclass(frozen=True)
class RecyclingReading:
    table: Table | None
    sentence: str
    caveats: tuple[str, ...]
    facts: Mapping[str, Fact]


def _kinds(failures: Mapping[str, int]) -> str:
    return ", ".join(f"{kind} x {count}" for kind, count in sorted(failures.items())) or "-"


def read_recycling(recycling: ExperimentRuns | None, others: Sequence[str]) -> RecyclingReading:
    """The recycling runs; `others` are the section's other servers, named when they have
    no recycling setting at all."""
    if recycling is None:
        return RecyclingReading(None, "", ("worker recycling was not measured",), {})
    rows: list[Figure] = []
    clean: list[str] = []
    failing: list[str] = []
    unseen: list[str] = []
    parts: list[str] = []
    after: int | None = None
    for run in recycling.runs:
        summary = run.summary
        if summary is None:
            continue
        after = run.meta.max_requests or after
        figures = summary.figures
        restarts = summary.worker_restarts
        rows.append(
            Figure(
                run.label,
                {
                    "max requests per worker": str(run.meta.max_requests or "-"),
                    "workers replaced in the window": "-" if restarts is None else str(restarts),
                    "requests": f"{figures.requests:,}",
                    "failed": f"{figures.failures:,}",
                    "failures": _kinds(figures.failures_by_kind),
                    "goodput rps": f"{figures.goodput_rps or 0:,.1f}",
                },
            )
        )
        if not restarts:
            unseen.append(run.label)
            continue
        (clean if figures.failures == 0 else failing).append(run.label)
        parts.append(
            f"{run.label} replaced {restarts} workers and failed {figures.failures:,} of "
            f"{figures.requests:,} requests"
        )
    facts: dict[str, Fact] = {"recycled_cleanly": tuple(clean), "recycled_failing": tuple(failing)}
    caveats = tuple(
        f"{label}: no worker was replaced inside the window, so its recycling was not observed"
        for label in unseen
    )
    if not parts:
        return RecyclingReading(
            _table(rows), "no server replaced a worker inside the window", caveats, facts
        )
    sentence = f"Replacing each worker after {after} requests under steady load, " + "; ".join(
        parts
    )
    lacking = sorted(
        {name for name in others if (spec := SERVERS.get(name)) and not spec.recycle_argv}
    )
    if lacking:
        sentence += f" ({', '.join(lacking)} has no such setting)"
    if clean and not failing:
        sentence += (
            ": a worker finishes its request before it is replaced, and the other workers "
            "keep serving from the shared listening socket meanwhile"
        )
    return RecyclingReading(_table(rows), sentence, caveats, facts)


def _table(rows: Sequence[Figure]) -> Table | None:
    if not rows:
        return None
    return Table("Worker recycling under load (max-requests)", "server", tuple(rows))
