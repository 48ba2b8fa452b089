"""The benchmark plan: every user choice, validated once, then frozen.

Validation happens before anything is started or written: a bad value becomes one line that
names the valid values, and exit status 2 (see scripts/cli.py).
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from loadtests.arrival import ArrivalRates
from loadtests.partition import accounts_needed
from loadtests.scenarios import SCENARIOS
from loadtests.shape import LoadShape
from scripts.harness.deployment import (
    CHECKS,
    DATABASES,
    PROFILES,
    PROXIES,
    Deployment,
    deployment_of,
)
from scripts.harness.distributed import LoadWorkers, add_worker_arguments, load_workers_of
from scripts.harness.judge import DEFAULT_MAX_ERROR_RATE
from scripts.harness.open_model import add_open_model_arguments, open_load
from scripts.harness.target import (
    RemoteTarget,
    ca_file_argument,
    external_placement,
    given_destinations,
    remote_target,
    target_argument,
)
from scripts.options.parsing import (
    OneLineErrorParser,
    error_rate,
    port_number,
    positive_int,
    positive_rate,
)
from servers.placement import PLACEMENTS, Placement, default_mode, place
from servers.registry import ServerSpec, get_server, product_server_names, server_names

DEFAULT_USERS = 16
DEFAULT_DURATION_S = 30.0
DEFAULT_WARMUP_S = 5.0
DEFAULT_ITEMS_PER_USER = 20
DEFAULT_ACCESS_LIFETIME_S = 300
_DURATION = re.compile(r"^(?P<value>\d+(\.\d+)?)(?P<unit>ms|s|m)?$")
_UNIT_S = {None: 1.0, "s": 1.0, "m": 60.0, "ms": 0.001}


def duration_seconds(text: str) -> float:
    """argparse type: a positive duration such as `30`, `30s`, `1.5m` or `500ms`."""
    match = _DURATION.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(
            f"expected a positive duration like 30, 30s or 2m, got {text!r}"
        )
    seconds = float(match["value"]) * _UNIT_S[match["unit"]]
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"expected a duration above zero, got {text!r}")
    return seconds


def non_negative_duration(text: str) -> float:
    """argparse type: like duration_seconds, but 0 is allowed (no warm-up)."""
    if text.strip() in {"0", "0s"}:
        return 0.0
    return duration_seconds(text)


ALL_SERVERS = "all"  # the five servers of the product
EVERY_SERVER = "every"  # every registered server


def server_list(text: str) -> tuple[str, ...]:
    """argparse type: `all` (the product's five), `every` (all registered), one server, or
    a comma-separated list of servers."""
    if text.strip() == ALL_SERVERS:
        return tuple(product_server_names())
    if text.strip() == EVERY_SERVER:
        return tuple(server_names())
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in server_names()]
    if not names or unknown:
        bad = ", ".join(unknown) or repr(text)
        raise argparse.ArgumentTypeError(
            f"unknown server {bad}; valid servers: {ALL_SERVERS}, {EVERY_SERVER}, "
            f"{', '.join(server_names())}"
        )
    return names


AUTO = "auto"


@dataclass(frozen=True)
class CountChoice:
    """WORKERS or THREADS as given: the harness's default (nothing given), `auto` (each
    server's documented rule), or the counts to run, several of them being a sweep."""

    counts: tuple[int, ...] = ()
    auto: bool = False


def count_choice(text: str) -> CountChoice:
    """argparse type: `auto`, a whole number >= 1, or a comma-separated list to sweep."""
    if text.strip() == AUTO:
        return CountChoice(auto=True)
    problem = f"expected a whole number >= 1, a list like 1,2,4, or {AUTO}, got {text!r}"
    try:
        counts = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(problem) from None
    if min(counts) < 1 or len(set(counts)) != len(counts):
        raise argparse.ArgumentTypeError(problem + " (each count once)")
    return CountChoice(counts)


SHAPES = ("constant", "steps")


def user_counts(text: str) -> tuple[int, ...]:
    """argparse type: one user count, or a comma-separated list of them (step load)."""
    parts = [part.strip() for part in text.split(",")]
    try:
        counts = tuple(int(part) for part in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number >= 1 (or a list like 8,16,32), got {text!r}"
        ) from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(
            f"expected a whole number >= 1 (or a list like 8,16,32), got {text!r}"
        )
    return counts


def results_directory(text: str) -> Path:
    """argparse type: a directory that exists or can be created (checked, not created)."""
    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} exists and is not a directory")
    existing = next(parent for parent in (path, *path.parents) if parent.exists())
    if not os.access(existing, os.W_OK):
        raise argparse.ArgumentTypeError(f"{text!r} is not writable")
    return path


@dataclass(frozen=True)
class ServerRun:
    """One server as it will run: the spec with the worker/thread counts it gets, and how
    those counts were chosen (recorded in meta.json as `workers_rule`)."""

    spec: ServerSpec
    workers: int
    threads: int
    workers_rule: str = ""


@dataclass(frozen=True)
class BenchPlan:
    """Everything one `make bench` will do; built once, read everywhere, never changed."""

    servers: tuple[ServerRun, ...]
    scenario: str
    shape: LoadShape
    spawn_rate: float
    duration_s: float
    warmup_s: float
    repeats: int
    host: str
    port: int | None
    results_dir: Path
    access_lifetime_s: int  # the app's ACCESS_TOKEN_LIFETIME
    issued_lifetime_s: int  # the lifetime of the tokens the app issues for the load
    items_per_user: int
    make_report: bool
    placement: Placement
    slo_p99_ms: float | None = None
    max_error_rate: float = DEFAULT_MAX_ERROR_RATE
    errors_expected: bool = False
    locust_processes: int = 1
    load_workers: LoadWorkers = field(default_factory=LoadWorkers)  # master/worker mode
    loadgen_burn_ms: float = 0.0
    deployment: Deployment = field(default_factory=Deployment)
    checks: tuple[str, ...] = ()
    robustness_slow_s: float | None = None  # None: the checks' own bound (10 s)
    share_machine: bool = False  # run beside another bench (scripts/harness/machine_lock.py)
    max_requests: int | None = None  # each worker replaced after this many requests
    target: RemoteTarget | None = None  # TARGET: a running deployment, no server launched
    arrival: ArrivalRates | None = None  # the open model's rates (None: a closed loop)

    @property
    def users(self) -> int:
        """The most users at once: the number of accounts seeded."""
        return self.shape.most_users

    @property
    def seeded_accounts(self) -> int:
        """Accounts to seed: one per user, rounded up so that every Locust worker's share
        holds as many as the most users Locust can give it (loadtests/partition.py)."""
        workers = self.load_workers.expected if self.load_workers.distributed else 1
        return accounts_needed(self.users, workers)

    @property
    def window_total_s(self) -> float:
        return self.duration_s * self.shape.windows

    @property
    def run_order(self) -> list[tuple[int, ServerRun]]:
        """(repeat_index, server) in interleaved order: A B C A B C, not A A B B, so a
        slow drift of the machine spreads over every server instead of favouring one."""
        return [(repeat, server) for repeat in range(self.repeats) for server in self.servers]


# Named presets: the values they give flags that are not given explicitly. "verdict" makes
# a verdict possible in reasonable time: 4 repetitions per server (Welch on logs can decide
# at n = 4; rank tests cannot), 10 s windows and a 2 s warm-up.
PRESETS: Final[Mapping[str, Mapping[str, Any]]] = MappingProxyType(
    {"verdict": MappingProxyType({"repeats": 4, "duration": 10.0, "warmup": 2.0})}
)


def profile_values(name: str | None) -> dict[str, Any]:
    """The values a --profile gives the flags not given (none for no profile)."""
    profile = PROFILES.get(name or "")
    if profile is None:
        return {}
    values: dict[str, Any] = {"proxy": profile.proxy, "db": profile.database}
    if profile.workers_auto:
        values["workers"] = CountChoice(auto=True)
    return values


def parse_bench_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The bench's flags, a --preset's and a --profile's values standing in for the
    defaults of flags not given: argparse fills in a default only where the namespace it is
    handed has no value, so an explicit flag wins wherever it stands on the command line."""
    parser = build_parser()
    known = parser.parse_known_args(argv)[0]
    given = {**PRESETS.get(known.preset, {}), **profile_values(known.profile)}
    args = parser.parse_args(argv, argparse.Namespace(**given))
    args.given = given_destinations(build_parser(), argv)  # what TARGET must refuse
    return args


def check_list(text: str) -> tuple[str, ...]:
    """argparse type: comma-separated names of checks run after the load."""
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in CHECKS]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown check {', '.join(unknown) or repr(text)}; valid checks: {', '.join(CHECKS)}"
        )
    return names


def add_deployment_arguments(parser: argparse.ArgumentParser) -> None:
    """PROFILE, PROXY and DB: what runs around the server (bench and serve share them)."""
    parser.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default=None,
        help="; ".join(f"{p.name}: {p.description}" for p in PROFILES.values())
        + " (values for the flags not given; default: none)",
    )
    parser.add_argument(
        "--proxy",
        choices=sorted(PROXIES),
        default=None,
        help="what runs in front of the server: nginx (Debian's, a config per run) or none "
        "(default: none)",
    )
    parser.add_argument(
        "--db",
        choices=DATABASES,
        default=None,
        help="sqlite (a fresh copy per run) or postgres (the harness's own cluster, pinned "
        "with the server; $DATABASE_URL names an external server instead) (default: sqlite)",
    )


def build_parser() -> OneLineErrorParser:
    parser = OneLineErrorParser(
        prog="bench",
        description="Benchmark the sample app under one or more servers with authenticated "
        "Locust load; each run is written to <results>/runs/<run_id>/.",
    )
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default=None,
        help="verdict: --repeats 4 --duration 10s --warmup 2s, for the flags not given",
    )
    add_deployment_arguments(parser)
    parser.add_argument(
        "--checks",
        type=check_list,
        default=(),
        help="checks after the load, their figures in summary.json: robustness (slow "
        "clients, oversized header and body, a graceful stop with requests in flight)",
    )
    parser.add_argument(
        "--target",
        type=target_argument,
        default=None,
        help="http(s)://host[:port][/prefix] of an already-running deployment of the sample "
        "app: no server is launched; the seeded accounts' password comes from "
        "$DRF_BENCH_TARGET_PASSWORD (prefix: $DRF_BENCH_TARGET_USER_PREFIX, default bench)",
    )
    parser.add_argument(
        "--target-ca",
        type=ca_file_argument,
        default=None,
        help="PEM file of the CA certificates TARGET's TLS is verified against (default: "
        "the system's); verification is never off",
    )
    parser.add_argument(
        "--server",
        type=server_list,
        default=("gunicorn",),
        help=f"all, or one or more of: {', '.join(server_names())} "
        "(comma-separated; default: gunicorn)",
    )
    parser.add_argument(
        "--scenario",
        choices=sorted(SCENARIOS),
        default="mixed",
        help="which request mix (default: mixed)",
    )
    parser.add_argument(
        "--users",
        type=user_counts,
        default=(DEFAULT_USERS,),
        help=f"simulated users, each its own account (default: {DEFAULT_USERS}); with "
        "--shape steps, increasing counts such as 8,16,32,64",
    )
    parser.add_argument(
        "--shape",
        choices=SHAPES,
        default="constant",
        help="constant: one window at USERS; steps: one window per user count (default: constant)",
    )
    parser.add_argument(
        "--step",
        type=duration_seconds,
        default=None,
        help="window length of each step with --shape steps (default: --duration)",
    )
    add_open_model_arguments(parser)
    parser.add_argument(
        "--slo-p99-ms",
        type=positive_rate,
        default=None,
        help="latency objective: a window meets it with p99 <= this and errors < 1 %%; with "
        "steps, each server's capacity is reported; exit status 3 when a server misses it",
    )
    parser.add_argument(
        "--spawn-rate",
        type=positive_rate,
        default=None,
        help="users started per second (default: all within one second)",
    )
    parser.add_argument(
        "--duration",
        type=duration_seconds,
        default=DEFAULT_DURATION_S,
        help="measured window, e.g. 30s or 2m (default: 30s)",
    )
    parser.add_argument(
        "--warmup",
        type=non_negative_duration,
        default=DEFAULT_WARMUP_S,
        help="load before measuring, counted from the start; logins are part of it, and "
        "at least 1 s of full load follows the last login (default: 5s)",
    )
    parser.add_argument(
        "--repeats",
        type=positive_int,
        default=1,
        help="runs per server, interleaved across servers (default: 1)",
    )
    parser.add_argument(
        "--workers",
        type=count_choice,
        default=CountChoice(),
        help="worker processes: a number, a list to sweep (1,2,4: one configuration each), "
        "or auto (each server's documented rule for its CPUs, e.g. Gunicorn's 2 x cores + 1) "
        "(default: one per core; single-process servers always 1)",
    )
    parser.add_argument(
        "--threads",
        type=count_choice,
        default=CountChoice((1,)),
        help="threads per worker where the server has such a setting: a number, a list to "
        "sweep, or auto (default: 1)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=port_number,
        default=None,
        help="port for every server (default: a free port per run)",
    )
    parser.add_argument(
        "--results",
        type=results_directory,
        default=Path("results"),
        help="results directory (default: results)",
    )
    parser.add_argument(
        "--access-lifetime",
        type=duration_seconds,
        default=None,
        help="JWT access-token lifetime given to the app and to the users' issued tokens, "
        "so they refresh under load (default: the app keeps 300s and the issued tokens "
        "outlive the bench, so no refresh falls in a window)",
    )
    parser.add_argument(
        "--items",
        type=positive_int,
        default=DEFAULT_ITEMS_PER_USER,
        help=f"items seeded per user (default: {DEFAULT_ITEMS_PER_USER})",
    )
    parser.add_argument(
        "--pin",
        choices=sorted(PLACEMENTS),
        default=None,
        help="split: server and Locust on separate CPUs (default with 2+ CPUs); none: not pinned",
    )
    parser.add_argument(
        "--locust-processes",
        type=positive_int,
        default=1,
        help="Locust processes, to raise the generator's capacity (default: 1); with more "
        "than one, or with remote workers, a Locust master and this many local workers",
    )
    add_worker_arguments(parser, duration_seconds)
    parser.add_argument(
        "--max-error-rate",
        type=error_rate,
        default=DEFAULT_MAX_ERROR_RATE,
        help="a run whose failures exceed this share of its requests is failed "
        f"(default: {DEFAULT_MAX_ERROR_RATE:g}, i.e. 1 %%)",
    )
    parser.add_argument(
        "--errors-expected",
        action="store_true",
        help="the run provokes errors on purpose (overload, slow clients): its errors are "
        "figures, not a gate; a server that dies still fails it",
    )
    parser.add_argument(
        "--max-requests",
        type=positive_int,
        default=None,
        help="replace each worker after this many requests (worker recycling: gunicorn's "
        "and uWSGI's --max-requests); only for servers with such a setting (default: never)",
    )
    # tests and the tiny lesson only: how long the robustness checks' slow clients trickle
    parser.add_argument(
        "--robustness-slow-s", type=duration_seconds, default=None, help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--share-machine",
        action="store_true",
        help="run even while another bench holds this machine (default: wait for it); the "
        "runs are marked as sharing the machine",
    )
    # tests only: burn Locust CPU per task to starve the generator on purpose
    parser.add_argument("--loadgen-burn-ms", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument(
        "--report", action="store_true", help="write the report (make report) after the runs"
    )
    return parser


def plan_from_args(args: argparse.Namespace, available_cpus: tuple[int, ...]) -> BenchPlan | str:
    """The plan, or one line saying which value does not fit which server."""
    if args.target is not None:
        return _target_plan(args, available_cpus)
    if args.target_ca is not None:
        return "TARGET_CA names the CA of a TARGET: give TARGET too"
    placement = place(args.pin or default_mode(available_cpus), available_cpus)
    names: tuple[str, ...] = args.server
    runs = server_runs(
        [get_server(name) for name in names],
        args.workers,
        args.threads,
        placement.server_core_count,
    )
    if isinstance(runs, str):
        return runs
    load = _checked_load(args)
    if isinstance(load, str):
        return load
    rates, counts = load
    if args.max_requests is not None:
        lacking = [name for name in names if get_server(name).recycle_argv is None]
        if lacking:
            able = ", ".join(name for name in server_names() if get_server(name).recycle_argv)
            return f"{', '.join(lacking)} cannot recycle workers; MAX_REQUESTS works with: {able}"
    if args.access_lifetime is not None and args.access_lifetime < 1:
        return "access lifetime must be at least 1 s (JWT expiry has one-second resolution)"
    load_workers = load_workers_of(args)
    if isinstance(load_workers, str):
        return load_workers
    duration_s = args.step if args.step is not None else args.duration
    run_count = len(runs) * args.repeats
    # long enough for every run of the bench with a wide margin for start-up and stops
    covering_s = int(run_count * (duration_s * len(counts) + args.warmup + 120) + 600)
    return BenchPlan(
        servers=runs,
        scenario=args.scenario,
        shape=LoadShape(counts),
        # all of a step's new users within one second: a step load's largest count
        spawn_rate=args.spawn_rate or float(max(counts)),
        duration_s=duration_s,
        warmup_s=args.warmup,
        repeats=args.repeats,
        host=args.host,
        port=args.port,
        results_dir=args.results,
        access_lifetime_s=(
            DEFAULT_ACCESS_LIFETIME_S if args.access_lifetime is None else int(args.access_lifetime)
        ),
        issued_lifetime_s=covering_s if args.access_lifetime is None else int(args.access_lifetime),
        items_per_user=args.items,
        make_report=args.report,
        placement=placement,
        locust_processes=args.locust_processes,
        load_workers=load_workers,
        loadgen_burn_ms=args.loadgen_burn_ms,
        slo_p99_ms=args.slo_p99_ms,
        max_error_rate=args.max_error_rate,
        errors_expected=args.errors_expected,
        deployment=deployment_of(args.proxy, args.db),
        checks=args.checks,
        robustness_slow_s=args.robustness_slow_s,
        share_machine=args.share_machine,
        max_requests=args.max_requests,
        arrival=rates,
    )


def _checked_load(args: argparse.Namespace) -> tuple[ArrivalRates | None, tuple[int, ...]] | str:
    """The open model's rates (None: a closed loop) and the user counts, or one line when
    USERS, SHAPE, STEP and ARRIVAL_RATE do not fit together; for launched and TARGET
    benches alike."""
    load = open_load(args)
    if isinstance(load, str):
        return load
    rates, counts = load
    return _load_problem(args, counts, rates is not None) or (rates, counts)


def _load_problem(
    args: argparse.Namespace, counts: tuple[int, ...], open_model: bool = False
) -> str | None:
    """One line when USERS, SHAPE and STEP do not fit together (the open model's steps are
    rates: its pool of users stays the same, and its rate steps run in one Locust process,
    whose schedule changes rate; a master's step shape changes user counts instead)."""
    if args.shape == "constant" and len(counts) != 1:
        return "USERS takes one number unless SHAPE=steps (e.g. SHAPE=steps USERS=8,16,32)"
    if args.shape == "steps":
        if not open_model and (len(counts) < 2 or list(counts) != sorted(set(counts))):
            return "SHAPE=steps needs at least two increasing user counts, e.g. USERS=8,16,32"
        if open_model and (args.locust_processes > 1 or args.expect_remote_workers > 0):
            return (
                "ARRIVAL_RATE with SHAPE=steps needs a single Locust process (LOCUST_PROCESSES=1)"
            )
    elif args.step is not None:
        return "STEP is the window of each step: it needs SHAPE=steps"
    return None


def _target_plan(args: argparse.Namespace, available_cpus: tuple[int, ...]) -> BenchPlan | str:
    """The plan of a bench against TARGET: no server runs here, so no server settings (they
    are refused), no CPU split, and the seeded accounts' credentials from the environment."""
    target = remote_target(
        args.target, args.target_ca, getattr(args, "given", frozenset()), os.environ
    )
    if isinstance(target, str):
        return target
    load = _checked_load(args)
    if isinstance(load, str):
        return load
    rates, counts = load
    load_workers = load_workers_of(args, target.url.host)
    if isinstance(load_workers, str):
        return load_workers
    return BenchPlan(
        servers=(),
        scenario=args.scenario,
        shape=LoadShape(counts),
        spawn_rate=args.spawn_rate or float(max(counts)),
        duration_s=args.step if args.step is not None else args.duration,
        warmup_s=args.warmup,
        repeats=args.repeats,
        host=target.url.host,
        port=target.url.port,
        results_dir=args.results,
        access_lifetime_s=0,  # the target's own: read from the tokens it issues
        issued_lifetime_s=0,
        items_per_user=0,
        make_report=args.report,
        placement=external_placement(available_cpus),
        locust_processes=args.locust_processes,
        loadgen_burn_ms=args.loadgen_burn_ms,
        slo_p99_ms=args.slo_p99_ms,
        max_error_rate=args.max_error_rate,
        errors_expected=args.errors_expected,
        share_machine=args.share_machine,
        target=target,
        load_workers=load_workers,
        arrival=rates,
    )


def _worker_options(spec: ServerSpec, choice: CountChoice, cores: int) -> list[tuple[int, str]]:
    """(workers, how it was chosen) for each configuration WORKERS asks of `spec`."""
    if choice.auto:
        count = spec.workers_rule.apply(cores)
        if spec.max_workers is not None:
            count = min(count, spec.max_workers)
        return [(count, spec.workers_rule.describe("WORKERS", cores, count))]
    if not choice.counts:
        count = spec.default_workers(cores)
        return [(count, f"WORKERS default: one per core, {count} for {cores} core(s)")]
    return [(count, f"WORKERS={count} given") for count in choice.counts]


def _thread_options(
    spec: ServerSpec, choice: CountChoice, cores: int, workers: int
) -> list[tuple[int, str]]:
    """(threads, how it was chosen) for each configuration THREADS asks of `spec`."""
    if not spec.threads_supported and (choice.auto or choice.counts == (1,)):
        return [(1, "THREADS: none, the server has no thread-count setting")]
    if choice.auto:
        count = spec.threads_rule.apply(cores, workers)
        return [(count, spec.threads_rule.describe("THREADS", cores, count))]
    return [(count, f"THREADS={count} given") for count in choice.counts]


def _fitted(spec: ServerSpec, workers: int, threads: int) -> tuple[int, int, list[str]]:
    """The counts as `spec` can take them, and what had to change to get there."""
    fits = []
    if spec.max_workers is not None and workers > spec.max_workers:
        fits.append(f"fitted to {spec.max_workers} worker(s), {spec.name}'s most")
        workers = spec.max_workers
    if not spec.threads_supported and threads != 1:
        fits.append(f"fitted to 1 thread, {spec.name} has no thread-count setting")
        threads = 1
    return workers, threads, fits


def server_runs(
    specs: Sequence[ServerSpec], workers: CountChoice, threads: CountChoice, cores: int
) -> tuple[ServerRun, ...] | str:
    """One ServerRun per server x worker count x thread count, in that order, or one line
    saying which count does not fit which server.

    With several servers, a count a server cannot take is fitted to it (and the fit is
    recorded in meta.json) instead of refusing the whole plan; a sweep that fitting makes
    repeat itself (daphne at WORKERS=1,2,4) runs each remaining configuration once.
    """
    runs: list[ServerRun] = []
    for spec in specs:
        for asked_workers, worker_text in _worker_options(spec, workers, cores):
            for asked_threads, thread_text in _thread_options(spec, threads, cores, asked_workers):
                counts = (asked_workers, asked_threads, list[str]())
                if len(specs) > 1:
                    counts = _fitted(spec, asked_workers, asked_threads)
                worker_count, thread_count, fits = counts
                problem = spec.validate_counts(worker_count, thread_count)
                if problem:
                    return problem
                rule = "; ".join([worker_text, thread_text, *fits])
                run = ServerRun(spec, worker_count, thread_count, rule)
                if all(
                    (r.spec, r.workers, r.threads) != (spec, worker_count, thread_count)
                    for r in runs
                ):
                    runs.append(run)
    return tuple(runs)
