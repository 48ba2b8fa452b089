"""One calibration: one server session, the pairs in order, one published directory.

The server process (a fresh seeded database, started once through the server session,
scripts/harness/session.py) is loaded in turn by wrk and by the harness, pair after pair;
it is primed first (sides.prime_server says why). Before the server starts, the app issues
every seeded account's JWTs (manage.py issue_tokens) for every side; the server counts what
it answers (its request counters, read by the per-second series). calibration.json is
rewritten after every side, and the directory is assembled as .partial-<id> and published
whatever happens: a failed or interrupted calibration is recorded with its reason, as a
bench run is.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Final

from loadtests.scenarios import SCENARIOS
from scripts.harness.calibration.analysis import aggregate, finish_pair, judge, with_pair_notes
from scripts.harness.calibration.causes import CAUSES
from scripts.harness.calibration.plan import (
    ENDPOINT,
    HARNESS,
    HOST,
    LOCUST,
    SCENARIO,
    TARGET_CV_RATIO_MAX,
    TARGET_RATIO,
    TARGET_RATIO_MAX,
    TOKEN_NOTE,
    WRK,
    CalibrationPlan,
    order_letters,
)
from scripts.harness.calibration.sides import (
    WRK_SCRIPT_NAME,
    SideContext,
    measure_harness,
    measure_locust,
    measure_wrk,
    prime_server,
    write_wrk_inputs,
)
from scripts.harness.calibration.text import pair_line
from scripts.harness.console import Console
from scripts.harness.session import EXPECTED_FAILURES, ServerSession, SessionPlan, ending
from scripts.harness.wrk import WrkRequest, wrk_version
from scripts.records.machine import MachineInfo
from scripts.records.schema import CalibrationPair, CalibrationRecord, Status
from scripts.records.store import RunDirectory, iso, new_run_id, utc_now, write_json
from servers.app import AppSettings, SeedPlan, issue_tokens, prepare_database
from servers.ports import free_port
from servers.supervisor import LaunchRequest

DOCUMENT: Final = "calibration.json"


@dataclass
class RecordFile:
    """calibration.json as it stands. `save` writes the current record at once, so an
    interrupted calibration leaves the sides it measured."""

    path: Path
    record: CalibrationRecord

    def save(self, record: CalibrationRecord | None = None) -> None:
        if record is not None:
            self.record = record
        write_json(self.path, self.record.to_json())

    def put_pair(self, pair: CalibrationPair) -> None:
        """Add `pair`, or replace the pair with its index (in memory; `save` writes)."""
        others = [known for known in self.record.pairs if known.index != pair.index]
        pairs = sorted([*others, pair], key=lambda known: known.index)
        self.record = replace(self.record, pairs=tuple(pairs))


@dataclass(frozen=True)
class CalibrationOutcome:
    """What the entry point reports: the final record, where it was published, and whether
    the user interrupted it (the interrupt, so the exit status can name its signal)."""

    record: CalibrationRecord
    path: Path
    interrupt: KeyboardInterrupt | None


def _with_wrk(context: SideContext, number: int, pair: CalibrationPair) -> CalibrationPair:
    return replace(pair, wrk=measure_wrk(context, number))


def _with_harness(context: SideContext, number: int, pair: CalibrationPair) -> CalibrationPair:
    return replace(pair, harness=measure_harness(context, number))


def _with_locust(context: SideContext, number: int, pair: CalibrationPair) -> CalibrationPair:
    return replace(pair, locust=measure_locust(context, number))


# How each side fills its part of a pair.
SIDES: Final[Mapping[str, Callable[[SideContext, int, CalibrationPair], CalibrationPair]]] = (
    MappingProxyType({WRK: _with_wrk, HARNESS: _with_harness, LOCUST: _with_locust})
)


def _with_cause(
    context: SideContext, number: int, pair: CalibrationPair, name: str
) -> CalibrationPair:
    side = measure_wrk(context, number, CAUSES[name])
    return replace(pair, causes={**pair.causes, name: side})


def _measure_side(
    context: SideContext, number: int, pair: CalibrationPair, side: str
) -> CalibrationPair:
    if side in CAUSES:
        return _with_cause(context, number, pair, side)
    return SIDES[side](context, number, pair)


def run_pairs(context: SideContext, file: RecordFile) -> None:
    """Measure every pair in order, saving calibration.json after each side."""
    for index in range(context.plan.pairs):
        number = index + 1
        order = context.plan.pair_order(index)
        pair = CalibrationPair(index=number, order=order_letters(order))
        file.put_pair(pair)
        for side in order:
            pair = _measure_side(context, number, pair, side)
            file.put_pair(pair)
            file.save()
        pair = finish_pair(pair, context.plan.server_capacity_pct)
        file.put_pair(pair)
        context.console.say(pair_line(pair))
        file.save()


def base_record(
    plan: CalibrationPlan,
    calibration_id: str,
    launch: LaunchRequest,
    machine: MachineInfo,
    wrk_version_line: str,
) -> CalibrationRecord:
    """calibration.json as it stands before the first pair: `failed` until it finishes."""
    spec = plan.spec
    versions = {**machine.versions(spec.version_distribution), "wrk": wrk_version_line}
    wrk_argv = WrkRequest(
        binary=plan.wrk_binary,
        url=launch.base_url + ENDPOINT,
        connections=plan.connections,
        duration_s=plan.duration_s,
        token=None,
        script=Path(WRK_SCRIPT_NAME),
        script_args=("<tokens file>",),
    ).argv(redact=True)
    return CalibrationRecord(
        calibration_id=calibration_id,
        server=spec.name,
        server_version=versions.get(spec.version_distribution),
        server_argv=tuple(launch.argv),
        workers=plan.workers,
        users=plan.users,
        connections=plan.connections,
        scenario=SCENARIO,
        endpoint=f"GET {ENDPOINT}",
        duration_s=plan.duration_s,
        warmup_s=plan.warmup_s,
        access_lifetime_s=plan.access_lifetime_s,
        pairs_planned=plan.pairs,
        order=plan.order_note,
        token_note=TOKEN_NOTE,
        wrk_argv=tuple(wrk_argv),
        base_url=launch.base_url,
        target=TARGET_RATIO,
        placement=plan.placement.as_meta(),
        versions=versions,
        git_sha=machine.git_sha,
        git_dirty=machine.git_dirty,
        cpu_model=machine.cpu_model,
        cpu_count=machine.cpu_count,
        load_average_at_start=tuple(os.getloadavg()),
        status=Status.FAILED,
        reason="the calibration did not finish",
        references=plan.references,
        causes=plan.causes,
        target_ratio_max=TARGET_RATIO_MAX,
        target_cv_ratio_max=TARGET_CV_RATIO_MAX,
    )


def _measure(
    plan: CalibrationPlan,
    app: AppSettings,
    session: ServerSession,
    file: RecordFile,
    console: Console,
    scratch: Path,
) -> None:
    """Prepare the database and issue every account's tokens, then, inside the server
    session, prime the server, run the pairs and judge them. Raises what ended it early;
    the session stops the server."""
    seed, launch = session.plan.seed, session.plan.launch
    console.say(f"preparing the database: migrate, seed {seed.users} users ...")
    prepare_database(app, seed)
    tokens = issue_tokens(app, seed, plan.access_lifetime_s, scratch / "tokens.json")
    console.say(
        f"issued {len(tokens.users)} accounts' JWTs (valid {plan.access_lifetime_s} s) in "
        f"{tokens.command_wall_s:.1f} s"
    )
    wrk_tokens = scratch / "wrk-tokens.txt"
    write_wrk_inputs(tokens, file.path.parent / WRK_SCRIPT_NAME, wrk_tokens, plan.causes)
    console.say(
        f"starting {plan.spec.name} ({plan.workers} worker(s)) on {launch.base_url}; "
        f"{plan.placement.note}"
    )
    with session as running:
        console.say(f"priming: {seed.users} accounts read their item lists with their tokens")
        prime_server(running.base_url, tokens)
        context = SideContext(
            plan,
            file.path.parent,
            running,
            seed,
            console,
            tokens=tokens,
            wrk_tokens_file=wrk_tokens,
            counts_dir=app.request_counts_dir,
        )
        run_pairs(context, file)
    status, reason = judge(file.record.pairs, plan.pairs, with_locust=LOCUST in plan.references)
    file.record = replace(file.record, status=status, reason=reason)


def _finished(record: CalibrationRecord, session: ServerSession) -> CalibrationRecord:
    """The record as it is published: what the stop left behind added to the reason, the
    medians and verdict, every pair's notes, and the closing facts."""
    if session.stop_problem:
        reason = "; ".join(filter(None, [record.reason, session.stop_problem]))
        record = replace(record, status=Status.FAILED, reason=reason)
    return replace(
        with_pair_notes(aggregate(record)),
        load_average_at_end=tuple(os.getloadavg()),
        finished_at=iso(utc_now()),
    )


def calibrate(plan: CalibrationPlan, console: Console) -> CalibrationOutcome:
    """Run the whole calibration and publish its directory. An interrupt is recorded and
    reported in the outcome; an unexpected error is recorded, published, then re-raised."""
    machine, wrk_version_line = MachineInfo.collect(), wrk_version(plan.wrk_binary)
    started_at = utc_now()
    calibration_id = new_run_id(started_at, plan.spec.name, SCENARIO, plan.users)
    directory = RunDirectory(plan.results_dir / "calibrations", calibration_id)
    out = directory.create()
    raised: BaseException | None = None
    with tempfile.TemporaryDirectory(prefix="drf-calibrate-") as scratch:
        app = replace(
            AppSettings.for_sqlite(
                Path(scratch) / "db.sqlite3", access_lifetime_s=plan.access_lifetime_s
            ),
            request_counts_dir=Path(scratch) / "request-counts",
        )
        launch = LaunchRequest(
            spec=plan.spec,
            app=app,
            host=HOST,
            port=free_port(HOST),
            workers=plan.workers,
            threads=1,
            log_path=out / "server.log",
            cpus=plan.placement.server_cpus,
        )
        record = base_record(plan, calibration_id, launch, machine, wrk_version_line)
        file = RecordFile(out / DOCUMENT, replace(record, started_at=iso(started_at)))
        file.save()
        seed = SeedPlan(users=plan.users, items_per_user=1)
        session = ServerSession(SessionPlan(launch=launch, seed=seed, scenario=SCENARIOS[SCENARIO]))
        try:
            _measure(plan, app, session, file, console, Path(scratch))
        except BaseException as error:  # recorded and published; re-raised below if a bug
            raised = error
            status, reason = ending(error)
            file.record = replace(file.record, status=status, reason=reason)
        file.save(_finished(file.record, session))
        final = directory.publish()
    if raised is not None and not isinstance(raised, (KeyboardInterrupt, *EXPECTED_FAILURES)):
        raise raised
    interrupt = raised if isinstance(raised, KeyboardInterrupt) else None
    return CalibrationOutcome(file.record, final, interrupt)
