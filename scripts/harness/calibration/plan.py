"""Every user choice of `make calibrate`, validated once, then frozen; and the fixed terms
of the comparison (scenario, endpoint, target).

The pairs alternate which side goes first (W H, H W, W H, ...): a fixed order would give
every pair the same position effect (a server still settling, heat, connections in
TIME_WAIT left by the previous run), biasing every ratio the same way; alternating makes
such an effect push neighbouring pairs in opposite directions, and the median damps it.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from scripts.harness.plan import duration_seconds, results_directory
from scripts.harness.wrk import WrkNotFoundError, find_wrk
from scripts.options.parsing import OneLineErrorParser, positive_int, server_choice
from servers.placement import PLACEMENTS, Placement, place
from servers.registry import ServerSpec, get_server, server_names

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
ORDER_NOTE: Final = "alternating: W H, H W, W H, ... (which side goes first flips every pair)"
TOKEN_NOTE: Final = (
    "wrk sends one access token (of the first seeded account, taken before each wrk side) on "
    "every connection and request; the harness's Locust users each log in as their own account"
)


def pair_order(index: int) -> tuple[str, str]:
    """Which side runs first in 0-based pair `index`: W H, H W, W H, ... (the module
    docstring says why the order alternates)."""
    return (WRK, HARNESS) if index % 2 == 0 else (HARNESS, WRK)


def order_letters(order: tuple[str, str]) -> tuple[str, ...]:
    """The order as calibration.json and the console show it: ("W", "H")."""
    return tuple(side[0].upper() for side in order)


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

    @property
    def server_capacity_pct(self) -> float | None:
        """All of the server's CPUs, in percent of one; None when it is not pinned (then it
        shares CPUs with the load generator and "all of its CPUs" has no fixed value)."""
        cpus = self.placement.server_cpus
        return 100.0 * len(cpus) if cpus else None


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
