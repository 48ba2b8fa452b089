"""Microsecond latency of every response in a measured window: record, merge, save, read.

Why not Locust's own statistics: Locust rounds response times into buckets (1 ms below
100 ms, 10 ms up to 1 s, 100 ms up to 10 s) and takes percentiles of those buckets, and its
requests/s divides by the time of the last request instead of the window. Here every
response completed inside a window (between the window controller's own start and end
timestamps) is recorded, in every Locust process, in an HDR histogram of integer
microseconds with 3 significant figures (0.1 % resolution): exact counts, and percentiles
within 0.1 % of the true value. Histograms of several processes merge exactly (`add`).

Goodput: only successful responses enter the latency histograms. Failures are counted by
kind (`failure_kind`: "HTTP 500", "HTTP 200 rejected", "ConnectionRefusedError", ...), so a
server that answers fast errors neither looks faster nor hides them.

Range: FastHttpUser gives up on a connection after `connection_timeout` (60 s) and on a
socket read after `network_timeout` (60 s); geventhttpclient may silently retry an
idempotent request once on a reused socket. HIGHEST_TRACKABLE_US (one hour) covers any
response those timeouts allow many times over (tests/loadtests check it against the
locustfile's user class). A value the histogram still cannot hold (`record_value` returns
False instead of raising) is counted in `not_recorded`, never dropped silently.

The one percentile rule, used by every table and chart: percentile q (0 < q < 1) is shown
only when its histogram holds at least 10 / (1 - q) samples, i.e. at least ten samples lie
above it (p50: 20, p90: 100, p99: 1,000, p99.9: 10,000). Otherwise it is
`Percentile.value_us is None` and renders as "n/a (2,300 samples)".

The file (latency.json, next to window.json), FORMAT "drf-bench-latency", SCHEMA 1:

    {"format": "drf-bench-latency", "schema": 1, "unit": "us",
     "lowest_trackable_us": 1, "highest_trackable_us": 3600000000, "significant_figures": 3,
     "percentile_rule": "...",
     "windows": [                        # one per measured window (a step load has several)
       {"index": 0, "users": 16,
        "started_at": 1700000000.1, "ended_at": 1700000010.1,   # the controller's, epoch s
        "window_s": 10.0,
        "processes_expected": 2,         # Locust processes that ran users in the window
        "processes_reported": 2,         # how many of them sent their histograms in time
        "successes": 4000,               # successful responses completed in the window
        "recorded": 4000,                # of which in the histogram (= its total count)
        "not_recorded": 0,               # successes whose time the histogram could not hold
        "failures": 3, "failures_by_kind": {"HTTP 500": 3},
        "goodput_rps": 400.0,            # sum over processes of successes / own window
        "throughput_rps": 400.3,         # the same with failures included
        "histogram": "HISTFAAA...",      # all endpoints' successes (HdrHistogram V2, base64)
        "endpoints": {"GET /api/me/": {"recorded": 1200, "not_recorded": 0,
                                       "failures_by_kind": {}, "histogram": "HISTFAAA..."}},
        "processes": [{"process": "worker 0", "armed_at": ..., "disarmed_at": ...,
                       "recorded": 2000, "not_recorded": 0, "failures": 1}]}]}

Each process counts from its own arming to its own disarming (a worker hears of the window
a message later than the master), so rps is the sum of each process's rate over its own
window; with one process that is exactly completed / (end - start).
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

from hdrh.histogram import HdrHistogram

UNIT: Final = "us"
LOWEST_TRACKABLE_US: Final = 1
HIGHEST_TRACKABLE_US: Final = 3_600_000_000  # one hour: far beyond any client timeout
SIGNIFICANT_FIGURES: Final = 3
FORMAT: Final = "drf-bench-latency"
SCHEMA: Final = 1
FILE_NAME: Final = "latency.json"

TAIL_SAMPLES: Final = 10  # samples that must lie above a percentile for it to be shown
PERCENTILE_RULE: Final = (
    f"percentile q is shown only when the histogram holds at least {TAIL_SAMPLES} / (1 - q) "
    "samples (p50: 20, p90: 100, p99: 1,000, p99.9: 10,000)"
)
STANDARD_PERCENTILES: Final = (0.5, 0.9, 0.99, 0.999)


def new_histogram() -> HdrHistogram:
    """An empty histogram of the one configuration every file and merge uses."""
    return HdrHistogram(LOWEST_TRACKABLE_US, HIGHEST_TRACKABLE_US, SIGNIFICANT_FIGURES)


def encode(histogram: HdrHistogram) -> str:
    return str(histogram.encode().decode("ascii"))


def decode(encoded: str) -> HdrHistogram:
    """A histogram from its V2 encoding; refuses one of another configuration, which could
    not merge exactly with ours."""
    histogram = HdrHistogram.decode(encoded)
    found = (
        histogram.lowest_trackable_value,
        histogram.highest_trackable_value,
        histogram.significant_figures,
    )
    if found != (LOWEST_TRACKABLE_US, HIGHEST_TRACKABLE_US, SIGNIFICANT_FIGURES):
        raise ValueError(f"histogram configuration {found} is not this project's")
    return histogram


def min_samples(q: float) -> int:
    """The fewest samples for which percentile q is shown (the rule above), computed in
    exact fractions so that p99.9 needs 10,000 and not 10,001."""
    if not 0 < q < 1:
        raise ValueError(f"a percentile is a fraction in (0, 1), not {q}")
    return math.ceil(TAIL_SAMPLES / (1 - Fraction(str(q))))


def percentile_label(q: float) -> str:
    """0.999 -> "p99.9"."""
    return "p" + f"{q * 100:.4f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Percentile:
    """One percentile, or the reason it is not shown: too few samples for that tail."""

    q: float
    samples: int
    value_us: int | None

    @property
    def shown(self) -> bool:
        return self.value_us is not None

    @property
    def value_ms(self) -> float | None:
        return None if self.value_us is None else self.value_us / 1000

    def __str__(self) -> str:
        if self.value_us is None:
            return f"n/a ({self.samples:,} samples)"
        return f"{self.value_us / 1000:,.3f} ms"


def percentile(histogram: HdrHistogram, q: float) -> Percentile:
    """Percentile q of `histogram` under the one rule. The value is HDR's upper bound of
    the bucket holding the q-th sample: within 0.1 % above the true order statistic."""
    samples = int(histogram.get_total_count())
    if samples < min_samples(q):
        return Percentile(q, samples, None)
    return Percentile(q, samples, int(histogram.get_value_at_percentile(q * 100)))


def failure_kind(exception: BaseException, response: Any) -> str:
    """A short label for a failed request. An HTTP error status names itself; a success
    status the scenario's check rejected (wrong body, or not the expected status) is
    "HTTP 200 rejected"; no answer at all (status 0) is named by the client's exception
    (geventhttpclient keeps it on the response; a Locust-side error has no response)."""
    status = int(getattr(response, "status_code", 0) or 0)
    if status >= 400:
        return f"HTTP {status}"
    if status:
        return f"HTTP {status} rejected"
    error = getattr(response, "error", None)
    return type(error if isinstance(error, BaseException) else exception).__name__


@dataclass
class EndpointLatency:
    """One endpoint's successes (histogram) and failures in one window."""

    histogram: HdrHistogram = field(default_factory=new_histogram)
    not_recorded: int = 0
    failures_by_kind: Counter[str] = field(default_factory=Counter)

    @property
    def recorded(self) -> int:
        return int(self.histogram.get_total_count())

    @property
    def successes(self) -> int:
        return self.recorded + self.not_recorded

    @property
    def failures(self) -> int:
        return sum(self.failures_by_kind.values())

    def add(self, other: EndpointLatency) -> None:
        self.histogram.add(other.histogram)
        self.not_recorded += other.not_recorded
        self.failures_by_kind.update(other.failures_by_kind)

    def to_json(self) -> dict[str, Any]:
        return {
            "recorded": self.recorded,
            "not_recorded": self.not_recorded,
            "failures_by_kind": dict(sorted(self.failures_by_kind.items())),
            "histogram": encode(self.histogram),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EndpointLatency:
        endpoint = cls(
            histogram=decode(data["histogram"]),
            not_recorded=int(data["not_recorded"]),
            failures_by_kind=Counter({str(k): int(v) for k, v in data["failures_by_kind"].items()}),
        )
        if endpoint.recorded != int(data["recorded"]):
            raise ValueError("an endpoint's recorded count differs from its histogram's")
        return endpoint


@dataclass(frozen=True)
class ProcessSpan:
    """What one Locust process counted, from its own arming to its own disarming."""

    process: str
    armed_at: float
    disarmed_at: float
    recorded: int
    not_recorded: int
    failures: int

    @property
    def window_s(self) -> float:
        return self.disarmed_at - self.armed_at

    @property
    def successes(self) -> int:
        return self.recorded + self.not_recorded

    def to_json(self) -> dict[str, Any]:
        return {
            "process": self.process,
            "armed_at": self.armed_at,
            "disarmed_at": self.disarmed_at,
            "recorded": self.recorded,
            "not_recorded": self.not_recorded,
            "failures": self.failures,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProcessSpan:
        return cls(
            process=str(data["process"]),
            armed_at=float(data["armed_at"]),
            disarmed_at=float(data["disarmed_at"]),
            recorded=int(data["recorded"]),
            not_recorded=int(data["not_recorded"]),
            failures=int(data["failures"]),
        )


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


@dataclass
class WindowLatency:
    """One measured window: per-endpoint histograms and failures, and who counted them."""

    index: int
    users: int
    started_at: float
    ended_at: float
    endpoints: dict[str, EndpointLatency] = field(default_factory=dict)
    processes: list[ProcessSpan] = field(default_factory=list)
    processes_expected: int = 1

    @property
    def window_s(self) -> float:
        return self.ended_at - self.started_at

    @property
    def processes_reported(self) -> int:
        return len(self.processes)

    @property
    def recorded(self) -> int:
        return sum(endpoint.recorded for endpoint in self.endpoints.values())

    @property
    def not_recorded(self) -> int:
        return sum(endpoint.not_recorded for endpoint in self.endpoints.values())

    @property
    def successes(self) -> int:
        return self.recorded + self.not_recorded

    @property
    def failures(self) -> int:
        return sum(endpoint.failures for endpoint in self.endpoints.values())

    @property
    def failures_by_kind(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for endpoint in self.endpoints.values():
            total.update(endpoint.failures_by_kind)
        return total

    @property
    def goodput_rps(self) -> float:
        """Successful responses per second over exactly the window."""
        return sum(_rate(span.successes, span.window_s) for span in self.processes)

    @property
    def throughput_rps(self) -> float:
        return sum(_rate(span.successes + span.failures, span.window_s) for span in self.processes)

    def aggregate(self) -> HdrHistogram:
        """All endpoints' successes in one histogram (exact: histograms add bucket by
        bucket, so this costs nothing per response)."""
        total = new_histogram()
        for endpoint in self.endpoints.values():
            total.add(endpoint.histogram)
        return total

    def percentile(self, q: float, endpoint: str | None = None) -> Percentile:
        histogram = self.aggregate() if endpoint is None else self.endpoints[endpoint].histogram
        return percentile(histogram, q)

    def add(self, other: WindowLatency) -> None:
        """Fold another process's recording of the same window into this one."""
        if other.index != self.index:
            raise ValueError(f"cannot merge window {other.index} into window {self.index}")
        for name, endpoint in other.endpoints.items():
            self.endpoints.setdefault(name, EndpointLatency()).add(endpoint)
        self.processes.extend(other.processes)

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "users": self.users,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "window_s": self.window_s,
            "processes_expected": self.processes_expected,
            "processes_reported": self.processes_reported,
            "successes": self.successes,
            "recorded": self.recorded,
            "not_recorded": self.not_recorded,
            "failures": self.failures,
            "failures_by_kind": dict(sorted(self.failures_by_kind.items())),
            "goodput_rps": self.goodput_rps,
            "throughput_rps": self.throughput_rps,
            "histogram": encode(self.aggregate()),
            "endpoints": {
                name: endpoint.to_json() for name, endpoint in sorted(self.endpoints.items())
            },
            "processes": [span.to_json() for span in self.processes],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WindowLatency:
        return cls(
            index=int(data["index"]),
            users=int(data["users"]),
            started_at=float(data["started_at"]),
            ended_at=float(data["ended_at"]),
            endpoints={
                str(name): EndpointLatency.from_json(endpoint)
                for name, endpoint in data["endpoints"].items()
            },
            processes=[ProcessSpan.from_json(span) for span in data["processes"]],
            processes_expected=int(data["processes_expected"]),
        )


def merge_windows(
    parts: list[WindowLatency],
    *,
    index: int,
    users: int,
    started_at: float,
    ended_at: float,
    processes_expected: int,
) -> WindowLatency:
    """Several processes' recordings of window `index` as one, framed by the controller's
    own start and end. With no part at all, an empty window that says nobody reported."""
    merged = WindowLatency(
        index=index,
        users=users,
        started_at=started_at,
        ended_at=ended_at,
        processes_expected=processes_expected,
    )
    for part in parts:
        merged.add(part)
    return merged


def document(windows: list[WindowLatency]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "schema": SCHEMA,
        "unit": UNIT,
        "lowest_trackable_us": LOWEST_TRACKABLE_US,
        "highest_trackable_us": HIGHEST_TRACKABLE_US,
        "significant_figures": SIGNIFICANT_FIGURES,
        "percentile_rule": PERCENTILE_RULE,
        "windows": [window.to_json() for window in windows],
    }


def write(path: Path, windows: list[WindowLatency]) -> None:
    """Write the file atomically (a reader never sees half of it)."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(document(windows), indent=1))
    os.replace(temporary, path)


def read(path: Path) -> list[WindowLatency]:
    """The windows of a latency file, histograms decoded; refuses another format."""
    data = json.loads(path.read_text())
    if data.get("format") != FORMAT or data.get("schema") != SCHEMA:
        raise ValueError(f"{path} is not a {FORMAT} file of schema {SCHEMA}")
    if data.get("unit") != UNIT:
        raise ValueError(f"{path} records {data.get('unit')!r}, expected {UNIT!r}")
    return [WindowLatency.from_json(window) for window in data["windows"]]


@dataclass
class _OpenWindow:
    index: int
    users: int
    armed_at: float
    endpoints: dict[str, EndpointLatency] = field(default_factory=dict)
    successes: int = 0
    failures: int = 0


@dataclass
class WindowCounts:
    """What the open window has counted so far (for the progress line)."""

    successes: int
    failures: int
    elapsed_s: float

    @property
    def requests(self) -> int:
        return self.successes + self.failures


class LatencyRecorder:
    """One Locust process's listener on `events.request`. It records nothing until armed
    and stops at disarming, so only completions between the window's two timestamps
    count. All of it runs in the process's one gevent thread: no locking."""

    def __init__(self, process: str) -> None:
        self.process = process
        self._open: _OpenWindow | None = None

    @property
    def armed(self) -> bool:
        return self._open is not None

    def arm(self, index: int, users: int, now: float) -> None:
        self._open = _OpenWindow(index=index, users=users, armed_at=now)

    def disarm(self, now: float) -> WindowLatency:
        """Close the open window and return what it recorded."""
        window = self._open
        if window is None:
            raise RuntimeError("the recorder is not armed")
        self._open = None
        recorded = sum(endpoint.recorded for endpoint in window.endpoints.values())
        span = ProcessSpan(
            process=self.process,
            armed_at=window.armed_at,
            disarmed_at=now,
            recorded=recorded,
            not_recorded=window.successes - recorded,
            failures=window.failures,
        )
        return WindowLatency(
            index=window.index,
            users=window.users,
            started_at=window.armed_at,
            ended_at=now,
            endpoints=window.endpoints,
            processes=[span],
        )

    def counts(self, now: float) -> WindowCounts | None:
        window = self._open
        if window is None:
            return None
        return WindowCounts(window.successes, window.failures, now - window.armed_at)

    def on_request(
        self,
        name: str,
        response_time: float,
        exception: BaseException | None = None,
        response: Any = None,
        **_: Any,
    ) -> None:
        """Locust's request event (response_time in ms, float). Kept short: it runs once
        per response, in the load generator's only thread."""
        window = self._open
        if window is None:
            return
        endpoint = window.endpoints.get(name)
        if endpoint is None:
            endpoint = window.endpoints[name] = EndpointLatency()
        if exception is not None:
            window.failures += 1
            endpoint.failures_by_kind[failure_kind(exception, response)] += 1
            return
        window.successes += 1
        value_us = round(response_time * 1000) if math.isfinite(response_time) else -1
        if not endpoint.histogram.record_value(value_us):
            endpoint.not_recorded += 1
