"""Locust workers as the master sees them: who they are, their accounts, and their figures.

In distributed mode (a master and workers, some on other machines) the master must know
that every worker runs the same code, hand each one the tokens of its own accounts (a
remote machine has no copy of the tokens file), notice a worker that disappears, and
collect each worker's CPU and event-loop lag, since a remote worker's processes cannot be
sampled from here. Messages (Locust's `send_message` / `register_message`):

- worker -> master "bench_worker_hello": index, host, pid, commit; sent at start-up (the
  worker has its index from the master's ack by then). A commit that differs from the
  master's makes the master refuse the run (`on_refused`), before any user starts.
- master -> worker "bench_worker_who": sent, when the roster comes into being, to the workers
  already connected. Locust drops a message whose handler is not registered yet, and the
  master registers its handlers only in its init event, well after it starts accepting
  workers: a worker that connected in between had its hello dropped (seen in CI: a worker
  of another commit ran the load). Asked again, it says hello again.
- master -> worker "bench_worker_tokens": that worker's share of the issued JWT pairs
  (loadtests/partition.py); the worker's users wait for it before taking their pair.
- master -> workers "bench_worker_open" / "bench_worker_close" at each window's edges;
  worker -> master "bench_worker_figures": CPU % of one core and loop lag over the window.

A worker that leaves (its "quit") or stops sending heartbeats (Locust marks it missing
after about 3 s) while the load runs is reported through `on_lost`, which ends the run.
Everything recorded goes into window.json's `workers` (one entry per worker that said
hello), so the harness records every worker in meta/summary.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final

import gevent
import psutil
from gevent.event import Event

from loadtests.partition import accounts_of_worker
from loadtests.window import LoopLagMonitor, WindowRecord

if TYPE_CHECKING:  # importing locust monkey-patches the process: keep it out of unit tests
    from locust.env import Environment
    from locust.runners import MasterRunner, WorkerRunner

HELLO: Final = "bench_worker_hello"
TOKENS: Final = "bench_worker_tokens"
OPEN: Final = "bench_worker_open"
CLOSE: Final = "bench_worker_close"
FIGURES: Final = "bench_worker_figures"
WHO: Final = "bench_worker_who"

COMMIT_ENV: Final = "DRF_BENCH_COMMIT"
"""Overrides the commit a process reports (an image built without .git, a test)."""
UNKNOWN_COMMIT: Final = "unknown"
MISSING_STATE: Final = "missing"  # locust.runners.STATE_MISSING, without importing locust

PROJECT_DIR = Path(__file__).resolve().parent.parent


def checkout_commit(directory: Path = PROJECT_DIR) -> str:
    """The commit this process's code comes from: $DRF_BENCH_COMMIT, else `git rev-parse
    HEAD` of the checkout, else "unknown"."""
    given = os.environ.get(COMMIT_ENV, "").strip()
    if given:
        return given
    try:
        found = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return UNKNOWN_COMMIT
    return (
        found.stdout.strip() if found.returncode == 0 and found.stdout.strip() else UNKNOWN_COMMIT
    )


@dataclass(frozen=True)
class WorkerIdentity:
    """One worker process: Locust's index for it, where it runs, and its code's commit."""

    index: int
    host: str
    pid: int
    commit: str

    @classmethod
    def of_this_process(cls, index: int) -> WorkerIdentity:
        return cls(
            index=index, host=socket.gethostname(), pid=os.getpid(), commit=checkout_commit()
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorkerIdentity:
        return cls(
            index=int(data["index"]),
            host=str(data["host"]),
            pid=int(data["pid"]),
            commit=str(data["commit"]),
        )

    def describe(self) -> str:
        return f"Locust worker {self.index} on {self.host} (pid {self.pid})"


def commit_refusal(master_commit: str, worker: WorkerIdentity) -> str | None:
    """Why the master refuses `worker` (None: it runs the master's commit). Different code
    would measure something else under the same name, so a mismatch fails the run."""
    if worker.commit == master_commit and worker.commit != UNKNOWN_COMMIT:
        return None
    if worker.commit == master_commit:
        return (
            f"{worker.describe()} and the master cannot tell their commit (no git checkout; "
            f"set {COMMIT_ENV})"
        )
    return (
        f"{worker.describe()} runs commit {worker.commit[:12]}, the master "
        f"{master_commit[:12]}: check out the master's commit there"
    )


def read_pairs(tokens_file: Path) -> dict[str, tuple[str, str]]:
    """username -> (access, refresh) from the app's issued-tokens file."""
    document = json.loads(tokens_file.read_text())
    return {user["username"]: (user["access"], user["refresh"]) for user in document["users"]}


def share_of_pairs(
    pairs: dict[str, tuple[str, str]], prefix: str, worker_index: int, workers: int, accounts: int
) -> dict[str, tuple[str, str]]:
    """The pairs of the accounts worker `worker_index` of `workers` uses."""
    names = (
        f"{prefix}{number:04d}" for number in accounts_of_worker(worker_index, workers, accounts)
    )
    return {name: pairs[name] for name in names if name in pairs}


@dataclass
class _CpuClock:
    """This process's CPU seconds against wall seconds, from `start` to `stop`."""

    cpu_s: float = 0.0
    wall_s: float = 0.0

    @staticmethod
    def _cpu_now() -> float:
        times = psutil.Process().cpu_times()
        return float(times.user + times.system)

    def start(self) -> None:
        self.cpu_s, self.wall_s = self._cpu_now(), time.monotonic()

    def stop_pct(self) -> float | None:
        elapsed = time.monotonic() - self.wall_s
        return None if elapsed <= 0 else 100.0 * (self._cpu_now() - self.cpu_s) / elapsed


class WorkerSide:
    """A worker's part: say hello, take its tokens, measure itself over each window."""

    TOKENS_TIMEOUT_S: ClassVar[float] = 30.0

    def __init__(self, environment: Environment, runner: WorkerRunner) -> None:
        self.environment = environment
        self.runner = runner
        self.identity = WorkerIdentity.of_this_process(runner.worker_index)
        self.tokens_arrived = Event()
        self.pairs: dict[str, tuple[str, str]] = {}
        self.clock = _CpuClock()
        self.lag = LoopLagMonitor()
        self.window: int | None = None
        runner.register_message(TOKENS, lambda msg, **_: self._take_tokens(msg.data))
        runner.register_message(OPEN, lambda msg, **_: self._open(int(msg.data["index"])))
        runner.register_message(CLOSE, lambda msg, **_: self._close())
        runner.register_message(WHO, lambda msg, **_: self._say_hello())
        self._say_hello()

    def _say_hello(self) -> None:
        self.runner.send_message(HELLO, asdict(self.identity))

    def issued_pairs(self) -> dict[str, tuple[str, str]]:
        """This worker's pairs, once the master has sent them (bounded wait: without them
        the users log in over HTTP, which the run's checks then show)."""
        self.tokens_arrived.wait(timeout=self.TOKENS_TIMEOUT_S)
        return self.pairs

    def _take_tokens(self, data: dict[str, Any]) -> None:
        self.pairs = {name: (pair[0], pair[1]) for name, pair in data["pairs"].items()}
        self.tokens_arrived.set()

    def _open(self, index: int) -> None:
        self.window = index
        self.clock.start()
        self.lag.start()

    def _close(self) -> None:
        if self.window is None:
            return
        figures = {"index": self.window, "cpu_pct": self.clock.stop_pct(), **self.lag.stop()}
        self.window = None
        self.runner.send_message(FIGURES, figures)


@dataclass(frozen=True)
class RosterHooks:
    """What the roster does to the run: plain callables, so the logic is testable."""

    on_refused: Callable[[str], None]  # a worker of another commit: fail the run
    on_lost: Callable[[str], None]  # a worker left during the load: fail the run
    write: Callable[[], None]  # rewrite window.json


class MasterRoster:
    """The master's part: identities, tokens, liveness and per-worker figures, kept in
    `record.workers` (window.json)."""

    WATCH_INTERVAL_S: ClassVar[float] = 0.5
    COLLECT_TIMEOUT_S: ClassVar[float] = 5.0

    def __init__(
        self,
        runner: MasterRunner,
        record: WindowRecord,
        hooks: RosterHooks,
        *,
        commit: str,
        expected: int,
        pairs: dict[str, tuple[str, str]] | None,
        prefix: str,
        accounts: int,
    ) -> None:
        self.runner = runner
        self.record = record
        self.hooks = hooks
        self.commit = commit
        self.expected = expected
        self.pairs = pairs
        self.prefix = prefix
        self.accounts = accounts
        self.entries: dict[str, dict[str, Any]] = {}  # client id -> its window.json entry
        self.window_opened_at: float | None = None
        self.finished = False
        self._figures_arrived = Event()
        self.closed_windows = 0  # figures come only for a window the master closed
        # workers may connect before this roster exists (Locust's init event comes late)
        self.seen: set[str] = set(runner.clients)
        record.workers_connected = len(self.seen)
        record.workers_expected = expected
        record.master_commit = commit
        runner.register_message(HELLO, lambda msg, **_: self.hello(msg.node_id, msg.data))
        runner.register_message(FIGURES, lambda msg, **_: self.figures(msg.node_id, msg.data))
        runner.environment.events.worker_connect.add_listener(self.connected)  # type: ignore[no-untyped-call]
        for client_id in sorted(self.seen):  # their hello may have come before the handler
            runner.send_message(WHO, None, client_id=client_id)
        self._watcher = gevent.spawn(self._watch)

    def connected(self, client_id: str, **_: Any) -> None:
        self._seen(client_id)

    def _seen(self, client_id: str) -> None:
        if client_id not in self.seen:
            self.seen.add(client_id)
            self.record.workers_connected = len(self.seen)
            self.hooks.write()

    def hello(self, client_id: str, data: dict[str, Any]) -> None:
        """Record the worker; refuse another commit; send it its tokens. A second hello
        from one worker (it was asked again) changes nothing."""
        if client_id in self.entries:
            return
        worker = WorkerIdentity.from_json(data)
        self._seen(client_id)
        self.entries[client_id] = {**asdict(worker), "lost": None, "windows": []}
        self.record.workers = [self.entries[key] for key in sorted(self.entries, key=self._order)]
        self.hooks.write()
        refusal = commit_refusal(self.commit, worker)
        if refusal is not None:
            self.finished = True
            self.hooks.on_refused(refusal)
            return
        if self.pairs is not None:
            share = share_of_pairs(
                self.pairs, self.prefix, worker.index, self.expected, self.accounts
            )
            self.runner.send_message(
                TOKENS, {"pairs": {k: list(v) for k, v in share.items()}}, client_id=client_id
            )

    def _order(self, client_id: str) -> int:
        return int(self.entries[client_id]["index"])

    def figures(self, client_id: str, data: dict[str, Any]) -> None:
        entry = self.entries.get(client_id)
        if entry is not None:
            entry["windows"].append(dict(data))
            self._figures_arrived.set()

    # the window observer protocol (loadtests/window.py)
    def window_opened(self, index: int, users: int, started_at: float) -> None:
        self.window_opened_at = self.window_opened_at or started_at
        self.runner.send_message(OPEN, {"index": index})

    def window_closed(self, index: int, ended_at: float) -> None:
        self.closed_windows += 1
        self.runner.send_message(CLOSE, {"index": index})

    def load_stopped(self) -> None:
        """Wait (bounded) for every live worker's figures of every window, then stop
        watching: from here on workers leave because the run is over."""
        self.finished = True
        deadline = time.time() + self.COLLECT_TIMEOUT_S
        while not self._all_figures() and time.time() < deadline:
            self._figures_arrived.clear()
            self._figures_arrived.wait(timeout=0.5)
        self._watcher.kill(block=False)
        self.hooks.write()

    def _all_figures(self) -> bool:
        """Every live worker sent its figures of every closed window (a run that ended
        early leaves its last window open: no worker measures it, none is waited for)."""
        return all(
            len(entry["windows"]) >= self.closed_windows
            for entry in self.entries.values()
            if entry["lost"] is None
        )

    def live_workers(self) -> list[str]:
        """Client ids of the workers that said hello and were not lost."""
        return [client_id for client_id, entry in self.entries.items() if entry["lost"] is None]

    def lost_workers(self) -> list[str]:
        """Client ids of workers that said hello and are now gone or missing."""
        clients = self.runner.clients
        return [
            client_id
            for client_id, entry in self.entries.items()
            if entry["lost"] is None
            and (client_id not in clients or clients[client_id].state == MISSING_STATE)
        ]

    def _watch(self) -> None:
        while not self.finished:
            gevent.sleep(self.WATCH_INTERVAL_S)
            if self.finished:
                return
            lost = self.lost_workers()
            if lost:
                self._report_lost(lost)
                return

    def _report_lost(self, lost: list[str]) -> None:
        now = time.time()
        for client_id in lost:
            self.entries[client_id]["lost"] = now
        when = (
            "before the measured window"
            if self.window_opened_at is None
            else f"{now - self.window_opened_at:.1f} s into the measurement"
        )
        names = ", ".join(
            WorkerIdentity.from_json(self.entries[client_id]).describe() for client_id in lost
        )
        self.finished = True
        self.hooks.on_lost(f"{names} disappeared {when}")
