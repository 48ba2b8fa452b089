"""The latency recording in each kind of Locust process, and how it reaches one file.

- Alone (one Locust process): `LocalLatency` arms its recorder at each window's start,
  disarms it at the end, and writes latency.json once the users have stopped.
- Several processes (`--processes N`: a master and N workers; the master runs no users):
  the master's `MasterLatency` tells every worker to arm ("bench_latency_open") and to disarm
  ("bench_latency_close"); each worker's `WorkerLatency` answers the close with its encoded
  histograms ("bench_latency_window"). Once the users have stopped, the master waits (at most
  COLLECT_TIMEOUT_S) for every worker that was running at the window's start, merges exactly
  and writes the file, recording how many processes reported.

While a window is open each worker also sends its counts every second
("bench_latency_progress") so the master's progress file (loadtests/progress.py) stays
current; at the close it shows the workers' latest counts, rewritten with the exact merged
ones once the histograms have arrived. Messages between the master and one worker arrive
in order, so a worker always hears "close" before the "stop" that ends its users.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import gevent
from gevent.event import Event

from loadtests import latency
from loadtests.latency import LatencyRecorder, WindowCounts, WindowLatency
from loadtests.progress import INTERVAL_S, ProgressWriter

OPEN = "bench_latency_open"
CLOSE = "bench_latency_close"
WINDOW = "bench_latency_window"
PROGRESS = "bench_latency_progress"

if TYPE_CHECKING:  # importing locust monkey-patches the process: keep it out of unit tests
    from locust.env import Environment
    from locust.runners import MasterRunner, WorkerRunner


def _counts_of(window: WindowLatency) -> list[WindowCounts]:
    return [WindowCounts(span.successes, span.failures, span.window_s) for span in window.processes]


class LocalLatency:
    """The window observer of a single Locust process: records its own responses."""

    def __init__(self, environment: Environment, output: Path | None, progress: Path | None):
        self.recorder = LatencyRecorder("local")
        environment.events.request.add_listener(self.recorder.on_request)  # type: ignore[no-untyped-call]
        self.output = output
        self.closed: list[WindowLatency] = []
        self.progress = ProgressWriter(progress, self._live_counts)

    def _live_counts(self, now: float) -> list[WindowCounts]:
        counts = self.recorder.counts(now)
        return [] if counts is None else [counts]

    def window_opened(self, index: int, users: int, started_at: float) -> None:
        self.recorder.arm(index, users, started_at)
        self.progress.start(index, users, started_at)

    def window_closed(self, index: int, ended_at: float) -> None:
        window = self.recorder.disarm(ended_at)
        self.closed.append(window)
        self.progress.stop(ended_at, _counts_of(window))

    def load_stopped(self) -> None:
        if self.output is not None:
            latency.write(self.output, self.closed)


class WorkerLatency:
    """A worker's side: arm and disarm on the master's word, send histograms and counts."""

    def __init__(self, environment: Environment, runner: WorkerRunner) -> None:
        self.runner = runner
        self.recorder = LatencyRecorder(f"worker {runner.worker_index}")
        environment.events.request.add_listener(self.recorder.on_request)  # type: ignore[no-untyped-call]
        self._sender: gevent.Greenlet[Any, Any] | None = None
        runner.register_message(OPEN, lambda msg, **_: self.open(msg.data))
        runner.register_message(CLOSE, lambda msg, **_: self.close())

    def open(self, data: dict[str, Any]) -> None:
        self.recorder.arm(int(data["index"]), int(data["users"]), time.time())
        self._sender = gevent.spawn(self._send_counts, int(data["index"]))

    def close(self) -> None:
        now = time.time()
        if self._sender is not None:
            self._sender.kill(block=False)
            self._sender = None
        if self.recorder.armed:
            self.runner.send_message(WINDOW, self.recorder.disarm(now).to_json())

    def _send_counts(self, index: int) -> None:
        while True:
            gevent.sleep(INTERVAL_S)
            if self._sender is not gevent.getcurrent():
                return  # killed while its wake-up was already queued (see ProgressWriter)
            counts = self.recorder.counts(time.time())
            if counts is not None:
                self.runner.send_message(
                    PROGRESS,
                    {
                        "index": index,
                        "successes": counts.successes,
                        "failures": counts.failures,
                        "elapsed_s": counts.elapsed_s,
                    },
                )


class MasterLatency:
    """The master's side: open and close every worker's window, merge what they send."""

    COLLECT_TIMEOUT_S: ClassVar[float] = 10.0

    def __init__(self, runner: MasterRunner, output: Path | None, progress: Path | None):
        self.runner = runner
        self.output = output
        self.progress = ProgressWriter(progress, self._live_counts)
        self.opened: dict[int, tuple[int, float, int]] = {}  # index -> users, start, workers
        self.ended: dict[int, float] = {}
        self.received: dict[int, list[WindowLatency]] = {}
        self.live: dict[str, WindowCounts] = {}
        self._arrived = Event()
        runner.register_message(WINDOW, lambda msg, **_: self._receive(msg.data))
        runner.register_message(PROGRESS, lambda msg, **_: self._live(msg.node_id, msg.data))

    def window_opened(self, index: int, users: int, started_at: float) -> None:
        self.opened[index] = (users, started_at, self.runner.worker_count)
        self.received[index] = []
        self.live.clear()
        self.runner.send_message(OPEN, {"index": index, "users": users})
        self.progress.start(index, users, started_at)

    def window_closed(self, index: int, ended_at: float) -> None:
        self.runner.send_message(CLOSE, {"index": index})
        self.ended[index] = ended_at
        self.progress.stop(ended_at)

    def load_stopped(self) -> None:
        """Wait for every expected worker's histograms (bounded), merge, write."""
        deadline = time.time() + self.COLLECT_TIMEOUT_S
        while not self._all_arrived():
            left = deadline - time.time()
            if left <= 0:
                break
            self._arrived.clear()
            self._arrived.wait(timeout=min(left, 0.5))
        windows = [self._merged(index) for index in sorted(self.ended)]
        if self.output is not None:
            latency.write(self.output, windows)
        if windows:  # the last window's progress, now from the exact merged counts
            self.progress.stop(windows[-1].ended_at, _counts_of(windows[-1]))

    def _merged(self, index: int) -> WindowLatency:
        users, started_at, workers = self.opened[index]
        return latency.merge_windows(
            self.received.get(index, []),
            index=index,
            users=users,
            started_at=started_at,
            ended_at=self.ended[index],
            processes_expected=workers,
        )

    def _all_arrived(self) -> bool:
        return all(
            len(self.received[index]) >= workers
            for index, (_, _, workers) in self.opened.items()
            if index in self.ended
        )

    def _receive(self, data: dict[str, Any]) -> None:
        window = WindowLatency.from_json(data)
        self.received.setdefault(window.index, []).append(window)
        self._arrived.set()

    def _live(self, node_id: str, data: dict[str, Any]) -> None:
        if int(data["index"]) in self.opened and int(data["index"]) not in self.ended:
            self.live[node_id] = WindowCounts(
                int(data["successes"]), int(data["failures"]), float(data["elapsed_s"])
            )

    def _live_counts(self, now: float) -> list[WindowCounts]:
        return list(self.live.values())
