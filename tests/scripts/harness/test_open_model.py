"""ARRIVAL_RATE and MAX_IN_FLIGHT in the plan: what they accept, refuse, and hand to Locust."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from loadtests.arrival import ArrivalRates
from scripts.harness.locust_runner import LoadRequest
from scripts.harness.open_model import arrival_rates
from scripts.harness.plan import BenchPlan, build_parser, plan_from_args

TWO_CPUS = (0, 1)


def _plan(*args: str) -> BenchPlan | str:
    return plan_from_args(build_parser().parse_args(list(args)), available_cpus=TWO_CPUS)


def test_a_constant_rate_runs_a_pool_of_max_in_flight_users() -> None:
    plan = _plan("--arrival-rate", "30", "--max-in-flight", "4")
    assert isinstance(plan, BenchPlan), plan
    assert plan.arrival == ArrivalRates((30.0,))
    assert plan.shape.steps == (4,) and plan.users == 4


def test_steps_of_rates_keep_the_pool_and_default_it_to_users() -> None:
    plan = _plan("--shape", "steps", "--arrival-rate", "10,20,40", "--users", "8")
    assert isinstance(plan, BenchPlan), plan
    assert plan.arrival == ArrivalRates((10.0, 20.0, 40.0))
    assert plan.shape.steps == (8, 8, 8) and plan.shape.stepped
    request = LoadRequest(
        base_url="http://127.0.0.1:1", scenario="io", shape=plan.shape, spawn_rate=8,
        warmup_s=1, duration_s=4, seeded_users=8, user_prefix="b", user_password="p",
        run_dir=Path("/tmp"), arrival=plan.arrival,
    )  # fmt: skip
    argv = request.argv()
    assert argv[argv.index("--arrival-rates") + 1] == "10,20,40"
    assert argv[argv.index("--steps") + 1] == "8,8,8"


def test_a_closed_loop_passes_no_rate_to_locust() -> None:
    plan = _plan("--users", "4")
    assert isinstance(plan, BenchPlan) and plan.arrival is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-in-flight", "4"], "MAX_IN_FLIGHT is the open model's pool of users"),
        (["--arrival-rate", "10,20"], "ARRIVAL_RATE takes one rate unless SHAPE=steps"),
        (["--shape", "steps", "--arrival-rate", "20,10"], "at least two increasing rates"),
        (["--shape", "steps", "--arrival-rate", "20"], "at least two increasing rates"),
        (
            ["--shape", "steps", "--arrival-rate", "10,20", "--users", "4,8"],
            "USERS is one number",
        ),
    ],
)
def test_open_model_plans_that_do_not_fit_say_why(args: list[str], message: str) -> None:
    problem = _plan(*args)
    assert isinstance(problem, str) and message in problem


@pytest.mark.parametrize("bad", ["0", "-5", "x", "10,,20", ""])
def test_a_rate_is_above_zero(bad: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="requests per second above zero"):
        arrival_rates(bad)
