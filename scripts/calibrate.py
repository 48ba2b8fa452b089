"""`make calibrate`: check the harness's throughput and latency against wrk, the reference.

One server process (a fresh seeded database, started once through the supervisor) is loaded
in turn by wrk and by the harness (Locust through `scripts.harness.locust_runner`, scenario
"me"), with the same number of connections (= Locust users), the same endpoint (GET /api/me/)
and the same measured duration, in pairs. The figure that matters is harness_rps / wrk_rps per pair,
and its median over the pairs; both sides' p50 are shown next to it. The target, for
gunicorn and uwsgi with PIN=split, is a median ratio of at least 0.95: a benchmark output,
printed and recorded, not a test that fails.

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

The pairs alternate which side goes first (W H, H W, W H, ...): a fixed order would give
every pair the same position effect (a server still settling, heat, connections in
TIME_WAIT left by the previous run), biasing every ratio the same way; alternating makes
such an effect push neighbouring pairs in opposite directions, and the median damps it.
With an odd number of pairs one order occurs once more than the other, so the server is
primed before the first pair (`prime_server`) to remove the largest position effect seen.

Reading the result: the ratio compares two windows measured one after the other, so it also
carries any change of the server's own speed between them. Each side records the server's
CPU use and CPU time per request, the load generator's CPU (and Locust's event-loop lag),
other processes' CPU and the hypervisor's steal time, and the notes name the likely cause
of a ratio away from 1: a saturated generator (what a calibration exists to catch), a busy
machine, or a server that was the bottleneck on both sides and simply ran slower on one. On
the 2-core VM this was written on, consecutive 10-second wrk runs against the same server
differed by up to 30 % (steal up to 40 %), so a 3-pair median cannot resolve a few percent:
use more pairs (PAIRS=9) on a quiet machine for a sharper figure.

Results: <results>/calibrations/<calibration_id>/ (assembled as .partial-<id> and renamed
into place) with calibration.json, wrk-<n>.txt (wrk's raw report of pair n's measured run),
harness-<n>/ (Locust's files of pair n), server.log and resource samples.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType, MappingProxyType
from typing import Any, Final

import psutil

from loadtests.scenarios import ITEMS_PATH, SCENARIOS, TOKEN_PATH
from loadtests.shape import LoadShape
from scripts.harness.console import Console
from scripts.harness.judge import LOOP_LAG_LIMIT_MS
from scripts.harness.locust_runner import LoadRequest, run_locust
from scripts.harness.plan import duration_seconds, results_directory
from scripts.harness.preflight import check_responses
from scripts.harness.sampling import SATURATION_CPU_PCT, ResourceSampler, Sample, summarize
from scripts.harness.session import INTERRUPTED
from scripts.harness.wrk import (
    WrkNotFoundError,
    WrkOutputError,
    WrkRequest,
    find_wrk,
    run_wrk,
    wrk_version,
)
from scripts.options.parsing import OneLineErrorParser, fail_usage, positive_int, server_choice
from scripts.records.locust_csv import read_locust_window
from scripts.records.machine import MachineInfo
from scripts.records.store import (
    RunDirectory,
    iso,
    new_run_id,
    read_json,
    utc_now,
    write_json,
)
from servers.app import AppCommandError, AppSettings, SeedPlan, prepare_database
from servers.http import request_json
from servers.placement import PLACEMENTS, Placement, place
from servers.ports import free_port
from servers.registry import ServerSpec, get_server, server_names
from servers.supervisor import LaunchRequest, RunningServer, ServerStartError, start, stop

SCHEMA_VERSION: Final = 1
SCENARIO: Final = "me"
ENDPOINT: Final = "/api/me/"
TARGET_RATIO: Final = 0.95
ACCESS_LIFETIME_S: Final = 3600
DEFAULT_USERS: Final = 16
DEFAULT_DURATION_S: Final = 10
DEFAULT_WARMUP_S: Final = 2
DEFAULT_PAIRS: Final = 3
HOST: Final = "127.0.0.1"
WRK: Final = "wrk"
HARNESS: Final = "harness"
OTHER_CPU_REMARK_PCT: Final = 15.0
STEAL_REMARK_PCT: Final = 2.0
# a server using this share of its CPUs on both sides is the bottleneck on both sides
SERVER_BOUND_SHARE: Final = 0.9
TOKEN_NOTE: Final = (
    "wrk sends one access token (of the first seeded account, taken before each wrk side) on "
    "every connection and request; the harness's Locust users each log in as their own account"
)


def pair_order(index: int) -> tuple[str, str]:
    """Which side runs first in 0-based pair `index`: W H, H W, W H, ... (see the module
    docstring for why the order alternates)."""
    return (WRK, HARNESS) if index % 2 == 0 else (HARNESS, WRK)


def whole_seconds(text: str) -> int:
    """argparse type: a positive duration in whole seconds (wrk's -d takes no fractions)."""
    seconds = duration_seconds(text)
    if seconds != int(seconds):
        raise argparse.ArgumentTypeError(
            f"expected whole seconds (wrk takes no fractions), got {text!r}"
        )
    return int(seconds)


def warmup_seconds(text: str) -> int:
    """argparse type: like whole_seconds, but 0 (no wrk warm-up run) is allowed."""
    return 0 if text.strip() in {"0", "0s"} else whole_seconds(text)


@dataclass(frozen=True)
class CalibrationPlan:
    """Everything one calibration will do; validated before anything starts."""

    spec: ServerSpec
    workers: int
    users: int
    duration_s: int
    warmup_s: int
    pairs: int
    placement: Placement
    results_dir: Path
    wrk_binary: Path

    @property
    def access_lifetime_s(self) -> int:
        """Long enough that wrk's token, taken just before its warm-up, never expires
        during the side: wrk cannot renew it."""
        return max(ACCESS_LIFETIME_S, 2 * (self.warmup_s + self.duration_s) + 60)

    @property
    def connections(self) -> int:
        """wrk's connections: one per Locust user, so both keep the same requests in flight."""
        return self.users


def build_parser() -> OneLineErrorParser:
    parser = OneLineErrorParser(
        prog="calibrate",
        description="Cross-check the harness (Locust) against wrk on one server: the same "
        f"endpoint (GET {ENDPOINT}), connections and duration, in alternating pairs; prints "
        f"harness_rps / wrk_rps (target: median >= {TARGET_RATIO}) and both p50s. Written to "
        "<results>/calibrations/<calibration_id>/.",
    )
    parser.add_argument(
        "--server",
        type=server_choice,
        default="gunicorn",
        help=f"one of: {', '.join(server_names())} (default: gunicorn)",
    )
    parser.add_argument(
        "--users",
        type=positive_int,
        default=DEFAULT_USERS,
        help=f"Locust users = wrk connections (default: {DEFAULT_USERS})",
    )
    parser.add_argument(
        "--duration",
        type=whole_seconds,
        default=DEFAULT_DURATION_S,
        help=f"measured seconds per side, whole seconds (default: {DEFAULT_DURATION_S})",
    )
    parser.add_argument(
        "--warmup",
        type=warmup_seconds,
        default=DEFAULT_WARMUP_S,
        help="discarded wrk run before each measured one, and Locust's warm-up (at least 1 s "
        f"after its logins) (default: {DEFAULT_WARMUP_S})",
    )
    parser.add_argument(
        "--pairs",
        type=positive_int,
        default=DEFAULT_PAIRS,
        help=f"wrk/harness pairs, alternating which goes first (default: {DEFAULT_PAIRS})",
    )
    parser.add_argument(
        "--pin",
        choices=sorted(PLACEMENTS),
        default="split",
        help="split: server on its own CPUs, wrk and Locust on the others (default); "
        "none: not pinned",
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        help="server worker processes (default: one per server CPU)",
    )
    parser.add_argument(
        "--results",
        type=results_directory,
        default=Path("results"),
        help="results directory (default: results)",
    )
    parser.add_argument(
        "--wrk",
        default="wrk",
        help="the wrk binary: a name looked up on PATH, or a path (default: wrk)",
    )
    return parser


def plan_from_args(
    args: argparse.Namespace, available_cpus: tuple[int, ...]
) -> CalibrationPlan | str:
    """The plan, or one line saying what is wrong (wrong worker count, wrk missing)."""
    placement = place(args.pin, available_cpus)
    spec = get_server(args.server)
    workers = args.workers or spec.default_workers(placement.server_core_count)
    problem = spec.validate_counts(workers, 1)
    if problem:
        return problem
    try:
        wrk_binary = find_wrk(args.wrk)
    except WrkNotFoundError as missing:
        return str(missing)
    return CalibrationPlan(
        spec=spec,
        workers=workers,
        users=args.users,
        duration_s=args.duration,
        warmup_s=args.warmup,
        pairs=args.pairs,
        placement=placement,
        results_dir=args.results,
        wrk_binary=wrk_binary,
    )


class SideFailedError(RuntimeError):
    """One side of a pair produced no figures; the calibration fails."""


@dataclass(frozen=True)
class CpuReading:
    """Machine-wide CPU counters at one moment (seconds since boot, summed over CPUs)."""

    at: float
    busy_s: float
    steal_s: float


@dataclass(frozen=True)
class MachineUsage:
    """Machine-wide CPU over a window, in percent of one CPU (200 = two CPUs)."""

    busy_pct: float
    steal_pct: float


class MachineCpu:
    """The whole machine's CPU, sampled on a thread while one side runs.

    Busy time minus the server's and the load generator's tells whether anything else ran
    (on a shared 2-core machine a stray test run changes both sides' numbers, and the ratio
    with them); steal time tells whether the hypervisor gave this virtual machine's CPUs to
    someone else, which slows the server without any process here being busy."""

    def __init__(self, interval_s: float = 0.5) -> None:
        self.interval_s = interval_s
        self.readings: list[CpuReading] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="machine-cpu", daemon=True)

    @staticmethod
    def read() -> CpuReading:
        times = psutil.cpu_times()
        # guest time is already inside user time; iowait is idle time
        busy = times.user + times.nice + times.system + times.irq + times.softirq
        return CpuReading(time.time(), float(busy), float(getattr(times, "steal", 0.0)))

    def __enter__(self) -> MachineCpu:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            self.readings.append(self.read())
            if self._stop.wait(self.interval_s):
                return

    def usage(self, start: float, end: float) -> MachineUsage | None:
        """Mean usage over the readings inside [start, end]; None with fewer than two."""
        inside = [reading for reading in self.readings if start <= reading.at <= end]
        if len(inside) < 2 or inside[-1].at <= inside[0].at:
            return None
        first, last = inside[0], inside[-1]
        elapsed_s = last.at - first.at
        return MachineUsage(
            busy_pct=100 * (last.busy_s - first.busy_s) / elapsed_s,
            steal_pct=100 * (last.steal_s - first.steal_s) / elapsed_s,
        )


def cpu_ms_per_request(cpu_pct: float | None, rps: float) -> float | None:
    """Server CPU time per answered request. When the server is the bottleneck on both
    sides (near 100 % of its CPUs), the ratio of the two rates is the inverse ratio of this
    figure: it tells whether the server worked harder per request, or ran slower, on one
    side, rather than being held back by the load generator."""
    if cpu_pct is None or rps <= 0:
        return None
    return cpu_pct * 10 / rps


def resource_fields(
    samples: list[Sample], machine: MachineCpu, start: float, end: float, rps: float
) -> dict[str, Any]:
    """CPU figures of one side over its measured window [start, end] (epoch seconds)."""
    resources = summarize(samples, start, end)
    usage = machine.usage(start, end)
    server, loadgen = resources.server_cpu_pct, resources.loadgen_cpu_pct
    other = None
    if usage is not None and server is not None and loadgen is not None:
        # never below 0: the two samplers read at slightly different moments
        other = max(0.0, usage.busy_pct - server - loadgen)
    return {
        "loadgen_cpu_pct": loadgen,
        "server_cpu_pct": server,
        "server_cpu_ms_per_request": cpu_ms_per_request(server, rps),
        "machine_cpu_pct": usage.busy_pct if usage else None,
        "other_cpu_pct": other,
        "steal_pct": usage.steal_pct if usage else None,
    }


@dataclass(frozen=True)
class Session:
    """What every measurement of one calibration shares."""

    plan: CalibrationPlan
    directory: Path
    server: RunningServer
    seed: SeedPlan
    console: Console

    @property
    def server_capacity_pct(self) -> float | None:
        """All of the server's CPUs, in percent of one; None when it is not pinned (then it
        shares CPUs with the load generator and "all of its CPUs" has no fixed value)."""
        cpus = self.plan.placement.server_cpus
        return 100.0 * len(cpus) if cpus else None


def measure_wrk(session: Session, number: int) -> dict[str, Any]:
    """Pair `number`'s wrk side: a discarded warm-up run, then the measured one."""
    plan = session.plan
    url = session.server.base_url + ENDPOINT
    # a fresh token per wrk side (one login, before the warm-up): it outlives the side
    # whatever the number of pairs, like the Locust users' own tokens, which they renew
    token = obtain_token(session.server.base_url, session.seed.username(1), session.seed.password)

    def request(duration_s: int) -> WrkRequest:
        return WrkRequest(
            binary=plan.wrk_binary,
            url=url,
            connections=plan.connections,
            duration_s=duration_s,
            token=token,
            cpus=plan.placement.loadgen_cpus,
        )

    label = f"[pair {number}/{plan.pairs} wrk]"
    if plan.warmup_s > 0:
        session.console.say(f"{label} warm-up {plan.warmup_s} s (discarded)")
        warmup_file = session.directory / f".wrk-{number}-warmup.txt"
        run_wrk(request(plan.warmup_s), warmup_file)
        warmup_file.unlink(missing_ok=True)
    session.console.say(f"{label} measuring {plan.duration_s} s, {plan.connections} connections")
    sampler = ResourceSampler(session.directory / f"wrk-{number}-resources.csv")
    sampler.watch("server", session.server.pid)
    sampler.start()
    try:
        with MachineCpu() as machine:
            run = run_wrk(
                request(plan.duration_s),
                session.directory / f"wrk-{number}.txt",
                on_started=lambda pid: sampler.watch("loadgen", pid),
            )
    finally:
        samples = sampler.stop()
    try:
        result = run.result()
    except WrkOutputError as error:
        raise SideFailedError(f"pair {number}, wrk: {error}") from None
    return {
        "rps": result.rps,
        "p50_ms": result.p50_ms,
        "requests": result.requests,
        "errors": result.errors,
        "non_2xx_3xx": result.non_2xx_3xx,
        "socket_errors": result.socket_errors.as_dict(),
        "error_summary": result.error_summary(),
        "elapsed_s": result.elapsed_s,
        "latency_percentiles_ms": {
            f"{pct:g}": ms for pct, ms in sorted(result.latency_percentiles_ms.items())
        },
        "output": f"wrk-{number}.txt",
        "exit_code": run.exit_code,
        **resource_fields(samples, machine, run.started_at, run.finished_at, result.rps),
    }


def measure_harness(session: Session, number: int) -> dict[str, Any]:
    """Pair `number`'s harness side: one Locust run with its managed warm-up and window."""
    plan = session.plan
    run_dir = session.directory / f"harness-{number}"
    run_dir.mkdir()
    load = LoadRequest(
        base_url=session.server.base_url,
        scenario=SCENARIO,
        shape=LoadShape.constant(plan.users),
        spawn_rate=float(plan.users),
        warmup_s=float(plan.warmup_s),
        duration_s=float(plan.duration_s),
        seeded_users=session.seed.users,
        user_prefix=session.seed.prefix,
        user_password=session.seed.password,
        run_dir=run_dir,
        cpus=plan.placement.loadgen_cpus,
    )
    label = f"[pair {number}/{plan.pairs} harness]"
    session.console.say(f"{label} Locust: {plan.users} users log in, warm up, then measure")
    sampler = ResourceSampler(run_dir / "resources.csv")
    sampler.watch("server", session.server.pid)
    sampler.start()
    try:
        with MachineCpu() as machine:
            status = run_locust(
                load,
                lambda progress: session.console.progress(label, plan.duration_s, progress),
                on_started=lambda pid: sampler.watch("loadgen", pid),
            )
    finally:
        samples = sampler.stop()
    window = read_json(load.window_file) if load.window_file.exists() else None
    if window is None or not window.get("completed"):
        why = (window or {}).get("reason") or "the measured window did not complete"
        raise SideFailedError(f"pair {number}, harness: {why} (Locust exit status {status})")
    if status not in (0, 1):
        raise SideFailedError(f"pair {number}, harness: Locust exited with status {status}")
    stats_csv = run_dir / "locust_stats.csv"
    if not stats_csv.exists():
        raise SideFailedError(f"pair {number}, harness: Locust wrote no {stats_csv.name}")
    figures = asdict(read_locust_window(stats_csv)[0])
    if figures["requests"] == 0:
        raise SideFailedError(f"pair {number}, harness: no request completed in the window")
    window_bounds = (float(window["window_started_at"]), float(window["window_ended_at"]))
    return {
        "rps": figures["rps"],
        "p50_ms": figures["p50_ms"],
        "requests": figures["requests"],
        "failures": figures["failures"],
        "window_s": window.get("window_s"),
        "run_dir": run_dir.name,
        "locust_exit_code": status,
        "loadgen_cpu_warning": bool(window.get("cpu_warning")),
        "loadgen_loop_lag_mean_ms": window.get("loop_lag_mean_ms"),
        **resource_fields(samples, machine, *window_bounds, figures["rps"]),
    }


def pair_problems(pair: dict[str, Any]) -> list[str]:
    """Errors that make a pair's comparison not like with like: wrk got error answers or
    broken connections, or the harness counted failed requests."""
    problems = []
    wrk, harness = pair.get(WRK) or {}, pair.get(HARNESS) or {}
    if wrk.get("errors"):
        problems.append(f"wrk: {wrk['error_summary']}")
    if harness.get("failures"):
        problems.append(f"harness: {harness['failures']} failed requests (see its Locust files)")
    return problems


def pair_remarks(pair: dict[str, Any], server_capacity_pct: float | None = None) -> list[str]:
    """Observations that explain a ratio without invalidating it.

    A load generator that used a whole CPU (or whose event loop woke late) is what limited
    its side's rate: that is what a calibration exists to find. Other processes and steal
    time say the machine was not quiet. When instead the server used all of its CPUs
    (`server_capacity_pct`) on both sides and neither generator was short of CPU, the rates
    differ because the server itself ran slower or worked harder on one side; the server's
    CPU time per request shows which."""
    remarks = []
    generator_limited = False
    for side, name in ((HARNESS, "Locust"), (WRK, "wrk")):
        figures = pair.get(side) or {}
        cpu = figures.get("loadgen_cpu_pct")
        if figures.get("loadgen_cpu_warning") or (cpu is not None and cpu > SATURATION_CPU_PCT):
            generator_limited = True
            shown = f"{cpu:.0f} %" if cpu is not None else "over 90 %"
            remarks.append(f"{side}: {name} was CPU-bound ({shown} of a CPU), it set the rate")
        lag_ms = figures.get("loadgen_loop_lag_mean_ms")
        if lag_ms is not None and lag_ms > LOOP_LAG_LIMIT_MS:
            generator_limited = True
            remarks.append(
                f"{side}: Locust's event loop woke {lag_ms:.1f} ms late on average (limit "
                f"{LOOP_LAG_LIMIT_MS:.0f} ms): its response times include waiting inside Locust"
            )
        other = figures.get("other_cpu_pct")
        if other is not None and other > OTHER_CPU_REMARK_PCT:
            remarks.append(
                f"{side}: other processes used {other:.0f} % of a CPU meanwhile "
                "(the machine was not quiet)"
            )
        steal = figures.get("steal_pct")
        if steal is not None and steal > STEAL_REMARK_PCT:
            remarks.append(
                f"{side}: the hypervisor took {steal:.1f} % of a CPU from this machine (steal)"
            )
    remark = _server_bound_remark(pair, server_capacity_pct)
    if remark and not generator_limited:
        remarks.append(remark)
    return remarks


def _server_bound_remark(pair: dict[str, Any], capacity_pct: float | None) -> str | None:
    wrk, harness, ratio = pair.get(WRK) or {}, pair.get(HARNESS) or {}, pair.get("ratio")
    loads = (wrk.get("server_cpu_pct"), harness.get("server_cpu_pct"))
    costs = (wrk.get("server_cpu_ms_per_request"), harness.get("server_cpu_ms_per_request"))
    if capacity_pct is None or ratio is None or abs(ratio - 1) <= 1 - TARGET_RATIO:
        return None
    if any(load is None or load < SERVER_BOUND_SHARE * capacity_pct for load in loads):
        return None
    if any(cost is None for cost in costs):
        return None
    return (
        f"the server was the bottleneck on both sides ({loads[0]:.0f}/{loads[1]:.0f} % CPU, "
        f"wrk/harness) and spent {costs[0]:.2f}/{costs[1]:.2f} ms of CPU per request: the rates "
        "differ because the server ran slower or worked harder on one side, not because a "
        "load generator held it back"
    )


def judge(pairs: list[dict[str, Any]], planned: int) -> tuple[str, str]:
    """(status, reason) once the pairs ran: failed when one is missing, invalid when a side
    saw errors, ok otherwise."""
    if len(pairs) < planned or any(pair.get("ratio") is None for pair in pairs):
        return "failed", f"only {len(pairs)} of {planned} pairs were measured"
    problems = [
        f"pair {pair['index']}: {problem}" for pair in pairs for problem in pair_problems(pair)
    ]
    if problems:
        return "invalid", "errors during the measurement: " + "; ".join(problems)
    return "ok", ""


def aggregate(document: dict[str, Any]) -> None:
    """Fill the medians, the ratio's spread and the target verdict from the pairs."""
    pairs = [pair for pair in document["pairs"] if pair.get("ratio") is not None]
    if not pairs:
        return

    def median(side: str | None, key: str) -> float | None:
        values = [(pair[side] if side else pair).get(key) for pair in pairs]
        present = [value for value in values if value is not None]
        return statistics.median(present) if present else None

    ratios = [pair["ratio"] for pair in pairs]
    document["ratio_median"] = statistics.median(ratios)
    document["ratio_min"], document["ratio_max"] = min(ratios), max(ratios)
    document["wrk_rps_median"] = median(WRK, "rps")
    document["harness_rps_median"] = median(HARNESS, "rps")
    document["wrk_p50_ms_median"] = median(WRK, "p50_ms")
    document["harness_p50_ms_median"] = median(HARNESS, "p50_ms")
    if document["status"] == "ok":
        document["target_met"] = document["ratio_median"] >= document["target"]
    if document["ratio_max"] - document["ratio_min"] > 2 * (1 - document["target"]):
        document["notes"].append(
            f"the pair ratios spread from {document['ratio_min']:.3f} to "
            f"{document['ratio_max']:.3f}: a difference of a few percent from the target is "
            "within this machine's noise; more pairs on a quieter machine sharpen the median"
        )


def prime_server(base_url: str, seed: SeedPlan) -> None:
    """Put the server through what a harness side does to it before its window: every
    seeded account logs in (concurrently, one PBKDF2 hash each) and reads its item list.

    Done once, before the first pair. Without it the first measurement ran on a server that
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
            raise SideFailedError(f"priming: GET {ITEMS_PATH} as {username}: {listing.status}")

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
        raise SideFailedError(f"POST {TOKEN_PATH} for wrk's token: status {answer.status}")
    return str(body["access"])


def base_document(
    plan: CalibrationPlan,
    calibration_id: str,
    launch: LaunchRequest,
    machine: MachineInfo,
    wrk_version_line: str,
) -> dict[str, Any]:
    spec = plan.spec
    versions = {**machine.versions(spec.version_distribution), "wrk": wrk_version_line}
    wrk_argv = WrkRequest(
        binary=plan.wrk_binary,
        url=launch.base_url + ENDPOINT,
        connections=plan.connections,
        duration_s=plan.duration_s,
        token="<token>",
    ).argv(redact=True)
    return {
        "schema_version": SCHEMA_VERSION,
        "calibration_id": calibration_id,
        "server": spec.name,
        "server_version": versions.get(spec.version_distribution),
        "server_argv": launch.argv,
        "workers": plan.workers,
        "users": plan.users,
        "connections": plan.connections,
        "scenario": SCENARIO,
        "endpoint": f"GET {ENDPOINT}",
        "duration_s": plan.duration_s,
        "warmup_s": plan.warmup_s,
        "access_lifetime_s": plan.access_lifetime_s,
        "pairs_planned": plan.pairs,
        "order": "alternating: W H, H W, W H, ... (which side goes first flips every pair)",
        "token_note": TOKEN_NOTE,
        "wrk_argv": wrk_argv,
        "base_url": launch.base_url,
        "pairs": [],
        "ratio_median": None,
        "ratio_min": None,
        "ratio_max": None,
        "wrk_rps_median": None,
        "harness_rps_median": None,
        "wrk_p50_ms_median": None,
        "harness_p50_ms_median": None,
        "target": TARGET_RATIO,
        "target_met": None,
        "placement": plan.placement.as_meta(),
        "versions": versions,
        "git_sha": machine.git_sha,
        "git_dirty": machine.git_dirty,
        "cpu_model": machine.cpu_model,
        "cpu_count": machine.cpu_count,
        "load_average_at_start": list(os.getloadavg()),
        "load_average_at_end": None,
        "started_at": None,
        "finished_at": None,
        "status": "failed",
        "reason": "the calibration did not finish",
        "notes": [],
    }


MEASURE: Final[Mapping[str, Callable[[Session, int], dict[str, Any]]]] = MappingProxyType(
    {WRK: measure_wrk, HARNESS: measure_harness}
)


def run_pairs(session: Session, document: dict[str, Any], save: Callable[[], None]) -> None:
    """Measure every pair in order, saving calibration.json after each side."""
    for index in range(session.plan.pairs):
        number = index + 1
        order = pair_order(index)
        pair: dict[str, Any] = {
            "index": number,
            "order": [side[0].upper() for side in order],
            WRK: None,
            HARNESS: None,
            "ratio": None,
        }
        document["pairs"].append(pair)
        for side in order:
            pair[side] = MEASURE[side](session, number)
            save()
        pair["ratio"] = pair[HARNESS]["rps"] / pair[WRK]["rps"] if pair[WRK]["rps"] else None
        pair["notes"] = pair_problems(pair) + pair_remarks(pair, session.server_capacity_pct)
        session.console.say(pair_line(pair))
        save()


def _number(value: Any, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _both(wrk: dict[str, Any], harness: dict[str, Any], key: str, digits: int = 0) -> str:
    """A figure of both sides as "wrk/harness"."""
    return f"{_number(wrk.get(key), digits)}/{_number(harness.get(key), digits)}"


def pair_line(pair: dict[str, Any]) -> str:
    wrk, harness = pair[WRK], pair[HARNESS]
    return (
        f"pair {pair['index']} ({' '.join(pair['order'])}): wrk {_number(wrk['rps'], 1)} rps, "
        f"p50 {_number(wrk['p50_ms'], 2)} ms | harness {_number(harness['rps'], 1)} rps, "
        f"p50 {_number(harness['p50_ms'], 0)} ms | ratio {_number(pair['ratio'], 3)}"
    )


def summary_text(document: dict[str, Any]) -> str:
    """The closing report: one row per pair, the medians, the verdict and the caveats."""
    header = (
        "pair",
        "order",
        "wrk rps",
        "harness rps",
        "ratio",
        "wrk p50 ms",
        "harness p50 ms",
        "errors",
        "generator CPU %",
        "server CPU %",
        "server CPU ms/req",
        "other CPU %",
        "steal %",
        "Locust lag ms",
    )
    rows = [header]
    for pair in document["pairs"]:
        wrk, harness = pair.get(WRK) or {}, pair.get(HARNESS) or {}
        rows.append(
            (
                str(pair["index"]),
                " ".join(pair["order"]),
                _number(wrk.get("rps"), 1),
                _number(harness.get("rps"), 1),
                _number(pair.get("ratio"), 3),
                _number(wrk.get("p50_ms"), 2),
                _number(harness.get("p50_ms"), 0),
                f"{_number(wrk.get('errors'), 0)}/{_number(harness.get('failures'), 0)}",
                _both(wrk, harness, "loadgen_cpu_pct"),
                _both(wrk, harness, "server_cpu_pct"),
                _both(wrk, harness, "server_cpu_ms_per_request", 2),
                _both(wrk, harness, "other_cpu_pct"),
                _both(wrk, harness, "steal_pct", 1),
                _number(harness.get("loadgen_loop_lag_mean_ms"), 1),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    placement = document["placement"]
    lines += [
        "",
        f"server {document['server']} ({document['workers']} worker(s)), "
        f"{document['connections']} connections/users, GET {ENDPOINT}, "
        f"{document['duration_s']} s per side; placement: {placement['note']}",
        f"median ratio harness/wrk: {_number(document['ratio_median'], 3)} "
        f"(min {_number(document['ratio_min'], 3)}, max {_number(document['ratio_max'], 3)}); "
        f"median p50: wrk {_number(document['wrk_p50_ms_median'], 2)} ms, "
        f"harness {_number(document['harness_p50_ms_median'], 0)} ms",
    ]
    loads = [document["load_average_at_start"], document["load_average_at_end"]]
    if all(loads):
        lines.append(
            "a/b columns: wrk side/harness side; errors: wrk's errors/the harness's failures; "
            "CPU in % of one CPU; 'other' is the machine's busy CPU minus server and load "
            "generator; steal: CPU the hypervisor took. 1-min load average "
            f"{loads[0][0]:.1f} at start, {loads[1][0]:.1f} at end ({document['cpu_count']} CPUs)"
        )
    target = document["target"]
    if document["target_met"] is None:
        lines.append(f"target (median ratio >= {target}): not judged, status {document['status']}")
    else:
        verdict = "met" if document["target_met"] else "NOT met"
        lines.append(
            f"target (median ratio >= {target}): {verdict} (median {document['ratio_median']:.4f})"
        )
    if document["reason"]:
        lines.append(f"status {document['status']}: {document['reason']}")
    lines += [f"note: {note}" for note in [*document["notes"], document["token_note"]]]
    return "\n".join(lines)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def calibrate(plan: CalibrationPlan, console: Console) -> tuple[dict[str, Any], Path, bool]:
    """Run the whole calibration; (document, published directory, interrupted)."""
    machine, wrk_version_line = MachineInfo.collect(), wrk_version(plan.wrk_binary)
    started_at = utc_now()
    calibration_id = new_run_id(started_at, plan.spec.name, SCENARIO, plan.users)
    directory = RunDirectory(plan.results_dir / "calibrations", calibration_id)
    out = directory.create()
    interrupted = False
    running: RunningServer | None = None
    with tempfile.TemporaryDirectory(prefix="drf-calibrate-") as scratch:
        db_path = Path(scratch) / "db.sqlite3"
        app = AppSettings.for_sqlite(db_path, access_lifetime_s=plan.access_lifetime_s)
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
        document = base_document(plan, calibration_id, launch, machine, wrk_version_line)
        document["started_at"] = iso(started_at)

        def save() -> None:
            write_json(out / "calibration.json", document)

        save()
        try:
            seed = SeedPlan(users=plan.users, items_per_user=1)
            console.say(f"preparing the database: migrate, seed {plan.users} users ...")
            prepare_database(app, seed)
            console.say(
                f"starting {plan.spec.name} ({plan.workers} worker(s)) on {launch.base_url}; "
                f"{plan.placement.note}"
            )
            running = start(launch)
            problems = check_responses(
                running.base_url, SCENARIOS[SCENARIO], seed.username(1), seed.password
            )
            if problems:
                raise SideFailedError("response check failed: " + "; ".join(problems[:5]))
            console.say(f"priming: {seed.users} logins and item lists, as Locust's users do")
            prime_server(running.base_url, seed)
            session = Session(plan, out, running, seed, console)
            run_pairs(session, document, save)
            document["status"], document["reason"] = judge(document["pairs"], plan.pairs)
        except KeyboardInterrupt:
            interrupted = True
            document["status"], document["reason"] = "failed", INTERRUPTED
        except (
            SideFailedError,
            ServerStartError,
            AppCommandError,
            OSError,
            TimeoutError,
            ValueError,
        ) as error:
            document["status"], document["reason"] = "failed", str(error)
        finally:
            if running is not None and not running.stopped:
                try:
                    stop(running)
                except Exception as error:  # still recorded; say what survived
                    document["status"] = "failed"
                    document["reason"] = "; ".join(filter(None, [document["reason"], str(error)]))
            aggregate(document)
            document["notes"].extend(
                f"pair {pair['index']}: {note}"
                for pair in document["pairs"]
                for note in pair.get("notes", [])
            )
            document["load_average_at_end"] = list(os.getloadavg())
            document["finished_at"] = iso(utc_now())
            save()
            final = directory.publish()
    return document, final, interrupted


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    plan = plan_from_args(args, available_cpus=tuple(sorted(os.sched_getaffinity(0))))
    if isinstance(plan, str):
        fail_usage("calibrate", plan)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    console = Console()
    console.say(
        f"calibrate: {plan.pairs} pair(s) of wrk and the harness against {plan.spec.name}, "
        f"{plan.connections} connections, {plan.duration_s} s each; {TOKEN_NOTE}"
    )
    try:
        document, final, interrupted = calibrate(plan, console)
    except KeyboardInterrupt:  # before the directory existed or after it was published
        console.say("calibrate: interrupted")
        return 130
    console.say("\n" + summary_text(document))
    console.say(f"\nresults in {final}")
    if interrupted:
        return 130
    return 0 if document["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
