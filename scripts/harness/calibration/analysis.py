"""What the pairs say: each pair's ratio and notes, the calibration's status, the
estimates with their CIs, and the verdict (or "the machine was too noisy").

Reading the result: the ratio compares two windows measured one after the other, so it also
carries any change of the server's own speed between them. The notes name the likely cause
of a ratio away from 1: a saturated generator (what a calibration exists to catch), a busy
machine, or a server that was the bottleneck on both sides and simply ran slower on one. On
the 2-core VM this was written on, consecutive 10-second wrk runs against the same server
differed by up to 30 % (steal up to 40 %), so a few pairs cannot resolve a few percent:
hence 12 pairs by default, and a CI beside every estimate (estimates.py).

The verdict: the target is met when, as point estimates, the median ratio harness/wrk lies
in [TARGET_RATIO, TARGET_RATIO_MAX] and the harness's CV across pairs is at most
TARGET_CV_RATIO_MAX times wrk's (the CV part is left out with fewer than two pairs). No
verdict is given when the machine was too noisy: a pair is noisy when any of its sides
raised a noise flag (harness/noise.py: steal above 5 % or other processes above 10 % of a
CPU, each threshold's reason is there), and the calibration is too noisy when more than
NOISY_PAIR_SHARE (a quarter) of its measured pairs were. Why a quarter: a CV is not a
robust statistic, one disturbed side moves it a lot, so the bootstrap CI widens for a pair
or two of noise (it resamples them) and stays honest; once more than a quarter of the pairs
are disturbed, a typical resample holds several of them and the spread being estimated is
the machine's rather than the load generators' (3 of 12 pairs may be noisy, 4 may not).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType
from typing import Final

from scripts.harness.calibration.causes import CAUSES, effect_verdict
from scripts.harness.calibration.estimates import estimate, rps_cv
from scripts.harness.calibration.plan import (
    HARNESS,
    LOCUST,
    TARGET_CV_RATIO_MAX,
    TARGET_RATIO,
    TARGET_RATIO_MAX,
    WRK,
)
from scripts.harness.judge import LOOP_LAG_LIMIT_MS
from scripts.harness.noise import OTHER_CPU_NOISY_PCT, STEAL_NOISY_PCT, noise_flags
from scripts.harness.sampling import SATURATION_CPU_PCT
from scripts.records.schema import (
    CalibrationPair,
    CalibrationRecord,
    CauseEffect,
    Estimate,
    HarnessSide,
    LocustSide,
    Status,
    WrkSide,
)

Side = WrkSide | HarnessSide | LocustSide

OTHER_CPU_REMARK_PCT: Final = 15.0
STEAL_REMARK_PCT: Final = 2.0
# a server using this share of its CPUs on both sides is the bottleneck on both sides
SERVER_BOUND_SHARE: Final = 0.9
NOISY_PAIR_SHARE: Final = 0.25  # more than this share of noisy pairs: too noisy (docstring)
NOISE_RULE: Final = (
    "too noisy for a verdict when more than a quarter of the measured pairs had a side with "
    f"steal above {STEAL_NOISY_PCT:g} % or other processes above {OTHER_CPU_NOISY_PCT:g} % "
    "of a CPU"
)


# How notes name each side.
SIDE_LABELS: Final[Mapping[str, str]] = MappingProxyType(
    {HARNESS: HARNESS, WRK: WRK, LOCUST: "plain Locust"}
)


def _figures(pair: CalibrationPair) -> dict[str, Side | None]:
    """Every side of a pair by name, in the notes' order (the harness first)."""
    return {HARNESS: pair.harness, WRK: pair.wrk, LOCUST: pair.locust}


def _sides(pair: CalibrationPair) -> tuple[tuple[str, Side | None], ...]:
    """Every side of a pair by its label in the notes, in their order."""
    return tuple((SIDE_LABELS[name], side) for name, side in _figures(pair).items())


def pair_ratio(pair: CalibrationPair) -> float | None:
    """harness_rps / wrk_rps; None until both sides ran (or when wrk answered nothing)."""
    if pair.wrk is None or pair.harness is None or not pair.wrk.rps:
        return None
    return pair.harness.rps / pair.wrk.rps


def locust_ratio(pair: CalibrationPair) -> float | None:
    """plain_locust_rps / wrk_rps; None unless both ran."""
    if pair.wrk is None or pair.locust is None or not pair.wrk.rps:
        return None
    return pair.locust.rps / pair.wrk.rps


def pair_noise_flags(pair: CalibrationPair) -> tuple[str, ...]:
    """Each side's noise flags (harness/noise.py), prefixed with the side."""
    return tuple(
        f"{name}: {flag}"
        for name, side in _sides(pair)
        if side is not None
        for flag in noise_flags(side.resources.steal_pct, side.resources.other_cpu_pct)
    )


def pair_problems(pair: CalibrationPair) -> list[str]:
    """Errors that make a pair's comparison not like with like: wrk got error answers or
    broken connections, or the harness counted failed requests."""
    problems = []
    if pair.wrk is not None and pair.wrk.errors:
        problems.append(f"wrk: {pair.wrk.error_summary}")
    if pair.harness is not None and pair.harness.failures:
        failures = pair.harness.failures
        problems.append(f"harness: {failures} failed requests (see its Locust files)")
    if pair.locust is not None and pair.locust.failures:
        failures = pair.locust.failures
        problems.append(f"plain Locust: {failures} failed requests (see its Locust files)")
    return problems


def _generator_remarks(side: str, figures: Side) -> tuple[list[str], bool]:
    """(remarks on one side's load generator and machine, whether the generator set the
    rate). Only the harness side knows Locust's own CPU warning and its event-loop lag."""
    remarks = []
    limited = False
    name, warned, lag_ms = "wrk", False, None
    if isinstance(figures, HarnessSide):
        name, warned, lag_ms = (
            "Locust",
            figures.loadgen_cpu_warning,
            figures.loadgen_loop_lag_mean_ms,
        )
    cpu = figures.resources.loadgen_cpu_pct
    if warned or (cpu is not None and cpu > SATURATION_CPU_PCT):
        limited = True
        shown = f"{cpu:.0f} %" if cpu is not None else "over 90 %"
        remarks.append(f"{side}: {name} was CPU-bound ({shown} of a CPU), it set the rate")
    if lag_ms is not None and lag_ms > LOOP_LAG_LIMIT_MS:
        limited = True
        remarks.append(
            f"{side}: Locust's event loop woke {lag_ms:.1f} ms late on average (limit "
            f"{LOOP_LAG_LIMIT_MS:.0f} ms): its response times include waiting inside Locust"
        )
    other = figures.resources.other_cpu_pct
    if other is not None and other > OTHER_CPU_REMARK_PCT:
        remarks.append(
            f"{side}: other processes used {other:.0f} % of a CPU meanwhile "
            "(the machine was not quiet)"
        )
    steal = figures.resources.steal_pct
    if steal is not None and steal > STEAL_REMARK_PCT:
        remarks.append(
            f"{side}: the hypervisor took {steal:.1f} % of a CPU from this machine (steal)"
        )
    return remarks, limited


def pair_remarks(pair: CalibrationPair, server_capacity_pct: float | None = None) -> list[str]:
    """Observations that explain a ratio without invalidating it.

    A load generator that used a whole CPU (or whose event loop woke late) is what limited
    its side's rate: that is what a calibration exists to find. Other processes and steal
    time say the machine was not quiet. When instead the server used all of its CPUs
    (`server_capacity_pct`) on both sides and neither generator was short of CPU, the rates
    differ because the server itself ran slower or worked harder on one side; the server's
    CPU time per request shows which."""
    remarks: list[str] = []
    generator_limited = False
    for side, figures in _sides(pair):
        if figures is not None:
            side_remarks, limited = _generator_remarks(side, figures)
            remarks += side_remarks
            generator_limited = generator_limited or limited
    remark = _server_bound_remark(pair, server_capacity_pct)
    if remark and not generator_limited:
        remarks.append(remark)
    return remarks


def _server_bound_remark(pair: CalibrationPair, capacity_pct: float | None) -> str | None:
    if pair.wrk is None or pair.harness is None or pair.ratio is None or capacity_pct is None:
        return None
    if abs(pair.ratio - 1) <= 1 - TARGET_RATIO:
        return None
    wrk, harness = pair.wrk.resources, pair.harness.resources
    wrk_load, harness_load = wrk.server_cpu_pct, harness.server_cpu_pct
    wrk_cost, harness_cost = wrk.server_cpu_ms_per_request, harness.server_cpu_ms_per_request
    if wrk_load is None or harness_load is None or wrk_cost is None or harness_cost is None:
        return None
    if min(wrk_load, harness_load) < SERVER_BOUND_SHARE * capacity_pct:
        return None
    return (
        f"the server was the bottleneck on both sides ({wrk_load:.0f}/{harness_load:.0f} % "
        f"CPU, wrk/harness) and spent {wrk_cost:.2f}/{harness_cost:.2f} ms of CPU per "
        "request: the rates differ because the server ran slower or worked harder on one "
        "side, not because a load generator held it back"
    )


def finish_pair(pair: CalibrationPair, server_capacity_pct: float | None) -> CalibrationPair:
    """The pair once every side ran: its ratios, its problems and remarks as notes, and
    its noise flags."""
    measured = replace(
        pair, ratio=pair_ratio(pair), locust_ratio=locust_ratio(pair), noise_flags=None
    )
    notes = pair_problems(measured) + pair_remarks(measured, server_capacity_pct)
    return replace(measured, notes=tuple(notes), noise_flags=pair_noise_flags(measured))


def judge(
    pairs: Sequence[CalibrationPair], planned: int, with_locust: bool = False
) -> tuple[Status, str]:
    """(status, reason) once the pairs ran: failed when one is missing (or lacks its
    plain-Locust side when one was planned), invalid when a side saw errors, ok otherwise."""
    unmeasured = [
        pair for pair in pairs if pair.ratio is None or (with_locust and pair.locust_ratio is None)
    ]
    if len(pairs) < planned or unmeasured:
        measured = len(pairs) - len(unmeasured)
        return Status.FAILED, f"only {measured} of {planned} pairs were measured"
    problems = [
        f"pair {pair.index}: {problem}" for pair in pairs for problem in pair_problems(pair)
    ]
    if problems:
        return Status.INVALID, "errors during the measurement: " + "; ".join(problems)
    return Status.OK, ""


def _median(values: Sequence[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def _side_median(
    pairs: Sequence[CalibrationPair], figure: Callable[[CalibrationPair], float | None]
) -> float | None:
    return _median([figure(pair) for pair in pairs])


def _rates(pairs: Sequence[CalibrationPair], side: str) -> list[float]:
    values = []
    for pair in pairs:
        figures = _figures(pair).get(side)
        if figures is not None:
            values.append(figures.rps)
    return values


def pair_estimates(
    pairs: Sequence[CalibrationPair], references: Sequence[str]
) -> tuple[Estimate, ...]:
    """The CV ratio and the median ratio with their CIs: the harness against each
    reference, and plain Locust against wrk when it ran (over the pairs where both sides
    of the comparison were measured)."""
    comparisons = [(HARNESS, reference) for reference in references]
    if LOCUST in references:
        comparisons.append((LOCUST, WRK))
    found = []
    for numerator, denominator in comparisons:
        both = [
            pair
            for pair in pairs
            if _figures(pair).get(numerator) is not None
            and _figures(pair).get(denominator) is not None
        ]
        top, bottom = _rates(both, numerator), _rates(both, denominator)
        found += [
            estimate(name, numerator, denominator, top, bottom)
            for name in ("cv_ratio", "median_ratio")
        ]
    return tuple(found)


def _target_met(record: CalibrationRecord, too_noisy: bool) -> bool | None:
    """The verdict on the point estimates (module docstring); None when not judged."""
    if record.status is not Status.OK or too_noisy:
        return None
    median = record.estimate("median_ratio")
    if median is None or median.point is None:
        return None
    met = TARGET_RATIO <= median.point <= TARGET_RATIO_MAX
    spread = record.estimate("cv_ratio")
    if spread is not None and spread.point is not None:
        met = met and spread.point <= TARGET_CV_RATIO_MAX
    return met


def _noise_verdict(record: CalibrationRecord) -> CalibrationRecord:
    """The noisy pairs counted, the rule, and the estimates and verdict that follow."""
    measured = [pair for pair in record.pairs if pair.ratio is not None]
    noisy = sum(1 for pair in measured if pair.noisy)
    too_noisy = noisy > NOISY_PAIR_SHARE * len(measured)
    with_estimates = replace(
        record,
        estimates=pair_estimates(measured, record.references),
        rps_cv={side: rps_cv(_rates(measured, side)) for side in (HARNESS, *record.references)},
        locust_rps_median=_side_median(measured, lambda p: p.locust.rps if p.locust else None),
        locust_p50_ms_median=_side_median(
            measured, lambda p: p.locust.p50_ms if p.locust else None
        ),
        target_ratio_max=TARGET_RATIO_MAX,
        target_cv_ratio_max=TARGET_CV_RATIO_MAX,
        noise_thresholds={"steal_pct": STEAL_NOISY_PCT, "other_cpu_pct": OTHER_CPU_NOISY_PCT},
        noise_rule=NOISE_RULE,
        noisy_pairs=noisy,
        machine_too_noisy=too_noisy,
    )
    return replace(with_estimates, target_met=_target_met(with_estimates, too_noisy))


def aggregate(record: CalibrationRecord, *, estimates: bool = True) -> CalibrationRecord:
    """The record with the medians, the ratio's spread, the estimates with their CIs, the
    noise verdict and the target verdict filled in from the measured pairs (unchanged when
    none was measured). `estimates=False` gives what a calibration of the first version
    recorded: the medians and the one-sided target only."""
    pairs = [pair for pair in record.pairs if pair.ratio is not None]
    ratios = [pair.ratio for pair in pairs if pair.ratio is not None]
    if not ratios:
        return record
    low, high, middle = min(ratios), max(ratios), statistics.median(ratios)
    notes = list(record.notes)
    if high - low > 2 * (1 - record.target):
        notes.append(
            f"the pair ratios spread from {low:.3f} to {high:.3f}: a difference of a few "
            "percent from the target is within this machine's noise; more pairs on a quieter "
            "machine sharpen the median"
        )
    medians = replace(
        record,
        ratio_median=middle,
        ratio_min=low,
        ratio_max=high,
        wrk_rps_median=_side_median(pairs, lambda p: p.wrk.rps if p.wrk else None),
        harness_rps_median=_side_median(pairs, lambda p: p.harness.rps if p.harness else None),
        wrk_p50_ms_median=_side_median(pairs, lambda p: p.wrk.p50_ms if p.wrk else None),
        harness_p50_ms_median=_side_median(
            pairs, lambda p: p.harness.p50_ms if p.harness else None
        ),
        target_met=middle >= record.target if record.status is Status.OK else record.target_met,
        notes=tuple(notes),
    )
    return with_cause_effects(_noise_verdict(medians)) if estimates else medians


def _cause_effect(record: CalibrationRecord, name: str) -> CauseEffect:
    """Candidate `name` against the plain wrk side of the same pairs (causes.py)."""
    cause = CAUSES[name]
    cpu: list[tuple[float, float]] = []
    rates: list[tuple[float, float]] = []
    for pair in record.pairs:
        side = pair.causes.get(name)
        if side is None or pair.wrk is None:
            continue
        rates.append((side.rps, pair.wrk.rps))
        mine, plain = side.resources, pair.wrk.resources
        if mine and plain and mine.server_cpu_ms_per_request and plain.server_cpu_ms_per_request:
            cpu.append((mine.server_cpu_ms_per_request, plain.server_cpu_ms_per_request))
    cpu_estimate = replace(
        estimate("median_ratio", name, WRK, [a for a, _ in cpu], [b for _, b in cpu]),
        name="server_cpu_ms_per_request_median_ratio",
    )
    rps_estimate = estimate("median_ratio", name, WRK, [a for a, _ in rates], [b for _, b in rates])
    return CauseEffect(
        cause=name,
        question=cause.question,
        change=cause.change,
        pairs=len(rates),
        server_cpu_per_request=cpu_estimate,
        rps=rps_estimate,
        server_cpu_reading=effect_verdict(
            cpu_estimate.point, cpu_estimate.ci_low, cpu_estimate.ci_high
        ),
        rps_reading=effect_verdict(rps_estimate.point, rps_estimate.ci_low, rps_estimate.ci_high),
    )


def with_cause_effects(record: CalibrationRecord) -> CalibrationRecord:
    """The record with each candidate cause's effect (none when no cause was tested)."""
    if not record.causes:
        return record
    return replace(record, cause_effects=tuple(_cause_effect(record, n) for n in record.causes))


def with_pair_notes(record: CalibrationRecord) -> CalibrationRecord:
    """The record's notes followed by every pair's, each prefixed with its pair."""
    pair_notes = [
        f"pair {pair.index}: {note}" for pair in record.pairs for note in pair.notes or ()
    ]
    return replace(record, notes=(*record.notes, *pair_notes))
