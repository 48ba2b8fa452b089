"""The verdict of one run whose load phase finished: ok, failed or invalid, and why.

A run is `failed` when nothing trustworthy was measured, and `invalid` when it was measured
but the load generator may have set the pace instead of the server. The thresholds, and
why each has its value:
- SATURATION_CPU_PCT 90: Locust's own cpu_warning fires above 90 % of a CPU; a process that
  busy answers its events late, so response times include waiting inside Locust.
- LOOP_LAG_LIMIT_MS 5: a healthy Locust process here wakes about 1 ms late, a starved one
  tens of ms (34 ms seen with its CPU shared); CPU percent alone misses a shared CPU.
- DEFAULT_MAX_ERROR_RATE 1 %: a real API under its normal load answers essentially every
  request; more errors than this means the figures describe a broken server, whose fast
  errors would otherwise read as speed. Runs that provoke errors on purpose declare it
  (errors_expected) and their errors are figures instead; a dead server still fails them.
- machine noise: a run is kept and flagged (machine_noisy), not failed, when steal or other
  processes' CPU over the window exceeds the limits of scripts/harness/noise.py
  (STEAL_NOISY_PCT, OTHER_CPU_NOISY_PCT, with their reasons there), the same limits
  calibrate's noise flags use: the noise is recorded so the report can say how much of the
  spread it explains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from loadtests.window import WindowRecord
from scripts.harness.noise import noise_flags
from scripts.harness.sampling import SATURATION_CPU_PCT, ResourceSummary
from scripts.records.schema import Status, WindowFigures

LOOP_LAG_LIMIT_MS: Final = 5.0
DEFAULT_MAX_ERROR_RATE: Final = 0.01


@dataclass(frozen=True)
class ServerExit:
    """The server's main process ended during the load."""

    exit_code: int
    seconds_into_window: float | None  # None: before the window opened

    def describe(self) -> str:
        how = f"signal {-self.exit_code}" if self.exit_code < 0 else f"status {self.exit_code}"
        when = (
            "before the measured window"
            if self.seconds_into_window is None
            else f"{self.seconds_into_window:.1f} s into the window"
        )
        return f"the server exited ({how}) {when}"


def error_summary(figures: WindowFigures) -> str:
    """ "37 % of responses were errors: HTTP 502 x 1,200, ConnectionRefusedError x 9,000"."""
    kinds = sorted(figures.failures_by_kind.items(), key=lambda item: -item[1])
    listed = ", ".join(f"{kind} x {count:,}" for kind, count in kinds) or (
        f"{figures.failures:,} failures"
    )
    return f"{figures.error_rate:.0%} of responses were errors: {listed}"


def is_noisy(steal_pct: float | None, other_cpu_pct: float | None) -> bool:
    """Whether a window's machine was too noisy to trust: noise.py's flags, one rule for
    bench and calibrate."""
    return bool(noise_flags(steal_pct, other_cpu_pct))


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
    *,
    server_exit: ServerExit | None = None,
    listener_lost: bool = False,
    max_error_rate: float = DEFAULT_MAX_ERROR_RATE,
    errors_expected: bool = False,
    worker_signs: Sequence[str] = (),
) -> tuple[Status, str]:
    """(status, reason) of a run whose load phase finished. A dead server decides first,
    whatever else happened; the generator's saturation is judged only for a server that
    was alive and answering."""
    if server_exit is not None:
        return Status.FAILED, server_exit.describe()
    if listener_lost:
        return Status.FAILED, "the server's listener stopped accepting connections during the load"
    if window is None:
        return Status.FAILED, f"Locust exited with status {locust_status} before any window"
    if not window.completed:
        return Status.FAILED, window.reason or "the measured window did not complete"
    if locust_status not in (0, 1):
        return Status.FAILED, f"Locust exited with status {locust_status} (error)"
    if figures is None or figures.requests == 0:
        return Status.FAILED, "no request completed in the measured window"
    if figures.failures == figures.requests:
        return Status.FAILED, "every request in the measured window failed: " + error_summary(
            figures
        )
    if not errors_expected and figures.error_rate > max_error_rate:
        return Status.FAILED, (
            f"{error_summary(figures)} (more than MAX_ERROR_RATE {max_error_rate:.0%}); "
            "its figures are kept but not compared"
        )
    # distributed: each worker judged on its own (scripts/harness/worker_figures.py)
    signs = [*saturation_signs(window, resources.loadgen_max_process_cpu_pct), *worker_signs]
    if signs:
        return Status.INVALID, (
            "load generator saturated: "
            + "; ".join(signs)
            + ". Try LOCUST_PROCESSES=2, fewer USERS, or a quieter machine"
        )
    return Status.OK, ""
