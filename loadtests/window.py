"""The measured window: warm-up excluded, stats reset, a fixed-length window, then quit.

Locust's own `-t` counts from the start, ramp-up included, so it cannot give a clean steady
window. Here the window opens only once every simulated user is running (has its tokens:
issued by the app, or from a login) and the warm-up has passed, counted from that moment;
statistics are reset then, and the users are stopped exactly `window_s` later. What was
measured is written to a small JSON file the harness reads.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import gevent
from gevent.event import Event


@dataclass
class WindowRecord:
    """What the window controller observed; written as window.json."""

    users_target: int
    users_ready: int = 0
    logins_failed: int = 0
    load_started_at: float | None = None  # Locust's test_start: the first users begin
    spawned_at: float | None = None
    ready_at: float | None = None
    window_started_at: float | None = None
    window_ended_at: float | None = None
    window_s: float | None = None
    warmup_s: float = 0.0
    completed: bool = False
    reason: str = ""
    cpu_warning: bool = False
    cpu_usage_max_pct: float = 0.0
    loop_lag_mean_ms: float | None = None
    loop_lag_p95_ms: float | None = None
    loop_lag_max_ms: float | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    # distributed mode (loadtests/workers.py): how many workers the master expected, how
    # many connected, its commit, and each worker that said hello with its figures
    workers_expected: int = 0
    workers_connected: int = 0
    master_commit: str = ""
    workers: list[dict[str, Any]] = field(default_factory=list)


class LoopLagMonitor:
    """How late the generator's event loop wakes up: a direct measure of a busy generator.

    A greenlet asks to sleep INTERVAL_S and records how much later it actually woke. When
    the Locust process is short of CPU (its own work, or another process on its CPU), every
    response waits that long before its time is taken, so response times grow although the
    server is not slower. CPU percent alone can miss this when the CPU is shared.
    """

    INTERVAL_S: ClassVar[float] = 0.05

    def __init__(self) -> None:
        self.lags_ms: list[float] = []
        self._greenlet: gevent.Greenlet[Any, Any] | None = None

    def start(self) -> None:
        self.lags_ms.clear()
        self._greenlet = gevent.spawn(self._loop)

    def stop(self) -> dict[str, float | None]:
        if self._greenlet is not None:
            self._greenlet.kill(block=False)
            self._greenlet = None
        return self.summary()

    def summary(self) -> dict[str, float | None]:
        if not self.lags_ms:
            return {"loop_lag_mean_ms": None, "loop_lag_p95_ms": None, "loop_lag_max_ms": None}
        ordered = sorted(self.lags_ms)
        return {
            "loop_lag_mean_ms": sum(ordered) / len(ordered),
            "loop_lag_p95_ms": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
            "loop_lag_max_ms": ordered[-1],
        }

    def _loop(self) -> None:
        while True:
            asked = time.perf_counter()
            gevent.sleep(self.INTERVAL_S)
            self.lags_ms.append(max(0.0, (time.perf_counter() - asked - self.INTERVAL_S) * 1000))


def merge_lag(record: WindowRecord, lag: dict[str, float | None]) -> None:
    """Keep the worst process's figures (with several Locust processes, the busiest one
    decides whether the generator held the numbers back)."""
    for name, value in lag.items():
        current = getattr(record, name)
        if value is not None and (current is None or value > current):
            setattr(record, name, value)


class WindowObserver(Protocol):
    """Told the window's own timestamps, with no yield in between, so what it counts is
    exactly what completed inside the window (loadtests/latency_processes.py)."""

    def window_opened(self, index: int, users: int, started_at: float) -> None: ...

    def window_closed(self, index: int, ended_at: float) -> None: ...

    def load_stopped(self) -> None:
        """The users have stopped (or the run aborted): gather and write the results."""


@dataclass(frozen=True)
class ObserverChain:
    """Several observers told the same window edges, in order."""

    observers: tuple[WindowObserver, ...]

    def window_opened(self, index: int, users: int, started_at: float) -> None:
        for observer in self.observers:
            observer.window_opened(index, users, started_at)

    def window_closed(self, index: int, ended_at: float) -> None:
        for observer in self.observers:
            observer.window_closed(index, ended_at)

    def load_stopped(self) -> None:
        for observer in self.observers:
            observer.load_stopped()


@dataclass(frozen=True)
class StepHooks:
    """What the controller does to Locust: plain callables, so the logic is testable."""

    reset_stats: Callable[[], None]
    stop_users: Callable[[], None]
    quit_runner: Callable[[], None]
    final_write: Callable[[], None]  # make Locust's own CSV files final, at once
    start_users: Callable[[int], None] | None = None  # step load: raise the user count
    snapshot: Callable[[int, int], str] | None = None  # step load: (index, users) -> file
    observer: WindowObserver | None = None  # the latency recording


@dataclass
class WindowController:
    """Drives the measured window(s) of one Locust process (or of the master).

    With `steps` (a step load), each step raises the user count, waits for the new users'
    logins and SETTLE_S of full load, then measures its own window of `window_s`; the
    statistics of each step are written to their own CSV file by `StepHooks.snapshot`.
    """

    SETTLE_S: ClassVar[float] = 1.0

    users_target: int
    warmup_s: float
    window_s: float
    ready_timeout_s: float
    output: Path | None
    steps: tuple[int, ...] = ()
    # an overload run provokes errors on purpose: users whose setup failed are counted
    # (logins_failed), and the window goes on with the load the others make
    setup_failures_expected: bool = False
    record: WindowRecord = field(init=False)
    created_at: float = field(default_factory=time.time, init=False)
    _spawned: Event = field(default_factory=Event, init=False)
    _ready_changed: Event = field(default_factory=Event, init=False)
    lag_monitor: LoopLagMonitor | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.record = WindowRecord(users_target=self.users_target, warmup_s=self.warmup_s)

    @property
    def step_users(self) -> tuple[int, ...]:
        return self.steps or (self.users_target,)

    def load_started(self) -> None:
        if self.record.load_started_at is None:
            self.record.load_started_at = time.time()

    def spawning_complete(self) -> None:
        if self.record.spawned_at is None:
            self.record.spawned_at = time.time()
        self._spawned.set()

    def user_ready(self, logged_in: bool) -> None:
        self.record.users_ready += 1
        if not logged_in:
            self.record.logins_failed += 1
        if self.record.users_ready == self.step_users[0]:
            self.record.ready_at = time.time()
            self.write()  # lets the harness's progress line show "warming up"
        self._ready_changed.set()

    def cpu_warning(self, cpu_usage_pct: float) -> None:
        self.record.cpu_warning = True
        self.record.cpu_usage_max_pct = max(self.record.cpu_usage_max_pct, cpu_usage_pct)

    def _wait_ready(self, users: int) -> bool:
        """Wait until `users` users have logged in (or failed to); False on timeout."""
        deadline = time.time() + self.ready_timeout_s
        while self.record.users_ready < users:
            left = deadline - time.time()
            if left <= 0:
                return False
            self._ready_changed.clear()
            self._ready_changed.wait(timeout=min(left, 0.5))
        return True

    def abort(self, reason: str, hooks: StepHooks) -> None:
        """End the run without a complete measurement: say why, gather, quit."""
        self.record.reason = reason
        self.write()
        if hooks.observer is not None:
            hooks.observer.load_stopped()
        hooks.quit_runner()

    def run(self, hooks: StepHooks) -> None:
        """The controller greenlet's body: for each step, wait, reset, measure; then stop
        the users and quit.

        At the end the users are stopped first (nothing more is counted), then Locust's
        CSV files are written with the final figures (`final_write`) before the runner
        quits: Locust's own writer rewrites them only every second (and a master holds only
        what its workers reported, every few seconds), so they could lag behind the window;
        waiting out those intervals cost every run seconds."""
        if not self._spawned.wait(timeout=self.ready_timeout_s):
            self.abort(f"Locust did not start its users within {self.ready_timeout_s:.0f} s", hooks)
            return
        for index, users in enumerate(self.step_users):
            if index > 0 and hooks.start_users is not None:
                hooks.start_users(users)
            if not self._wait_ready(users):
                self.abort(
                    f"only {self.record.users_ready} of {users} users logged in within "
                    f"{self.ready_timeout_s:.0f} s",
                    hooks,
                )
                return
            if self.record.logins_failed and not self.setup_failures_expected:
                self.abort(
                    f"{self.record.logins_failed} of {users} users could not log in "
                    "(see locust_failures.csv and locust.log)",
                    hooks,
                )
                return
            # the warm-up counts from the moment every user is running; later steps settle
            settle_s = self.warmup_s if index == 0 else self.SETTLE_S
            gevent.sleep(settle_s)
            self._measure(index, users, hooks)
        hooks.stop_users()
        if hooks.observer is not None:
            hooks.observer.load_stopped()
        self.record.completed = True
        self.write()
        hooks.final_write()
        hooks.quit_runner()

    def _measure(self, index: int, users: int, hooks: StepHooks) -> None:
        hooks.reset_stats()
        started = time.time()
        if hooks.observer is not None:
            hooks.observer.window_opened(index, users, started)
        if self.record.window_started_at is None:
            self.record.window_started_at = started
        if self.lag_monitor is not None:
            self.lag_monitor.start()
        self.write()  # lets the harness's progress line show "measuring"
        gevent.sleep(self.window_s)
        ended = time.time()
        if hooks.observer is not None:
            hooks.observer.window_closed(index, ended)
        lag: dict[str, float | None] = {}
        if self.lag_monitor is not None:
            lag = self.lag_monitor.stop()
            merge_lag(self.record, lag)
        step: dict[str, Any] = {
            "index": index,
            "users": users,
            "window_started_at": started,
            "window_ended_at": ended,
            "window_s": ended - started,
            **lag,
        }
        if hooks.snapshot is not None:
            step["stats_file"] = hooks.snapshot(index, users)
        self.record.window_ended_at = ended
        if self.steps:
            self.record.steps.append(step)
            self.record.window_s = sum(float(done["window_s"]) for done in self.record.steps)
        else:
            self.record.window_s = ended - started

    def write(self) -> None:
        """Write the record atomically (a reader never sees half a file)."""
        if self.output is None:
            return
        temporary = self.output.with_name(self.output.name + ".tmp")
        temporary.write_text(json.dumps(asdict(self.record), indent=2))
        os.replace(temporary, self.output)
