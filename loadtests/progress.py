"""What the open window has counted so far, written every second for the progress line.

Locust's history CSV reaches the harness up to 3 s late (workers report every 3 s, the CSV
is rewritten every second) and its "Requests/s" is not over the window. This file comes
from our own recording (loadtests/latency.py), so it shows the window's own figures.

window_progress.json, next to window.json (rewritten atomically, SCHEMA 1):

    {"schema": 1,
     "open": true,                  # false once the window has closed (latency.json then
                                    # holds the exact final figures)
     "window_index": 0, "users": 16,
     "window_started_at": 1700000000.1, "updated_at": 1700000003.1,   # epoch s
     "window_elapsed_s": 3.0,
     "requests": 1203,              # completed in the window so far (successes + failures)
     "successes": 1200, "failures": 3,
     "rps": 401.0,                  # requests / elapsed, summed over processes
     "goodput_rps": 400.0,          # successes / elapsed, summed over processes
     "processes_reporting": 2}      # processes whose counts are included

With several Locust processes each worker sends its counts to the master every second, so
the figures there are at most about a second old (the closed window's are rewritten exactly
once the master has every worker's histograms).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar, Final

import gevent

from loadtests.latency import WindowCounts

SCHEMA: Final = 1
FILE_NAME: Final = "window_progress.json"
INTERVAL_S: Final = 1.0


@dataclass(frozen=True)
class WindowProgress:
    """One line of progress: the sum over the processes' latest counts."""

    schema: int
    open: bool
    window_index: int
    users: int
    window_started_at: float
    updated_at: float
    window_elapsed_s: float
    requests: int
    successes: int
    failures: int
    rps: float
    goodput_rps: float
    processes_reporting: int

    @classmethod
    def summed(
        cls,
        counts: Iterable[WindowCounts],
        *,
        is_open: bool,
        index: int,
        users: int,
        started_at: float,
        now: float,
    ) -> WindowProgress:
        parts = list(counts)
        return cls(
            schema=SCHEMA,
            open=is_open,
            window_index=index,
            users=users,
            window_started_at=started_at,
            updated_at=now,
            window_elapsed_s=now - started_at,
            requests=sum(part.requests for part in parts),
            successes=sum(part.successes for part in parts),
            failures=sum(part.failures for part in parts),
            rps=sum(part.requests / part.elapsed_s for part in parts if part.elapsed_s > 0),
            goodput_rps=sum(
                part.successes / part.elapsed_s for part in parts if part.elapsed_s > 0
            ),
            processes_reporting=len(parts),
        )

    @classmethod
    def read(cls, path: Path) -> WindowProgress:
        data = json.loads(path.read_text())
        if data.get("schema") != SCHEMA:
            raise ValueError(f"{path} is not a progress file of schema {SCHEMA}")
        return cls(**data)


class ProgressWriter:
    """Rewrites the progress file every INTERVAL_S while a window is open, from whatever
    `counts` returns (one process's own counts, or the workers' latest on the master)."""

    INTERVAL_S: ClassVar[float] = INTERVAL_S

    def __init__(self, output: Path | None, counts: Callable[[float], list[WindowCounts]]) -> None:
        self.output = output
        self.counts = counts
        self._greenlet: gevent.Greenlet[Any, Any] | None = None
        self._window: tuple[int, int, float] | None = None

    def start(self, index: int, users: int, started_at: float) -> None:
        self.stop_without_writing()
        self._window = (index, users, started_at)
        self.write(is_open=True, now=started_at)
        self._greenlet = gevent.spawn(self._loop)

    def stop(self, ended_at: float, final: list[WindowCounts] | None = None) -> None:
        """The window closed at `ended_at`: write its last figures (`final` if given,
        else the latest counts)."""
        self.stop_without_writing()
        if self._window is not None:
            self.write(is_open=False, now=ended_at, counts=final)

    def stop_without_writing(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=False)
            self._greenlet = None

    def write(
        self, *, is_open: bool, now: float | None = None, counts: list[WindowCounts] | None = None
    ) -> None:
        if self.output is None or self._window is None:
            return
        index, users, started_at = self._window
        now = time.time() if now is None else now
        progress = WindowProgress.summed(
            self.counts(now) if counts is None else counts,
            is_open=is_open,
            index=index,
            users=users,
            started_at=started_at,
            now=now,
        )
        temporary = self.output.with_name(self.output.name + ".tmp")
        temporary.write_text(json.dumps(asdict(progress), indent=1))
        os.replace(temporary, self.output)

    def _loop(self) -> None:
        # a kill(block=False) can arrive after this greenlet's wake-up was already queued:
        # check that it is still the writer, or it would overwrite the final figures
        while True:
            gevent.sleep(self.INTERVAL_S)
            if self._greenlet is not gevent.getcurrent():
                return
            self.write(is_open=True)
