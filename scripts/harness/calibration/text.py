"""What a calibration prints: one line per pair as it finishes, and the closing report."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import Final

from scripts.harness.calibration.causes import PRACTICAL_SHARE
from scripts.harness.calibration.plan import ENDPOINT, HARNESS, LOCUST, WRK
from scripts.records.schema import (
    CalibrationPair,
    CalibrationRecord,
    Estimate,
    HarnessSide,
    LocustSide,
    SideResources,
    WrkSide,
)

SIDE_NAMES = {WRK: "wrk", HARNESS: "harness", LOCUST: "plain Locust"}

_HEADER = (
    "pair",
    "order",
    "wrk rps",
    "harness rps",
    "ratio",
    "wrk p50 ms",
    "harness p50 ms",
    "errors",
    "generator CPU %",
    "server CPU %",
    "server CPU ms/req",
    "other CPU %",
    "steal %",
    "Locust lag ms",
)


def _number(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _resources(pair: CalibrationPair, side: str) -> SideResources | None:
    figures = {WRK: pair.wrk, HARNESS: pair.harness, LOCUST: pair.locust}[side]
    return figures.resources if figures is not None else None


def _each(
    pair: CalibrationPair,
    sides: Sequence[str],
    figure: Callable[[SideResources], float | None],
    digits: int = 0,
) -> str:
    """A CPU figure of every side as "wrk/harness" (or "wrk/harness/locust")."""
    values = []
    for side in sides:
        resources = _resources(pair, side)
        values.append(_number(figure(resources) if resources else None, digits))
    return "/".join(values)


def pair_line(pair: CalibrationPair) -> str:
    """The line printed when a pair's sides have run."""
    wrk, harness, locust = pair.wrk, pair.harness, pair.locust
    line = (
        f"pair {pair.index} ({' '.join(pair.order)}): "
        f"wrk {_number(wrk.rps if wrk else None, 1)} rps, "
        f"p50 {_number(wrk.p50_ms if wrk else None, 2)} ms | "
        f"harness {_number(harness.rps if harness else None, 1)} rps, "
        f"p50 {_number(harness.p50_ms if harness else None, 0)} ms | "
    )
    if locust is not None:
        line += f"plain Locust {locust.rps:.1f} rps, p50 {_number(locust.p50_ms, 0)} ms | "
    line += f"ratio {_number(pair.ratio, 3)}"
    if pair.noise_flags:
        line += " | noisy: " + "; ".join(pair.noise_flags)
    return line


def _sides_shown(record: CalibrationRecord) -> tuple[str, ...]:
    with_locust = LOCUST in record.references or any(p.locust for p in record.pairs)
    return (WRK, HARNESS, LOCUST) if with_locust else (WRK, HARNESS)


def _header(sides: Sequence[str]) -> tuple[str, ...]:
    if LOCUST not in sides:
        return _HEADER
    return (*_HEADER[:4], "plain Locust rps", *_HEADER[4:], "noisy")


def _row(pair: CalibrationPair, sides: Sequence[str]) -> tuple[str, ...]:
    wrk, harness, locust = pair.wrk, pair.harness, pair.locust
    errors = [
        _number(wrk.errors if wrk else None, 0),
        _number(harness.failures if harness else None, 0),
    ]
    if LOCUST in sides:
        errors.append(_number(locust.failures if locust else None, 0))
    cells = [
        str(pair.index),
        " ".join(pair.order),
        _number(wrk.rps if wrk else None, 1),
        _number(harness.rps if harness else None, 1),
        *([_number(locust.rps if locust else None, 1)] if LOCUST in sides else []),
        _number(pair.ratio, 3),
        _number(wrk.p50_ms if wrk else None, 2),
        _number(harness.p50_ms if harness else None, 0),
        "/".join(errors),
        _each(pair, sides, lambda r: r.loadgen_cpu_pct),
        _each(pair, sides, lambda r: r.server_cpu_pct),
        _each(pair, sides, lambda r: r.server_cpu_ms_per_request, 2),
        _each(pair, sides, lambda r: r.other_cpu_pct),
        _each(pair, sides, lambda r: r.steal_pct, 1),
        _number(harness.loadgen_loop_lag_mean_ms if harness else None, 1),
    ]
    if LOCUST in sides:
        cells.append("yes" if pair.noisy else "-" if pair.noise_flags is None else "no")
    return tuple(cells)


def _table(record: CalibrationRecord) -> list[str]:
    sides = _sides_shown(record)
    header = _header(sides)
    rows = [header, *(_row(pair, sides) for pair in record.pairs)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return lines


def _ci(estimate: Estimate | None, digits: int) -> str:
    """ "1.11 (95 % CI 0.62-1.95)", or the point alone with why there is no CI."""
    if estimate is None or estimate.point is None:
        return "-"
    point = f"{estimate.point:.{digits}f}"
    if estimate.ci_low is None or estimate.ci_high is None:
        return f"{point} (no CI: {estimate.method.removeprefix('no CI: ')})"
    confidence = f"{estimate.confidence * 100:g} %"
    return f"{point} ({confidence} CI {estimate.ci_low:.{digits}f}-{estimate.ci_high:.{digits}f})"


def estimate_lines(record: CalibrationRecord) -> list[str]:
    """The CVs across pairs and every estimate with its CI (none for a first-version
    record, which has no estimates)."""
    if not record.estimates:
        return []
    cvs = record.rps_cv or {}
    shown = ", ".join(
        f"{SIDE_NAMES.get(side, side)} " + ("-" if value is None else f"{value * 100:.1f} %")
        for side, value in cvs.items()
    )
    lines = [f"CV of rps across the {record.measured_pairs} pairs: {shown}"]
    for estimate in record.estimates:
        of = f"{estimate.numerator}/{estimate.denominator}"
        label = "CV ratio" if estimate.name == "cv_ratio" else "median rps ratio"
        lines.append(f"{label} {of}: {_ci(estimate, 3 if estimate.name != 'cv_ratio' else 2)}")
    if record.estimates[0].ci_low is not None:
        lines.append(f"(CIs: {record.estimates[0].method})")
    return lines


def _every_side(pair: CalibrationPair) -> dict[str, WrkSide | HarnessSide | LocustSide]:
    """Every side a pair measured, by name (the candidate causes' as wrk-<name>)."""
    sides: dict[str, WrkSide | HarnessSide | LocustSide | None] = {
        WRK: pair.wrk,
        HARNESS: pair.harness,
        LOCUST: pair.locust,
        **{f"wrk-{name}": side for name, side in pair.causes.items()},
    }
    return {name: side for name, side in sides.items() if side is not None}


def _median_by_side(record: CalibrationRecord, part: str, field: str) -> dict[str, float]:
    """Each side's median over the pairs of `field` of its `part` (resources or series)."""
    values: dict[str, list[float]] = {}
    for pair in record.pairs:
        for name, side in _every_side(pair).items():
            held = getattr(side, part)
            value = None if held is None else getattr(held, field)
            if value is not None:
                values.setdefault(name, []).append(value)
    return {name: statistics.median(found) for name, found in values.items()}


# What evidence_lines shows: label, the side's part holding the figure (its resources or its
# series), the figure's name there, and its digits.
EVIDENCE_FIGURES: Final = (
    ("server CPU ms/request", "resources", "server_cpu_ms_per_request", 3),
    ("server user ms/request", "series", "server_user_ms_per_request", 3),
    ("server system ms/request", "series", "server_system_ms_per_request", 3),
    ("server context switches/request", "series", "server_switches_per_request", 2),
    ("connections opened/request", "series", "connections_per_request", 2),
    ("steal on the server's CPUs %", "series", "server_cpu_steal_pct", 1),
    ("load generator CPU %", "resources", "loadgen_cpu_pct", 0),
)


def evidence_lines(record: CalibrationRecord) -> list[str]:
    """What every side cost the server and what the series say about the candidates that
    need no run of their own: the medians over the pairs of the server's CPU per request
    (user and system apart), its context switches and the connections opened per request,
    and the steal on the server's CPUs, side by side."""
    lines = []
    for label, part, field, digits in EVIDENCE_FIGURES:
        medians = _median_by_side(record, part, field)
        if medians:
            shown = ", ".join(f"{name} {value:.{digits}f}" for name, value in medians.items())
            lines.append(f"median {label}: {shown}")
    return lines


def cause_lines(record: CalibrationRecord) -> list[str]:
    """Each candidate cause's effect, against the plain wrk side of the same pairs."""
    if not record.cause_effects:
        return []
    lines = [
        "candidate causes (each a wrk side with one thing changed, against the plain wrk side "
        f"of the same pairs; a CI within {PRACTICAL_SHARE:.0%} either way clears it):"
    ]
    for effect in record.cause_effects:
        lines.append(
            f"  {effect.cause} ({effect.change}; {effect.pairs} pairs): server CPU per request "
            f"x{_ci(effect.server_cpu_per_request, 3)}: {effect.server_cpu_reading}; rps "
            f"x{_ci(effect.rps, 3)}: {effect.rps_reading}"
        )
    return lines


def _target_line(record: CalibrationRecord) -> str:
    """The verdict: met or not, not judged, or "too noisy" in its place."""
    target = record.target
    if record.target_ratio_max is None:  # a first-version record: the one-sided target
        if record.target_met is None:
            return f"target (median ratio >= {target}): not judged, status {record.status}"
        verdict = "met" if record.target_met else "NOT met"
        return (
            f"target (median ratio >= {target}): {verdict} (median {record.ratio_median or 0:.4f})"
        )
    wanted = (
        f"target (point estimates: median ratio harness/wrk in {target}-"
        f"{record.target_ratio_max}, CV ratio harness/wrk at most {record.target_cv_ratio_max})"
    )
    if record.machine_too_noisy:
        return (
            f"{wanted}: not judged, the machine was too noisy ({record.noisy_pairs} of "
            f"{record.measured_pairs} pairs had noise flags)"
        )
    if record.target_met is None:
        return f"{wanted}: not judged, status {record.status}"
    return f"{wanted}: {'met' if record.target_met else 'NOT met'}"


def summary_text(record: CalibrationRecord) -> str:
    """The closing report: one row per pair, the medians, the estimates with their CIs,
    the verdict (or "too noisy") and the caveats."""
    lines = _table(record)
    lines += [
        "",
        f"server {record.server} ({record.workers} worker(s)), "
        f"{record.connections} connections/users, GET {ENDPOINT}, "
        f"{record.duration_s} s per side; placement: {record.placement['note']}",
        f"median ratio harness/wrk: {_number(record.ratio_median, 3)} "
        f"(min {_number(record.ratio_min, 3)}, max {_number(record.ratio_max, 3)}); "
        f"median p50: wrk {_number(record.wrk_p50_ms_median, 2)} ms, "
        f"harness {_number(record.harness_p50_ms_median, 0)} ms",
    ]
    start, end = record.load_average_at_start, record.load_average_at_end
    if start and end:
        sides = "/".join(SIDE_NAMES[side] for side in _sides_shown(record))
        lines.append(
            f"a/b columns: {sides} side; errors: wrk's errors/Locust's failures; "
            "CPU in % of one CPU; 'other' is the machine's busy CPU minus server and load "
            "generator; steal: CPU the hypervisor took. 1-min load average "
            f"{start[0]:.1f} at start, {end[0]:.1f} at end ({record.cpu_count} CPUs)"
        )
    lines += estimate_lines(record)
    if record.noisy_pairs is not None:
        lines.append(
            f"noisy pairs: {record.noisy_pairs} of {record.measured_pairs} ({record.noise_rule})"
        )
    lines.append(_target_line(record))
    lines += evidence_lines(record)
    lines += cause_lines(record)
    if record.reason:
        lines.append(f"status {record.status}: {record.reason}")
    lines += [f"note: {note}" for note in [*record.notes, record.token_note]]
    return "\n".join(lines)
