"""`make bench TARGET=...`: measure a deployment that is already running, run by run.

The same measurement as a local run (scripts/harness/bench_run.py) minus what needs the
server on this machine: no database is prepared, no server launched, pinned, sampled or
stopped. Each run waits for the target's /healthz, obtains its users' tokens over HTTP
logins before the window (scripts/harness/remote_tokens.py), runs the response check with
them, then the same Locust load and judge; meta.json's `target` says the deployment was
external and what could not be observed of it. Every run is published, failed ones with
their reason, exactly as local runs are.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

from loadtests.scenarios import SCENARIOS
from scripts.harness.bench_run import outcome_line, overhead_s
from scripts.harness.console import Console
from scripts.harness.locust_runner import LoadRequest
from scripts.harness.measure import ExternalLoad, LoadOutcome, RunIdentity, measure_load
from scripts.harness.not_written import not_written_line, results_not_written
from scripts.harness.outcome import RunOutcome
from scripts.harness.plan import BenchPlan
from scripts.harness.preflight import check_responses
from scripts.harness.remote_ready import answering, wait_ready
from scripts.harness.remote_tokens import RemoteTokens
from scripts.harness.session import (
    EXPECTED_FAILURES,
    PhaseTimer,
    SessionFailedError,
    ending,
)
from scripts.harness.target import EXTERNAL_SERVER, RemoteTarget
from scripts.options.exit_status import ExitStatus
from scripts.options.stop_signals import interrupt_exit_status, interrupt_reason
from scripts.records.machine import MachineInfo
from scripts.records.schema import ExternalTarget, RunMeta, Status
from scripts.records.store import RunDirectory, iso, new_run_id, utc_now, write_json
from servers.app import SeedPlan

UNKNOWN: dict[str, str] = {"engine": "unknown: the deployment's own"}


@dataclass
class RemoteContext:
    """What every run against one target shares: the plan, the machine, and the token
    pairs, kept across runs while they stay valid (fewer logins against the throttle)."""

    plan: BenchPlan
    target: RemoteTarget
    bench_id: str
    machine: MachineInfo
    scratch: Path
    tokens: RemoteTokens

    @property
    def seed(self) -> SeedPlan:
        """The target's seeded accounts as the load addresses them."""
        accounts = self.target.accounts
        return SeedPlan(
            users=self.plan.users,
            items_per_user=0,
            password=accounts.password,
            prefix=accounts.prefix,
        )

    @property
    def usernames(self) -> list[str]:
        return [self.target.accounts.username(index) for index in range(1, self.plan.users + 1)]


def target_facts(target: RemoteTarget) -> ExternalTarget:
    """meta.json's `target` for a run against `target`."""
    return ExternalTarget(
        url=target.url.base_url,
        tls=target.tls_text,
        ca_file=str(target.ca_file) if target.ca_file else None,
    )


def remote_meta(context: RemoteContext, run_id: str, sequence: int, repeat_index: int) -> RunMeta:
    """meta.json before the run: `failed` until the run says otherwise. What the harness
    cannot know of the deployment (its server, version, workers, database) says so."""
    plan, url = context.plan, context.target.url
    return RunMeta(
        run_id=run_id,
        bench_id=context.bench_id,
        sequence=sequence,
        repeat_index=repeat_index,
        server=EXTERNAL_SERVER,
        server_version=None,
        interface="unknown",
        # not known; not marked as a development server either (the report would say so)
        production_grade=True,
        argv=(),
        config_file=None,
        config_text=None,
        workers=0,
        threads=None,
        workers_rule="unknown: the deployment was not launched by the harness",
        scenario=plan.scenario,
        users=plan.users,
        spawn_rate=plan.spawn_rate,
        warmup_s=plan.warmup_s,
        duration_s=plan.duration_s,
        access_lifetime_s=0,
        host=url.host,
        port=url.port,
        base_url=url.base_url,
        status=Status.FAILED,
        reason="the run did not finish",
        started_at=iso(utc_now()),
        git_sha=context.machine.git_sha,
        git_dirty=context.machine.git_dirty,
        # the harness's side only: the deployment's own versions are not visible from here
        versions={
            "python": context.machine.python,
            "locust": context.machine.libraries.get("locust"),
        },
        cpu_model=context.machine.cpu_model,
        cpu_count=context.machine.cpu_count,
        cpu_affinity=tuple(context.machine.cpu_affinity),
        database_engine="unknown",
        database=UNKNOWN,
        profile=EXTERNAL_SERVER,
        placement=plan.placement.as_meta(),
        shape=plan.shape.name,
        user_steps=plan.shape.steps if plan.shape.stepped else (),
        slo_p99_ms=plan.slo_p99_ms,
        locust_processes=plan.locust_processes,
        max_error_rate=plan.max_error_rate,
        errors_expected=plan.errors_expected,
        shares_machine=plan.share_machine,
        target=target_facts(context.target),
    )


def _needed_until(plan: BenchPlan) -> float:
    """Until when (Unix seconds) a run starting now may use its tokens: Locust's own
    safety bound on the run, so a pair kept from earlier runs is never due for renewal
    inside this one."""
    bound = LoadRequest(
        base_url="",
        scenario=plan.scenario,
        shape=plan.shape,
        spawn_rate=plan.spawn_rate,
        warmup_s=plan.warmup_s,
        duration_s=plan.duration_s,
        seeded_users=plan.users,
        user_prefix="",
        user_password="",
        run_dir=Path(),
    ).run_time_limit_s
    return time.time() + bound + 60


def _measure(
    context: RemoteContext,
    run_id: str,
    run_dir: Path,
    timer: PhaseTimer,
    label: str,
    console: Console,
) -> tuple[LoadOutcome, dict[str, object], int | None]:
    """Readiness, tokens, the response check and the load of one run (raising what ends
    it): the load's outcome, meta.json's `tokens` and the access lifetime the target gave."""
    plan, target = context.plan, context.target
    with timer.phase("start"):
        ready_s = wait_ready(target)
    console.say(f"{label} {target.url.base_url} answered /healthz in {ready_s:.1f} s")
    with timer.phase("logins"):
        report = context.tokens.obtain(
            context.usernames, _needed_until(plan), context.scratch / f"tokens-{run_id}.json"
        )
    console.say(
        f"{label} tokens: {report.logins} login(s) over HTTP, {report.reused} reused"
        + (
            f", {report.throttle_wait_s:.0f} s waited out the login throttle"
            if report.throttled
            else ""
        )
    )
    first = context.usernames[0]
    with timer.phase("check"):
        problems = check_responses(
            target.url.base_url,
            SCENARIOS[plan.scenario],
            first,
            target.accounts.password,
            access=context.tokens.access(first),
            tls=target.tls_context(),
        )
    if problems:
        raise SessionFailedError("response check failed: " + "; ".join(problems[:5]))
    with timer.phase("load"):
        load = measure_load(
            plan,
            None,
            context.seed,
            run_dir,
            RunIdentity(run_id, EXTERNAL_SERVER, 0, None),
            lambda progress: console.progress(label, plan.window_total_s, progress),
            tokens_file=context.scratch / f"tokens-{run_id}.json",
            watched={},
            external=ExternalLoad(target.url.base_url, target.ca_file, lambda: answering(target)),
        )
    return load, report.as_meta(plan.users), report.access_lifetime_s


def run_remote_one(
    context: RemoteContext, sequence: int, repeat_index: int, console: Console
) -> RunOutcome:
    """Measure the target once and publish the run directory; KeyboardInterrupt is
    re-raised after the run was recorded as interrupted."""
    plan = context.plan
    run_id = new_run_id(utc_now(), EXTERNAL_SERVER, plan.scenario, plan.users)
    directory = RunDirectory(plan.results_dir / "runs", run_id)
    run_dir = directory.create()
    meta = remote_meta(context, run_id, sequence, repeat_index)
    write_json(run_dir / "meta.json", meta.to_json())
    label = f"[{sequence + 1}/{plan.repeats} {EXTERNAL_SERVER}]"
    console.say(f"{label} measuring {context.target.url.base_url} (TLS {context.target.tls_text})")
    timer = PhaseTimer()
    load: LoadOutcome | None = None
    raised: BaseException | None = None
    try:
        load, tokens, lifetime_s = _measure(context, run_id, run_dir, timer, label, console)
        meta = replace(meta, tokens=tokens, access_lifetime_s=lifetime_s or 0)
    except BaseException as error:  # recorded, published, then re-raised unless expected
        raised = error
        (context.scratch / f"tokens-{run_id}.json").unlink(missing_ok=True)
    timings = timer.seconds
    if raised is not None:
        meta = meta.finished(*ending(raised))
    elif load is not None:
        meta = meta.finished(
            load.status,
            load.reason,
            locust_exit_code=load.locust_exit_code,
            observed_cpus=load.observed_cpus,
            **(load.worker_facts or {}),
        )
        if load.load_span_s is not None and load.logins_and_warmup_s is not None:
            timings["load_span"] = load.load_span_s
            timings["logins_and_warmup"] = load.logins_and_warmup_s
    (context.scratch / f"tokens-{run_id}.json").unlink(missing_ok=True)
    meta = replace(meta, finished_at=iso(utc_now()), timings_s=dict(timings))
    summary = replace(load.summary, status=meta.status) if load and load.summary else None
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
        server=EXTERNAL_SERVER,
        status=meta.status,
        reason=meta.reason,
        path=final,
        summary=summary,
        overhead_s=overhead_s(timings),
        logins_warmup_s=timings.get("logins_and_warmup"),
    )


def run_remote_bench(
    plan: BenchPlan, bench_id: str, scratch: Path, console: Console
) -> tuple[list[RunOutcome], int | None]:
    """Every repeat against the target, in order: (the outcomes, the exit status when the
    bench ended early: interrupted, or results that could not be written)."""
    assert plan.target is not None
    target = plan.target
    context = RemoteContext(
        plan=plan,
        target=target,
        bench_id=bench_id,
        machine=MachineInfo.collect(),
        scratch=scratch,
        tokens=RemoteTokens(
            base_url=target.url.base_url,
            password=target.accounts.password,
            tls=target.tls_context(),
        ),
    )
    outcomes: list[RunOutcome] = []
    try:
        for repeat_index in range(plan.repeats):
            outcome = run_remote_one(context, repeat_index, repeat_index, console)
            outcomes.append(outcome)
            label = f"[{repeat_index + 1}/{plan.repeats} {EXTERNAL_SERVER}]"
            console.say(outcome_line(outcome, label))
    except KeyboardInterrupt as interrupt:
        console.say(
            f"bench: {interrupt_reason(interrupt)}; Locust was stopped and the current run "
            "was recorded as failed (the target itself is not ours to stop)"
        )
        return outcomes, interrupt_exit_status(interrupt)
    except OSError as error:
        if not results_not_written(error):
            raise
        console.say(not_written_line(error, plan.results_dir))
        return outcomes, ExitStatus.NOT_WRITTEN
    return outcomes, None
