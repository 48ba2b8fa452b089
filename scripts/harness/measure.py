"""The load phase of one bench run: Locust with resource sampling, then the run's figures.

Locust runs with its managed window (loadtests/window.py) while the sampler records both
process trees; afterwards window.json says what was measured, Locust's CSVs give the
figures of each window, and the judge says whether the run is ok, failed or invalid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from loadtests.window import WindowRecord
from scripts.harness.capacity import capacity
from scripts.harness.judge import judge
from scripts.harness.locust_runner import LoadRequest, Progress, run_locust
from scripts.harness.plan import BenchPlan
from scripts.harness.sampling import ResourceSampler, ResourceSummary, Sample, summarize
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


def window_resources(
    figures: WindowFigures, resources: ResourceSummary, lag: WindowRecord | dict[str, object]
) -> WindowResources:
    """The resource and generator figures of one window, as summary.json carries them."""
    server_cores = (resources.server_cpu_pct or 0.0) / 100
    lag_mean = lag.get("loop_lag_mean_ms") if isinstance(lag, dict) else lag.loop_lag_mean_ms
    lag_p95 = lag.get("loop_lag_p95_ms") if isinstance(lag, dict) else lag.loop_lag_p95_ms
    return WindowResources(
        server_cpu_pct=resources.server_cpu_pct,
        server_rss_peak_mb=resources.server_rss_peak_mb,
        rps_per_cpu_core=figures.rps / server_cores if server_cores > 0 else None,
        loadgen_cpu_pct=resources.loadgen_cpu_pct,
        loadgen_max_process_cpu_pct=resources.loadgen_max_process_cpu_pct,
        loadgen_loop_lag_mean_ms=lag_mean if isinstance(lag_mean, float) else None,
        loadgen_loop_lag_p95_ms=lag_p95 if isinstance(lag_p95, float) else None,
    )


def _steps(window: WindowRecord, samples: list[Sample], run_dir: Path) -> list[StepSummary]:
    steps = []
    for step in window.steps:
        step_resources = summarize(samples, step["window_started_at"], step["window_ended_at"])
        figures, endpoints = read_locust_window(run_dir / step["stats_file"])
        steps.append(
            StepSummary(
                users=int(step["users"]),
                window_s=float(step["window_s"]),
                figures=figures,
                resources=window_resources(figures, step_resources, step),
                endpoints=endpoints,
            )
        )
    return steps


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


def measure_load(
    plan: BenchPlan,
    server: RunningServer,
    seed: SeedPlan,
    run_dir: Path,
    identity: RunIdentity,
    on_progress: Callable[[Progress], None],
    tokens_file: Path | None = None,
) -> LoadOutcome:
    """Run Locust against `server` with resource sampling and judge what it measured."""
    load = LoadRequest(
        base_url=server.base_url,
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
        burn_ms=plan.loadgen_burn_ms,
        tokens_file=tokens_file,
    )
    sampler = ResourceSampler(run_dir / "resources.csv")
    sampler.watch("server", server.pid)
    sampler.start()
    try:
        locust_status = run_locust(
            load, on_progress, on_started=lambda pid: sampler.watch("loadgen", pid)
        )
    finally:
        samples = sampler.stop()
    window = read_window(load.window_file) if load.window_file.exists() else None
    span_s, logins_and_warmup_s = _load_span(window)
    bounds = (
        (float(window.window_started_at), float(window.window_ended_at or 0.0))
        if window is not None and window.window_started_at is not None
        else (0.0, 0.0)
    )
    resources = summarize(samples, *bounds)
    observed = {"server": list(resources.server_cpus), "loadgen": list(resources.loadgen_cpus)}
    steps: list[StepSummary] = []
    last: StepSummary | None = None
    if window is not None and window.completed:
        if plan.shape.stepped:
            steps = _steps(window, samples, run_dir)
            last = steps[-1] if steps else None
        elif (run_dir / "locust_stats.csv").exists():
            figures, endpoints = read_locust_window(run_dir / "locust_stats.csv")
            last = StepSummary(
                users=plan.shape.first_users,
                window_s=float(window.window_s or 0.0),
                figures=figures,
                resources=window_resources(figures, resources, window),
                endpoints=endpoints,
            )
    status, reason = judge(window, locust_status, last.figures if last else None, resources)
    summary = None
    if last is not None and window is not None:
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
            logins_ready=window.users_ready,
            logins_failed=window.logins_failed,
            loadgen_cpu_warning=window.cpu_warning,
            shape="steps" if plan.shape.stepped else None,
            steps=tuple(steps),
            slo=(
                capacity(list(steps) or [last], plan.slo_p99_ms).as_json()
                if plan.slo_p99_ms is not None
                else None
            ),
        )
    return LoadOutcome(
        status=status,
        reason=reason,
        summary=summary,
        locust_exit_code=locust_status,
        observed_cpus=observed,
        load_span_s=span_s,
        logins_and_warmup_s=logins_and_warmup_s,
    )
