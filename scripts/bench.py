"""`make bench`: run the plan, server by server, and write one result directory per run.

For each run: a fresh copy of a database migrated and seeded once per bench, the server
through the supervisor, a response check before any load, Locust with a managed measured
window, the server stopped (always), then meta.json and summary.json written and the run
directory published. One server failing is a failed run; the others still run.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from loadtests.scenarios import SCENARIOS
from scripts.harness.capacity import capacity
from scripts.harness.console import Console, slo_lines, summary_table
from scripts.harness.locust_runner import LoadRequest, run_locust
from scripts.harness.plan import BenchPlan, ServerRun, build_parser, plan_from_args
from scripts.harness.preflight import check_responses
from scripts.harness.sampling import SATURATION_CPU_PCT, ResourceSampler, ResourceSummary, summarize
from scripts.options.parsing import fail_usage
from scripts.records.store import (
    SCHEMA_VERSION,
    MachineInfo,
    RunDirectory,
    iso,
    new_run_id,
    read_json,
    summarize_locust_csv,
    utc_now,
    write_json,
)
from servers.app import (
    AppCommandError,
    AppSettings,
    SeedPlan,
    prepare_database,
    shared_secret_key,
)
from servers.ports import free_port
from servers.registry import SERVERS_DIR
from servers.supervisor import LaunchRequest, RunningServer, ServerStartError, start, stop

INTERRUPTED = "interrupted by the user (SIGINT/SIGTERM)"
# `make bench` with an SLO exits with this when every run was ok but a server missed it
SLO_MISSED_STATUS = 3
# A healthy Locust process wakes about 1 ms late here; a starved one tens of ms.
LOOP_LAG_LIMIT_MS = 5.0


@dataclass
class RunOutcome:
    """What the summary table shows for one run."""

    run_id: str
    server: str
    status: str
    reason: str
    path: Path
    summary: dict[str, Any] | None = None
    overhead_s: float = 0.0
    logins_warmup_s: float | None = None

    @property
    def slo_missed(self) -> bool:
        slo = (self.summary or {}).get("slo")
        return isinstance(slo, dict) and not slo["met_everywhere"]


@dataclass
class BenchContext:
    """What every run of one bench shares."""

    plan: BenchPlan
    bench_id: str
    machine: MachineInfo
    template_db: Path
    secret_key: str
    seed: SeedPlan
    scratch: Path
    outcomes: list[RunOutcome] = field(default_factory=list)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _base_meta(
    context: BenchContext,
    server: ServerRun,
    run_id: str,
    sequence: int,
    repeat_index: int,
    launch: LaunchRequest,
) -> dict[str, Any]:
    plan, spec = context.plan, server.spec
    config_text = None
    if spec.config_file:
        config_text = (SERVERS_DIR / spec.config_file).read_text()
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "bench_id": context.bench_id,
        "sequence": sequence,
        "repeat_index": repeat_index,
        "server": spec.name,
        "server_version": context.machine.versions(spec.version_distribution)[
            spec.version_distribution
        ],
        "interface": spec.interface.value,
        "production_grade": spec.production_grade,
        "argv": launch.argv,
        "config_file": spec.config_file,
        "config_text": config_text,
        "workers": server.workers,
        "threads": server.threads if spec.threads_supported else None,
        "threads_note": spec.threads_note,
        "scenario": plan.scenario,
        "users": plan.users,
        "spawn_rate": plan.spawn_rate,
        "warmup_s": plan.warmup_s,
        "duration_s": plan.duration_s,
        "access_lifetime_s": plan.access_lifetime_s,
        "host": launch.host,
        "port": launch.port,
        "base_url": launch.base_url,
        "started_at": None,
        "finished_at": None,
        "status": "failed",
        "reason": "the run did not finish",
        "git_sha": context.machine.git_sha,
        "git_dirty": context.machine.git_dirty,
        "versions": context.machine.versions(spec.version_distribution),
        "cpu_model": context.machine.cpu_model,
        "cpu_count": context.machine.cpu_count,
        "cpu_affinity": context.machine.cpu_affinity,
        "database_engine": "sqlite",
        "placement": plan.placement.as_meta(),
        "shape": "steps" if plan.user_steps else "constant",
        "user_steps": list(plan.user_steps),
        "slo_p99_ms": plan.slo_p99_ms,
        "locust_processes": plan.locust_processes,
        "timings_s": {},
    }


def _window_bounds(window: dict[str, Any] | None) -> tuple[float, float]:
    if not window or window.get("window_started_at") is None:
        return (0.0, 0.0)
    return (float(window["window_started_at"]), float(window.get("window_ended_at") or 0.0))


def _judge(
    window: dict[str, Any] | None,
    locust_status: int,
    summary: dict[str, Any] | None,
    resources: ResourceSummary,
) -> tuple[str, str]:
    """(status, reason) of a run whose load phase finished."""
    if window is None:
        return "failed", f"Locust exited with status {locust_status} before any window"
    if not window.get("completed"):
        return "failed", window.get("reason") or "the measured window did not complete"
    if locust_status not in (0, 1):
        return "failed", f"Locust exited with status {locust_status} (error)"
    if summary is None or summary["requests"] == 0:
        return "failed", "no request completed in the measured window"
    if summary["failures"] == summary["requests"]:
        return "failed", "every request in the measured window failed"
    busiest = resources.loadgen_max_process_cpu_pct
    lag_ms = window.get("loop_lag_mean_ms")
    signs = []
    if window.get("cpu_warning"):
        signs.append("Locust's own CPU warning fired")
    if busiest is not None and busiest > SATURATION_CPU_PCT:
        signs.append(f"its busiest process used {busiest:.0f} % of a CPU")
    if lag_ms is not None and lag_ms > LOOP_LAG_LIMIT_MS:
        signs.append(
            f"its event loop woke {lag_ms:.1f} ms late on average (limit "
            f"{LOOP_LAG_LIMIT_MS:.0f} ms), so response times include waiting inside Locust"
        )
    if signs:
        return "invalid", (
            "load generator saturated: "
            + "; ".join(signs)
            + ". Try LOCUST_PROCESSES=2, fewer USERS, or a quieter machine"
        )
    return "ok", ""


def run_one(
    context: BenchContext, server: ServerRun, sequence: int, repeat_index: int, console: Console
) -> RunOutcome:
    plan, spec = context.plan, server.spec
    started_at = utc_now()
    run_id = new_run_id(started_at, spec.name, plan.scenario, plan.users)
    directory = RunDirectory(plan.results_dir / "runs", run_id)
    run_dir = directory.create()
    db_path = context.scratch / f"{run_id}.sqlite3"
    app = AppSettings(
        secret_key=context.secret_key,
        database_url=f"sqlite:///{db_path}",
        access_lifetime_s=plan.access_lifetime_s,
    )
    launch = LaunchRequest(
        spec=spec,
        app=app,
        host=plan.host,
        port=plan.port or free_port(plan.host),
        workers=server.workers,
        threads=server.threads,
        log_path=run_dir / "server.log",
        cpus=plan.placement.server_cpus,
    )
    meta = _base_meta(context, server, run_id, sequence, repeat_index, launch)
    meta["started_at"] = iso(started_at)
    timings: dict[str, float] = meta["timings_s"]
    write_json(run_dir / "meta.json", meta)
    label = f"[{sequence + 1}/{len(plan.run_order)} {spec.name}]"
    summary: dict[str, Any] | None = None
    running: RunningServer | None = None
    interrupted = False
    try:
        mark = time.monotonic()
        shutil.copyfile(context.template_db, db_path)
        timings["prepare"] = time.monotonic() - mark
        console.say(
            f"{label} starting {spec.name} ({server.workers} worker(s)) on {launch.base_url}"
        )
        mark = time.monotonic()
        running = start(launch)
        timings["start"] = time.monotonic() - mark
        mark = time.monotonic()
        problems = check_responses(
            running.base_url,
            SCENARIOS[plan.scenario],
            context.seed.username(1),
            context.seed.password,
        )
        timings["check"] = time.monotonic() - mark
        if problems:
            meta["status"] = "failed"
            meta["reason"] = "response check failed: " + "; ".join(problems[:5])
        else:
            mark = time.monotonic()
            try:
                summary = _load_phase(context, running, run_dir, meta, label, console)
            finally:
                timings["load"] = time.monotonic() - mark
    except KeyboardInterrupt:
        interrupted = True
        meta["status"], meta["reason"] = "failed", INTERRUPTED
    except (ServerStartError, AppCommandError, OSError, TimeoutError) as error:
        meta["status"], meta["reason"] = "failed", str(error)
    finally:
        if running is not None and not running.stopped:
            mark = time.monotonic()
            try:
                stop(running)
            except Exception as error:  # the run is still recorded; say what survived
                meta["status"] = "failed"
                meta["reason"] = (meta["reason"] + "; " if meta["reason"] else "") + str(error)
            timings["stop"] = time.monotonic() - mark
        db_path.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        meta["finished_at"] = iso(utc_now())
        if summary is not None:
            summary["status"] = meta["status"]
            write_json(run_dir / "summary.json", summary)
        write_json(run_dir / "meta.json", meta)
        final = directory.publish()
    outcome = RunOutcome(
        run_id=run_id,
        server=spec.name,
        status=meta["status"],
        reason=meta["reason"],
        path=final,
        summary=summary,
        overhead_s=_overhead_s(timings),
        logins_warmup_s=timings.get("logins_and_warmup"),
    )
    if interrupted:
        raise KeyboardInterrupt
    return outcome


def _load_phase(
    context: BenchContext,
    running: RunningServer,
    run_dir: Path,
    meta: dict[str, Any],
    label: str,
    console: Console,
) -> dict[str, Any] | None:
    """Run Locust with resource sampling; set meta's status and return summary.json's
    content (None when nothing was measured)."""
    plan = context.plan
    load = LoadRequest(
        base_url=running.base_url,
        scenario=plan.scenario,
        users=plan.user_steps[0] if plan.user_steps else plan.users,
        spawn_rate=plan.spawn_rate,
        warmup_s=plan.warmup_s,
        duration_s=plan.duration_s,
        seeded_users=context.seed.users,
        user_prefix=context.seed.prefix,
        user_password=context.seed.password,
        run_dir=run_dir,
        cpus=plan.placement.loadgen_cpus,
        processes=plan.locust_processes,
        burn_ms=plan.loadgen_burn_ms,
        steps=plan.user_steps,
    )
    sampler = ResourceSampler(run_dir / "resources.csv")
    sampler.watch("server", running.pid)
    sampler.start()
    window_total_s = plan.duration_s * max(1, len(plan.user_steps))
    try:
        locust_status = run_locust(
            load,
            lambda progress: console.progress(label, window_total_s, progress),
            on_started=lambda pid: sampler.watch("loadgen", pid),
        )
    finally:
        samples = sampler.stop()
    meta["locust_exit_code"] = locust_status
    window = read_json(load.window_file) if load.window_file.exists() else None
    load_started_at = (window or {}).get("load_started_at") or (window or {}).get("spawned_at")
    if window and window.get("completed") and load_started_at:
        span_s = float(window["window_ended_at"]) - float(load_started_at)
        windows_s = sum(float(step["window_s"]) for step in window.get("steps") or [window])
        meta["timings_s"]["load_span"] = span_s
        meta["timings_s"]["logins_and_warmup"] = span_s - windows_s
    resources = summarize(samples, *_window_bounds(window))
    meta["observed_cpus"] = {
        "server": list(resources.server_cpus),
        "loadgen": list(resources.loadgen_cpus),
    }
    figures: dict[str, Any] | None = None
    steps: list[dict[str, Any]] = []
    if window is not None and window.get("completed"):
        if plan.user_steps:
            for step in window.get("steps", []):
                step_resources = summarize(
                    samples, step["window_started_at"], step["window_ended_at"]
                )
                step_figures = summarize_locust_csv(run_dir / step["stats_file"])
                steps.append(
                    {
                        "users": step["users"],
                        "window_s": step["window_s"],
                        **step_figures,
                        **_resource_fields(step_figures, step_resources, step),
                    }
                )
            figures = steps[-1] if steps else None
        elif (run_dir / "locust_stats.csv").exists():
            figures = summarize_locust_csv(run_dir / "locust_stats.csv")
    meta["status"], meta["reason"] = _judge(window, locust_status, figures, resources)
    if figures is None or window is None:
        return None
    summary = _summary_document(meta, window, figures, resources)
    if plan.user_steps:
        summary["shape"] = "steps"
        summary["steps"] = steps
    if plan.slo_p99_ms is not None:
        summary["slo"] = capacity(steps or [summary], plan.slo_p99_ms).as_json()
    return summary


def _resource_fields(
    figures: dict[str, Any], resources: ResourceSummary, window: dict[str, Any]
) -> dict[str, Any]:
    """The resource and generator figures of one window, as summary.json carries them."""
    server_cores = (resources.server_cpu_pct or 0.0) / 100
    return {
        "server_cpu_pct": resources.server_cpu_pct,
        "server_rss_peak_mb": resources.server_rss_peak_mb,
        "rps_per_cpu_core": figures["rps"] / server_cores if server_cores > 0 else None,
        "loadgen_cpu_pct": resources.loadgen_cpu_pct,
        "loadgen_max_process_cpu_pct": resources.loadgen_max_process_cpu_pct,
        "loadgen_loop_lag_mean_ms": window.get("loop_lag_mean_ms"),
        "loadgen_loop_lag_p95_ms": window.get("loop_lag_p95_ms"),
    }


def _overhead_s(timings: dict[str, float]) -> float:
    """Time the harness itself added: database copy, server start and stop, the response
    check, Locust's start-up and exit with its final CSV write. The users' logins, the
    warm-up and the windows (Locust's span from its users' start to the last window's end)
    are the load's own time, not overhead; a run that never got that far counts whole."""
    phases = ("prepare", "start", "check", "load", "stop")
    total_s = sum(timings.get(phase, 0.0) for phase in phases)
    return total_s - timings.get("load_span", 0.0)


def _summary_document(
    meta: dict[str, Any],
    window: dict[str, Any],
    figures: dict[str, Any],
    resources: ResourceSummary,
) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": meta["run_id"],
        "server": meta["server"],
        "scenario": meta["scenario"],
        "status": meta["status"],
        "users": meta["users"],
        "workers": meta["workers"],
        "threads": meta["threads"],
        "window_s": figures.get("window_s", window.get("window_s")),
        # a step run's top-level figures are its last (largest) step's, resources included
        **_resource_fields(figures, resources, window),
        **{key: value for key, value in figures.items() if key not in {"users", "window_s"}},
        "logins": {"ready": window.get("users_ready"), "failed": window.get("logins_failed")},
        "loadgen_cpu_warning": bool(window.get("cpu_warning")),
    }


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    plan = plan_from_args(args, available_cpus=tuple(sorted(os.sched_getaffinity(0))))
    if isinstance(plan, str):
        fail_usage("bench", plan)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    console = Console()
    bench_started = time.monotonic()
    outcomes: list[RunOutcome] = []
    interrupted = False
    with tempfile.TemporaryDirectory(prefix="drf-bench-") as scratch_name:
        scratch = Path(scratch_name)
        seed = SeedPlan(users=plan.users, items_per_user=plan.items_per_user)
        template = scratch / "template.sqlite3"
        secret_key = shared_secret_key()
        context = BenchContext(
            plan=plan,
            bench_id=new_run_id(utc_now(), "bench", plan.scenario, plan.users),
            machine=MachineInfo.collect(),
            template_db=template,
            secret_key=secret_key,
            seed=seed,
            scratch=scratch,
            outcomes=outcomes,
        )
        try:
            console.say(
                f"preparing the database: migrate, seed {plan.users} users x "
                f"{plan.items_per_user} items ..."
            )
            prepare_database(
                AppSettings(secret_key=secret_key, database_url=f"sqlite:///{template}"), seed
            )
            for sequence, (repeat_index, server) in enumerate(plan.run_order):
                outcome = run_one(context, server, sequence, repeat_index, console)
                outcomes.append(outcome)
                verdict = outcome.status + (f": {outcome.reason}" if outcome.reason else "")
                console.say(
                    f"[{sequence + 1}/{len(plan.run_order)} {server.spec.name}] "
                    f"{verdict} -> {outcome.path}"
                )
        except KeyboardInterrupt:
            interrupted = True
            console.say("bench: interrupted; the current run was recorded as failed")
        except AppCommandError as error:
            console.say(f"bench: could not prepare the database: {error}")
            return 1
    if outcomes:
        console.say("\n" + summary_table(outcomes))
        for line in slo_lines(outcomes):
            console.say(line)
    console.say(
        f"\n{len(outcomes)} run(s) in {time.monotonic() - bench_started:.0f} s; "
        f"results in {plan.results_dir / 'runs'}"
    )
    if interrupted:
        return 130
    if plan.make_report:
        from scripts import report

        report_status = report.main(["--results", str(plan.results_dir)])
        if report_status:
            return report_status
    else:
        console.say("charts and tables: make report")
    if not all(outcome.status == "ok" for outcome in outcomes):
        return 1
    return SLO_MISSED_STATUS if any(outcome.slo_missed for outcome in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
