"""The whole machine's CPU (busy and steal time), sampled on a thread around a measurement.

The process-tree sampler (sampling.py) sees only the server and the load generator. Busy
time minus theirs tells whether anything else ran (on a shared 2-core machine a stray test
run changes both sides of a comparison, and their ratio with them); steal time tells
whether the hypervisor gave this virtual machine's CPUs to someone else, which slows the
server without any process here being busy.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class CpuReading:
    """Machine-wide CPU counters at one moment (seconds since boot, summed over CPUs)."""

    at: float
    busy_s: float
    steal_s: float


@dataclass(frozen=True)
class MachineUsage:
    """Machine-wide CPU over a window, in percent of one CPU (200 = two CPUs)."""

    busy_pct: float
    steal_pct: float


class MachineCpu:
    """A context manager: readings every `interval_s` while the block runs; `usage()` then
    gives the mean over any window inside it."""

    def __init__(self, interval_s: float = 0.5) -> None:
        self.interval_s = interval_s
        self.readings: list[CpuReading] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="machine-cpu", daemon=True)

    @staticmethod
    def read() -> CpuReading:
        times = psutil.cpu_times()
        # guest time is already inside user time; iowait is idle time
        busy = times.user + times.nice + times.system + times.irq + times.softirq
        return CpuReading(time.time(), float(busy), float(getattr(times, "steal", 0.0)))

    def __enter__(self) -> MachineCpu:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            self.readings.append(self.read())
            if self._stop.wait(self.interval_s):
                return

    def usage(self, start: float, end: float) -> MachineUsage | None:
        """Mean usage over the readings inside [start, end]; None with fewer than two."""
        inside = [reading for reading in self.readings if start <= reading.at <= end]
        if len(inside) < 2 or inside[-1].at <= inside[0].at:
            return None
        first, last = inside[0], inside[-1]
        elapsed_s = last.at - first.at
        return MachineUsage(
            busy_pct=100 * (last.busy_s - first.busy_s) / elapsed_s,
            steal_pct=100 * (last.steal_s - first.steal_s) / elapsed_s,
        )
