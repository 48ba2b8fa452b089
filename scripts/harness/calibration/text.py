"""What a calibration prints: one line per pair as it finishes, and the closing report."""

from __future__ import annotations

from collections.abc import Callable

from scripts.harness.calibration.plan import ENDPOINT
from scripts.records.schema import CalibrationPair, CalibrationRecord, SideResources

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


def _both(
    pair: CalibrationPair, figure: Callable[[SideResources], float | None], digits: int = 0
) -> str:
    """A CPU figure of both sides as "wrk/harness"."""
    wrk = figure(pair.wrk.resources) if pair.wrk else None
    harness = figure(pair.harness.resources) if pair.harness else None
    return f"{_number(wrk, digits)}/{_number(harness, digits)}"


def pair_line(pair: CalibrationPair) -> str:
    """The line printed when a pair's two sides have run."""
    wrk, harness = pair.wrk, pair.harness
    return (
        f"pair {pair.index} ({' '.join(pair.order)}): "
        f"wrk {_number(wrk.rps if wrk else None, 1)} rps, "
        f"p50 {_number(wrk.p50_ms if wrk else None, 2)} ms | "
        f"harness {_number(harness.rps if harness else None, 1)} rps, "
        f"p50 {_number(harness.p50_ms if harness else None, 0)} ms | "
        f"ratio {_number(pair.ratio, 3)}"
    )


def _row(pair: CalibrationPair) -> tuple[str, ...]:
    wrk, harness = pair.wrk, pair.harness
    return (
        str(pair.index),
        " ".join(pair.order),
        _number(wrk.rps if wrk else None, 1),
        _number(harness.rps if harness else None, 1),
        _number(pair.ratio, 3),
        _number(wrk.p50_ms if wrk else None, 2),
        _number(harness.p50_ms if harness else None, 0),
        f"{_number(wrk.errors if wrk else None, 0)}/"
        f"{_number(harness.failures if harness else None, 0)}",
        _both(pair, lambda r: r.loadgen_cpu_pct),
        _both(pair, lambda r: r.server_cpu_pct),
        _both(pair, lambda r: r.server_cpu_ms_per_request, 2),
        _both(pair, lambda r: r.other_cpu_pct),
        _both(pair, lambda r: r.steal_pct, 1),
        _number(harness.loadgen_loop_lag_mean_ms if harness else None, 1),
    )


def _table(record: CalibrationRecord) -> list[str]:
    rows = [_HEADER, *(_row(pair) for pair in record.pairs)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADER))]
    lines = [
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return lines


def summary_text(record: CalibrationRecord) -> str:
    """The closing report: one row per pair, the medians, the verdict and the caveats."""
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
        lines.append(
            "a/b columns: wrk side/harness side; errors: wrk's errors/the harness's failures; "
            "CPU in % of one CPU; 'other' is the machine's busy CPU minus server and load "
            "generator; steal: CPU the hypervisor took. 1-min load average "
            f"{start[0]:.1f} at start, {end[0]:.1f} at end ({record.cpu_count} CPUs)"
        )
    target = record.target
    if record.target_met is None:
        lines.append(f"target (median ratio >= {target}): not judged, status {record.status}")
    else:
        verdict = "met" if record.target_met else "NOT met"
        median = record.ratio_median or 0.0
        lines.append(f"target (median ratio >= {target}): {verdict} (median {median:.4f})")
    if record.reason:
        lines.append(f"status {record.status}: {record.reason}")
    lines += [f"note: {note}" for note in [*record.notes, record.token_note]]
    return "\n".join(lines)
