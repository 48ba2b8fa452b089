"""Every user choice of `make calibrate`, validated once, then frozen; and the fixed terms
of the comparison (scenario, endpoint, target).

The pairs alternate which side goes first (W H, H W, W H, ...): a fixed order would give
every pair the same position effect (a server still settling, heat, connections in
TIME_WAIT left by the previous run), biasing every ratio the same way; alternating makes
such an effect push neighbouring pairs in opposite directions, and the median damps it.
With plain Locust as a third side (`--reference wrk,locust`), the pairs go through all six
orders of the three sides (THREE_SIDE_ORDERS), each side in each position equally often
over six pairs, wrk and the harness still swapping which goes first from pair to pair.

Twelve pairs by default: a CV across pairs is the target's figure, and its 95 % CI from 12
pairs still spans a factor of about 2 (issue 17's simulation; analysis.py computes it).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from scripts.harness.calibration.causes import CAUSES, cause_names
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
TARGET_RATIO_MAX: Final = 1.05
TARGET_CV_RATIO_MAX: Final = 1.5  # the harness's CV across pairs at most 1.5x wrk's
DEFAULT_PAIRS: Final = 12
HOST: Final = "127.0.0.1"
WRK: Final = "wrk"
HARNESS: Final = "harness"
LOCUST: Final = "locust"
REFERENCES: Final = (WRK, LOCUST)  # wrk always; plain Locust when asked for
ORDER_NOTE: Final = "alternating: W H, H W, W H, ... (which side goes first flips every pair)"
THREE_SIDE_ORDER_NOTE: Final = (
    "the six orders of wrk (W), the harness (H) and plain Locust (L) in turn: W L H, H L W, "
    "L W H, H W L, W H L, L H W (W and H swap which goes first every pair)"
)
THREE_SIDE_ORDERS: Final = (
    (WRK, LOCUST, HARNESS),
    (HARNESS, LOCUST, WRK),
    (LOCUST, WRK, HARNESS),
    (HARNESS, WRK, LOCUST),
    (WRK, HARNESS, LOCUST),
    (LOCUST, HARNESS, WRK),
)
TOKEN_NOTE: Final = (
    "every side uses JWTs the app issued before the first pair (manage.py issue_tokens, no "
    "login over HTTP): the harness's and plain Locust's users one account each, wrk cycling "
    "through the same tokens one request at a time (its Lua API has no connection identity; "
    "these servers close every connection after one answer, so that is one token per "
    "connection)"
)


def pair_order(index: int, sides: int = 2) -> tuple[str, ...]:
    """The sides of 0-based pair `index` in the order they run: W H, H W, W H, ... for two
    sides, THREE_SIDE_ORDERS in turn for three (the module docstring says why)."""
    if sides == 3:
        return THREE_SIDE_ORDERS[index % len(THREE_SIDE_ORDERS)]
    return (WRK, HARNESS) if index % 2 == 0 else (HARNESS, WRK)


def with_causes(order: tuple[str, ...], index: int, causes: tuple[str, ...]) -> tuple[str, ...]:
    """`order` with the candidate causes' sides right next to the plain wrk side: before it
    in pairs 1, 3, ... (0-based `index` even), after it in 2, 4, ... (causes.py says why)."""
    if not causes:
        return order
    at = order.index(WRK)
    if index % 2 == 0:
        return (*order[:at], *causes, *order[at:])
    return (*order[: at + 1], *causes, *order[at + 1 :])


def order_letters(order: tuple[str, ...]) -> tuple[str, ...]:
    """The order as calibration.json and the console show it: ("W", "H"); a candidate
    cause by its own letter."""
    return tuple(CAUSES[side].letter if side in CAUSES else side[0].upper() for side in order)


def references(text: str) -> tuple[str, ...]:
    """argparse type: the reference sides, "wrk" or "wrk,locust" (wrk is always one)."""
    named = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [name for name in named if name not in REFERENCES]
    if unknown or WRK not in named:
        raise argparse.ArgumentTypeError(
            f"expected wrk or wrk,locust (wrk is always a reference), got {text!r}"
        )
    return tuple(name for name in REFERENCES if name in named)


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
    references: tuple[str, ...] = (WRK,)
    causes: tuple[str, ...] = ()  # candidate causes (causes.py), each a wrk side per pair

    @property
    def sides(self) -> tuple[str, ...]:
        """Every side of a pair but the candidate causes': the harness and its references."""
        return (HARNESS, *self.references)

    @property
    def order_note(self) -> str:
        note = THREE_SIDE_ORDER_NOTE if len(self.sides) == 3 else ORDER_NOTE
        if self.causes:
            letters = ", ".join(f"{CAUSES[name].letter} {name}" for name in self.causes)
            note += f"; the candidate causes ({letters}) right before W in odd pairs, after it"
            note += " in even ones"
        return note

    def pair_order(self, index: int) -> tuple[str, ...]:
        return with_causes(pair_order(index, len(self.sides)), index, self.causes)

    @property
    def access_lifetime_s(self) -> int:
        """The issued tokens' lifetime: they are issued once, before the first pair, and
        must outlive the whole calibration, since wrk cannot renew a token (a generous
        minute of overhead per side on top of its warm-up and window)."""
        per_side_s = self.warmup_s + self.duration_s + 60
        sides = len(self.sides) + len(self.causes)
        return max(ACCESS_LIFETIME_S, self.pairs * sides * per_side_s + 600)

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
        f"harness_rps / wrk_rps (target: median within {TARGET_RATIO}-{TARGET_RATIO_MAX}, CV "
        f"across pairs at most {TARGET_CV_RATIO_MAX}x wrk's, each with a 95 % CI) and both "
        "p50s. Written to <results>/calibrations/<calibration_id>/.",
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
        "--reference",
        type=references,
        default=(WRK,),
        help="the reference sides: wrk (default), or wrk,locust to add plain Locust "
        "(loadtests/plain_locustfile.py, no harness code) as a third side",
    )
    parser.add_argument(
        "--causes",
        type=cause_names,
        default=(),
        help="candidate causes of extra server CPU per request to test, each as a wrk side "
        f"with one thing changed, next to the plain wrk side in every pair: all, or any of "
        f"{', '.join(CAUSES)} (default: none)",
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
        references=args.reference,
        causes=args.causes,
    )
