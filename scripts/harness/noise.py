"""Machine noise: when a measurement's machine was too busy to trust, and how much CPU it
lends right now.

Two jobs that share one question ("is this machine quiet enough to measure on?"):

1. **Noise flags** over a measured window, from the machine-wide CPU counters the harness
   already samples (machine_cpu.py): steal time (the hypervisor gave our virtual CPUs to
   someone else) and other processes' CPU (busy time that is neither the server's nor the
   load generator's). Both are in percent of one CPU, summed over the machine.
   - STEAL_NOISY_PCT = 5: steal takes CPU time from whichever of our processes was
     running, and the server is the bottleneck in every measurement that matters, so steal
     of s % of a CPU can slow a one-CPU server by up to s %; 5 % is the size of the effect
     a calibration or a verdict is asked to resolve (the 0.95-1.05 band, the verdicts' 5 %
     threshold), so noise at that level can by itself produce or hide such an effect.
   - OTHER_CPU_NOISY_PCT = 10: another process competes with ours only on the CPU it runs
     on; on a machine whose CPUs are split between the server and the load generator, an
     even spread puts about half of it on the server's CPUs, so 10 % of a CPU takes about
     5 % from the server: the same bound as for steal. The harness's own process (samplers,
     progress) is counted here too; measured on this 2-core VM it uses about 1-3 % of a CPU
     while a calibration side runs, well under the threshold, and a quiet window on this
     VM shows other processes under 5 % (steal under 1 %), so the limit sits above a quiet
     machine. One pair of limits for everything: bench's machine_noisy (judge.is_noisy)
     and calibrate's pair flags both use these two constants.

2. **The noise probe**: before a bench's first run, a fixed pure-Python CPU loop runs for
   PROBE_S on every CPU of the run's CPU sets at once (one pinned child per CPU, through
   servers.child). The loop is cut into slices of a fixed iteration count (about 0.3 ms
   each here). A slice that ran without being preempted or stolen from shows what the CPU
   can do; the probe needs no stored baseline because it takes its reference from itself:
   the REFERENCE_QUANTILE-fastest slice rate (a high quantile, not the maximum, so one
   timer glitch cannot set it). Preemption by another process or the hypervisor happens in
   scheduler quanta of milliseconds, so even a CPU shared half-and-half with a hog leaves
   most 0.3-ms slices untouched and the reference stays the CPU's own speed, while the
   loop's overall rate (all iterations / all wall time) halves. "Capacity lent" is the
   overall rate divided by the reference: 1.0 means the CPU was ours for the whole probe.
   What it cannot see: a slowdown that lasts the whole probe and touches every slice alike
   (a lower clock frequency), which shifts the reference too.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import psutil

from servers.child import ChildLaunchError, ChildSpec, ManagedChild, child_environment
from servers.placement import Placement
from servers.registry import PROJECT_DIR

STEAL_NOISY_PCT: Final = 5.0
OTHER_CPU_NOISY_PCT: Final = 10.0

PROBE_S: Final = 1.0  # loop time per CPU; all CPUs are probed at once
PROBE_DEADLINE_S: Final = 2.5  # interpreter start-up included; the probe never costs more
SLICE_ITERATIONS: Final = 5000  # about 0.3 ms of pure-Python work on this machine
REFERENCE_QUANTILE: Final = 0.75  # of the slice rates: the CPU's speed when it was ours
PROBE_FORMAT_VERSION: Final = 1


def noise_flags(steal_pct: float | None, other_cpu_pct: float | None) -> list[str]:
    """Why a window's machine was noisy ("" reasons when it was quiet or not measured)."""
    flags = []
    if steal_pct is not None and steal_pct > STEAL_NOISY_PCT:
        flags.append(f"steal {steal_pct:.1f} % of a CPU (above {STEAL_NOISY_PCT:g} %)")
    if other_cpu_pct is not None and other_cpu_pct > OTHER_CPU_NOISY_PCT:
        flags.append(
            f"other processes {other_cpu_pct:.0f} % of a CPU (above {OTHER_CPU_NOISY_PCT:g} %)"
        )
    return flags


def busy_loop(iterations: int) -> int:
    """The probe's fixed unit of work: a linear congruential generator, pure Python (it
    exercises the interpreter the way the servers and Locust do, not a vector unit)."""
    value = 1
    for _ in range(iterations):
        value = (value * 1103515245 + 12345) & 0x7FFFFFFF
    return value


def slice_durations(duration_s: float, iterations: int = SLICE_ITERATIONS) -> list[float]:
    """Run busy_loop slices back to back for `duration_s`; each slice's wall time."""
    durations = []
    end = time.perf_counter() + duration_s
    now = time.perf_counter()
    while now < end:
        busy_loop(iterations)
        later = time.perf_counter()
        durations.append(later - now)
        now = later
    return durations


def lent_fraction(durations_s: Sequence[float]) -> tuple[float, float] | None:
    """(capacity lent, reference slices per second) from one probe's slice times; None
    with too few slices to take a quantile of. The module docstring gives the method."""
    if len(durations_s) < 20 or min(durations_s) <= 0:
        return None
    rates = sorted(1.0 / duration for duration in durations_s)
    reference = rates[min(len(rates) - 1, int(REFERENCE_QUANTILE * len(rates)))]
    overall = len(durations_s) / sum(durations_s)
    return min(1.0, overall / reference), reference


@dataclass(frozen=True)
class CpuProbe:
    """One CPU's probe: the capacity it lent, against its own reference rate."""

    cpu: int
    lent: float | None
    slices: int
    reference_slices_per_s: float | None
    steal_pct: float | None  # of this CPU over the probe, from the kernel's counters
    problem: str = ""


@dataclass(frozen=True)
class CpuSetProbe:
    """A role's CPU set (the server's, the load generator's): the mean of its CPUs."""

    role: str
    cpus: tuple[int, ...]
    lent: float | None

    def line(self) -> str:
        lent = "not measured" if self.lent is None else f"{self.lent * 100:.0f} %"
        return f"{self.role} CPUs {list(self.cpus)}: {lent}"


@dataclass(frozen=True)
class NoiseProbe:
    """What the probe found just before a bench's first run (noise/<bench_id>.json)."""

    bench_id: str
    started_at: float
    wall_s: float
    probe_s: float
    slice_iterations: int
    reference_quantile: float
    sets: tuple[CpuSetProbe, ...]
    cpus: tuple[CpuProbe, ...]

    def line(self) -> str:
        """The console line: "capacity the machine lends now" per CPU set."""
        shown = "; ".join(probe.line() for probe in self.sets)
        return f"noise probe ({self.wall_s:.1f} s): capacity the machine lends now: {shown}"

    def to_json(self) -> dict[str, Any]:
        return {"format_version": PROBE_FORMAT_VERSION, **asdict(self)}


def probe_cpu_sets(placement: Placement, available: Sequence[int]) -> dict[str, tuple[int, ...]]:
    """role -> CPUs to probe: the placement's sets, or every available CPU when unpinned."""
    everything = tuple(sorted(available))
    if not placement.server_cpus or not placement.loadgen_cpus:
        return {"all": everything}
    return {"server": placement.server_cpus, "load generator": placement.loadgen_cpus}


def loop_spec(cpu: int, output: Path, duration_s: float, name: str = "noise probe") -> ChildSpec:
    """The probe's CPU loop as a child pinned to `cpu` for `duration_s` (its slice times
    into `output`); calibrate's busy-generator candidate runs it as a load of its own."""
    return ChildSpec(
        name=f"{name} on CPU {cpu}",
        argv=(sys.executable, "-m", "scripts.harness.noise", f"{duration_s:g}"),
        environment=child_environment(
            {"PYTHONPATH": str(PROJECT_DIR)}, bin_dirs=[str(Path(sys.executable).parent)]
        ),
        log_path=output,
        cwd=PROJECT_DIR,
        cpus=(cpu,),
        stop_grace_s=0.2,
    )


def _steal_s(cpus: Sequence[int]) -> dict[int, float]:
    per_cpu = psutil.cpu_times(percpu=True)
    return {cpu: float(getattr(per_cpu[cpu], "steal", 0.0)) for cpu in cpus if cpu < len(per_cpu)}


def _read_child(cpu: int, output: Path, exit_code: int | None) -> tuple[list[float], str]:
    try:
        lines = output.read_text().strip().splitlines()
        durations = [float(value) for value in json.loads(lines[-1])]
    except (OSError, ValueError, IndexError, TypeError) as error:
        return [], f"CPU {cpu}: no probe output (exit status {exit_code}; {error})"
    return durations, ""


def probe_noise(
    bench_id: str,
    sets: Mapping[str, tuple[int, ...]],
    *,
    probe_s: float = PROBE_S,
    deadline_s: float = PROBE_DEADLINE_S,
) -> NoiseProbe:
    """Run the probe on every CPU of `sets` at once and return what each CPU lent. Never
    raises for a probe that could not run (its CPUs say why); never takes more than
    `deadline_s` (plus the children's stop)."""
    cpus = sorted({cpu for members in sets.values() for cpu in members})
    started_at, started = time.time(), time.monotonic()
    steal_before = _steal_s(cpus)
    with tempfile.TemporaryDirectory(prefix="drf-noise-") as scratch:
        children: dict[int, ManagedChild] = {}
        problems: dict[int, str] = {}
        try:
            for cpu in cpus:
                try:
                    spec = loop_spec(cpu, Path(scratch) / f"cpu{cpu}.json", probe_s)
                    children[cpu] = ManagedChild.start(spec)
                except ChildLaunchError as error:
                    problems[cpu] = str(error)
            for child in children.values():
                child.wait(max(0.0, deadline_s - (time.monotonic() - started)))
        finally:
            for child in children.values():
                child.stop()
        wall_s = time.monotonic() - started
        steal_after = _steal_s(cpus)
        results = []
        for cpu in cpus:
            durations: list[float] = []
            problem = problems.get(cpu, "")
            if cpu in children:
                child = children[cpu]
                durations, problem = _read_child(cpu, child.spec.log_path, child.exit_code)
            measured = lent_fraction(durations)
            steal = None
            if cpu in steal_before and cpu in steal_after and wall_s > 0:
                steal = 100 * (steal_after[cpu] - steal_before[cpu]) / wall_s
            results.append(
                CpuProbe(
                    cpu=cpu,
                    lent=measured[0] if measured else None,
                    slices=len(durations),
                    reference_slices_per_s=measured[1] if measured else None,
                    steal_pct=steal,
                    problem=problem or ("" if measured else f"CPU {cpu}: too few slices"),
                )
            )
    by_cpu = {probe.cpu: probe for probe in results}
    set_probes = []
    for role, members in sets.items():
        lent = [value for cpu in members if (value := by_cpu[cpu].lent) is not None]
        set_probes.append(
            CpuSetProbe(role, tuple(members), statistics.fmean(lent) if lent else None)
        )
    return NoiseProbe(
        bench_id=bench_id,
        started_at=started_at,
        wall_s=wall_s,
        probe_s=probe_s,
        slice_iterations=SLICE_ITERATIONS,
        reference_quantile=REFERENCE_QUANTILE,
        sets=tuple(set_probes),
        cpus=tuple(results),
    )


def write_probe(results_dir: Path, probe: NoiseProbe) -> Path:
    """<results>/noise/<bench_id>.json, written whole (temporary name, then renamed)."""
    directory = results_dir / "noise"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{probe.bench_id}.json"
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(probe.to_json(), indent=2) + "\n")
    os.replace(temporary, path)
    return path


def _loop_main(argv: Sequence[str]) -> None:
    """The probe's child: slices for the given seconds, their durations as one JSON line."""
    durations = slice_durations(float(argv[0]))
    print(json.dumps([round(value, 9) for value in durations]), flush=True)


if __name__ == "__main__":
    _loop_main(sys.argv[1:])
