"""The open model's schedule and accounting on synthetic clocks: intended times, lateness,
not-sent counts, the keep-up margin, and exact merging across processes."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from loadtests import arrival
from loadtests.arrival import (
    CONTEXT_KEY,
    ArrivalRates,
    ArrivalRecorder,
    ArrivalSchedule,
    ArrivalWindow,
)


@dataclass
class FakeClock:
    now: float = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Simulation:
    """A discrete-event run of the model: `users` users, each request served in exactly
    `service_s` (a server that takes one request at a time per user), the window armed and
    disarmed at given times. Requests are sent when claimed or at their intended time."""

    schedule: ArrivalSchedule
    clock: FakeClock
    users: int
    service_s: float
    recorder: ArrivalRecorder = field(init=False)
    _events: list[tuple[float, int, Callable[[], None]]] = field(default_factory=list)
    _order: itertools.count[int] = field(default_factory=itertools.count)
    closed: list[ArrivalWindow] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.recorder = ArrivalRecorder("local", self.schedule)

    def at(self, when: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._events, (when, next(self._order), action))

    def _claim(self) -> None:
        ticket = self.schedule.claim()
        self.at(max(self.clock.now, ticket.intended_s), lambda: self._send(ticket))

    def _send(self, ticket: arrival.Ticket) -> None:
        lateness_s = self.clock.now - ticket.intended_s
        self.at(self.clock.now + self.service_s, lambda: self._done(lateness_s))

    def _done(self, lateness_s: float) -> None:
        self.recorder.on_request(
            response_time=self.service_s * 1000, context={CONTEXT_KEY: lateness_s}
        )
        self._claim()

    def window(self, index: int, opens: float, closes: float) -> None:
        self.at(opens, lambda: self.recorder.arm(index, opens, self.users))
        self.at(closes, lambda: self.closed.append(self.recorder.disarm(closes)))

    def run_until(self, end: float) -> None:
        for _ in range(self.users):
            self.at(0.0, self._claim)
        while self._events and self._events[0][0] <= end:
            when, _, action = heapq.heappop(self._events)
            self.clock.now = when
            action()


def _simulate(rate: float, users: int, service_s: float) -> ArrivalWindow:
    clock = FakeClock()
    simulation = Simulation(ArrivalSchedule(ArrivalRates((rate,)), clock), clock, users, 0.05)
    simulation.service_s = service_s
    simulation.window(0, 1.01, 3.01)
    simulation.run_until(3.5)
    [window] = simulation.closed
    return window


def test_intended_times_are_evenly_spaced_from_the_first_claim() -> None:
    clock = FakeClock(100.0)
    schedule = ArrivalSchedule(ArrivalRates((10.0,)), clock)
    assert not schedule.started
    tickets = [schedule.claim() for _ in range(4)]
    assert [t.index for t in tickets] == [0, 1, 2, 3]
    assert [t.intended_s for t in tickets] == pytest.approx([100.0, 100.1, 100.2, 100.3])
    assert tickets[3].wait_s(100.05) == pytest.approx(0.25)
    assert tickets[0].wait_s(100.05) == 0.0  # already due: send now, 50 ms late


def test_due_sent_and_backlog_follow_the_clock() -> None:
    clock = FakeClock(0.0)
    schedule = ArrivalSchedule(ArrivalRates((10.0,)), clock)
    schedule.claim()
    assert schedule.count(0.95) == arrival.ScheduleCount(due=10, sent=1)
    assert schedule.count(0.95).backlog == 9
    for _ in range(12):
        schedule.claim()  # claimed ahead: users sleeping until their requests' times
    assert schedule.count(0.95) == arrival.ScheduleCount(due=10, sent=10)


def test_a_share_of_the_schedule_runs_at_that_share_of_the_rate() -> None:
    clock = FakeClock()
    schedule = ArrivalSchedule(ArrivalRates((30.0,)), clock, share=0.5)
    assert schedule.rate_rps == 15.0
    schedule.claim()
    assert schedule.claim().intended_s == pytest.approx(1 / 15)


def test_a_new_step_changes_the_rate_and_keeps_the_backlog_times() -> None:
    clock = FakeClock()
    schedule = ArrivalSchedule(ArrivalRates((10.0, 20.0)), clock)
    schedule.claim()  # index 0 at 0.0
    clock.now = 1.05  # indexes 1..10 are due (0.1 .. 1.0) and unsent: a backlog
    schedule.next_step()
    assert schedule.rate_rps == 20.0
    late = schedule.claim()
    assert (late.index, late.intended_s) == (1, pytest.approx(0.1))
    assert schedule.intended_s(10) == pytest.approx(1.0)
    assert schedule.intended_s(11) == pytest.approx(1.05)  # the new rate starts now
    assert schedule.intended_s(12) == pytest.approx(1.10)
    assert schedule.due(1.2) == 11 + 4  # 0..10 of the first step, 1.05..1.2 of the second


def test_a_server_that_keeps_up_leaves_nothing_late_and_nothing_unsent() -> None:
    window = _simulate(rate=10.0, users=2, service_s=0.05)
    assert window.intended == 20 and window.sent == 20 and window.not_sent == 0
    assert window.late == 0 and window.failures == 0
    assert window.successes == 20 and window.achieved_rps == pytest.approx(10.0)
    assert window.kept_up
    assert window.corrected.get_max_value() == pytest.approx(50_000, rel=0.001)
    assert window.uncorrected.get_max_value() == pytest.approx(50_000, rel=0.001)


def test_a_slow_server_makes_every_later_request_later() -> None:
    """One user, 50 ms per request, 30 offered per second: request i goes out at 0.05 i
    instead of i / 30, so its lateness is i / 60 s; the window [1.01, 3.01) completes
    requests 20..59 (40 of them, 20/s), leaves 30 of its 60 intended unsent, and the run
    did not keep up. The uncorrected latency stays the 50 ms service time."""
    window = _simulate(rate=30.0, users=1, service_s=0.05)
    assert window.intended == 60 and window.sent == 40 and window.not_sent == 30
    assert window.successes == 40 and window.late == 40
    assert window.achieved_rps == pytest.approx(20.0)
    assert window.offered_rps == 30.0 and not window.kept_up
    assert window.corrected.get_min_value() == pytest.approx((20 / 60 + 0.05) * 1e6, rel=0.001)
    assert window.corrected.get_max_value() == pytest.approx((59 / 60 + 0.05) * 1e6, rel=0.001)
    assert window.uncorrected.get_max_value() == pytest.approx(50_000, rel=0.001)
    means = [second.corrected_mean_us or 0 for second in window.timeline]
    assert len(means) == 2 and means[1] > means[0] + 300_000  # 20 more requests late by 1/60


def test_requests_without_the_schedule_context_are_not_counted() -> None:
    clock = FakeClock()
    recorder = ArrivalRecorder("local", ArrivalSchedule(ArrivalRates((5.0,)), clock))
    recorder.on_request(response_time=3.0, context={CONTEXT_KEY: 0.0})  # not armed yet
    recorder.arm(0, 1000.0, 4)
    recorder.on_request(response_time=3.0, context={})  # a login or a refresh
    recorder.on_request(response_time=3.0, context={CONTEXT_KEY: 0.5}, exception=OSError())
    recorder.on_request(response_time=3.0, context={CONTEXT_KEY: 0.001})
    window = recorder.disarm(1001.0)
    assert (window.successes, window.failures, window.late) == (1, 1, 1)
    assert window.corrected.get_max_value() == pytest.approx(4000, rel=0.001)
    assert window.max_in_flight == 4 and window.window_s == 1.0


@pytest.mark.parametrize(
    ("achieved", "kept_up"), [(30.0, True), (28.6, True), (28.4, False), (20.0, False)]
)
def test_the_keep_up_margin(achieved: float, kept_up: bool) -> None:
    assert arrival.keeps_up(achieved, 30.0) is kept_up
    assert arrival.not_kept_up_text(30.0) == "did not keep up at 30 rps"


def test_windows_of_two_processes_merge_exactly_and_survive_the_file(tmp_path: Path) -> None:
    first = _simulate(rate=30.0, users=1, service_s=0.05)
    second = _simulate(rate=10.0, users=2, service_s=0.05)
    merged = arrival.merge_windows([first, second], index=0, started_at=1.0, ended_at=3.0)
    assert merged.offered_rps == 40.0 and merged.max_in_flight == 3
    assert merged.successes == first.successes + second.successes
    assert merged.not_sent == 30 and merged.intended == 80
    assert merged.corrected.get_total_count() == 60
    assert merged.timeline[1].count == first.timeline[1].count + second.timeline[1].count
    path = tmp_path / arrival.FILE_NAME
    arrival.write(path, [merged])
    [back] = arrival.read(path)
    assert back.to_json() == merged.to_json()
    path.write_text('{"format": "other", "schema": 1}')
    with pytest.raises(ValueError, match="drf-bench-arrival"):
        arrival.read(path)
