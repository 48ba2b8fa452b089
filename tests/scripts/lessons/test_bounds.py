"""The experiments that provoke errors on purpose stay within their bounds (slow, live): the
overload (200 users on runserver, the server with no bound of its own) and the slow
clients (gunicorn sync, which they starve), each as the lesson runs it with tiny windows.
While the bench runs, a sampler counts the client connections open at once to any port a
process of the test's tree listens on and the resident memory of that whole tree; after
it, nothing the bench started is left. Its time bound is the schedule's own estimate."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Final

import psutil
import pytest

from scripts import bench
from scripts.lessons.schedule import TINY, bench_plan, estimate_s
from scripts.lessons.sections import SECTIONS, Experiment
from tests.scripts.benchutil import processes_mentioning

pytestmark = pytest.mark.slow

SAMPLE_INTERVAL_S: Final = 0.2
# the estimate is what the progress line counts down from: the bench may overrun it a little
# on a busy machine, not by a second bench's worth
TIME_MARGIN: Final = 1.5
CLIENT_STATES: Final = frozenset({psutil.CONN_ESTABLISHED, psutil.CONN_SYN_SENT})


@dataclass
class TreeSampler:
    """Peak client connections and resident memory of this process and its descendants."""

    peak_connections: int = 0
    peak_rss_mb: float = 0.0
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def _tree(self) -> list[psutil.Process]:
        me = psutil.Process()
        return [me, *me.children(recursive=True)]

    def sample(self) -> None:
        listening: set[int] = set()
        clients: list[int] = []
        rss = 0
        for process in self._tree():
            try:
                rss += process.memory_info().rss
                for connection in process.net_connections(kind="tcp"):
                    if connection.status == psutil.CONN_LISTEN:
                        listening.add(connection.laddr.port)
                    elif connection.status in CLIENT_STATES and connection.raddr:
                        clients.append(connection.raddr.port)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        self.peak_connections = max(
            self.peak_connections, sum(port in listening for port in clients)
        )
        self.peak_rss_mb = max(self.peak_rss_mb, rss / 2**20)
        self.samples += 1

    def run(self) -> None:
        while not self._stop.wait(SAMPLE_INTERVAL_S):
            self.sample()


@contextmanager
def sampled() -> Iterator[TreeSampler]:
    sampler = TreeSampler()
    thread = threading.Thread(target=sampler.run, name="bounds-sampler", daemon=True)
    thread.start()
    try:
        yield sampler
    finally:
        sampler._stop.set()
        thread.join(timeout=5)


def _experiment(key: str) -> Experiment:
    return next(
        experiment
        for section in SECTIONS.values()
        for experiment in section.experiments
        if experiment.key == key
    )


def _on_server(flags: tuple[str, ...], server: str) -> tuple[str, ...]:
    at = flags.index("--server")
    return (*flags[: at + 1], server, *flags[at + 2 :])


@pytest.mark.parametrize(
    ("key", "server"), [("overload", "runserver"), ("robust_alone", "gunicorn")]
)
def test_an_error_provoking_experiment_stays_within_its_bounds(
    key: str, server: str, tmp_path: Path
) -> None:
    experiment = _experiment(key)
    assert experiment.bounds is not None, f"{key} declares no bounds"
    flags = (*_on_server(experiment.flags, server), *TINY.flags(experiment))
    cpus = tuple(sorted(os.sched_getaffinity(0)))
    budget_s = (estimate_s(bench_plan(flags, cpus)) + experiment.setup_s) * TIME_MARGIN
    before = {child.pid for child in psutil.Process().children(recursive=True)}
    started = time.monotonic()
    with sampled() as sampler, redirect_stdout(StringIO()):
        status = bench.main([*flags, "--results", str(tmp_path)])
    elapsed_s = time.monotonic() - started
    print(
        f"{key} on {server}: {elapsed_s:.1f} s (budget {budget_s:.1f} s), at most "
        f"{sampler.peak_connections} client connections, {sampler.peak_rss_mb:.0f} MB "
        f"resident, {sampler.samples} samples"
    )
    assert status == 0
    assert elapsed_s <= budget_s
    assert sampler.samples >= 10
    assert 0 < sampler.peak_connections <= experiment.bounds.connections
    assert sampler.peak_rss_mb <= experiment.bounds.memory_mb
    left = {child.pid for child in psutil.Process().children(recursive=True)} - before
    assert left == set(), f"processes left behind: {sorted(left)}"
    for run in (tmp_path / "runs").iterdir():
        assert processes_mentioning(run.name) == []
