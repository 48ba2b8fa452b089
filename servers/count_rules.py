"""The worker and thread counts each server's own documentation recommends, as data.

`WORKERS=auto` and `THREADS=auto` apply these to the CPUs the server gets, the way a person
deploying it would. Where a server's documentation gives no formula, the rule says so and
states the one the harness uses instead (one worker per core: DRF views are CPU-bound here),
so meta.json always says where a count came from. A server's spec names its rules
(`ServerSpec.auto_workers`, `ServerSpec.auto_threads`); nothing branches on a server's name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

# Granian's default backlog: its WSGI blocking threads default to backlog / workers / 2.
GRANIAN_BACKLOG: Final = 1024


@dataclass(frozen=True)
class CountRule:
    """One recommendation: the formula as its source writes it, the source, and the count
    it gives for `cores` CPUs (`workers` matters only to thread rules that depend on it)."""

    formula: str
    source: str
    count: Callable[[int, int], int]

    def apply(self, cores: int, workers: int = 1) -> int:
        return max(1, self.count(cores, workers))

    def describe(self, setting: str, cores: int, value: int) -> str:
        """The sentence meta.json records, e.g. `WORKERS=auto: (2 x cores) + 1 = 3 for 1
        core(s) (Gunicorn docs ...)`."""
        return f"{setting}=auto: {self.formula} = {value} for {cores} core(s) ({self.source})"


def _per_core(cores: int, workers: int) -> int:
    return cores


def _one(cores: int, workers: int) -> int:
    return 1


WORKER_RULES: Final[Mapping[str, CountRule]] = MappingProxyType(
    {
        "gunicorn": CountRule(
            "(2 x cores) + 1",
            "Gunicorn docs, Design, 'How many workers?': start with (2 x $num_cores) + 1",
            lambda cores, workers: 2 * cores + 1,
        ),
        "granian": CountRule(
            "1 x cores",
            "Granian README, 'Processes and threads': matching the CPU cores is generally "
            "the best starting point",
            _per_core,
        ),
        "uwsgi": CountRule(
            "1 x cores",
            "uWSGI docs, 'Things to know': 'There is no magic rule' for processes; the "
            "harness's stated rule, one per core",
            _per_core,
        ),
        "uvicorn": CountRule(
            "1 x cores",
            "Uvicorn's docs give no formula (--workers defaults to $WEB_CONCURRENCY or 1); "
            "the harness's stated rule, one per core",
            _per_core,
        ),
        "hypercorn": CountRule(
            "1 x cores",
            "Hypercorn's docs give no formula (--workers defaults to 1); the harness's "
            "stated rule, one per core",
            _per_core,
        ),
        "single-process": CountRule("1", "one process by design", _one),
    }
)

THREAD_RULES: Final[Mapping[str, CountRule]] = MappingProxyType(
    {
        "gunicorn": CountRule(
            "2 x cores",
            "Gunicorn settings, 'threads': generally in the 2-4 x $(NUM_CORES) range; the low end",
            lambda cores, workers: 2 * cores,
        ),
        "uwsgi": CountRule(
            "1",
            "uWSGI docs, 'Things to know': no magic rule; uWSGI's default, no threads",
            _one,
        ),
        "granian-wsgi": CountRule(
            f"backlog {GRANIAN_BACKLOG} / workers / 2",
            "Granian's own default blocking threads for WSGI, which its README says "
            "should work properly for most applications",
            lambda cores, workers: GRANIAN_BACKLOG // max(1, workers) // 2,
        ),
        "waitress": CountRule("4", "waitress docs, 'threads': default 4", lambda c, w: 4),
        "none": CountRule("1", "the server has no thread-count setting", _one),
    }
)
