"""One run of `make bench`: one server, one fresh database, one published run directory.

The run directory is assembled under runs/.partial-<run_id>/ and published whatever happens
(an interrupted or failed run is recorded as failed, with its reason); the server session
(scripts/harness/session.py) guarantees the server is stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from loadtests.scenarios import SCENARIOS
from scripts.harness.console import Console
from scripts.harness.measure import LoadOutcome, RunIdentity, measure_load
from scripts.harness.not_written import results_not_written
from scripts.harness.outcome import RunOutcome
from scripts.harness.plan import BenchPlan, ServerRun
from scripts.harness.robustness import BENCH_SLOW_CLIENTS, robustness_checks
from scripts.harness.session import (
    EXPECTED_FAILURES,
    ServerSession,
    SessionFailedError,
    SessionPlan,
    ending,
)
from scripts.records.machine import MachineInfo
from scripts.records.schema import RunMeta, Status
from scripts.records.store import RunDirectory, iso, new_run_id, utc_now, write_json
from servers.app import AppSettings, IssuedTokens, SeedPlan
from servers.ports import free_port
from servers.registry import SERVERS_DIR
from servers.supervisor import LaunchRequest, RunningServer, stop


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
    tokens: IssuedTokens | None = None
    outcomes: list[RunOutcome] = field(default_factory=list)


def base_meta(
    context: BenchContext,
    server: ServerRun,
    run_id: str,
    sequence: int,
    repeat_index: int,
    launch: LaunchRequest,
) -> RunMeta:
    """meta.json as it stands before the run: `failed` until the run says otherwise."""
    plan, spec = context.plan, server.spec
    versions = context.machine.versions(spec.version_distribution, *spec.companion_distributions)
    return RunMeta(
        run_id=run_id,
        bench_id=context.bench_id,
        sequence=sequence,
        repeat_index=repeat_index,
        server=spec.name,
        server_version=versions[spec.version_distribution],
        interface=spec.interface.value,
        production_grade=spec.production_grade,
        argv=tuple(launch.argv),
        config_file=spec.config_file,
        config_text=(SERVERS_DIR / spec.config_file).read_text() if spec.config_file else None,
        workers=server.workers,
        threads=server.threads if spec.threads_supported else None,
        threads_note=spec.threads_note,
        workers_rule=server.workers_rule,
        scenario=plan.scenario,
        users=plan.users,
        spawn_rate=plan.spawn_rate,
        warmup_s=plan.warmup_s,
        duration_s=plan.duration_s,
        access_lifetime_s=plan.access_lifetime_s,
        host=launch.host,
        port=launch.port,
        base_url=launch.base_url,
        status=Status.FAILED,
        reason="the run did not finish",
        git_sha=context.machine.git_sha,
        git_dirty=context.machine.git_dirty,
        versions=versions,
        cpu_model=context.machine.cpu_model,
        cpu_count=context.machine.cpu_count,
        cpu_affinity=tuple(context.machine.cpu_affinity),
        database_engine="postgresql" if plan.deployment.database_plan else "sqlite",
        profile=plan.deployment.name,
        checks=plan.checks,
        placement=plan.placement.as_meta(),
        shape=plan.shape.name,
        user_steps=plan.shape.steps if plan.shape.stepped else (),
        slo_p99_ms=plan.slo_p99_ms,
        locust_processes=plan.locust_processes,
        tokens=_token_facts(context.tokens),
        max_error_rate=plan.max_error_rate,
        errors_expected=plan.errors_expected,
        shares_machine=plan.share_machine,
        max_requests=plan.max_requests,
        load_model="closed" if plan.arrival is None else "open",
        arrival_rates_rps=plan.arrival.rates_rps if plan.arrival else (),
        max_in_flight=plan.users if plan.arrival else None,
    )


def _token_facts(tokens: IssuedTokens | None) -> dict[str, object]:
    """How the load's users got their tokens, for meta.json."""
    if tokens is None:
        return {"source": "login over HTTP (POST /api/auth/token/, one PBKDF2 hash each)"}
    return {
        "source": "issued by the app (manage.py issue_tokens), no login over HTTP",
        "users": len(tokens.users),
        "access_lifetime_s": tokens.access_lifetime_s,
        "issued_at": tokens.issued_at.isoformat(),
        "obtain_s": tokens.command_wall_s,
    }


def overhead_s(timings: dict[str, float]) -> float:
    """Time the harness itself added: database copy, server start and stop, the response
    check, Locust's start-up and exit with its final CSV write. The users' logins, the
    warm-up and the windows (Locust's span from its users' start to the last window's end)
    are the load's own time, not overhead; a run that never got that far counts whole."""
    phases = ("prepare", "start", "check", "load", "stop")
    total_s = sum(timings.get(phase, 0.0) for phase in phases)
    return total_s - timings.get("load_span", 0.0)


def _with_deployment(meta: RunMeta, session: ServerSession) -> RunMeta:
    """meta.json with what ran around the server, as it ran: the server's real command
    line (behind nginx it binds a Unix socket), nginx's and the database's facts."""
    if session.server is None:
        return meta
    facts = session.deployment
    database = facts.as_meta()["database"]
    proxy = facts.proxy.as_meta() if facts.proxy else None
    if proxy is not None:
        # written into the run directory while it was still .partial-<id>: the name inside
        # the published run directory is the one that stays true
        proxy["config_path"] = Path(str(proxy["config_path"])).name
    return replace(
        meta,
        argv=facts.server_argv,
        proxy=proxy,
        database=database if isinstance(database, dict) else None,
    )


def _robustness(
    running: RunningServer,
    launch: LaunchRequest,
    tokens: IssuedTokens | None,
    slow_s: float | None,
) -> dict[str, object]:
    """CHECKS=robustness against the deployment's front, after the load; the graceful stop
    ends the server, which the session then finds stopped."""
    if tokens is None or not tokens.users:
        raise SessionFailedError("robustness checks need an issued access token")
    slow = BENCH_SLOW_CLIENTS if slow_s is None else replace(BENCH_SLOW_CLIENTS, duration_s=slow_s)
    figures = robustness_checks(
        launch.host, launch.port, tokens.users[0].access, lambda: stop(running), slow
    )
    return figures.to_json()


def _with_load(meta: RunMeta, load: LoadOutcome) -> RunMeta:
    return meta.finished(
        load.status,
        load.reason,
        locust_exit_code=load.locust_exit_code,
        observed_cpus=load.observed_cpus,
        **(load.worker_facts or {}),
    )


def run_one(
    context: BenchContext, server: ServerRun, sequence: int, repeat_index: int, console: Console
) -> RunOutcome:
    """Measure one server once and publish its run directory; KeyboardInterrupt is re-raised
    after the run was recorded as interrupted."""
    plan, spec = context.plan, server.spec
    started_at = utc_now()
    run_id = new_run_id(started_at, spec.name, plan.scenario, plan.users)
    directory = RunDirectory(plan.results_dir / "runs", run_id)
    run_dir = directory.create()
    db_path = context.scratch / f"{run_id}.sqlite3"
    counts_dir = context.scratch / f"counts-{run_id}"
    counts_dir.mkdir()
    app = AppSettings(
        secret_key=context.secret_key,
        database_url=f"sqlite:///{db_path}",
        access_lifetime_s=plan.access_lifetime_s,
        request_counts_dir=counts_dir,
        # remote Locust workers send the address they reach the server at as Host
        allowed_hosts=",".join(dict.fromkeys(("127.0.0.1", "localhost", plan.host))),
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
        max_requests=plan.max_requests,
    )
    meta = replace(
        base_meta(context, server, run_id, sequence, repeat_index, launch),
        started_at=iso(started_at),
        login_throttle={
            "user_rate": app.login_throttle_user_rate,
            "address_rate": app.login_throttle_address_rate,
            "why": "raised for the benchmark: its response check and the login scenario log "
            "in from one address; the app's own defaults are strict",
        },
    )
    write_json(run_dir / "meta.json", meta.to_json())
    label = f"[{sequence + 1}/{len(plan.run_order)} {spec.name}]"
    session = ServerSession(
        SessionPlan(
            launch=launch,
            seed=context.seed,
            scenario=SCENARIOS[plan.scenario],
            template_db=context.template_db,
            db_path=db_path,
            proxy=plan.deployment.proxy_plan,
            database=plan.deployment.database_plan,
        )
    )
    timings = session.timer.seconds
    load: LoadOutcome | None = None
    robustness: dict[str, object] | None = None
    raised: BaseException | None = None
    try:
        console.say(
            f"{label} starting {spec.name} ({server.workers} worker(s)) on {launch.base_url}"
            + ("" if plan.deployment.name == "dev" else f", {plan.deployment.name}")
        )
        with session as running:
            with session.timer.phase("load"):
                load = measure_load(
                    plan,
                    running,
                    context.seed,
                    run_dir,
                    RunIdentity(run_id, spec.name, server.workers, meta.threads),
                    lambda progress: console.progress(label, plan.window_total_s, progress),
                    tokens_file=context.tokens.path if context.tokens else None,
                    server_counts_dir=counts_dir,
                    watched=session.watched(),
                )
            meta = _with_deployment(meta, session)
            if "robustness" in plan.checks and load.summary is not None:
                console.say(f"{label} robustness checks (slow clients, oversize, graceful stop)")
                with session.timer.phase("checks"):
                    robustness = _robustness(
                        running, launch, context.tokens, plan.robustness_slow_s
                    )
    except BaseException as error:  # recorded, published, then re-raised unless expected
        raised = error
        meta = _with_deployment(meta, session)
    if raised is not None:
        meta = meta.finished(*ending(raised))
    elif load is not None:
        meta = _with_load(meta, load)
        if load.load_span_s is not None and load.logins_and_warmup_s is not None:
            timings["load_span"] = load.load_span_s
            timings["logins_and_warmup"] = load.logins_and_warmup_s
    if session.stop_problem:
        joined = "; ".join(filter(None, [meta.reason, session.stop_problem]))
        meta = meta.finished(Status.FAILED, joined)
    meta = replace(meta, finished_at=iso(utc_now()), timings_s=dict(timings))
    summary = (
        replace(load.summary, status=meta.status, robustness=robustness)
        if load and load.summary
        else None
    )
    if summary is not None:
        write_json(run_dir / "summary.json", summary.to_json())
    write_json(run_dir / "meta.json", meta.to_json())
    final = directory.publish()
    if raised is not None and (
        not isinstance(raised, EXPECTED_FAILURES) or results_not_written(raised)
    ):
        raise raised
    return RunOutcome(
        run_id=run_id,
        server=spec.name,
        status=meta.status,
        reason=meta.reason,
        path=final,
        summary=summary,
        overhead_s=overhead_s(timings),
        logins_warmup_s=timings.get("logins_and_warmup"),
    )


def outcome_line(outcome: RunOutcome, label: str) -> str:
    """The line printed after each run."""
    verdict = outcome.status.value + (f": {outcome.reason}" if outcome.reason else "")
    return f"{label} {verdict} -> {outcome.path}"
