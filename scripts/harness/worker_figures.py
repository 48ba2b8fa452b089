"""Each Locust worker of a distributed run, from window.json, judged on its own.

A master's aggregate can look healthy while one worker (a slower machine, a shared CPU)
sets the pace for its share of the users, so saturation is judged per worker with the
single-process rules of scripts/harness/judge.py: above SATURATION_CPU_PCT of a core, or an
event loop waking more than LOOP_LAG_LIMIT_MS late on average, in any window. The figures
are the worker's own (loadtests/workers.py measures them inside the worker), because a
worker on another machine cannot be sampled from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loadtests.window import WindowRecord
from scripts.harness.judge import LOOP_LAG_LIMIT_MS
from scripts.harness.sampling import SATURATION_CPU_PCT
from scripts.records.schema import LocustWorker


def _worst(windows: list[Mapping[str, Any]], name: str) -> float | None:
    values = [float(w[name]) for w in windows if isinstance(w.get(name), int | float)]
    return max(values) if values else None


def saturation(cpu_pct: float | None, lag_mean_ms: float | None) -> str:
    """Why a worker with these worst-window figures looks saturated ("" if it does not)."""
    signs = []
    if cpu_pct is not None and cpu_pct > SATURATION_CPU_PCT:
        signs.append(f"{cpu_pct:.0f} % of a CPU")
    if lag_mean_ms is not None and lag_mean_ms > LOOP_LAG_LIMIT_MS:
        signs.append(f"its event loop {lag_mean_ms:.1f} ms late on average")
    return ", ".join(signs)


def locust_workers(record: WindowRecord | None) -> tuple[LocustWorker, ...]:
    """Every worker that said hello, with its worst window's figures."""
    if record is None:
        return ()
    workers = []
    for entry in record.workers:
        windows = [w for w in entry.get("windows") or [] if isinstance(w, Mapping)]
        cpu = _worst(windows, "cpu_pct")
        lag = _worst(windows, "loop_lag_mean_ms")
        workers.append(
            LocustWorker(
                index=int(entry["index"]),
                host=str(entry["host"]),
                pid=int(entry["pid"]),
                commit=str(entry["commit"]),
                lost_at=entry.get("lost"),
                cpu_pct=cpu,
                loop_lag_mean_ms=lag,
                loop_lag_p95_ms=_worst(windows, "loop_lag_p95_ms"),
                loop_lag_max_ms=_worst(windows, "loop_lag_max_ms"),
                windows_reported=len(windows),
                saturated=saturation(cpu, lag),
            )
        )
    return tuple(workers)


def worker_signs(workers: tuple[LocustWorker, ...]) -> list[str]:
    """The judge's saturation signs, one per saturated worker."""
    return [
        f"Locust worker {worker.index} on {worker.host} used {worker.saturated}"
        for worker in workers
        if worker.saturated
    ]
