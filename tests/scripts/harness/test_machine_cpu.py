"""scripts/harness/machine_cpu.py: machine-wide busy and steal CPU over a window."""

from __future__ import annotations

import os
import time

import pytest

from scripts.harness.machine_cpu import CpuReading, MachineCpu


def test_usage_over_a_window_uses_only_the_readings_inside_it() -> None:
    meter = MachineCpu()
    meter.readings = [
        CpuReading(at=10.0, busy_s=100.0, steal_s=1.0),
        CpuReading(at=11.0, busy_s=101.5, steal_s=1.1),
        CpuReading(at=12.0, busy_s=102.0, steal_s=1.2),
        CpuReading(at=20.0, busy_s=200.0, steal_s=9.0),
    ]
    usage = meter.usage(10.0, 12.0)
    assert usage is not None
    assert usage.busy_pct == pytest.approx(100.0) and usage.steal_pct == pytest.approx(10.0)
    assert meter.usage(11.5, 12.5) is None, "one reading is not a rate"


def test_a_busy_loop_shows_up_in_the_machines_busy_cpu() -> None:
    with MachineCpu(interval_s=0.05) as meter:
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            pass
    assert len(meter.readings) >= 5
    usage = meter.usage(meter.readings[0].at, meter.readings[-1].at)
    assert usage is not None
    # this thread alone kept one CPU busy; the machine cannot be busier than all its CPUs
    assert 50.0 < usage.busy_pct <= 100.0 * (os.cpu_count() or 1) + 5.0
    assert usage.steal_pct >= 0.0
    count = len(meter.readings)
    time.sleep(0.15)
    assert len(meter.readings) == count, "leaving the block stops the sampling"
