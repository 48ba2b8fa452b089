"""CPU placement: which CPUs the server gets and which the load generator gets.

On a machine with few cores the server and Locust compete for CPU and both numbers become
wrong. `split` gives each its own CPUs (servers.child pins a child with `taskset`, and its
children inherit the affinity, so every worker of a server stays on the server's set);
`none` leaves the scheduler free.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final


@dataclass(frozen=True)
class Placement:
    """The CPU sets of one run; None means "not pinned"."""

    mode: str
    server_cpus: tuple[int, ...] | None
    loadgen_cpus: tuple[int, ...] | None
    note: str

    def as_meta(self) -> dict[str, object]:
        return {
            "mode": self.mode,
            "server_cpus": list(self.server_cpus) if self.server_cpus else None,
            "loadgen_cpus": list(self.loadgen_cpus) if self.loadgen_cpus else None,
            "note": self.note,
        }

    @property
    def server_core_count(self) -> int:
        return len(self.server_cpus) if self.server_cpus else len(os.sched_getaffinity(0))


def _split(available: tuple[int, ...]) -> Placement:
    if len(available) < 2:
        return Placement(
            "none", None, None, "split asked for, but only one CPU is available: not pinned"
        )
    loadgen_count = len(available) // 2
    server = available[: len(available) - loadgen_count]
    loadgen = available[len(available) - loadgen_count :]
    return Placement(
        "split",
        server,
        loadgen,
        f"server on CPUs {list(server)}, Locust on CPUs {list(loadgen)} of {len(available)}; "
        "the harness's own light work shares the load generator's CPUs",
    )


def _none(available: tuple[int, ...]) -> Placement:
    return Placement(
        "none", None, None, f"not pinned: server and Locust share all {len(available)} CPUs"
    )


PLACEMENTS: Final[Mapping[str, Callable[[tuple[int, ...]], Placement]]] = MappingProxyType(
    {"split": _split, "none": _none}
)


def default_mode(available: tuple[int, ...]) -> str:
    return "split" if len(available) >= 2 else "none"


def place(mode: str, available: tuple[int, ...] | None = None) -> Placement:
    """The placement for `mode` over the CPUs this process may use."""
    cpus = available if available is not None else tuple(sorted(os.sched_getaffinity(0)))
    return PLACEMENTS[mode](cpus)


def cpus_of(pid: int) -> tuple[int, ...]:
    """The CPUs a process may run on, read back from the kernel."""
    return tuple(sorted(os.sched_getaffinity(pid)))
