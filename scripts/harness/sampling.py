"""Resource sampling: CPU and memory of the server's and Locust's whole process trees.

A background thread samples once a second while the load runs. A "tree" is every live
process in the session the supervisor (or the Locust launcher) created, and every descendant
of those (PostgreSQL's backends sit in sessions of their own), so a pre-fork master and all
its workers are summed. psutil's cpu_percent needs two readings of the same process,
so Process objects are kept between samples; a worker that appears mid-run counts from its
second sample.
"""

from __future__ import annotations

import csv
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from servers.process_group import tree_members

COLUMNS = (
    "timestamp",
    "role",
    "cpu_pct",
    "rss_mb",
    "processes",
    "max_process_cpu_pct",
    "cpus",
    "threads",
)
SATURATION_CPU_PCT = 90.0


@dataclass(frozen=True)
class Sample:
    timestamp: float
    role: str
    cpu_pct: float
    rss_mb: float
    processes: int
    max_process_cpu_pct: float
    cpus: tuple[int, ...]
    threads: int = 0  # OS threads of the whole tree: runserver's grow with the load

    def row(self) -> list[str]:
        return [
            f"{self.timestamp:.3f}",
            self.role,
            f"{self.cpu_pct:.1f}",
            f"{self.rss_mb:.1f}",
            str(self.processes),
            f"{self.max_process_cpu_pct:.1f}",
            " ".join(map(str, self.cpus)),
            str(self.threads),
        ]


@dataclass
class _Tree:
    role: str
    session_ids: list[int]
    known: dict[int, psutil.Process] = field(default_factory=dict)

    def sample(self, now: float) -> Sample:
        total_cpu = rss = peak = 0.0
        cpus: set[int] = set()
        alive = threads = 0
        members = [pid for session_id in self.session_ids for pid in tree_members(session_id)]
        for pid in members:
            process = self.known.get(pid)
            try:
                if process is None:
                    process = self.known[pid] = psutil.Process(pid)
                    process.cpu_percent(None)  # primes the counter; real value next time
                    cpu = 0.0
                else:
                    cpu = process.cpu_percent(None)
                rss += process.memory_info().rss / 2**20
                cpus.update(process.cpu_affinity() or [])
                threads += process.num_threads()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                self.known.pop(pid, None)
                continue
            alive += 1
            total_cpu += cpu
            peak = max(peak, cpu)
        return Sample(now, self.role, total_cpu, rss, alive, peak, tuple(sorted(cpus)), threads)


class ResourceSampler:
    """Samples roles -> session ids every `interval_s` into a CSV file, on a thread."""

    def __init__(self, output: Path, interval_s: float = 1.0) -> None:
        self.output = output
        self.interval_s = interval_s
        self._trees: dict[str, _Tree] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.samples: list[Sample] = []

    def watch(self, role: str, session_id: int) -> None:
        with self._lock:
            tree = self._trees.get(role)
            if tree is None:
                self._trees[role] = _Tree(role, [session_id])
            elif session_id not in tree.session_ids:  # several sessions, one role:
                tree.session_ids.append(session_id)  # a Locust master and its local workers

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="resource-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> list[Sample]:
        """Stop sampling, write resources.csv, and return every sample."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        temporary = self.output.with_name(f".{self.output.name}.tmp")
        with temporary.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            writer.writerows(sample.row() for sample in self.samples)
        temporary.replace(self.output)
        return self.samples

    def _loop(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            now = time.time()
            with self._lock:
                trees = list(self._trees.values())
            self.samples.extend(tree.sample(now) for tree in trees)
            next_at += self.interval_s
            self._stop.wait(max(0.0, next_at - time.monotonic()))


@dataclass(frozen=True)
class ResourceSummary:
    """Window figures from the samples (None where a role had no sample in the window)."""

    server_cpu_pct: float | None
    server_rss_peak_mb: float | None
    loadgen_cpu_pct: float | None
    loadgen_max_process_cpu_pct: float | None
    server_cpus: tuple[int, ...]
    loadgen_cpus: tuple[int, ...]
    samples_in_window: int
    proxy_cpu_pct: float | None = None
    database_cpu_pct: float | None = None
    proxy_cpus: tuple[int, ...] = ()
    database_cpus: tuple[int, ...] = ()
    server_threads_peak: int | None = None

    @property
    def deployment_cpu_pct(self) -> float | None:
        """What answering cost: the server's CPU plus nginx's and the harness's PostgreSQL's
        where the run has them (None without a server reading)."""
        if self.server_cpu_pct is None:
            return None
        return self.server_cpu_pct + (self.proxy_cpu_pct or 0.0) + (self.database_cpu_pct or 0.0)

    def observed_cpus(self) -> dict[str, list[int]]:
        """Role -> the CPUs its processes were allowed, read back from the kernel; only the
        roles the run had."""
        cpus = {
            "server": self.server_cpus,
            "loadgen": self.loadgen_cpus,
            "proxy": self.proxy_cpus,
            "database": self.database_cpus,
        }
        return {
            role: list(found)
            for role, found in cpus.items()
            if found or role in ("server", "loadgen")
        }


def summarize(samples: Iterable[Sample], start: float, end: float) -> ResourceSummary:
    """Means over the window [start, end]; the first sample of a role is skipped (its CPU
    reading is a priming zero)."""
    by_role: dict[str, list[Sample]] = {}
    for sample in samples:
        by_role.setdefault(sample.role, []).append(sample)
    window = {
        role: [s for s in rows[1:] if start <= s.timestamp <= end] for role, rows in by_role.items()
    }

    def mean(role: str, attribute: str) -> float | None:
        rows = window.get(role) or []
        return sum(getattr(s, attribute) for s in rows) / len(rows) if rows else None

    server_rows = by_role.get("server") or []
    loadgen_rows = by_role.get("loadgen") or []
    return ResourceSummary(
        server_cpu_pct=mean("server", "cpu_pct"),
        server_rss_peak_mb=max((s.rss_mb for s in server_rows), default=None),
        loadgen_cpu_pct=mean("loadgen", "cpu_pct"),
        loadgen_max_process_cpu_pct=mean("loadgen", "max_process_cpu_pct"),
        server_cpus=_last_cpus(server_rows),
        loadgen_cpus=_last_cpus(loadgen_rows),
        samples_in_window=sum(len(rows) for rows in window.values()),
        server_threads_peak=max((s.threads for s in window.get("server") or []), default=None),
        proxy_cpu_pct=mean("proxy", "cpu_pct"),
        database_cpu_pct=mean("database", "cpu_pct"),
        proxy_cpus=_all_cpus(by_role.get("proxy") or []),
        database_cpus=_all_cpus(by_role.get("database") or []),
    )


def _all_cpus(rows: list[Sample]) -> tuple[int, ...]:
    """Every CPU any sample of the role saw a process allowed on: PostgreSQL starts a
    backend per connection, so one late sample would not prove that none ran elsewhere."""
    return tuple(sorted({cpu for sample in rows for cpu in sample.cpus}))


def _last_cpus(rows: list[Sample]) -> tuple[int, ...]:
    """CPUs of the role's last sample that saw a live process (the very last may come after
    the process exited)."""
    return next((s.cpus for s in reversed(rows) if s.processes > 0), ())
