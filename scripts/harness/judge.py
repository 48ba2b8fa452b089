"""The verdict of one run whose load phase finished: ok, failed or invalid, and why.

A run is `failed` when nothing trustworthy was measured, and `invalid` when it was measured
but the load generator may have set the pace instead of the server. The thresholds, and
why each has its value:
- SATURATION_CPU_PCT 90: Locust's own cpu_warning fires above 90 % of a CPU; a process that
  busy answers its events late, so response times include waiting inside Locust.
- LOOP_LAG_LIMIT_MS 5: a healthy Locust process here wakes about 1 ms late, a starved one
  tens of ms (34 ms seen with its CPU shared); CPU percent alone misses a shared CPU.
"""

from __future__ import annotations

from typing import Final

from loadtests.window import WindowRecord
from scripts.harness.sampling import SATURATION_CPU_PCT, ResourceSummary
from scripts.records.schema import Status, WindowFigures

LOOP_LAG_LIMIT_MS: Final = 5.0


def saturation_signs(window: WindowRecord, busiest_process_cpu_pct: float | None) -> list[str]:
    """Why the load generator looks saturated (empty when it does not)."""
    signs = []
    if window.cpu_warning:
        signs.append("Locust's own CPU warning fired")
    if busiest_process_cpu_pct is not None and busiest_process_cpu_pct > SATURATION_CPU_PCT:
        signs.append(f"its busiest process used {busiest_process_cpu_pct:.0f} % of a CPU")
    lag_ms = window.loop_lag_mean_ms
    if lag_ms is not None and lag_ms > LOOP_LAG_LIMIT_MS:
        signs.append(
            f"its event loop woke {lag_ms:.1f} ms late on average (limit "
            f"{LOOP_LAG_LIMIT_MS:.0f} ms), so response times include waiting inside Locust"
        )
    return signs


def judge(
    window: WindowRecord | None,
    locust_status: int,
    figures: WindowFigures | None,
    resources: ResourceSummary,
) -> tuple[Status, str]:
    """(status, reason) of a run whose load phase finished."""
    if window is None:
        return Status.FAILED, f"Locust exited with status {locust_status} before any window"
    if not window.completed:
        return Status.FAILED, window.reason or "the measured window did not complete"
    if locust_status not in (0, 1):
        return Status.FAILED, f"Locust exited with status {locust_status} (error)"
    if figures is None or figures.requests == 0:
        return Status.FAILED, "no request completed in the measured window"
    if figures.failures == figures.requests:
        return Status.FAILED, "every request in the measured window failed"
    signs = saturation_signs(window, resources.loadgen_max_process_cpu_pct)
    if signs:
        return Status.INVALID, (
            "load generator saturated: "
            + "; ".join(signs)
            + ". Try LOCUST_PROCESSES=2, fewer USERS, or a quieter machine"
        )
    return Status.OK, ""
