"""The lesson's runs as one deduplicated list of benches, and what each mode gives them.

A mode (LESSON=full or quick) sets repetitions, window and warm-up for every bench; a
section's experiments keep their own flags. Two sections asking for the same flags share
one bench. The estimate of each bench's time is what the progress line counts down from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from loadtests.window import WindowController
from scripts.harness.plan import BenchPlan, parse_bench_args, plan_from_args
from scripts.harness.robustness import BENCH_SLOW_CLIENTS
from scripts.lessons.probes import PROBES
from scripts.lessons.sections import SECTIONS, Experiment, Section

# Per run beyond its windows and warm-up, measured on the 2-core machine (a quick lesson,
# 41 runs, 2026-12-01): server start 0.4-0.8 s, response check 0.3 s, stop 0.1-1.1 s,
# Locust's start and its users' 0.5-1 s (its CSVs are written at once when the users stop),
# and between runs about 0.5 s; a step load settles 1 s before each later step. Robustness
# checks add their slow clients' time and about 4 s (oversized requests, a graceful stop).
RUN_OVERHEAD_S: Final = 3.5
SETTLE_S: Final = WindowController.SETTLE_S
CHECKS_OVERHEAD_S: Final = 4.0
BENCH_OVERHEAD_S: Final = 5.0  # migrate, seed, issue tokens, noise probe


@dataclass(frozen=True)
class Mode:
    """How long each experiment measures: 3 repetitions of 5 s windows decide the lesson's
    large effects (2x to 1000x) with Welch on logs; quick keeps every experiment with 2
    repetitions of 2 s windows, and slow clients for 4 s instead of 10.
    (Before Locust's CSVs were written at once and the overload's users stopped listing
    items, the full lesson fitted its 15 minutes only with 3 s steps and 6 s of slow
    clients; on 2026-12-01 it took 11 min with them.)

    A step load measures one window per step, three per run (1, 4 and 8 users on the I/O
    endpoint, about 40 % of the lesson's time): in full each step gets the 5 s window (100 to
    800 answers), in quick `step_s` = 1 s (20 to 160), so the quick lesson comes near its
    5 minutes. Slow clients trickle for `slow_clients_s` (None in full: the robustness
    checks' own 10 s; 4 s in quick).
    """

    name: str
    repeats: int
    window_s: float
    warmup_s: float
    slow_clients_s: float | None = None  # None: the robustness checks' own 10 s
    step_s: float | None = None  # None: window_s

    def flags(self, experiment: Experiment) -> tuple[str, ...]:
        if experiment.probe is not None:
            return ()
        repeats = 1 if experiment.checks_only else self.repeats
        window = min(3.0, self.window_s * 3) if experiment.checks_only else self.window_s
        timing: tuple[str, ...] = ("--repeats", str(repeats), "--warmup", f"{self.warmup_s:g}s")
        robustness = "--checks" in experiment.flags
        if robustness and self.slow_clients_s is not None:
            timing += ("--robustness-slow-s", f"{self.slow_clients_s:g}s")
        if "--shape" in experiment.flags:
            return (*timing, "--step", f"{self.step_s or window:g}s")
        return (*timing, "--duration", f"{window:g}s")


MODES: Final[Mapping[str, Mode]] = MappingProxyType(
    {
        "full": Mode("full", repeats=3, window_s=5.0, warmup_s=2.0),
        "quick": Mode(
            "quick", repeats=2, window_s=2.0, warmup_s=1.0, slow_clients_s=4.0, step_s=1.0
        ),
    }
)
# The tests' live lesson: every experiment of a section, in as little time as it can take.
TINY: Final = Mode("tiny", repeats=2, window_s=1.0, warmup_s=0.5, slow_clients_s=3.0)


@dataclass(frozen=True)
class PlannedBench:
    """One bench of the lesson: its flags (the reproducing command), the sections and
    experiment keys it serves, and how long it should take; or one of the lesson's probes
    (`probe` names it, `flags` is empty)."""

    flags: tuple[str, ...]
    serves: tuple[tuple[int, str], ...]
    estimate_s: float
    probe: str | None = None

    @property
    def command(self) -> str:
        """The `make bench`-equivalent command line that reproduces this experiment (a
        probe's commands by hand, one a line)."""
        if self.probe is not None:
            return "\n".join(PROBES[self.probe].commands)
        return "python -m scripts.bench " + " ".join(self.flags)


def bench_plan(flags: Sequence[str], available_cpus: tuple[int, ...]) -> BenchPlan:
    """The bench these flags make, validated as `make bench` validates them (a lesson whose
    own flags were wrong is a bug, said as such)."""
    plan = plan_from_args(parse_bench_args(list(flags)), available_cpus)
    if isinstance(plan, str):
        raise ValueError(f"lesson bench {' '.join(flags)}: {plan}")
    return plan


def estimate_s(plan: BenchPlan) -> float:
    """Seconds a bench should take: its runs x (windows + warm-up + overhead, and the
    checks after the load), plus its own preparation."""
    settles_s = SETTLE_S * (plan.shape.windows - 1)
    per_run = plan.window_total_s + plan.warmup_s + settles_s + RUN_OVERHEAD_S
    if plan.checks:
        slow_s = plan.robustness_slow_s or BENCH_SLOW_CLIENTS.duration_s
        per_run += slow_s + CHECKS_OVERHEAD_S
    return BENCH_OVERHEAD_S + len(plan.run_order) * per_run


def plan_lesson(
    section_numbers: Sequence[int], mode: Mode, available_cpus: tuple[int, ...]
) -> tuple[PlannedBench, ...]:
    """Every bench and probe the chosen sections need, each once, in section order."""
    order: list[tuple[str, ...]] = []
    serves: dict[tuple[str, ...], list[tuple[int, str]]] = {}
    setup_s: dict[tuple[str, ...], float] = {}
    for number in section_numbers:
        section: Section = SECTIONS[number]
        for experiment in section.experiments:
            key = _identity(experiment, mode)
            if key not in serves:
                order.append(key)
                serves[key] = []
            serves[key].append((number, experiment.key))
            setup_s[key] = max(setup_s.get(key, 0.0), experiment.setup_s)
    return tuple(_planned(key, tuple(serves[key]), available_cpus, setup_s[key]) for key in order)


_PROBE_MARK: Final = "probe:"


def _identity(experiment: Experiment, mode: Mode) -> tuple[str, ...]:
    """What makes two experiments the same run: a bench's full flags, or a probe's name."""
    if experiment.probe is not None:
        return (_PROBE_MARK + experiment.probe,)
    return (*experiment.flags, *mode.flags(experiment))


def _planned(
    key: tuple[str, ...],
    serves: tuple[tuple[int, str], ...],
    available_cpus: tuple[int, ...],
    setup_s: float,
) -> PlannedBench:
    if len(key) == 1 and key[0].startswith(_PROBE_MARK):
        name = key[0].removeprefix(_PROBE_MARK)
        return PlannedBench((), serves, PROBES[name].estimate_s, probe=name)
    plan = bench_plan(key, available_cpus)
    return PlannedBench(key, serves, estimate_s(plan) + setup_s * plan.repeats)
