"""scripts/harness/calibration/sides.py: the CPU figures a side records over its window.
(The sides themselves run against a real server in tests/scripts/test_calibrate.py.)"""

from __future__ import annotations

import pytest

from scripts.harness.calibration.sides import cpu_ms_per_request, side_resources
from scripts.harness.machine_cpu import CpuReading, MachineCpu
from scripts.harness.sampling import Sample
from tests.scripts.harness.calibration.records import fixture_record


def test_cpu_per_request_is_what_the_fixture_recorded() -> None:
    for pair in fixture_record().pairs:
        for side in (pair.wrk, pair.harness):
            assert side is not None
            cost = cpu_ms_per_request(side.resources.server_cpu_pct, side.rps)
            assert cost == pytest.approx(side.resources.server_cpu_ms_per_request)
    assert cpu_ms_per_request(None, 100.0) is None
    assert cpu_ms_per_request(50.0, 0.0) is None, "no answer: no cost per answer"


def _samples(role: str, cpu_pcts: list[float]) -> list[Sample]:
    return [
        Sample(10.0 + second, role, cpu, 50.0, 2, cpu, (0,)) for second, cpu in enumerate(cpu_pcts)
    ]


def test_other_cpu_is_the_machines_busy_cpu_less_server_and_generator() -> None:
    # the first sample of each role is a priming zero and is skipped
    samples = _samples("server", [0.0, 90.0, 100.0]) + _samples("loadgen", [0.0, 30.0, 30.0])
    machine = MachineCpu()
    machine.readings = [CpuReading(11.0, 100.0, 5.0), CpuReading(12.0, 101.5, 5.02)]
    resources = side_resources(samples, machine, 11.0, 12.0, rps=380.0)
    assert resources.server_cpu_pct == pytest.approx(95.0)
    assert resources.loadgen_cpu_pct == pytest.approx(30.0)
    assert resources.machine_cpu_pct == pytest.approx(150.0)
    assert resources.other_cpu_pct == pytest.approx(25.0)
    assert resources.steal_pct == pytest.approx(2.0)
    assert resources.server_cpu_ms_per_request == pytest.approx(2.5)
    quiet = MachineCpu()
    quiet.readings = [CpuReading(11.0, 100.0, 0.0), CpuReading(12.0, 101.0, 0.0)]
    assert side_resources(samples, quiet, 11.0, 12.0, rps=380.0).other_cpu_pct == 0.0
    unsampled = side_resources(samples, MachineCpu(), 11.0, 12.0, rps=380.0)
    assert unsampled.machine_cpu_pct is None and unsampled.other_cpu_pct is None
