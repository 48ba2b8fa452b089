"""An open arrival-rate load model with wrk2's semantics: the schedule, the recording, the file.

Why: every closed-loop user waits for its answer before it sends again, so a server that
stalls receives fewer requests and its tail latency is understated (coordinated omission).
Locust has no global open model (`constant_throughput`, `constant_pacing` and `poisson` are
per user and still wait for each answer). Here requests follow one fixed schedule per Locust
process: request i is intended at `origin + i / rate` (evenly spaced, like wrk2's `-R`), and
a bounded pool of users (MAX_IN_FLIGHT, Locust's user count) sends them. A free user claims
the earliest unclaimed request and sends it at its intended time; when every user is busy
the request goes out as soon as one frees, late, and its latency still counts from its
intended time:

    corrected   = (actual send - intended send) + service time   (what a client would see)
    uncorrected = service time                                   (Locust's response_time)

Both go into microsecond HDR histograms of loadtests/latency.py's one configuration, so
they merge exactly across processes (each process runs rate / processes of the schedule).

Accounting of one window (the controller's own edges, like latency.json): `intended` counts
the requests whose intended time fell inside the window, `sent` those sent inside it (late
ones of earlier intended times included), `not_sent` the window's intended requests still
unsent when it closed, and latencies are recorded for requests completed inside it. The
clock is injected (`time.perf_counter` in Locust, a synthetic one in tests), and nothing
here imports Locust or gevent.

The file (arrival.json, next to latency.json), FORMAT "drf-bench-arrival", SCHEMA 1:

    {"format": "drf-bench-arrival", "schema": 1, "unit": "us",
     "keep_up_margin": 0.05, "late_after_us": 5000,
     "windows": [{"index": 0, "offered_rps": 30.0, "max_in_flight": 4,
                  "started_at": ..., "ended_at": ..., "window_s": 5.0,   # epoch s
                  "intended": 150, "sent": 101, "not_sent": 49,
                  "successes": 100, "failures": 0, "not_recorded": 0,
                  "late": 97,                    # sent more than late_after_us late
                  "achieved_rps": 20.0,          # completions / own window, summed
                  "kept_up": false,
                  "corrected": "HISTFAAA...", "uncorrected": "HISTFAAA...",
                  "timeline": [{"second": 0, "count": 20, "corrected_mean_us": ...,
                                "corrected_max_us": ..., "uncorrected_mean_us": ...,
                                "uncorrected_max_us": ...}, ...],
                  "processes": [{"process": "local", "armed_at": ..., "disarmed_at": ...,
                                 "offered_rps": 30.0, "completed": 100}]}]}
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from hdrh.histogram import HdrHistogram

from loadtests import latency

FORMAT: Final = "drf-bench-arrival"
SCHEMA: Final = 1
FILE_NAME: Final = "arrival.json"
CONTEXT_KEY: Final = "arrival_lateness_s"  # how a request event carries its lateness

# The margin by which the achieved rate may fall short of the offered rate and the run
# still "keep up". Why 5 %: a window's edges cut through requests in flight (at most
# MAX_IN_FLIGHT at each edge, a few per cent of a seconds-long window at tens of rps) and
# the schedule itself rounds to whole requests; a server that truly keeps up lands within
# 1-3 % of the offered rate, one that does not falls behind by its whole deficit.
KEEP_UP_MARGIN: Final = 0.05
# A request sent this much after its intended time counts as late: below it is the
# generator's own wake-up jitter (the loop-lag limit of a healthy generator is 5 ms).
LATE_AFTER_US: Final = 5_000
_TICK_EPSILON: Final = 1e-9  # of one request's interval


@dataclass(frozen=True)
class ArrivalRates:
    """Offered requests per second, one per measured window (a step load has several)."""

    rates_rps: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.rates_rps or min(self.rates_rps) <= 0:
            raise ValueError(f"arrival rates must be above zero, got {self.rates_rps!r}")

    @classmethod
    def from_arg(cls, text: str) -> ArrivalRates:
        """The locustfile's form: `10,20,30`."""
        return cls(tuple(float(part) for part in text.split(",") if part.strip()))

    def to_arg(self) -> str:
        return ",".join(f"{rate:g}" for rate in self.rates_rps)


def keeps_up(achieved_rps: float, offered_rps: float, margin: float = KEEP_UP_MARGIN) -> bool:
    """Whether the achieved rate is within `margin` of the offered one."""
    return achieved_rps >= (1 - margin) * offered_rps


def not_kept_up_text(offered_rps: float) -> str:
    return f"did not keep up at {offered_rps:g} rps"


@dataclass(frozen=True)
class Ticket:
    """One scheduled request: its place in the schedule and its intended send time."""

    index: int
    intended_s: float

    def wait_s(self, now: float) -> float:
        """How long to sleep before sending (0 when it is already due or late)."""
        return max(0.0, self.intended_s - now)


@dataclass(frozen=True)
class _Segment:
    """Requests first_index, first_index + 1, ... intended from origin_s at rate_rps."""

    origin_s: float
    first_index: int
    rate_rps: float

    def intended_s(self, index: int) -> float:
        return self.origin_s + (index - self.first_index) / self.rate_rps

    def due(self, now: float, end_index: int | None) -> int:
        """Requests of this segment intended at or before `now`."""
        if now < self.origin_s:
            return 0
        # a request exactly at `now` is due: allow for the float error of origin + i / rate
        count = math.floor((now - self.origin_s) * self.rate_rps + _TICK_EPSILON) + 1
        return count if end_index is None else min(count, end_index - self.first_index)


@dataclass(frozen=True)
class ScheduleCount:
    """The schedule at one moment: requests due by then, and requests sent by then."""

    due: int
    sent: int

    @property
    def backlog(self) -> int:
        """Due but not sent: every user was busy."""
        return self.due - self.sent


class ArrivalSchedule:
    """One process's share of the schedule: `share` x each step's rate, evenly spaced.

    The schedule starts at the first claim (when the first user is ready), runs through the
    warm-up and the windows without a pause, and `next_step` changes the rate from that
    moment on; requests already due under the old rate keep their times (a backlog stays a
    backlog). Users claim in order, so the earliest unclaimed request is always the next one
    sent, and a request can be late only when every user was busy at its intended time."""

    def __init__(self, rates: ArrivalRates, clock: Callable[[], float], share: float = 1.0) -> None:
        self.rates = rates
        self.clock = clock
        self.share = share
        self.step = 0
        self.claimed = 0
        self._segments: list[_Segment] = []

    @property
    def rate_rps(self) -> float:
        """This process's offered rate in the current step."""
        return self.rates.rates_rps[min(self.step, len(self.rates.rates_rps) - 1)] * self.share

    @property
    def started(self) -> bool:
        return bool(self._segments)

    def claim(self) -> Ticket:
        """The next request of the schedule, for a user that is free now."""
        if not self._segments:
            self._segments.append(_Segment(self.clock(), 0, self.rate_rps))
        index = self.claimed
        self.claimed += 1
        return Ticket(index, self.intended_s(index))

    def intended_s(self, index: int) -> float:
        segment = next(s for s in reversed(self._segments) if s.first_index <= index)
        return segment.intended_s(index)

    def next_step(self) -> None:
        """Move to the next step's rate from now on."""
        self.step += 1
        if not self._segments:
            return
        now = self.clock()
        last = self._segments[-1]
        # requests of the old rate intended before now stay; claimed ones keep their times
        before_now = max(0, math.ceil((now - last.origin_s) * last.rate_rps))
        first = max(last.first_index + before_now, self.claimed)
        self._segments.append(_Segment(now, first, self.rate_rps))

    def due(self, now: float) -> int:
        """Requests intended at or before `now`."""
        total = 0
        for position, segment in enumerate(self._segments):
            following = self._segments[position + 1 :]
            end = following[0].first_index if following else None
            total += segment.due(now, end)
        return total

    def count(self, now: float) -> ScheduleCount:
        """Due and sent at `now`. A claimed request is sent at its intended time or, late,
        at its claim, so everything claimed and due has been sent."""
        due = self.due(now)
        return ScheduleCount(due=due, sent=min(self.claimed, due))


@dataclass
class TimelineSecond:
    """The requests completed in one second of a window: enough to see lateness grow."""

    count: int = 0
    corrected_sum_us: int = 0
    corrected_max_us: int = 0
    uncorrected_sum_us: int = 0
    uncorrected_max_us: int = 0

    def record(self, corrected_us: int, uncorrected_us: int) -> None:
        self.count += 1
        self.corrected_sum_us += corrected_us
        self.corrected_max_us = max(self.corrected_max_us, corrected_us)
        self.uncorrected_sum_us += uncorrected_us
        self.uncorrected_max_us = max(self.uncorrected_max_us, uncorrected_us)

    def add(self, other: TimelineSecond) -> None:
        self.count += other.count
        self.corrected_sum_us += other.corrected_sum_us
        self.corrected_max_us = max(self.corrected_max_us, other.corrected_max_us)
        self.uncorrected_sum_us += other.uncorrected_sum_us
        self.uncorrected_max_us = max(self.uncorrected_max_us, other.uncorrected_max_us)

    @property
    def corrected_mean_us(self) -> float | None:
        return self.corrected_sum_us / self.count if self.count else None

    @property
    def uncorrected_mean_us(self) -> float | None:
        return self.uncorrected_sum_us / self.count if self.count else None

    def to_json(self, second: int) -> dict[str, Any]:
        return {
            "second": second,
            "count": self.count,
            "corrected_sum_us": self.corrected_sum_us,
            "corrected_max_us": self.corrected_max_us,
            "uncorrected_sum_us": self.uncorrected_sum_us,
            "uncorrected_max_us": self.uncorrected_max_us,
            "corrected_mean_us": self.corrected_mean_us,
            "uncorrected_mean_us": self.uncorrected_mean_us,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TimelineSecond:
        return cls(
            count=int(data["count"]),
            corrected_sum_us=int(data["corrected_sum_us"]),
            corrected_max_us=int(data["corrected_max_us"]),
            uncorrected_sum_us=int(data["uncorrected_sum_us"]),
            uncorrected_max_us=int(data["uncorrected_max_us"]),
        )


@dataclass(frozen=True)
class ArrivalSpan:
    """What one Locust process offered and completed, from its arming to its disarming."""

    process: str
    armed_at: float
    disarmed_at: float
    offered_rps: float
    completed: int

    @property
    def achieved_rps(self) -> float:
        seconds = self.disarmed_at - self.armed_at
        return self.completed / seconds if seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "process": self.process,
            "armed_at": self.armed_at,
            "disarmed_at": self.disarmed_at,
            "offered_rps": self.offered_rps,
            "completed": self.completed,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ArrivalSpan:
        return cls(
            process=str(data["process"]),
            armed_at=float(data["armed_at"]),
            disarmed_at=float(data["disarmed_at"]),
            offered_rps=float(data["offered_rps"]),
            completed=int(data["completed"]),
        )


@dataclass
class ArrivalWindow:
    """One measured window of the open model: the schedule's accounting and both latencies."""

    index: int
    max_in_flight: int
    started_at: float
    ended_at: float
    intended: int = 0
    sent: int = 0
    not_sent: int = 0
    failures: int = 0
    late: int = 0
    not_recorded: int = 0
    corrected: HdrHistogram = field(default_factory=latency.new_histogram)
    uncorrected: HdrHistogram = field(default_factory=latency.new_histogram)
    timeline: list[TimelineSecond] = field(default_factory=list)
    processes: list[ArrivalSpan] = field(default_factory=list)

    @property
    def window_s(self) -> float:
        return self.ended_at - self.started_at

    @property
    def offered_rps(self) -> float:
        """Summed over the processes' shares: the whole schedule's rate."""
        return sum(span.offered_rps for span in self.processes)

    @property
    def achieved_rps(self) -> float:
        """Completions (successes and failures) per second, each process over its window."""
        return sum(span.achieved_rps for span in self.processes)

    @property
    def successes(self) -> int:
        return int(self.uncorrected.get_total_count()) + self.not_recorded

    @property
    def kept_up(self) -> bool:
        return keeps_up(self.achieved_rps, self.offered_rps)

    def record(self, second: int, corrected_us: int, uncorrected_us: int) -> None:
        """One successful request completed `second` seconds into the window."""
        stored = self.corrected.record_value(corrected_us)
        stored = self.uncorrected.record_value(uncorrected_us) and stored
        if not stored:  # out of range (record_value returns False): counted, not dropped
            self.not_recorded += 1
            return
        while len(self.timeline) <= second:
            self.timeline.append(TimelineSecond())
        self.timeline[second].record(corrected_us, uncorrected_us)

    def add(self, other: ArrivalWindow) -> None:
        """Fold another process's recording of the same window into this one (exact)."""
        if other.index != self.index:
            raise ValueError(f"cannot merge window {other.index} into window {self.index}")
        self.max_in_flight += other.max_in_flight
        self.intended += other.intended
        self.sent += other.sent
        self.not_sent += other.not_sent
        self.failures += other.failures
        self.late += other.late
        self.not_recorded += other.not_recorded
        self.corrected.add(other.corrected)
        self.uncorrected.add(other.uncorrected)
        while len(self.timeline) < len(other.timeline):
            self.timeline.append(TimelineSecond())
        for mine, theirs in zip(self.timeline, other.timeline, strict=False):
            mine.add(theirs)
        self.processes.extend(other.processes)

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "offered_rps": self.offered_rps,
            "max_in_flight": self.max_in_flight,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "window_s": self.window_s,
            "intended": self.intended,
            "sent": self.sent,
            "not_sent": self.not_sent,
            "successes": self.successes,
            "failures": self.failures,
            "not_recorded": self.not_recorded,
            "late": self.late,
            "achieved_rps": self.achieved_rps,
            "kept_up": self.kept_up,
            "corrected": latency.encode(self.corrected),
            "uncorrected": latency.encode(self.uncorrected),
            "timeline": [second.to_json(n) for n, second in enumerate(self.timeline)],
            "processes": [span.to_json() for span in self.processes],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ArrivalWindow:
        return cls(
            index=int(data["index"]),
            max_in_flight=int(data["max_in_flight"]),
            started_at=float(data["started_at"]),
            ended_at=float(data["ended_at"]),
            intended=int(data["intended"]),
            sent=int(data["sent"]),
            not_sent=int(data["not_sent"]),
            failures=int(data["failures"]),
            late=int(data["late"]),
            not_recorded=int(data["not_recorded"]),
            corrected=latency.decode(data["corrected"]),
            uncorrected=latency.decode(data["uncorrected"]),
            timeline=[TimelineSecond.from_json(second) for second in data["timeline"]],
            processes=[ArrivalSpan.from_json(span) for span in data["processes"]],
        )


@dataclass
class _Open:
    window: ArrivalWindow
    armed_clock: float
    at_open: ScheduleCount


class ArrivalRecorder:
    """One process's listener on Locust's request event, armed for each window.

    Only requests that carry CONTEXT_KEY (sent on the schedule) count; the window's
    accounting comes from the schedule at its two edges. It runs in the process's one gevent
    thread, so it needs no lock."""

    def __init__(self, process: str, schedule: ArrivalSchedule) -> None:
        self.process = process
        self.schedule = schedule
        self._open: _Open | None = None

    @property
    def armed(self) -> bool:
        return self._open is not None

    def arm(self, index: int, now: float, max_in_flight: int) -> None:
        """Open window `index` at wall time `now` (the schedule reads its own clock) with
        `max_in_flight` users in this process."""
        clock = self.schedule.clock()
        window = ArrivalWindow(
            index=index, max_in_flight=max_in_flight, started_at=now, ended_at=now
        )
        self._open = _Open(window, clock, self.schedule.count(clock))

    def disarm(self, now: float) -> ArrivalWindow:
        """Close the open window at wall time `now` and return what it recorded."""
        opened = self._open
        if opened is None:
            raise RuntimeError("the arrival recorder is not armed")
        self._open = None
        at_close = self.schedule.count(self.schedule.clock())
        window = opened.window
        window.ended_at = now
        window.intended = at_close.due - opened.at_open.due
        window.sent = at_close.sent - opened.at_open.sent
        # the backlog is the latest-intended requests: those of this window come first
        window.not_sent = min(at_close.backlog, window.intended)
        completed = window.successes + window.failures
        window.processes = [
            ArrivalSpan(self.process, window.started_at, now, self.schedule.rate_rps, completed)
        ]
        return window

    def on_request(
        self,
        response_time: float,
        exception: BaseException | None = None,
        context: dict[str, Any] | None = None,
        **_: Any,
    ) -> None:
        """Locust's request event (response_time in ms). Kept short: once per response."""
        opened = self._open
        if opened is None or not context or CONTEXT_KEY not in context:
            return
        window = opened.window
        lateness_us = round(float(context[CONTEXT_KEY]) * 1_000_000)
        if lateness_us > LATE_AFTER_US:
            window.late += 1
        if exception is not None:
            window.failures += 1
            return
        uncorrected_us = round(response_time * 1000) if math.isfinite(response_time) else -1
        second = max(0, int(self.schedule.clock() - opened.armed_clock))
        window.record(second, max(0, lateness_us) + uncorrected_us, uncorrected_us)


def merge_windows(
    parts: list[ArrivalWindow], *, index: int, started_at: float, ended_at: float
) -> ArrivalWindow:
    """Several processes' recordings of window `index` as one, framed by the controller's
    edges (an empty window, no process, when none reported)."""
    merged = ArrivalWindow(index=index, max_in_flight=0, started_at=started_at, ended_at=ended_at)
    for part in parts:
        merged.add(part)
    return merged


def document(windows: list[ArrivalWindow]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "schema": SCHEMA,
        "unit": latency.UNIT,
        "keep_up_margin": KEEP_UP_MARGIN,
        "late_after_us": LATE_AFTER_US,
        "windows": [window.to_json() for window in windows],
    }


def write(path: Path, windows: list[ArrivalWindow]) -> None:
    """Write the file atomically (a reader never sees half of it)."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(document(windows), indent=1))
    os.replace(temporary, path)


def read(path: Path) -> list[ArrivalWindow]:
    """The windows of an arrival file; refuses another format."""
    data = json.loads(path.read_text())
    if data.get("format") != FORMAT or data.get("schema") != SCHEMA:
        raise ValueError(f"{path} is not a {FORMAT} file of schema {SCHEMA}")
    return [ArrivalWindow.from_json(window) for window in data["windows"]]
