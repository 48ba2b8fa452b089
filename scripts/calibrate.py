"""`make calibrate`: check the harness's throughput and latency against wrk, the reference.

One server process (a fresh seeded database, started once through the server session) is
loaded in turn by wrk and by the harness (Locust, scenario "me"), with the same number of
connections (= Locust users), the same endpoint (GET /api/me/) and the same measured
duration, in pairs that alternate which side goes first. The figure that matters is
harness_rps / wrk_rps per pair, and its median over the pairs; both sides' p50 are shown
next to it. The target, for gunicorn and uwsgi with PIN=split, is a median ratio of at least
0.95: a benchmark output, printed and recorded, not a test that fails. How the sides are
made comparable, and how to read a ratio away from 1: scripts/harness/calibration/.

Results: <results>/calibrations/<calibration_id>/ (assembled as .partial-<id> and renamed
into place) with calibration.json, wrk-<n>.txt (wrk's raw report of pair n's measured run),
harness-<n>/ (Locust's files of pair n), server.log and resource samples.

Exit status: 0 the calibration is ok (whether or not the target was met), 1 it failed or is
invalid, 2 bad input (nothing started), 128 + the signal's number when interrupted (130
Ctrl-C, 143 TERM, 129 hang-up).
"""

from __future__ import annotations

import os
import sys

from scripts.harness.calibration.plan import (
    TOKEN_NOTE,
    CalibrationPlan,
    build_parser,
    plan_from_args,
)
from scripts.harness.calibration.run import calibrate
from scripts.harness.calibration.text import summary_text
from scripts.harness.console import Console
from scripts.options.parsing import fail_usage
from scripts.options.stop_signals import install_stop_signals, interrupt_exit_status
from scripts.records.schema import Status


def _keep_off_server_cpus(plan: CalibrationPlan) -> None:
    """The harness's own work (samplers, priming, progress) runs on the load generator's
    CPUs, never on the server's: under PIN=split the server's CPUs are the server's alone,
    as the placement note recorded in calibration.json says."""
    if plan.placement.loadgen_cpus:
        os.sched_setaffinity(0, set(plan.placement.loadgen_cpus))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    plan = plan_from_args(args, available_cpus=tuple(sorted(os.sched_getaffinity(0))))
    if isinstance(plan, str):
        fail_usage("calibrate", plan)
    install_stop_signals()
    _keep_off_server_cpus(plan)
    console = Console()
    console.say(
        f"calibrate: {plan.pairs} pair(s) of wrk and the harness against {plan.spec.name}, "
        f"{plan.connections} connections, {plan.duration_s} s each; {TOKEN_NOTE}"
    )
    try:
        outcome = calibrate(plan, console)
    except KeyboardInterrupt as interrupt:  # before the directory existed or after publishing
        console.say("calibrate: interrupted")
        return interrupt_exit_status(interrupt)
    console.say("\n" + summary_text(outcome.record))
    console.say(f"\nresults in {outcome.path}")
    if outcome.interrupt is not None:
        return interrupt_exit_status(outcome.interrupt)
    return 0 if outcome.record.status is Status.OK else 1


if __name__ == "__main__":
    sys.exit(main())
