"""scripts/harness/calibration/plan.py: the pair order, the duration types and the plan."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from scripts.harness.calibration.plan import (
    CalibrationPlan,
    build_parser,
    order_letters,
    pair_order,
    plan_from_args,
    references,
    warmup_seconds,
    whole_seconds,
)


def test_pairs_alternate_which_side_goes_first() -> None:
    orders = [pair_order(index) for index in range(4)]
    assert orders == [("wrk", "harness"), ("harness", "wrk")] * 2
    assert [order_letters(order) for order in orders[:2]] == [("W", "H"), ("H", "W")]


def test_three_sides_take_every_order_and_wrk_and_the_harness_still_alternate() -> None:
    orders = [pair_order(index, sides=3) for index in range(12)]
    assert orders[:6] == orders[6:] and len(set(orders[:6])) == 6, "all six orders, in turn"
    for side in ("wrk", "harness", "locust"):
        assert sorted(order.index(side) for order in orders[:6]) == [0, 0, 1, 1, 2, 2]
    wrk_first = [order.index("wrk") < order.index("harness") for order in orders]
    assert wrk_first == [True, False] * 6
    assert order_letters(orders[0]) == ("W", "L", "H")


def test_references_always_include_wrk() -> None:
    assert references("wrk") == ("wrk",)
    assert references("locust,wrk") == references(" wrk , locust ") == ("wrk", "locust")
    for wrong in ("locust", "wrk,ab", ""):
        with pytest.raises(argparse.ArgumentTypeError, match="wrk is always a reference"):
            references(wrong)


def test_durations_are_whole_seconds_and_only_the_warmup_may_be_zero() -> None:
    assert whole_seconds("10") == 10 and whole_seconds("2m") == 120
    with pytest.raises(argparse.ArgumentTypeError, match="whole seconds"):
        whole_seconds("1.5s")
    with pytest.raises(argparse.ArgumentTypeError, match="above zero"):
        whole_seconds("0")
    assert warmup_seconds("0") == 0 and warmup_seconds("0s") == 0 and warmup_seconds("3") == 3


@pytest.fixture
def fake_wrk_path(tmp_path: Path) -> Path:
    """An executable file: plan_from_args only checks that the binary exists."""
    binary = tmp_path / "wrk"
    binary.write_text("#!/bin/sh\nexit 0\n")
    binary.chmod(0o755)
    return binary


def _plan(*args: str) -> CalibrationPlan | str:
    return plan_from_args(build_parser().parse_args(list(args)), available_cpus=(0, 1))


def test_the_plan_pairs_connections_with_users_and_outlives_wrks_token(
    fake_wrk_path: Path,
) -> None:
    plan = _plan("--wrk", str(fake_wrk_path), "--users", "8", "--duration", "20")
    assert isinstance(plan, CalibrationPlan)
    assert plan.connections == plan.users == 8 and plan.wrk_binary == fake_wrk_path
    assert plan.placement.server_cpus == (0,) and plan.server_capacity_pct == 100.0
    assert plan.workers == plan.spec.default_workers(1)
    assert plan.access_lifetime_s == 3600 and plan.pairs == 12 and plan.sides == ("harness", "wrk")
    long = _plan("--wrk", str(fake_wrk_path), "--duration", "60m", "--warmup", "10")
    # issued once for every side of every pair: 12 pairs x 2 sides x (3610 s + a minute)
    assert isinstance(long, CalibrationPlan) and long.access_lifetime_s == 24 * 3670 + 600
    three = _plan("--wrk", str(fake_wrk_path), "--reference", "wrk,locust", "--pairs", "6")
    assert isinstance(three, CalibrationPlan) and three.sides == ("harness", "wrk", "locust")
    assert three.pair_order(1) == ("harness", "locust", "wrk")
    unpinned = _plan("--wrk", str(fake_wrk_path), "--pin", "none")
    assert isinstance(unpinned, CalibrationPlan) and unpinned.server_capacity_pct is None


def test_a_plan_that_cannot_run_is_one_line(fake_wrk_path: Path, tmp_path: Path) -> None:
    problem = _plan("--wrk", str(fake_wrk_path), "--server", "runserver", "--workers", "2")
    assert problem == "runserver runs 1 process at most; WORKERS=2 is not possible"
    missing = _plan("--wrk", str(tmp_path / "nowhere"))
    assert isinstance(missing, str) and missing.startswith("wrk not found")
