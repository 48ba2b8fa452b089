"""Locust's own statistics files made final the moment the load stops, without waiting.

Locust's CSV writer rewrites locust_stats.csv, locust_failures.csv and
locust_exceptions.csv once a second, and a master holds only what its workers reported,
which they do every WORKER_REPORT_INTERVAL (3 s). Waiting out those intervals after the
last window made every run 1.5 s longer, and every distributed run 4.5 s longer (3.5 s
more per step of a step load). Instead:

- `write_final_files` writes the three files in Locust's own format (locust.stats.StatsCSV)
  right away. Locust's writer may rewrite them once more before it is stopped; with the
  users stopped, its figures are the same.
- A master first asks every worker to report now (`WorkerFlush`, message "bench_flush");
  each worker sends its statistics, then "bench_flush_done" (`answer_flushes`). Messages
  from one worker arrive in order, so once every worker has acknowledged, the master
  holds every response they counted. The wait is bounded: a worker that never answers
  costs FLUSH_TIMEOUT_S, no more.

Locust's CSVs are kept for reference; the harness's own figures come from latency.json.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Final

from gevent.event import Event

if TYPE_CHECKING:  # importing locust monkey-patches the process: keep it out of unit tests
    from locust.env import Environment
    from locust.runners import MasterRunner, WorkerRunner

FLUSH: Final = "bench_flush"
FLUSH_DONE: Final = "bench_flush_done"
FLUSH_TIMEOUT_S: Final = 5.0


def write_final_files(environment: Environment, csv_prefix: str | None) -> None:
    """locust_stats.csv, locust_failures.csv and locust_exceptions.csv (for the prefix
    Locust was given with --csv) with the figures Locust holds now; nothing without one."""
    if not csv_prefix:
        return
    from locust.stats import PERCENTILES_TO_REPORT, StatsCSV

    tables = StatsCSV(environment, PERCENTILES_TO_REPORT)
    for suffix, write in (
        ("_stats.csv", tables.requests_csv),
        ("_failures.csv", tables.failures_csv),
        ("_exceptions.csv", tables.exceptions_csv),
    ):
        with Path(csv_prefix + suffix).open("w", newline="") as handle:
            write(csv.writer(handle))


class WorkerFlush:
    """The master's side: ask every live worker for its statistics and wait (bounded) until
    each has sent them. The workers are named by `workers` (the roster's client ids), not
    taken from Locust's list of clients: a worker that acknowledged the stop is removed
    from that list, though it is still connected and still holds unreported figures."""

    def __init__(
        self,
        runner: MasterRunner,
        workers: Callable[[], list[str]],
        timeout_s: float = FLUSH_TIMEOUT_S,
    ) -> None:
        self.runner = runner
        self.workers = workers
        self.timeout_s = timeout_s
        self.pending = 0
        self.done = Event()
        runner.register_message(FLUSH_DONE, lambda msg, **_: self._acknowledge())

    def _acknowledge(self) -> None:
        self.pending -= 1
        if self.pending <= 0:
            self.done.set()

    def run(self) -> bool:
        """True when every worker answered within the timeout."""
        client_ids = self.workers()
        self.pending = len(client_ids)
        if self.pending <= 0:
            return True
        self.done.clear()
        for client_id in client_ids:
            self.runner.send_message(FLUSH, {}, client_id=client_id)
        return bool(self.done.wait(timeout=self.timeout_s))


def answer_flushes(runner: WorkerRunner) -> None:
    """The worker's side: on "bench_flush", report now, then acknowledge. `_send_stats` is
    what Locust's own periodic reporter and its quit call (locust.runners.WorkerRunner)."""

    def flush() -> None:
        runner._send_stats()
        runner.send_message(FLUSH_DONE, {})

    runner.register_message(FLUSH, lambda msg, **_: flush())
