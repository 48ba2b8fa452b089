"""The open model inside Locust: how users take their turns, and how each kind of process
records its windows into one arrival.json (the pattern of loadtests/latency_processes.py).

- Every process that runs users has one `ArrivalModel`: its share of the schedule (rate /
  Locust processes) and a recorder on `events.request`. A user's task calls `turn()`, which
  claims the next request of the schedule, sleeps (gevent) until its intended time if that
  is still ahead, and returns the request context that carries its lateness. With
  Locust's `constant(0)` wait time a free user claims again at once, so the users are the
  bounded pool of requests in flight (MAX_IN_FLIGHT).
- Alone, `LocalArrival` arms and disarms at the window's edges and writes the file.
- With several processes the master's `MasterArrival` tells every worker to arm and disarm
  (its own messages: Locust allows one listener per message type), each `WorkerArrival`
  answers the close with its window, and the master merges them exactly (histograms add)
  and writes the file, waiting at most COLLECT_TIMEOUT_S.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import gevent
from gevent.event import Event

from loadtests import arrival
from loadtests.arrival import (
    CONTEXT_KEY,
    ArrivalRates,
    ArrivalRecorder,
    ArrivalSchedule,
    ArrivalWindow,
)

OPEN = "bench_arrival_open"
CLOSE = "bench_arrival_close"
WINDOW = "bench_arrival_window"

if TYPE_CHECKING:  # importing locust monkey-patches the process: keep it out of unit tests
    from locust.env import Environment
    from locust.runners import MasterRunner, WorkerRunner


class ArrivalModel:
    """One process's part of the open model: its schedule, its recorder, its users' turns."""

    def __init__(
        self, environment: Environment, rates: ArrivalRates, share: float, process: str
    ) -> None:
        self.schedule = ArrivalSchedule(rates, time.perf_counter, share)
        self.recorder = ArrivalRecorder(process, self.schedule)
        environment.events.request.add_listener(self.recorder.on_request)  # type: ignore[no-untyped-call]

    def turn(self) -> dict[str, float]:
        """Wait for this user's next request on the schedule; its context for the request
        event (the lateness from which the corrected latency is counted)."""
        ticket = self.schedule.claim()
        wait_s = ticket.wait_s(time.perf_counter())
        if wait_s > 0:
            gevent.sleep(wait_s)
        return {CONTEXT_KEY: max(0.0, time.perf_counter() - ticket.intended_s)}

    def next_step(self, users: int = 0) -> None:
        """A step load's next step: the next rate (the user pool stays as it is)."""
        self.schedule.next_step()


def model_of(environment: Environment) -> ArrivalModel | None:
    """The process's open model, None in a closed-loop run."""
    model = getattr(environment, "bench_arrival", None)
    return model if isinstance(model, ArrivalModel) else None


def install(environment: Environment, rates: ArrivalRates, share: float, process: str) -> None:
    """Give this process its open model (read back by `model_of`)."""
    environment.bench_arrival = ArrivalModel(environment, rates, share, process)  # type: ignore[attr-defined]


def turn_context(environment: Environment) -> dict[str, float]:
    """A user's wait for its turn: nothing in a closed loop, the schedule's turn otherwise."""
    model = model_of(environment)
    return {} if model is None else model.turn()


class LocalArrival:
    """The window observer of a single Locust process."""

    def __init__(self, model: ArrivalModel, users: int, output: Path | None) -> None:
        self.model = model
        self.users = users
        self.output = output
        self.closed: list[ArrivalWindow] = []

    def window_opened(self, index: int, users: int, started_at: float) -> None:
        self.model.recorder.arm(index, started_at, self.users)

    def window_closed(self, index: int, ended_at: float) -> None:
        self.closed.append(self.model.recorder.disarm(ended_at))

    def load_stopped(self) -> None:
        if self.output is not None:
            arrival.write(self.output, self.closed)


class WorkerArrival:
    """A worker's side: arm and disarm on the master's word, send the window back."""

    def __init__(self, model: ArrivalModel, runner: WorkerRunner) -> None:
        self.model = model
        self.runner = runner
        runner.register_message(OPEN, lambda msg, **_: self.open(msg.data))
        runner.register_message(CLOSE, lambda msg, **_: self.close())

    def open(self, data: dict[str, Any]) -> None:
        self.model.recorder.arm(int(data["index"]), time.time(), self.runner.user_count)

    def close(self) -> None:
        now = time.time()
        if self.model.recorder.armed:
            self.runner.send_message(WINDOW, self.model.recorder.disarm(now).to_json())


class MasterArrival:
    """The master's side: open and close every worker's window, merge, write."""

    COLLECT_TIMEOUT_S: ClassVar[float] = 10.0

    def __init__(self, runner: MasterRunner, output: Path | None) -> None:
        self.runner = runner
        self.output = output
        self.opened: dict[int, tuple[float, int]] = {}  # index -> start, workers
        self.ended: dict[int, float] = {}
        self.received: dict[int, list[ArrivalWindow]] = {}
        self._arrived = Event()
        runner.register_message(WINDOW, lambda msg, **_: self._receive(msg.data))

    def window_opened(self, index: int, users: int, started_at: float) -> None:
        self.opened[index] = (started_at, self.runner.worker_count)
        self.received[index] = []
        self.runner.send_message(OPEN, {"index": index})

    def window_closed(self, index: int, ended_at: float) -> None:
        self.runner.send_message(CLOSE, {"index": index})
        self.ended[index] = ended_at

    def load_stopped(self) -> None:
        deadline = time.time() + self.COLLECT_TIMEOUT_S
        while not self._all_arrived():
            left = deadline - time.time()
            if left <= 0:
                break
            self._arrived.clear()
            self._arrived.wait(timeout=min(left, 0.5))
        windows = [
            arrival.merge_windows(
                self.received.get(index, []),
                index=index,
                started_at=self.opened[index][0],
                ended_at=self.ended[index],
            )
            for index in sorted(self.ended)
        ]
        if self.output is not None:
            arrival.write(self.output, windows)

    def _all_arrived(self) -> bool:
        return all(
            len(self.received[index]) >= workers
            for index, (_, workers) in self.opened.items()
            if index in self.ended
        )

    def _receive(self, data: dict[str, Any]) -> None:
        window = ArrivalWindow.from_json(data)
        self.received.setdefault(window.index, []).append(window)
        self._arrived.set()
