"""The Locust workers of a distributed run, as meta.json and summary.json record them.

meta.json's `locust_workers` says who generated the load (Locust's index, host, pid,
commit; when one was lost, the moment), and `load_workers` how the master was set up
(local and remote counts, bind address, port, how long it waited); summary.json's
`loadgen_workers` says how busy each worker was over the measured windows (its own CPU
and event-loop lag, sent to the master: a remote worker cannot be sampled from here) and
whether that makes it saturated. Older files have none of these keys and read as empty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from scripts.records.schema.base import SchemaError, build


@dataclass(frozen=True)
class LocustWorker:
    """One worker process and how its part of the run went."""

    index: int
    host: str
    pid: int
    commit: str
    lost_at: float | None = None  # epoch s when the master saw it go; None: stayed
    cpu_pct: float | None = None  # its busiest window, % of one core
    loop_lag_mean_ms: float | None = None  # its worst window's mean lag
    loop_lag_p95_ms: float | None = None
    loop_lag_max_ms: float | None = None
    windows_reported: int = 0  # windows whose figures it sent
    saturated: str = ""  # why it looks saturated ("" when it does not)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LocustWorker:
        return build(cls, data, "a Locust worker")


def workers_to_json(workers: Sequence[LocustWorker]) -> list[dict[str, Any]]:
    return [worker.to_json() for worker in workers]


def workers_from_json(data: Any) -> tuple[LocustWorker, ...]:
    """Workers from a file (absent in files written before distributed runs: none)."""
    if data is None:
        return ()
    if not isinstance(data, list):
        raise SchemaError("the Locust workers are not a list")
    return tuple(LocustWorker.from_json(entry) for entry in data)
