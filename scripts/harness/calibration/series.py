"""Per-second series of one calibration side: what the server did, second by second.

A ratio or a CPU-per-request figure over a whole side says *that* the sides differ; the
series says *how*: the server's own count of answered requests (its request counters,
servers/request_counts.py, read from disk so the read costs no request and is the same
for every side), its user and system CPU and its context switches (the server's whole
process tree), the load generator's CPU, per CPU the machine's busy and steal time, the
run-queue length, and the machine's TCP counters (connections accepted, resets sent).
Every column but `at` is a cumulative counter as the kernel keeps it; figures over a
window are differences of two rows (`window_figures`).

Written as `<side>-<n>-series.csv` next to the side's other files; the candidates for the
extra server CPU and spread of issue 17 were tested with these columns.
"""

from __future__ import annotations

import csv
import itertools
import statistics
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import psutil

from scripts.records.schema import SideSeries
from servers.process_group import session_members
from servers.request_counts import RequestCountsFormatError, read_request_counts

INTERVAL_S: Final = 1.0
TCP_COUNTERS: Final = ("PassiveOpens", "ActiveOpens", "OutRsts", "EstabResets", "AttemptFails")
ENDPOINT_ROUTE: Final = "/api/me/"


@dataclass(frozen=True)
class SeriesRow:
    """One reading; every figure but `at` (epoch seconds) is cumulative."""

    at: float
    served: int | None
    server_user_s: float
    server_system_s: float
    server_voluntary_switches: int
    server_involuntary_switches: int
    loadgen_user_s: float
    loadgen_system_s: float
    cpu_busy_s: Mapping[int, float]
    cpu_steal_s: Mapping[int, float]
    procs_running: int
    context_switches: int
    tcp: Mapping[str, int]

    def csv_row(self) -> dict[str, str]:
        row = {
            "at": f"{self.at:.3f}",
            "served": "" if self.served is None else str(self.served),
            "server_user_s": f"{self.server_user_s:.3f}",
            "server_system_s": f"{self.server_system_s:.3f}",
            "server_voluntary_switches": str(self.server_voluntary_switches),
            "server_involuntary_switches": str(self.server_involuntary_switches),
            "loadgen_user_s": f"{self.loadgen_user_s:.3f}",
            "loadgen_system_s": f"{self.loadgen_system_s:.3f}",
            "procs_running": str(self.procs_running),
            "context_switches": str(self.context_switches),
        }
        for cpu in sorted(self.cpu_busy_s):
            row[f"cpu{cpu}_busy_s"] = f"{self.cpu_busy_s[cpu]:.3f}"
            row[f"cpu{cpu}_steal_s"] = f"{self.cpu_steal_s[cpu]:.3f}"
        row.update({f"tcp_{name}": str(value) for name, value in self.tcp.items()})
        return row


def read_proc_stat(text: str) -> tuple[int, int]:
    """(procs_running, ctxt) from /proc/stat's text."""
    values = {}
    for line in text.splitlines():
        name, _, rest = line.partition(" ")
        if name in {"procs_running", "ctxt"}:
            values[name] = int(rest.split()[0])
    return values.get("procs_running", 0), values.get("ctxt", 0)


def read_tcp_counters(text: str) -> dict[str, int]:
    """The TCP_COUNTERS from /proc/net/snmp's text (a header line, then a values line)."""
    rows = [line.split() for line in text.splitlines() if line.startswith("Tcp:")]
    if len(rows) < 2:
        return {}
    named = dict(zip(rows[0][1:], rows[1][1:], strict=False))
    return {name: int(named[name]) for name in TCP_COUNTERS if name in named}


@dataclass
class _Tree:
    """One process tree (a session): its live members' CPU times and switches, summed."""

    session_id: int
    known: dict[int, psutil.Process] = field(default_factory=dict)

    def read(self) -> tuple[float, float, int, int]:
        user = system = 0.0
        voluntary = involuntary = 0
        for pid in session_members(self.session_id):
            try:
                process = self.known.get(pid) or self.known.setdefault(pid, psutil.Process(pid))
                with process.oneshot():
                    times = process.cpu_times()
                    switches = process.num_ctx_switches()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                self.known.pop(pid, None)
                continue
            user += times.user
            system += times.system
            voluntary += switches.voluntary
            involuntary += switches.involuntary
        return user, system, voluntary, involuntary


class SeriesRecorder:
    """A context manager: one SeriesRow every INTERVAL_S while the block runs. `watch`
    the server's and the load generator's sessions; `counts_dir` is the server's request
    counters directory (None: no `served` column)."""

    def __init__(self, counts_dir: Path | None, interval_s: float = INTERVAL_S) -> None:
        self.counts_dir = counts_dir
        self.interval_s = interval_s
        self.rows: list[SeriesRow] = []
        self._trees: dict[str, _Tree] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="series", daemon=True)

    def watch(self, role: str, session_id: int) -> None:
        with self._lock:
            self._trees[role] = _Tree(session_id)

    def _tree(self, role: str) -> tuple[float, float, int, int]:
        with self._lock:
            tree = self._trees.get(role)
        return tree.read() if tree is not None else (0.0, 0.0, 0, 0)

    def _served(self) -> int | None:
        if self.counts_dir is None:
            return None
        try:
            return read_request_counts(self.counts_dir).count(route=ENDPOINT_ROUTE)
        except (OSError, RequestCountsFormatError):
            return None

    def read(self) -> SeriesRow:
        at = time.time()
        served = self._served()
        server = self._tree("server")
        loadgen = self._tree("loadgen")
        per_cpu = psutil.cpu_times(percpu=True)
        running, switches = read_proc_stat(Path("/proc/stat").read_text())
        return SeriesRow(
            at=at,
            served=served,
            server_user_s=server[0],
            server_system_s=server[1],
            server_voluntary_switches=server[2],
            server_involuntary_switches=server[3],
            loadgen_user_s=loadgen[0],
            loadgen_system_s=loadgen[1],
            cpu_busy_s={
                cpu: float(t.user + t.nice + t.system + t.irq + t.softirq)
                for cpu, t in enumerate(per_cpu)
            },
            cpu_steal_s={cpu: float(getattr(t, "steal", 0.0)) for cpu, t in enumerate(per_cpu)},
            procs_running=running,
            context_switches=switches,
            tcp=read_tcp_counters(Path("/proc/net/snmp").read_text()),
        )

    def __enter__(self) -> SeriesRecorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            self.rows.append(self.read())
            next_at += self.interval_s
            if self._stop.wait(max(0.0, next_at - time.monotonic())):
                self.rows.append(self.read())  # the closing reading covers the last second
                return

    def write(self, path: Path) -> None:
        if not self.rows:
            return
        rows = [row.csv_row() for row in self.rows]
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


def _per_request(amount: float, served: int) -> float | None:
    return amount / served if served > 0 else None


def window_figures(
    rows: Sequence[SeriesRow], start: float, end: float, server_cpus: Sequence[int] | None
) -> SideSeries | None:
    """The series' figures over [start, end] (epoch seconds), from the first and last
    readings inside it; None with fewer than two readings there. `procs_running` counts
    the reading thread itself, so one is taken off the run-queue mean."""
    inside = [row for row in rows if start <= row.at <= end]
    if len(inside) < 2:
        return None
    first, last = inside[0], inside[-1]
    elapsed_s = last.at - first.at
    served = None
    per_second: list[float] = []
    if first.served is not None and last.served is not None:
        served = last.served - first.served
        per_second = [
            (later.served - earlier.served) / (later.at - earlier.at)
            for earlier, later in itertools.pairwise(inside)
            if later.served is not None and earlier.served is not None and later.at > earlier.at
        ]
    count = served or 0

    def tcp(name: str) -> float | None:
        if name not in first.tcp or name not in last.tcp:
            return None
        return _per_request(last.tcp[name] - first.tcp[name], count)

    cpus = list(server_cpus) if server_cpus else list(first.cpu_steal_s)
    steal_s = sum(last.cpu_steal_s.get(cpu, 0.0) - first.cpu_steal_s.get(cpu, 0.0) for cpu in cpus)
    user = _per_request(1000 * (last.server_user_s - first.server_user_s), count)
    system = _per_request(1000 * (last.server_system_s - first.server_system_s), count)
    mean_rps = statistics.fmean(per_second) if per_second else 0.0
    return SideSeries(
        served_requests=served,
        server_user_ms_per_request=user,
        server_system_ms_per_request=system,
        server_voluntary_switches_per_request=_per_request(
            last.server_voluntary_switches - first.server_voluntary_switches, count
        ),
        server_involuntary_switches_per_request=_per_request(
            last.server_involuntary_switches - first.server_involuntary_switches, count
        ),
        connections_per_request=tcp("PassiveOpens"),
        tcp_resets_per_request=tcp("OutRsts"),
        run_queue_mean=statistics.fmean(max(0, row.procs_running - 1) for row in inside),
        server_cpu_steal_pct=100 * steal_s / elapsed_s if elapsed_s > 0 else None,
        rps_per_second_cv=(
            statistics.stdev(per_second) / mean_rps if len(per_second) > 1 and mean_rps else None
        ),
    )
