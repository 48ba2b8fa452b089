"""What the pairs say: each pair's ratio and notes, the calibration's status, the medians.

Reading the result: the ratio compares two windows measured one after the other, so it also
carries any change of the server's own speed between them. The notes name the likely cause
of a ratio away from 1: a saturated generator (what a calibration exists to catch), a busy
machine, or a server that was the bottleneck on both sides and simply ran slower on one. On
the 2-core VM this was written on, consecutive 10-second wrk runs against the same server
differed by up to 30 % (steal up to 40 %), so a 3-pair median cannot resolve a few percent:
use more pairs (PAIRS=9) on a quiet machine for a sharper figure.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Final

from scripts.harness.calibration.plan import HARNESS, TARGET_RATIO, WRK
from scripts.harness.judge import LOOP_LAG_LIMIT_MS
from scripts.harness.sampling import SATURATION_CPU_PCT
from scripts.records.schema import (
    CalibrationPair,
    CalibrationRecord,
    HarnessSide,
    Status,
    WrkSide,
)

OTHER_CPU_REMARK_PCT: Final = 15.0
STEAL_REMARK_PCT: Final = 2.0
# a server using this share of its CPUs on both sides is the bottleneck on both sides
SERVER_BOUND_SHARE: Final = 0.9


def pair_ratio(pair: CalibrationPair) -> float | None:
    """harness_rps / wrk_rps; None until both sides ran (or when wrk answered nothing)."""
    if pair.wrk is None or pair.harness is None or not pair.wrk.rps:
        return None
    return pair.harness.rps / pair.wrk.rps


def pair_problems(pair: CalibrationPair) -> list[str]:
    """Errors that make a pair's comparison not like with like: wrk got error answers or
    broken connections, or the harness counted failed requests."""
    problems = []
    if pair.wrk is not None and pair.wrk.errors:
        problems.append(f"wrk: {pair.wrk.error_summary}")
    if pair.harness is not None and pair.harness.failures:
        failures = pair.harness.failures
        problems.append(f"harness: {failures} failed requests (see its Locust files)")
    return problems


def _generator_remarks(side: str, figures: WrkSide | HarnessSide) -> tuple[list[str], bool]:
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
    sides: tuple[tuple[str, WrkSide | HarnessSide | None], ...] = (
        (HARNESS, pair.harness),
        (WRK, pair.wrk),
    )
    for side, figures in sides:
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
    """The pair once both sides ran: its ratio, then its problems and remarks as notes."""
    measured = replace(pair, ratio=pair_ratio(pair))
    notes = pair_problems(measured) + pair_remarks(measured, server_capacity_pct)
    return replace(measured, notes=tuple(notes))


def judge(pairs: Sequence[CalibrationPair], planned: int) -> tuple[Status, str]:
    """(status, reason) once the pairs ran: failed when one is missing, invalid when a side
    saw errors, ok otherwise."""
    if len(pairs) < planned or any(pair.ratio is None for pair in pairs):
        return Status.FAILED, f"only {len(pairs)} of {planned} pairs were measured"
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


def aggregate(record: CalibrationRecord) -> CalibrationRecord:
    """The record with the medians, the ratio's spread and the target verdict filled in from
    the measured pairs (unchanged when none was measured)."""
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
    return replace(
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


def with_pair_notes(record: CalibrationRecord) -> CalibrationRecord:
    """The record's notes followed by every pair's, each prefixed with its pair."""
    pair_notes = [
        f"pair {pair.index}: {note}" for pair in record.pairs for note in pair.notes or ()
    ]
    return replace(record, notes=(*record.notes, *pair_notes))
