"""The load phase of one bench run: Locust with resource sampling, then the run's figures.

Locust runs with its managed window (loadtests/window.py) while the sampler records both
process trees and the machine's CPU, and the server is watched: its main process exiting
fails the run, whatever else happened. Afterwards window.json says when the windows were,
latency.json (our own microsecond recording) gives each window's figures, the server's own
counters say what it answered in the same windows, and the judge says whether the run is
ok, failed or invalid.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from loadtests.window import WindowRecord
from scripts.harness.capacity import capacity
from scripts.harness.distributed import connect_failure, for_run
from scripts.harness.exact import (
    count_warning,
    read_latency,
    read_server_counts,
    window_figures,
)
from scripts.harness.judge import ServerExit, is_noisy, judge
from scripts.harness.locust_runner import LoadRequest, Progress, run_locust
from scripts.harness.machine_cpu import MachineCpu
from scripts.harness.open_figures import read_arrival
from scripts.harness.plan import BenchPlan
from scripts.harness.sampling import ResourceSampler, ResourceSummary, Sample, summarize
from scripts.harness.worker_figures import locust_workers, worker_signs
from scripts.records.locust_csv import read_locust_window
from scripts.records.schema import (
    RunSummary,
    Status,
    StepSummary,
    WindowFigures,
    WindowResources,
    read_window,
)
from servers.app import SeedPlan
from servers.supervisor import RunningServer


@dataclass(frozen=True)
class RunIdentity:
    """What a summary repeats from meta.json."""

    run_id: str
    server: str
    workers: int
    threads: int | None


@dataclass(frozen=True)
class ExternalLoad:
    """A remote target in place of a server: its URL, the CA file Locust verifies its TLS
    against, and how to ask whether it still answers after the load (no process to watch)."""

    base_url: str
    ca_file: Path | None
    answering: Callable[[], bool]


@dataclass(frozen=True)
class LoadOutcome:
    """What the load phase found: the verdict, the figures (None when nothing was
    measured), and the facts meta.json records about the load."""

    status: Status
    reason: str
    summary: RunSummary | None
    locust_exit_code: int
    observed_cpus: dict[str, list[int]]
    load_span_s: float | None
    logins_and_warmup_s: float | None
    worker_facts: Mapping[str, object] | None = None  # meta.json: load_workers, locust_workers


@dataclass
class ServerWatch:
    """Notices, once a second while Locust runs, when the server's main process exits."""

    server: RunningServer
    exited_at: float | None = None
    exit_code: int | None = None

    def check(self) -> None:
        if self.exited_at is None and not self.server.child.running:
            self.exited_at = time.time()
            self.exit_code = self.server.child.exit_code

    def verdict(self, window: WindowRecord | None) -> ServerExit | None:
        self.check()
        if self.exited_at is None or self.exit_code is None:
            return None
        opened = window.window_started_at if window else None
        into = None if opened is None else max(0.0, self.exited_at - opened)
        return ServerExit(self.exit_code, into)


def listener_accepts(host: str, port: int, socket_path: Path | None = None) -> bool:
    """Whether the server's socket still accepts a connection (an open port is not health,
    but a closed one after the load is a dead server); behind nginx the server listens on
    a Unix socket, and that is the one to try."""
    try:
        if socket_path is not None:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as unix:
                unix.settimeout(2.0)
                unix.connect(str(socket_path))
            return True
        with socket.create_connection((host, port), timeout=2.0):
            return True
    except OSError:
        return False


def window_resources(
    figures: WindowFigures,
    resources: ResourceSummary,
    lag: WindowRecord | dict[str, object],
    machine: MachineCpu,
    bounds: tuple[float, float],
) -> WindowResources:
    """The resource, generator and machine-noise figures of one window."""
    deployment_cores = (resources.deployment_cpu_pct or 0.0) / 100
    lag_mean = lag.get("loop_lag_mean_ms") if isinstance(lag, dict) else lag.loop_lag_mean_ms
    lag_p95 = lag.get("loop_lag_p95_ms") if isinstance(lag, dict) else lag.loop_lag_p95_ms
    usage = machine.usage(*bounds)
    other = None
    if usage is not None and resources.server_cpu_pct is not None:
        ours = (resources.deployment_cpu_pct or 0.0) + (resources.loadgen_cpu_pct or 0.0)
        # never below 0: the samplers read at slightly different moments
        other = max(0.0, usage.busy_pct - ours)
    steal = usage.steal_pct if usage else None
    goodput = figures.goodput_rps if figures.goodput_rps is not None else figures.rps
    return WindowResources(
        server_cpu_pct=resources.server_cpu_pct,
        server_rss_peak_mb=resources.server_rss_peak_mb,
        server_threads_peak=resources.server_threads_peak,
        rps_per_cpu_core=goodput / deployment_cores if deployment_cores > 0 else None,
        loadgen_cpu_pct=resources.loadgen_cpu_pct,
        loadgen_max_process_cpu_pct=resources.loadgen_max_process_cpu_pct,
        loadgen_loop_lag_mean_ms=lag_mean if isinstance(lag_mean, float) else None,
        loadgen_loop_lag_p95_ms=lag_p95 if isinstance(lag_p95, float) else None,
        proxy_cpu_pct=resources.proxy_cpu_pct,
        database_cpu_pct=resources.database_cpu_pct,
        deployment_cpu_pct=resources.deployment_cpu_pct,
        steal_pct=steal,
        other_cpu_pct=other,
        machine_noisy=is_noisy(steal, other),
    )


def _window_bounds(window: WindowRecord, users: tuple[int, ...]) -> list[tuple[int, float, float]]:
    """(users, start, end) of every measured window."""
    if window.steps:
        return [
            (int(step["users"]), float(step["window_started_at"]), float(step["window_ended_at"]))
            for step in window.steps
        ]
    if window.window_started_at is None or window.window_ended_at is None:
        return []
    return [(users[0], float(window.window_started_at), float(window.window_ended_at))]


def _windows(
    window: WindowRecord,
    plan: BenchPlan,
    run_dir: Path,
    samples: list[Sample],
    machine: MachineCpu,
) -> list[StepSummary]:
    """Each measured window's figures: from our own recording (latency.json), or, without
    it, Locust's statistics of the window."""
    recorded = read_latency(run_dir)
    open_windows = read_arrival(run_dir)
    step_files = [str(step.get("stats_file", "")) for step in window.steps]
    windows = []
    for index, (users, start, end) in enumerate(_window_bounds(window, plan.shape.steps)):
        if index < len(recorded):
            figures, endpoints = window_figures(recorded[index])
        else:
            csv_name = step_files[index] if window.steps else "locust_stats.csv"
            if not (run_dir / csv_name).exists():
                continue
            figures, endpoints = read_locust_window(run_dir / csv_name)
        lag: WindowRecord | dict[str, object] = window.steps[index] if window.steps else window
        windows.append(
            StepSummary(
                users=users,
                window_s=end - start,
                figures=figures,
                resources=window_resources(
                    figures, summarize(samples, start, end), lag, machine, (start, end)
                ),
                endpoints=endpoints,
                arrival=open_windows[index] if index < len(open_windows) else None,
            )
        )
    return windows


def _load_span(window: WindowRecord | None) -> tuple[float | None, float | None]:
    """(seconds from the users' start to the last window's end, those less the windows)."""
    load_started_at = None if window is None else window.load_started_at or window.spawned_at
    if window is None or not window.completed or not load_started_at:
        return None, None
    span_s = float(window.window_ended_at or 0.0) - float(load_started_at)
    windows_s = (
        sum(float(step["window_s"]) for step in window.steps)
        if window.steps
        else float(window.window_s or 0.0)
    )
    return span_s, span_s - windows_s


def _ground_truth(
    run_dir: Path, windows: list[StepSummary]
) -> tuple[int | None, int | None, list[str]]:
    """(what the server answered in the windows, its restarted workers, warnings)."""
    counts = read_server_counts(run_dir)
    if not counts:
        return None, None, []
    warnings = []
    for step, count in zip(windows, counts, strict=False):
        warning = count_warning(step.figures.requests, count.served_total)
        if warning:
            warnings.append(f"{step.users} users: {warning}" if len(windows) > 1 else warning)
    served = sum(count.served_total for count in counts)
    restarts = sum(len(count.new_pids) for count in counts)
    return served, restarts, warnings


def measure_load(
    plan: BenchPlan,
    server: RunningServer | None,
    seed: SeedPlan,
    run_dir: Path,
    identity: RunIdentity,
    on_progress: Callable[[Progress], None],
    tokens_file: Path | None = None,
    server_counts_dir: Path | None = None,
    watched: Mapping[str, int] | None = None,
    external: ExternalLoad | None = None,
) -> LoadOutcome:
    """Run Locust against `server` with resource sampling and judge what it measured.
    `watched` names every process tree of the deployment by role (ServerSession.watched():
    server, proxy, database); without it only the server is sampled. With `external` (and
    no server) the load goes to a remote target: only the generator is sampled here."""
    if server is not None:
        base_url = server.base_url
    elif external is not None:
        base_url = external.base_url
    else:
        raise ValueError("measure_load needs a server or an external target")
    load = LoadRequest(
        base_url=base_url,
        scenario=plan.scenario,
        shape=plan.shape,
        spawn_rate=plan.spawn_rate,
        warmup_s=plan.warmup_s,
        duration_s=plan.duration_s,
        seeded_users=seed.users,
        user_prefix=seed.prefix,
        user_password=seed.password,
        run_dir=run_dir,
        cpus=plan.placement.loadgen_cpus,
        processes=plan.locust_processes,
        workers=for_run(plan.load_workers),
        burn_ms=plan.loadgen_burn_ms,
        tokens_file=tokens_file,
        server_counts_dir=server_counts_dir,
        setup_failures_expected=plan.errors_expected,
        tls_ca_file=external.ca_file if external is not None else None,
        arrival=plan.arrival,
    )
    sampler = ResourceSampler(run_dir / "resources.csv")
    roles = watched if watched is not None or server is None else {"server": server.pid}
    for role, session_id in (roles or {}).items():
        sampler.watch(role, session_id)
    sampler.start()
    watch = ServerWatch(server) if server is not None else None

    def progress(update: Progress) -> None:
        if watch is not None:
            watch.check()
        on_progress(update)

    try:
        with MachineCpu() as machine:
            locust_status = run_locust(
                load, progress, on_started=lambda pid: sampler.watch("loadgen", pid)
            )
    finally:
        samples = sampler.stop()
    window = read_window(load.window_file) if load.window_file.exists() else None
    server_exit = watch.verdict(window) if watch is not None else None
    if server is not None:
        listener_lost = server_exit is None and not listener_accepts(
            server.request.host, server.request.port, server.request.socket_path
        )
    else:
        listener_lost = external is not None and not external.answering()
    span_s, logins_and_warmup_s = _load_span(window)
    whole = (
        summarize(samples, float(window.window_started_at), float(window.window_ended_at or 0.0))
        if window is not None and window.window_started_at is not None
        else summarize(samples, 0.0, 0.0)
    )
    observed = whole.observed_cpus()
    windows: list[StepSummary] = []
    if window is not None and window.completed:
        windows = _windows(window, plan, run_dir, samples, machine)
    last = windows[-1] if windows else None
    workers = locust_workers(window)
    status, reason = judge(
        window,
        locust_status,
        last.figures if last else None,
        whole,
        server_exit=server_exit,
        listener_lost=listener_lost,
        max_error_rate=plan.max_error_rate,
        errors_expected=plan.errors_expected,
        worker_signs=worker_signs(workers),
    )
    failed_gathering = connect_failure(window, load.load_workers)
    if failed_gathering is not None:
        status, reason = Status.FAILED, failed_gathering
    summary = None
    if last is not None and window is not None:
        served, restarts, warnings = _ground_truth(run_dir, windows)
        if any(step.resources.machine_noisy for step in windows):
            warnings.append(
                "the machine was noisy during the window (steal or other processes' CPU "
                "above its limit): compare with care"
            )
        summary = RunSummary(
            run_id=identity.run_id,
            server=identity.server,
            scenario=plan.scenario,
            status=status,
            users=plan.users,
            workers=identity.workers,
            threads=identity.threads,
            window_s=last.window_s,
            figures=last.figures,
            # a step run's top-level figures are its last (largest) step's, resources included
            resources=last.resources,
            endpoints=last.endpoints,
            arrival=last.arrival,
            logins_ready=window.users_ready,
            logins_failed=window.logins_failed,
            loadgen_cpu_warning=window.cpu_warning,
            shape="steps" if plan.shape.stepped else None,
            steps=tuple(windows) if plan.shape.stepped else (),
            slo=(
                capacity(windows, plan.slo_p99_ms).as_json()
                if plan.slo_p99_ms is not None
                else None
            ),
            server_counted=served,
            worker_restarts=restarts,
            warnings=tuple(warnings),
            loadgen_workers=workers,
        )
    return LoadOutcome(
        status=status,
        reason=reason,
        summary=summary,
        locust_exit_code=locust_status,
        observed_cpus=observed,
        load_span_s=span_s,
        logins_and_warmup_s=logins_and_warmup_s,
        worker_facts=(
            {"load_workers": load.load_workers.as_meta(), "locust_workers": workers}
            if load.load_workers.distributed
            else None
        ),
    )
