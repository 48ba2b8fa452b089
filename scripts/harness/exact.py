"""Exact window figures: what the harness's own recording and the server's own counters say.

The figures of a window come from loadtests/latency.py's microsecond histograms (successes
only; failures by kind), counted between the window controller's own timestamps, never from
Locust's rounded buckets or its requests / (last request - reset). The server's count of
what it answered in the same window (loadtests/server_counts.py) is the ground truth the
harness's count is checked against: a difference above COUNT_TOLERANCE earns a warning that
names both figures.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from hdrh.histogram import HdrHistogram

from loadtests import latency
from loadtests.server_counts import FILE_NAME as SERVER_COUNTS_FILE
from scripts.records.schema import LATENCY_HDR, WindowFigures

# Harness and server count the same completions, give or take the few in flight at the
# window's edges (a fraction of a millisecond on loopback): 0.5 % is far above that.
COUNT_TOLERANCE: Final = 0.005
PERCENTILES: Final[Mapping[str, float]] = {
    "p50_ms": 0.50,
    "p90_ms": 0.90,
    "p95_ms": 0.95,
    "p99_ms": 0.99,
    "p999_ms": 0.999,
}


def _figures(
    histogram: HdrHistogram,
    failures_by_kind: Mapping[str, int],
    not_recorded: int,
    window_s: float,
    rates: tuple[float, float] | None = None,
) -> WindowFigures:
    """Figures of one histogram of successes and its failures. `rates` are (throughput,
    goodput) per second when they are summed over several processes' own windows."""
    samples = int(histogram.get_total_count())
    successes = samples + not_recorded
    failures = sum(failures_by_kind.values())
    requests = successes + failures
    if rates is None:
        rates = (
            requests / window_s if window_s > 0 else 0.0,
            successes / window_s if window_s > 0 else 0.0,
        )
    shown = {name: latency.percentile(histogram, q).value_ms for name, q in PERCENTILES.items()}
    return WindowFigures(
        requests=requests,
        failures=failures,
        error_rate=failures / requests if requests else 0.0,
        rps=rates[0],
        goodput_rps=rates[1],
        samples=samples,
        latency_source=LATENCY_HDR,
        failures_by_kind=dict(sorted(failures_by_kind.items())),
        not_recorded=not_recorded,
        avg_ms=histogram.get_mean_value() / 1000 if samples else None,
        min_ms=histogram.get_min_value() / 1000 if samples else None,
        p50_ms=shown["p50_ms"],
        p90_ms=shown["p90_ms"],
        p95_ms=shown["p95_ms"],
        p99_ms=shown["p99_ms"],
        p999_ms=shown["p999_ms"],
        max_ms=histogram.get_max_value() / 1000 if samples else None,
    )


def window_figures(
    window: latency.WindowLatency,
) -> tuple[WindowFigures, dict[str, WindowFigures]]:
    """The aggregate and per-endpoint figures of one recorded window."""
    aggregate = _figures(
        window.aggregate(),
        window.failures_by_kind,
        window.not_recorded,
        window.window_s,
        rates=(window.throughput_rps, window.goodput_rps),
    )
    endpoints = {
        name: _figures(
            endpoint.histogram, endpoint.failures_by_kind, endpoint.not_recorded, window.window_s
        )
        for name, endpoint in sorted(window.endpoints.items())
        if endpoint.successes or endpoint.failures
    }
    return aggregate, endpoints


def read_latency(run_dir: Path) -> list[latency.WindowLatency]:
    """The run's recorded windows (empty when Locust wrote none)."""
    path = run_dir / latency.FILE_NAME
    return latency.read(path) if path.exists() else []


@dataclass(frozen=True)
class ServerCount:
    """What the server answered in one window, by its own counters."""

    served_total: int
    new_pids: tuple[int, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ServerCount:
        return cls(int(data["served_total"]), tuple(int(p) for p in data.get("new_pids", ())))


def read_server_counts(run_dir: Path) -> list[ServerCount]:
    """The server's count per window (empty when the run had no counters)."""
    path = run_dir / SERVER_COUNTS_FILE
    if not path.exists():
        return []
    return [ServerCount.from_json(window) for window in json.loads(path.read_text())["windows"]]


def count_warning(harness_requests: int, server_requests: int) -> str | None:
    """A warning when the two counts of one window differ by more than COUNT_TOLERANCE."""
    larger = max(harness_requests, server_requests)
    if larger == 0 or abs(harness_requests - server_requests) / larger <= COUNT_TOLERANCE:
        return None
    return (
        f"the harness counted {harness_requests:,} requests in the window but the server "
        f"says it answered {server_requests:,} (more than {COUNT_TOLERANCE:.1%} apart): "
        "requests were lost, or answered by something else"
    )
