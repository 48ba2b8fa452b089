"""`make bench`: run the plan, server by server, and write one result directory per run.

For each run: a fresh copy of a database migrated and seeded once per bench, the server
through the supervisor, a response check before any load, Locust with a managed measured
window, the server stopped (always), then meta.json and summary.json written and the run
directory published (scripts/harness/bench_run.py). One server failing is a failed run; the
others still run. With TARGET (an already-running deployment) nothing is prepared or
launched: scripts/harness/remote_run.py measures it, repeat by repeat.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scripts.harness.bench_run import BenchContext, outcome_line, run_one
from scripts.harness.console import Console, open_model_lines, slo_lines, summary_table
from scripts.harness.machine_lock import machine_lock
from scripts.harness.noise import probe_cpu_sets, probe_noise, write_probe
from scripts.harness.not_written import not_written_line, results_not_written
from scripts.harness.outcome import RunOutcome
from scripts.harness.plan import BenchPlan, parse_bench_args, plan_from_args
from scripts.harness.remote_run import run_remote_bench
from scripts.options.exit_status import ExitStatus
from scripts.options.parsing import fail_usage
from scripts.options.stop_signals import (
    install_stop_signals,
    interrupt_exit_status,
    interrupt_reason,
)
from scripts.records.machine import MachineInfo
from scripts.records.schema import Status
from scripts.records.store import new_run_id, utc_now
from servers.app import (
    AppCommandError,
    AppSettings,
    SeedPlan,
    issue_tokens,
    prepare_database,
    shared_secret_key,
)
from servers.pid_records import reclaim

# `make bench` with an SLO exits with this when every run was ok but a server missed it
SLO_MISSED_STATUS = 3
# ... and with this when a step held too few samples to judge its p99 against the SLO
VERDICT_NOT_REACHED_STATUS = 5


@contextmanager
def _off_server_cpus(plan: BenchPlan) -> Iterator[None]:
    """The harness's own work (sampling, progress) runs on the load generator's CPUs, never
    on the server's: under PIN=split the server's CPUs are the server's alone. The old
    affinity is restored after (an in-process caller, such as a test, keeps its CPUs)."""
    before = os.sched_getaffinity(0)
    if plan.placement.loadgen_cpus:
        os.sched_setaffinity(0, set(plan.placement.loadgen_cpus))
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def _probe_noise(plan: BenchPlan, bench_id: str, console: Console) -> None:
    """The noise probe before the first run (scripts/harness/noise.py): at most about
    3 s, written to <results>/noise/<bench_id>.json; a probe that cannot be written is
    said and skipped, never a reason to stop the bench."""
    sets = probe_cpu_sets(plan.placement, tuple(sorted(os.sched_getaffinity(0))))
    probe = probe_noise(bench_id, sets)
    try:
        write_probe(plan.results_dir, probe)
    except OSError as error:
        console.say(f"noise probe: not written ({error})")
    console.say(probe.line())


def _run_all(plan: BenchPlan, console: Console) -> tuple[list[RunOutcome], int | None]:
    """(the runs' outcomes, the exit status when the bench ended early: interrupted, or
    results that could not be written; None when every run was done)."""
    outcomes: list[RunOutcome] = []
    with tempfile.TemporaryDirectory(prefix="drf-bench-") as scratch_name:
        scratch = Path(scratch_name)
        if plan.target is not None:  # a running deployment: nothing to prepare or launch
            bench_id = new_run_id(utc_now(), "bench", plan.scenario, plan.users)
            _probe_noise(plan, bench_id, console)
            return run_remote_bench(plan, bench_id, scratch, console)
        seed = SeedPlan(users=plan.seeded_accounts, items_per_user=plan.items_per_user)
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
                f"preparing the database: migrate, seed {seed.users} users x "
                f"{plan.items_per_user} items ..."
            )
            template_app = AppSettings(secret_key=secret_key, database_url=f"sqlite:///{template}")
            prepare_database(template_app, seed)
            # Every run's database is a copy of the template, so tokens issued into it once
            # (their refresh tokens recorded as outstanding) are valid in every run.
            context.tokens = issue_tokens(
                template_app, seed, plan.issued_lifetime_s, scratch / "tokens.json"
            )
            console.say(
                f"issued {len(context.tokens.users)} users' JWTs (valid "
                f"{plan.issued_lifetime_s} s) in {context.tokens.command_wall_s:.1f} s"
            )
            _probe_noise(plan, context.bench_id, console)
            for sequence, (repeat_index, server) in enumerate(plan.run_order):
                outcome = run_one(context, server, sequence, repeat_index, console)
                outcomes.append(outcome)
                label = f"[{sequence + 1}/{len(plan.run_order)} {server.spec.name}]"
                console.say(outcome_line(outcome, label))
        except KeyboardInterrupt as interrupt:
            console.say(
                f"bench: {interrupt_reason(interrupt)}; everything it started was stopped "
                "and the current run was recorded as failed"
            )
            return outcomes, interrupt_exit_status(interrupt)
        except OSError as error:
            if not results_not_written(error):
                raise
            console.say(not_written_line(error, plan.results_dir))
            return outcomes, ExitStatus.NOT_WRITTEN
    return outcomes, None


def main(argv: list[str] | None = None) -> int:
    args = parse_bench_args(argv)
    plan = plan_from_args(args, available_cpus=tuple(sorted(os.sched_getaffinity(0))))
    if isinstance(plan, str):
        fail_usage("bench", plan)
    missing = plan.deployment.missing_requirement()
    if missing:
        fail_usage("bench", missing)
    install_stop_signals()
    console = Console()
    bench_started = time.monotonic()
    try:
        with machine_lock(plan.share_machine, console.say):
            for line in reclaim():
                console.say(line)
            with _off_server_cpus(plan):
                outcomes, ended_early = _run_all(plan, console)
    except AppCommandError as error:
        console.say(f"bench: could not prepare the database: {error}")
        return 1
    except KeyboardInterrupt as interrupt:  # while waiting for the machine
        console.say(f"bench: {interrupt_reason(interrupt)}; nothing was started")
        return interrupt_exit_status(interrupt)
    if outcomes:
        console.say("\n" + summary_table(outcomes))
        for line in [*slo_lines(outcomes), *open_model_lines(outcomes)]:
            console.say(line)
    console.say(
        f"\n{len(outcomes)} run(s) in {time.monotonic() - bench_started:.0f} s; "
        f"results in {plan.results_dir / 'runs'}"
    )
    if ended_early is not None:
        return ended_early
    if plan.make_report:
        from scripts import report

        report_status = report.main(["--results", str(plan.results_dir)])
        if report_status:
            return report_status
    else:
        console.say("charts and tables: make report")
    if not all(outcome.status is Status.OK for outcome in outcomes):
        return 1
    if any(outcome.slo_missed for outcome in outcomes):
        return SLO_MISSED_STATUS
    return VERDICT_NOT_REACHED_STATUS if any(o.slo_unjudged for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
