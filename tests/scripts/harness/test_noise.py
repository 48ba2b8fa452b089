"""scripts/harness/noise.py: the noise flags' thresholds, the probe's method on known slice
times, and a real probe that sees a CPU hog on the CPU it measures."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from scripts.harness.judge import is_noisy
from scripts.harness.noise import (
    OTHER_CPU_NOISY_PCT,
    STEAL_NOISY_PCT,
    lent_fraction,
    noise_flags,
    probe_cpu_sets,
    probe_noise,
    write_probe,
)
from servers.child import ChildSpec, ManagedChild, child_environment
from servers.placement import place

HOG_S = 8.0  # the hog's own bound: it exits by itself even if the test dies


def test_flags_fire_only_above_their_thresholds() -> None:
    assert noise_flags(None, None) == [] and noise_flags(STEAL_NOISY_PCT, OTHER_CPU_NOISY_PCT) == []
    [steal] = noise_flags(7.25, 3.0)
    assert steal == "steal 7.2 % of a CPU (above 5 %)"
    [other] = noise_flags(0.0, 42.0)
    assert other == "other processes 42 % of a CPU (above 10 %)"
    assert len(noise_flags(6.0, 11.0)) == 2


def test_bench_and_calibrate_flag_noise_by_the_same_limits() -> None:
    # bench's machine_noisy (judge.is_noisy) and calibrate's flags (noise_flags) once had
    # other-CPU limits of 15 % and 10 %: a window between the two was noisy to one only.
    for steal_pct, other_pct in (
        (STEAL_NOISY_PCT, OTHER_CPU_NOISY_PCT),
        (STEAL_NOISY_PCT + 0.5, 0.0),
        (0.0, OTHER_CPU_NOISY_PCT + 0.5),
        (None, OTHER_CPU_NOISY_PCT + 5),
        (None, None),
    ):
        assert is_noisy(steal_pct, other_pct) is bool(noise_flags(steal_pct, other_pct))
    assert is_noisy(0.0, OTHER_CPU_NOISY_PCT + 0.5)


def test_capacity_lent_is_the_overall_rate_against_the_probes_own_reference() -> None:
    # 90 undisturbed slices of 1 ms and 10 that waited 10 ms more (preempted)
    lent = lent_fraction([0.001] * 90 + [0.011] * 10)
    assert lent is not None
    assert lent[0] == pytest.approx(100 / 0.2 / 1000) and lent[1] == pytest.approx(1000)
    assert lent_fraction([0.001] * 100) == (pytest.approx(1.0), pytest.approx(1000))
    assert lent_fraction([0.001] * 5) is None, "too few slices for a reference"


def test_the_probe_covers_each_cpu_set_of_the_placement() -> None:
    assert probe_cpu_sets(place("split", (0, 1)), (0, 1)) == {
        "server": (0,),
        "load generator": (1,),
    }
    assert probe_cpu_sets(place("none", (0, 1)), (0, 1)) == {"all": (0, 1)}


def _hog(cpu: int, log: Path) -> ManagedChild:
    code = f"import time\nend = time.monotonic() + {HOG_S}\nwhile time.monotonic() < end: pass\n"
    return ManagedChild.start(
        ChildSpec(
            name="cpu hog",
            argv=(sys.executable, "-c", code),
            environment=child_environment({}),
            log_path=log,
            cpus=(cpu,),
            stop_grace_s=0.5,
        )
    )


@pytest.mark.slow
def test_the_probe_reports_a_drop_while_a_hog_runs_on_the_measured_cpu(tmp_path: Path) -> None:
    cpu = max(os.sched_getaffinity(0))
    sets = {"measured": (cpu,)}
    quiet = probe_noise("quiet", sets)
    with _hog(cpu, tmp_path / "hog.log") as hog:
        time.sleep(0.3)  # the hog is running before the probe starts
        busy = probe_noise("busy", sets)
        assert hog.running, "the hog outlived the probe"
    again = probe_noise("quiet-again", sets)
    assert busy.wall_s < 3.0 and quiet.wall_s < 3.0, "the probe keeps to its budget"
    [busy_set] = busy.sets
    assert busy_set.lent is not None and busy_set.lent < 0.7, busy.line()
    quiet_lent = max(probe.sets[0].lent or 0.0 for probe in (quiet, again))
    assert quiet_lent - busy_set.lent > 0.2, f"{quiet.line()} / {busy.line()} / {again.line()}"
    [measured_cpu] = busy.cpus
    assert measured_cpu.cpu == cpu and measured_cpu.slices > 100 and not measured_cpu.problem
    path = write_probe(tmp_path, busy)
    assert path == tmp_path / "noise" / "busy.json"
    document = json.loads(path.read_text())
    assert document["format_version"] == 1
    assert document["sets"][0]["lent"] == pytest.approx(busy_set.lent)
