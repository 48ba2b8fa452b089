"""Running Locust as a child process: command line, progress, and a stop that always happens.

Locust runs in its own session with its output in a file (like the servers), so a Ctrl-C in
the terminal reaches only the harness, which then stops Locust itself: TERM first (Locust
writes its statistics on TERM), KILL after a grace period.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from loadtests.arrival import ArrivalRates
from loadtests.progress import FILE_NAME as PROGRESS_FILE
from loadtests.progress import WindowProgress
from loadtests.shape import LoadShape
from scripts.harness.distributed import LoadWorkers, for_run, worker_argv
from servers.child import ChildSpec, ManagedChild, child_environment
from servers.registry import PROJECT_DIR

CSV_PREFIX = "locust"
STOP_GRACE_S = 10.0
PROGRESS_INTERVAL_S = 1.0  # how often the progress line is refreshed


@dataclass(frozen=True)
class LoadRequest:
    """One Locust run against one server."""

    base_url: str
    scenario: str
    shape: LoadShape
    spawn_rate: float
    warmup_s: float
    duration_s: float
    seeded_users: int
    user_prefix: str
    user_password: str
    run_dir: Path
    cpus: tuple[int, ...] | None = None
    processes: int = 1
    burn_ms: float = 0.0  # test-only: CPU burnt per task, to starve the generator on purpose
    tokens_file: Path | None = None  # the app's issued JWT pairs: no logins over HTTP
    server_counts_dir: Path | None = None  # the app's request counters, read at window edges
    setup_failures_expected: bool = False  # errors are the figures (an overload run)
    tls_ca_file: Path | None = None  # a remote target's CA file (TLS is always verified)
    workers: LoadWorkers | None = None  # master/worker mode (None: `processes` local ones)
    arrival: ArrivalRates | None = None  # the open model's rates (loadtests/arrival.py)

    @property
    def most_users(self) -> int:
        return self.shape.most_users

    def __post_init__(self) -> None:
        """Settle the workers once: without them, `processes` local ones; and a master
        port chosen now, not at each argv()."""
        workers = self.workers or LoadWorkers(local=self.processes)
        object.__setattr__(self, "workers", for_run(workers))

    @property
    def load_workers(self) -> LoadWorkers:
        assert self.workers is not None  # __post_init__ settles it
        return self.workers

    @property
    def ready_timeout_s(self) -> float:
        """How long the logins of one step may take: each costs a PBKDF2 hash (about 0.3 s
        of CPU here), and a single-process server does them one at a time; a master first
        waits for its workers."""
        connect_s = self.load_workers.connect_timeout_s if self.load_workers.distributed else 0
        return 30.0 + self.most_users / self.spawn_rate + 1.0 * self.most_users + connect_s

    @property
    def run_time_limit_s(self) -> int:
        """Locust's own -t, a safety bound only: the window controller quits first."""
        windows = self.shape.windows
        return int(windows * (self.ready_timeout_s + self.duration_s + 2) + self.warmup_s + 30)

    @property
    def window_file(self) -> Path:
        return self.run_dir / "window.json"

    def argv(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "locust",
            "-f",
            self.load_workers.locustfiles(self.shape.stepped),
            "--headless",
            "--host",
            self.base_url,
            "--users",
            str(self.shape.first_users),
            "--spawn-rate",
            f"{self.spawn_rate:g}",
            "--run-time",
            f"{self.run_time_limit_s}s",
            "--stop-timeout",
            "0",
            "--only-summary",
            "--csv",
            str(self.run_dir / CSV_PREFIX),
            "--csv-full-history",
            "--html",
            str(self.run_dir / "locust.html"),
            "--loglevel",
            "INFO",
            "--logfile",
            str(self.run_dir / "locust.log"),
            "--scenario",
            self.scenario,
            "--seeded-users",
            str(self.seeded_users),
            "--user-prefix",
            self.user_prefix,
            "--warmup-s",
            f"{self.warmup_s:g}",
            "--window-s",
            f"{self.duration_s:g}",
            "--window-file",
            str(self.window_file),
            "--ready-timeout-s",
            f"{self.ready_timeout_s:g}",
            *self.load_workers.master_args(),
            *(["--burn-ms", f"{self.burn_ms:g}"] if self.burn_ms > 0 else []),
            *(["--tokens-file", str(self.tokens_file)] if self.tokens_file else []),
            *(
                ["--server-counts-dir", str(self.server_counts_dir)]
                if self.server_counts_dir
                else []
            ),
            *(["--steps", self.shape.to_arg()] if self.shape.stepped else []),
            *(["--setup-failures-expected"] if self.setup_failures_expected else []),
            *(["--target-ca", str(self.tls_ca_file)] if self.tls_ca_file else []),
            *(["--arrival-rates", self.arrival.to_arg()] if self.arrival else []),
        ]

    def environ(self) -> dict[str, str]:
        """An explicit environment: no LOCUST_* setting of the caller's (Locust reads those
        as options, and a stray one would change the run), and the accounts' password (in
        the environment, not on a command line every user of the machine can read). Workers
        learn their share of the accounts from the master (loadtests/partition.py), not from
        the environment."""
        return child_environment(
            {"LOCUST_USER_PASSWORD": self.user_password, "PYTHONUNBUFFERED": "1"},
            bin_dirs=[str(Path(sys.executable).parent)],
        )

    def child_spec(self) -> ChildSpec:
        """Locust as a managed child: TERM first (Locust writes its statistics on TERM),
        KILL after STOP_GRACE_S."""
        return ChildSpec(
            name="locust",
            argv=tuple(self.argv()),
            environment=self.environ(),
            log_path=self.run_dir / "locust.out",
            cwd=PROJECT_DIR,
            cpus=self.cpus,
            stop_grace_s=STOP_GRACE_S,
        )

    def worker_specs(self) -> list[ChildSpec]:
        """The local workers of a distributed run, each the command `make loadworker`
        runs, each a managed child of its own."""
        workers = self.load_workers
        if not workers.distributed:
            return []
        return [
            ChildSpec(
                name=f"locust-worker-{number}",
                argv=tuple(
                    worker_argv(
                        workers.local_master_host,
                        workers.master_port,
                        self.run_dir / f"locust-worker-{number}.log",
                    )
                ),
                environment=self.environ(),
                log_path=self.run_dir / f"locust-worker-{number}.out",
                cwd=PROJECT_DIR,
                cpus=self.cpus,
                stop_grace_s=STOP_GRACE_S,
            )
            for number in range(workers.local)
        ]


@dataclass(frozen=True)
class Progress:
    """What a progress line shows."""

    phase: str
    elapsed_s: float
    window_elapsed_s: float | None
    rps: float
    requests: int
    failures: int


def read_progress(request: LoadRequest, started: float) -> Progress:
    """The latest state: the phase from window.json, and what the open window has counted
    so far from our own recording (window_progress.json, rewritten every second), never
    Locust's history CSV, which lags up to 3 s and whose rps is not over the window."""
    window: dict[str, object] = {}
    with contextlib.suppress(OSError, ValueError):
        window = json.loads(request.window_file.read_text())
    counted: WindowProgress | None = None
    with contextlib.suppress(OSError, ValueError, TypeError):
        counted = WindowProgress.read(request.run_dir / PROGRESS_FILE)
    window_started = window.get("window_started_at")
    window_elapsed: float | None = None
    if isinstance(window_started, int | float):
        window_elapsed = max(0.0, time.time() - window_started)
        phase = "measuring"
    elif window.get("ready_at") is not None:
        phase = "warming up"
    else:
        phase = "starting users"
    return Progress(
        phase=phase,
        elapsed_s=time.monotonic() - started,
        window_elapsed_s=window_elapsed,
        rps=counted.goodput_rps if counted else 0.0,
        requests=counted.requests if counted else 0,
        failures=counted.failures if counted else 0,
    )


def run_locust(
    request: LoadRequest,
    on_progress: Callable[[Progress], None],
    on_started: Callable[[int], None] | None = None,
) -> int:
    """Run Locust to completion and return its exit status (0 ok, 1 failures recorded,
    2 error). Locust is stopped, whatever happens, before this returns or raises.
    `on_started` gets the pid (session id) of Locust and of each local worker once each
    is launched."""
    child = ManagedChild.start(request.child_spec())
    workers: list[ManagedChild] = []
    started = time.monotonic()
    hard_limit = request.run_time_limit_s + 60
    try:
        if on_started is not None:
            on_started(child.pid)
        for spec in request.worker_specs():
            workers.append(ManagedChild.start(spec))
            if on_started is not None:
                on_started(workers[-1].pid)
        while child.running:
            if time.monotonic() - started > hard_limit:
                raise TimeoutError(f"Locust did not finish within {hard_limit} s")
            on_progress(read_progress(request, started))
            # wakes as soon as Locust exits: a fixed sleep added up to a second to every run
            child.wait(PROGRESS_INTERVAL_S)
        return child.process.returncode
    finally:
        child.stop()  # the master first: it tells its workers to quit
        for worker in workers:
            worker.stop()
