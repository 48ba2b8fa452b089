"""The bench's flags (scripts/harness/plan.py): the verdict preset."""

from __future__ import annotations

import pytest

from scripts.harness.plan import (
    DEFAULT_DURATION_S,
    DEFAULT_WARMUP_S,
    parse_bench_args,
    plan_from_args,
)


def test_no_preset_keeps_the_defaults() -> None:
    args = parse_bench_args([])
    assert (args.repeats, args.duration, args.warmup) == (1, DEFAULT_DURATION_S, DEFAULT_WARMUP_S)


def test_verdict_preset_sets_repeats_duration_and_warmup() -> None:
    plan = plan_from_args(parse_bench_args(["--preset", "verdict"]), available_cpus=(0, 1))
    assert not isinstance(plan, str)
    assert (plan.repeats, plan.duration_s, plan.warmup_s) == (4, 10.0, 2.0)
    assert len(plan.run_order) == 4


@pytest.mark.parametrize(
    "argv",
    [
        ["--repeats", "1", "--preset", "verdict", "--duration", "3s"],
        ["--preset", "verdict", "--repeats", "1", "--duration", "3"],
    ],
)
def test_explicit_flags_win_over_the_preset_wherever_they_stand(argv: list[str]) -> None:
    args = parse_bench_args(argv)
    assert (args.repeats, args.duration, args.warmup) == (1, 3.0, 2.0)


def test_unknown_preset_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse_bench_args(["--preset", "quick"])
    assert exit_.value.code == 2
    assert "verdict" in capsys.readouterr().err
