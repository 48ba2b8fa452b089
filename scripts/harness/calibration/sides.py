"""The two sides of a pair, wrk and the harness, each measured against the same server.

What is the same on both sides, and what is not:
- Both load generators are one single-threaded process (wrk -t1; one Locust process), pinned
  to the load generator's CPUs, the server to its own (PIN=split).
- Both measure a warm server: wrk runs a discarded warm-up (WARMUP seconds) right before
  each measured run; Locust logs every user in, keeps loading for the warm-up (at least one
  second after the last login), resets its statistics, then measures.
- The access-token lifetime is at least one hour, so neither side refreshes a token in the
  window (wrk could not: it gets a fresh token before each of its sides).
- wrk sends one token (of the first seeded account) on every connection and request;
  Locust's users each log in as their own account. The endpoint does the same work either
  way (verify the JWT, one user query), but the requests are not byte-identical (Locust
  sends a few more headers), and Locust also checks every answer's status and body.
- wrk's p50 comes from its --latency histogram (microsecond resolution); Locust keeps whole
  milliseconds below 100 ms, so a p50 difference under 1 ms is below the harness's
  resolution.

Each side also records the server's CPU use and CPU time per request, the load generator's
CPU (and Locust's event-loop lag), other processes' CPU and the hypervisor's steal time, so
a ratio away from 1 can be explained (analysis.py).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from loadtests.scenarios import ITEMS_PATH, TOKEN_PATH
from loadtests.shape import LoadShape
from scripts.harness.calibration.plan import ENDPOINT, SCENARIO, CalibrationPlan
from scripts.harness.console import Console
from scripts.harness.locust_runner import LoadRequest, run_locust
from scripts.harness.machine_cpu import MachineCpu
from scripts.harness.sampling import ResourceSampler, Sample, summarize
from scripts.harness.session import SessionFailedError
from scripts.harness.wrk import WrkOutputError, WrkRequest, run_wrk
from scripts.records.locust_csv import read_locust_window
from scripts.records.schema import HarnessSide, SideResources, WrkSide, read_window
from servers.app import SeedPlan
from servers.http import request_json
from servers.supervisor import RunningServer


@dataclass(frozen=True)
class SideContext:
    """What every side of one calibration shares: the plan, the calibration's directory,
    the running server and who is seeded in its database."""

    plan: CalibrationPlan
    directory: Path
    server: RunningServer
    seed: SeedPlan
    console: Console


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


def measure_wrk(context: SideContext, number: int) -> WrkSide:
    """Pair `number`'s wrk side: a discarded warm-up run, then the measured one."""
    plan, server, seed = context.plan, context.server, context.seed
    # a fresh token per wrk side (one login, before the warm-up): it outlives the side
    # whatever the number of pairs, like the Locust users' own tokens, which they renew
    token = obtain_token(server.base_url, seed.username(1), seed.password)

    def request(duration_s: int) -> WrkRequest:
        return WrkRequest(
            binary=plan.wrk_binary,
            url=server.base_url + ENDPOINT,
            connections=plan.connections,
            duration_s=duration_s,
            token=token,
            cpus=plan.placement.loadgen_cpus,
        )

    label = f"[pair {number}/{plan.pairs} wrk]"
    if plan.warmup_s > 0:
        context.console.say(f"{label} warm-up {plan.warmup_s} s (discarded)")
        warmup_file = context.directory / f".wrk-{number}-warmup.txt"
        run_wrk(request(plan.warmup_s), warmup_file)
        warmup_file.unlink(missing_ok=True)
    context.console.say(f"{label} measuring {plan.duration_s} s, {plan.connections} connections")
    sampler = ResourceSampler(context.directory / f"wrk-{number}-resources.csv")
    sampler.watch("server", server.pid)
    sampler.start()
    try:
        with MachineCpu() as machine:
            run = run_wrk(
                request(plan.duration_s),
                context.directory / f"wrk-{number}.txt",
                on_started=lambda pid: sampler.watch("loadgen", pid),
            )
    finally:
        samples = sampler.stop()
    try:
        result = run.result()
    except WrkOutputError as error:
        raise SessionFailedError(f"pair {number}, wrk: {error}") from None
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
        output=f"wrk-{number}.txt",
        exit_code=run.exit_code,
        resources=side_resources(samples, machine, run.started_at, run.finished_at, result.rps),
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
    )
    label = f"[pair {number}/{plan.pairs} harness]"
    context.console.say(f"{label} Locust: {plan.users} users log in, warm up, then measure")
    sampler = ResourceSampler(run_dir / "resources.csv")
    sampler.watch("server", context.server.pid)
    sampler.start()
    try:
        with MachineCpu() as machine:
            status = run_locust(
                load,
                lambda progress: context.console.progress(label, plan.duration_s, progress),
                on_started=lambda pid: sampler.watch("loadgen", pid),
            )
    finally:
        samples = sampler.stop()
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
        resources=side_resources(samples, machine, *bounds, figures.rps),
    )


def prime_server(base_url: str, seed: SeedPlan) -> None:
    """Put the server through what a harness side does to it before its window: every
    seeded account logs in (concurrently, one PBKDF2 hash each) and reads its item list.

    Done once, before the first pair: with an odd number of pairs one order occurs once
    more than the other, and without priming the first measurement ran on a server that
    had never served a login and was faster than for the rest of the calibration: on the
    2-core VM here the first wrk side cost a median 2.37 ms of server CPU per request
    against 2.6-2.8 ms later, and pair 1's ratio was under 0.95 in 7 of 8 calibrations
    (median 0.90) while the later pairs' median was 1.04. With priming, pair 1 measured
    1.26, 0.99, 1.02 and 0.91 in four calibrations."""

    def one(index: int) -> None:
        username = seed.username(index)
        token = obtain_token(base_url, username, seed.password)
        listing = request_json("GET", base_url + ITEMS_PATH, token=token, timeout_s=60)
        if listing.status != 200:
            raise SessionFailedError(f"priming: GET {ITEMS_PATH} as {username}: {listing.status}")

    with ThreadPoolExecutor(max_workers=seed.users, thread_name_prefix="prime") as pool:
        for done in [pool.submit(one, index) for index in range(1, seed.users + 1)]:
            done.result()


def obtain_token(base_url: str, username: str, password: str) -> str:
    """An access token for wrk, the same for all its connections."""
    answer = request_json(
        "POST",
        base_url + TOKEN_PATH,
        payload={"username": username, "password": password},
        timeout_s=60,  # logins queue behind each other's PBKDF2 on a one-worker server
    )
    body = answer.body
    if answer.status != 200 or not isinstance(body, dict) or "access" not in body:
        raise SessionFailedError(f"POST {TOKEN_PATH} for wrk's token: status {answer.status}")
    return str(body["access"])
