"""The sides of a pair, wrk, the harness and (when asked for) plain Locust, each measured
against the same server.

What is the same on every side, and what is not:
- Every load generator is one single-threaded process (wrk -t1; one Locust process),
  pinned to the load generator's CPUs, the server to its own (PIN=split).
- Every side measures a warm server: wrk runs a discarded warm-up (WARMUP seconds) right
  before each measured run; the harness's Locust takes its tokens, keeps loading for the
  warm-up, resets its statistics, then measures; plain Locust does the same without the
  harness's window controller.
- Every side uses the JWTs the app issued once, before the first pair (`manage.py
  issue_tokens`, no login over HTTP), with a lifetime that outlives the calibration, so no
  side refreshes a token. Each Locust user (harness or plain) has its own account; wrk
  cycles through the same tokens one request at a time through a small Lua script
  (WRK_SCRIPT, written into the calibration directory; the tokens themselves stay in a
  scratch file, never in the results). wrk's Lua API has no connection identity, but the
  servers calibrated here close every connection after one answer, so a token per request
  is a token per connection, and every account gets an equal share on every side.
- The requests are not byte-identical: Locust's client (geventhttpclient) sends a few more
  headers than wrk (User-Agent, Accept-Encoding), and the harness checks every answer's
  status and body.
- wrk's p50 comes from its --latency histogram (microsecond resolution); Locust keeps whole
  milliseconds below 100 ms, so a p50 difference under 1 ms is below its resolution.

Each side records the server's CPU use and CPU time per request, the load generator's CPU
(and the harness's event-loop lag), other processes' CPU and the hypervisor's steal time
(SideResources), and a per-second series (series.py: the server's own request count, its
user and system CPU, context switches, run queue, TCP connections and resets), so a ratio
away from 1 can be explained (analysis.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from loadtests.scenarios import ITEMS_PATH
from loadtests.shape import LoadShape
from scripts.harness.calibration.causes import CAUSES, Cause, wrk_script
from scripts.harness.calibration.plain_locust import (
    PlainLocustError,
    PlainLocustRequest,
    run_plain_locust,
)
from scripts.harness.calibration.plan import ENDPOINT, SCENARIO, CalibrationPlan
from scripts.harness.calibration.series import SeriesRecorder, window_figures
from scripts.harness.console import Console
from scripts.harness.locust_runner import LoadRequest, run_locust
from scripts.harness.machine_cpu import MachineCpu
from scripts.harness.noise import loop_spec
from scripts.harness.sampling import ResourceSampler, Sample, summarize
from scripts.harness.session import SessionFailedError
from scripts.harness.wrk import WrkOutputError, WrkRequest, run_wrk
from scripts.records.locust_csv import read_locust_window
from scripts.records.schema import (
    HarnessSide,
    LocustSide,
    SideResources,
    SideSeries,
    WrkSide,
    read_window,
)
from servers.app import IssuedTokens, SeedPlan
from servers.child import ManagedChild
from servers.http import request_json
from servers.supervisor import RunningServer

WRK_SCRIPT_NAME: Final = "wrk-tokens.lua"
# One pre-built request per token, taken in turn (pre-building them in init() is what wrk's
# own scripting notes advise: building a request in request() costs wrk time per request).
WRK_SCRIPT: Final = wrk_script(None)
# A candidate cause's loop beside wrk runs this much longer than wrk's warm-up and window
HOG_SLACK_S: Final = 5.0


@dataclass(frozen=True)
class SideContext:
    """What every side of one calibration shares: the plan, the calibration's directory,
    the running server, who is seeded in its database, the tokens the app issued to them
    (and the file of access tokens wrk's script reads, outside the results), and the
    server's request-counters directory for the per-second series."""

    plan: CalibrationPlan
    directory: Path
    server: RunningServer
    seed: SeedPlan
    console: Console
    tokens: IssuedTokens
    wrk_tokens_file: Path
    counts_dir: Path | None = None

    @property
    def wrk_script(self) -> Path:
        return self.directory / WRK_SCRIPT_NAME

    def cause_script(self, cause: Cause) -> Path:
        return self.directory / cause_script_name(cause)

    @property
    def one_token_file(self) -> Path:
        return one_token_file(self.wrk_tokens_file)


def cause_script_name(cause: Cause) -> str:
    return f"wrk-{cause.name}.lua"


def one_token_file(tokens_file: Path) -> Path:
    return tokens_file.with_name("wrk-one-token.txt")


def write_wrk_inputs(
    tokens: IssuedTokens, script: Path, tokens_file: Path, causes: tuple[str, ...] = ()
) -> None:
    """The Lua scripts (the plain side's and each candidate cause's, into the calibration
    directory) and the access tokens they read, one a line (into `tokens_file`, and the
    first alone beside it, mode 0600: a bearer token is a credential)."""
    script.write_text(WRK_SCRIPT)
    for name in causes:
        script.with_name(cause_script_name(CAUSES[name])).write_text(wrk_script(CAUSES[name]))
    for path, users in (
        (tokens_file, tokens.users),
        (one_token_file(tokens_file), tokens.users[:1]),
    ):
        path.touch(mode=0o600)
        path.write_text("".join(f"{user.access}\n" for user in users))


def cpu_ms_per_request(cpu_pct: float | None, rps: float) -> float | None:
    """Server CPU time per answered request. When the server is the bottleneck on both
    sides (near 100 % of its CPUs), the ratio of the two rates is the inverse ratio of this
    figure: it tells whether the server worked harder per request, or ran slower, on one
    side, rather than being held back by the load generator."""
    if cpu_pct is None or rps <= 0:
        return None
    return cpu_pct * 10 / rps


def side_resources(
    samples: list[Sample], machine: MachineCpu, start: float, end: float, rps: float
) -> SideResources:
    """CPU figures of one side over its measured window [start, end] (epoch seconds)."""
    resources = summarize(samples, start, end)
    usage = machine.usage(start, end)
    server, loadgen = resources.server_cpu_pct, resources.loadgen_cpu_pct
    other = None
    if usage is not None and server is not None and loadgen is not None:
        # never below 0: the two samplers read at slightly different moments
        other = max(0.0, usage.busy_pct - server - loadgen)
    return SideResources(
        loadgen_cpu_pct=loadgen,
        server_cpu_pct=server,
        server_cpu_ms_per_request=cpu_ms_per_request(server, rps),
        machine_cpu_pct=usage.busy_pct if usage else None,
        other_cpu_pct=other,
        steal_pct=usage.steal_pct if usage else None,
    )


@dataclass
class Observation:
    """The samplers of one side while its load generator runs: the process trees' CPU
    (resources.csv), the machine's CPU and the per-second series."""

    samples: list[Sample] = field(default_factory=list)
    machine: MachineCpu = field(default_factory=MachineCpu)
    series: SeriesRecorder | None = None

    def figures(
        self, context: SideContext, start: float, end: float, rps: float
    ) -> tuple[SideResources, SideSeries | None]:
        resources = side_resources(self.samples, self.machine, start, end, rps)
        rows = self.series.rows if self.series is not None else []
        return resources, window_figures(rows, start, end, context.plan.placement.server_cpus)


@contextmanager
def observing(
    context: SideContext, resources_csv: Path, series_csv: Path
) -> Iterator[tuple[Observation, Callable[[int], None]]]:
    """Sample the server (and, once `on_started` names it, the load generator) while the
    block runs; the series is written to `series_csv` when it ends."""
    observation = Observation(series=SeriesRecorder(context.counts_dir))
    assert observation.series is not None
    sampler = ResourceSampler(resources_csv)
    sampler.watch("server", context.server.pid)
    observation.series.watch("server", context.server.pid)

    def on_started(pid: int) -> None:
        sampler.watch("loadgen", pid)
        if observation.series is not None:
            observation.series.watch("loadgen", pid)

    sampler.start()
    try:
        with observation.machine, observation.series:
            yield observation, on_started
    finally:
        observation.samples = sampler.stop()
        observation.series.write(series_csv)


@contextmanager
def generator_loops(context: SideContext, cause: Cause | None, seconds: float) -> Iterator[None]:
    """The busy-generator candidate's CPU loop, one per load generator CPU, for as long as
    its wrk side runs (bounded by `seconds`), stopped however the block ends."""
    if cause is None or not cause.busy_generator:
        yield
        return
    cpus = context.plan.placement.loadgen_cpus or (0,)
    loops: list[ManagedChild] = []
    try:
        for cpu in cpus:
            output = context.directory / f".{cause.name}-cpu{cpu}.out"
            loops.append(ManagedChild.start(loop_spec(cpu, output, seconds, cause.name)))
        yield
    finally:
        for loop in loops:
            loop.stop()
            loop.spec.log_path.unlink(missing_ok=True)


def measure_wrk(context: SideContext, number: int, cause: Cause | None = None) -> WrkSide:
    """Pair `number`'s wrk side, or a candidate cause's wrk side: a discarded warm-up run,
    then the measured one."""
    plan, server = context.plan, context.server
    script = context.wrk_script if cause is None else context.cause_script(cause)
    tokens = context.one_token_file if cause and cause.one_token else context.wrk_tokens_file

    def request(duration_s: int) -> WrkRequest:
        return WrkRequest(
            binary=plan.wrk_binary,
            url=server.base_url + ENDPOINT,
            connections=plan.connections,
            duration_s=duration_s,
            token=None,
            cpus=plan.placement.loadgen_cpus,
            script=script,
            script_args=(str(tokens),),
        )

    side = "wrk" if cause is None else f"wrk-{cause.name}"
    label = f"[pair {number}/{plan.pairs} {side}]"
    directory = context.directory
    with generator_loops(context, cause, plan.warmup_s + plan.duration_s + HOG_SLACK_S):
        if plan.warmup_s > 0:
            context.console.say(f"{label} warm-up {plan.warmup_s} s (discarded)")
            warmup_file = directory / f".{side}-{number}-warmup.txt"
            run_wrk(request(plan.warmup_s), warmup_file)
            warmup_file.unlink(missing_ok=True)
        context.console.say(
            f"{label} measuring {plan.duration_s} s, {plan.connections} connections"
            + ("" if cause is None else f"; {cause.change}")
        )
        resources_csv = directory / f"{side}-{number}-resources.csv"
        with observing(context, resources_csv, directory / f"{side}-{number}-series.csv") as (
            observation,
            on_started,
        ):
            run = run_wrk(request(plan.duration_s), directory / f"{side}-{number}.txt", on_started)
    try:
        result = run.result()
    except WrkOutputError as error:
        raise SessionFailedError(f"pair {number}, {side}: {error}") from None
    resources, series = observation.figures(context, run.started_at, run.finished_at, result.rps)
    return WrkSide(
        rps=result.rps,
        p50_ms=result.p50_ms,
        requests=result.requests,
        errors=result.errors,
        non_2xx_3xx=result.non_2xx_3xx,
        socket_errors=result.socket_errors.as_dict(),
        error_summary=result.error_summary(),
        elapsed_s=result.elapsed_s,
        latency_percentiles_ms={
            f"{pct:g}": ms for pct, ms in sorted(result.latency_percentiles_ms.items())
        },
        output=f"{side}-{number}.txt",
        exit_code=run.exit_code,
        resources=resources,
        series=series,
    )


def measure_harness(context: SideContext, number: int) -> HarnessSide:
    """Pair `number`'s harness side: one Locust run with its managed warm-up and window."""
    plan, seed = context.plan, context.seed
    run_dir = context.directory / f"harness-{number}"
    run_dir.mkdir()
    load = LoadRequest(
        base_url=context.server.base_url,
        scenario=SCENARIO,
        shape=LoadShape.constant(plan.users),
        spawn_rate=float(plan.users),
        warmup_s=float(plan.warmup_s),
        duration_s=float(plan.duration_s),
        seeded_users=seed.users,
        user_prefix=seed.prefix,
        user_password=seed.password,
        run_dir=run_dir,
        cpus=plan.placement.loadgen_cpus,
        tokens_file=context.tokens.path,
    )
    label = f"[pair {number}/{plan.pairs} harness]"
    context.console.say(f"{label} Locust: {plan.users} users take their tokens, warm up, measure")
    with observing(context, run_dir / "resources.csv", run_dir / "series.csv") as (
        observation,
        on_started,
    ):
        status = run_locust(
            load,
            lambda progress: context.console.progress(label, plan.duration_s, progress),
            on_started=on_started,
        )
    window = read_window(load.window_file) if load.window_file.exists() else None
    failed = f"pair {number}, harness:"
    if window is None or not window.completed:
        why = (window.reason if window else "") or "the measured window did not complete"
        raise SessionFailedError(f"{failed} {why} (Locust exit status {status})")
    if status not in (0, 1):
        raise SessionFailedError(f"{failed} Locust exited with status {status}")
    stats_csv = run_dir / "locust_stats.csv"
    if not stats_csv.exists():
        raise SessionFailedError(f"{failed} Locust wrote no {stats_csv.name}")
    figures = read_locust_window(stats_csv)[0]
    if figures.requests == 0:
        raise SessionFailedError(f"{failed} no request completed in the window")
    bounds = (float(window.window_started_at or 0.0), float(window.window_ended_at or 0.0))
    resources, series = observation.figures(context, *bounds, figures.rps)
    return HarnessSide(
        rps=figures.rps,
        p50_ms=figures.p50_ms,
        requests=figures.requests,
        failures=figures.failures,
        window_s=window.window_s,
        run_dir=run_dir.name,
        locust_exit_code=status,
        loadgen_cpu_warning=bool(window.cpu_warning),
        loadgen_loop_lag_mean_ms=window.loop_lag_mean_ms,
        resources=resources,
        series=series,
    )


def measure_locust(context: SideContext, number: int) -> LocustSide:
    """Pair `number`'s plain-Locust side (plain_locust.py): Locust's own -t, its statistics
    reset after the warm-up, no harness code in the load generator."""
    plan = context.plan
    run_dir = context.directory / f"locust-{number}"
    request = PlainLocustRequest(
        base_url=context.server.base_url,
        users=plan.users,
        warmup_s=plan.warmup_s,
        duration_s=plan.duration_s,
        tokens_file=context.tokens.path,
        run_dir=run_dir,
        cpus=plan.placement.loadgen_cpus,
    )
    context.console.say(
        f"[pair {number}/{plan.pairs} plain Locust] {plan.users} users, "
        f"{plan.warmup_s} s warm-up then {plan.duration_s} s (Locust's own -t)"
    )
    run_dir.mkdir()
    with observing(context, run_dir / "resources.csv", run_dir / "series.csv") as (
        observation,
        on_started,
    ):
        try:
            run = run_plain_locust(request, on_started)
        except PlainLocustError as error:
            raise SessionFailedError(f"pair {number}, plain Locust: {error}") from None
    if run.exit_code not in (0, 1):
        raise SessionFailedError(f"pair {number}, plain Locust exited with status {run.exit_code}")
    figures = run.figures
    resources, series = observation.figures(
        context, run.window_started_at, run.window_ended_at, figures.rps
    )
    return LocustSide(
        rps=figures.rps,
        p50_ms=figures.p50_ms,
        requests=figures.requests,
        failures=figures.failures,
        window_s=run.window_s,
        run_dir=run_dir.name,
        locust_exit_code=run.exit_code,
        loadgen_cpu_warning=False,
        resources=resources,
        series=series,
    )


def prime_server(base_url: str, tokens: IssuedTokens) -> None:
    """Put the server through what a harness side does to it before its window: every
    seeded account reads its item list with its issued token (concurrently).

    Done once, before the first pair: when the harness's users still logged in over HTTP,
    the first measurement ran on a server that had never served a login and was faster
    than for the rest of the calibration: on the 2-core VM here the first wrk side cost a
    median 2.37 ms of server CPU per request against 2.6-2.8 ms later, and pair 1's ratio
    was under 0.95 in 7 of 8 calibrations (median 0.90) while the later pairs' median was
    1.04. With the tokens issued by the app no side logs in, and priming makes every
    account's first authenticated request happen before any window."""

    def one(access: str) -> None:
        listing = request_json("GET", base_url + ITEMS_PATH, token=access, timeout_s=60)
        if listing.status != 200:
            raise SessionFailedError(f"priming: GET {ITEMS_PATH}: status {listing.status}")

    with ThreadPoolExecutor(max_workers=len(tokens.users), thread_name_prefix="prime") as pool:
        for done in [pool.submit(one, user.access) for user in tokens.users]:
            done.result()
