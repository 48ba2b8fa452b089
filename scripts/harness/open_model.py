"""ARRIVAL_RATE and MAX_IN_FLIGHT: the open arrival-rate model's flags and their checks.

Every other run is closed-loop (each user waits for its answer before it sends again). With
ARRIVAL_RATE the users become a bounded pool (MAX_IN_FLIGHT, default USERS) sending
requests on a fixed schedule of intended send times (loadtests/arrival.py); with
SHAPE=steps, ARRIVAL_RATE is a list of increasing rates, one measured window each, and the
pool stays the same size in every step.
"""

from __future__ import annotations

import argparse

from loadtests.arrival import ArrivalRates
from scripts.options.parsing import positive_int


def arrival_rates(text: str) -> ArrivalRates:
    """argparse type: a rate above zero in requests per second, or a comma-separated list."""
    problem = f"expected requests per second above zero (or a list like 10,20,40), got {text!r}"
    try:
        return ArrivalRates(tuple(float(part) for part in text.split(",")))
    except ValueError:
        raise argparse.ArgumentTypeError(problem) from None


def add_open_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--arrival-rate",
        type=arrival_rates,
        default=None,
        help="open model: requests per second on a fixed schedule, latency counted from each "
        "request's intended send time (wrk2's -R); with --shape steps, increasing rates such "
        "as 10,20,40 (default: none, a closed loop)",
    )
    parser.add_argument(
        "--max-in-flight",
        type=positive_int,
        default=None,
        help="open model: the pool of users sending the schedule; when all are busy a "
        "request goes out late (default: --users)",
    )


def open_load(
    args: argparse.Namespace,
) -> tuple[ArrivalRates | None, tuple[int, ...]] | str:
    """(the rates, the user count of each window), or one line saying what does not fit.
    A closed loop keeps USERS as given."""
    rates: ArrivalRates | None = args.arrival_rate
    users: tuple[int, ...] = args.users
    if rates is None:
        if args.max_in_flight is not None:
            return "MAX_IN_FLIGHT is the open model's pool of users: it needs ARRIVAL_RATE"
        return None, users
    count = len(rates.rates_rps)
    if args.shape == "constant" and count != 1:
        return (
            "ARRIVAL_RATE takes one rate unless SHAPE=steps (e.g. SHAPE=steps ARRIVAL_RATE=10,20)"
        )
    if args.shape == "steps" and (
        count < 2 or list(rates.rates_rps) != sorted(set(rates.rates_rps))
    ):
        return "SHAPE=steps with ARRIVAL_RATE needs at least two increasing rates, e.g. 10,20,40"
    if args.max_in_flight is None and len(users) != 1:
        return "with ARRIVAL_RATE, USERS is one number: the pool of users (or give MAX_IN_FLIGHT)"
    pool = args.max_in_flight if args.max_in_flight is not None else users[0]
    return rates, (pool,) * count
