"""The window controller with fake Locust hooks and a fake clock: the order of what it does
to Locust, the warm-up it waits, how it aborts, and what it writes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import gevent
import pytest

from loadtests import window as window_module
from loadtests.window import StepHooks, WindowController


@dataclass
class FakeClock:
    """time.time() and gevent.sleep() of the controller: sleeping advances the clock at
    once (and still yields, so other greenlets run)."""

    now: float = 1000.0
    slept: list[float] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float = 0) -> None:
        self.slept.append(seconds)
        self.now += seconds
        _real_sleep(0)


_real_sleep = gevent.sleep


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    fake = FakeClock()
    monkeypatch.setattr(window_module.time, "time", fake.time)
    monkeypatch.setattr(window_module.gevent, "sleep", fake.sleep)
    yield fake


@dataclass
class FakeLocust:
    """Records every hook call, with the fake time it happened at."""

    clock: FakeClock
    controller: WindowController | None = None
    calls: list[tuple[str, object]] = field(default_factory=list)
    new_users_log_in: bool = True

    def note(self, what: str, detail: object = None) -> None:
        self.calls.append((what, detail))

    def start_users(self, users: int) -> None:
        self.note("start_users", users)
        assert self.controller is not None
        ready = self.controller.record.users_ready
        for _ in range(users - ready):
            self.controller.user_ready(self.new_users_log_in)

    def snapshot(self, index: int, users: int) -> str:
        self.note("snapshot", (index, users))
        return f"stats_{index}_{users}.csv"

    # the WindowObserver side
    def window_opened(self, index: int, users: int, started_at: float) -> None:
        self.note("window_opened", (index, users, started_at))

    def window_closed(self, index: int, ended_at: float) -> None:
        self.note("window_closed", (index, ended_at))

    def load_stopped(self) -> None:
        self.note("load_stopped")

    def hooks(self, *, steps: bool = False) -> StepHooks:
        return StepHooks(
            reset_stats=lambda: self.note("reset_stats", self.clock.now),
            stop_users=lambda: self.note("stop_users"),
            quit_runner=lambda: self.note("quit"),
            final_write=lambda: self.note("final_write"),
            start_users=self.start_users if steps else None,
            snapshot=self.snapshot if steps else None,
            observer=self,
        )

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


def _controller(clock: FakeClock, tmp_path: Path, **overrides: object) -> WindowController:
    fields: dict[str, object] = {
        "users_target": 2,
        "warmup_s": 5.0,
        "window_s": 10.0,
        "ready_timeout_s": 30.0,
        "output": tmp_path / "window.json",
    }
    fields.update(overrides)
    controller = WindowController(**fields)
    # its default factory is the real time.time, bound before the patch: start it at "now"
    controller.created_at = clock.now
    return controller


def test_one_window_waits_the_warmup_then_measures_and_writes(
    clock: FakeClock, tmp_path: Path
) -> None:
    controller = _controller(clock, tmp_path)
    locust = FakeLocust(clock, controller)
    controller.load_started()
    clock.now += 2.0  # the users take 2 s to start; the warm-up counts from then
    controller.spawning_complete()
    controller.user_ready(True)
    controller.user_ready(True)
    controller.run(locust.hooks())
    assert locust.names() == [
        "reset_stats",
        "window_opened",
        "window_closed",
        "stop_users",
        "load_stopped",
        "final_write",
        "quit",
    ]
    assert clock.slept == [5.0, 10.0]  # the whole warm-up and the window, no more
    record = controller.record
    assert record.completed and record.reason == ""
    assert record.ready_at == record.spawned_at == 1002.0
    assert record.window_started_at == 1007.0 and record.window_ended_at == 1017.0
    assert record.window_s == 10.0 and record.users_ready == 2 and record.logins_failed == 0
    opened, closed = locust.calls[1][1], locust.calls[2][1]
    assert opened == (0, 2, record.window_started_at)  # the observer gets the same stamps
    assert closed == (0, record.window_ended_at)
    assert json.loads((tmp_path / "window.json").read_text()) == asdict(record)


def test_the_warmup_counts_from_every_user_running_not_from_the_start(
    clock: FakeClock, tmp_path: Path
) -> None:
    controller = _controller(clock, tmp_path, warmup_s=5.0)
    clock.now += 30.0  # slow logins: they are not scenario traffic, so they do not count
    controller.spawning_complete()
    controller.user_ready(True)
    controller.user_ready(True)
    controller.run(FakeLocust(clock, controller).hooks())
    assert clock.slept[0] == 5.0


def test_steps_measure_one_window_each_in_order(clock: FakeClock, tmp_path: Path) -> None:
    controller = _controller(clock, tmp_path, steps=(2, 4, 6), warmup_s=0.0, window_s=4.0)
    locust = FakeLocust(clock, controller)
    controller.spawning_complete()
    controller.user_ready(True)
    controller.user_ready(True)
    controller.run(locust.hooks(steps=True))
    per_step = ["reset_stats", "window_opened", "window_closed", "snapshot"]
    assert locust.names() == [
        *per_step,
        "start_users",
        *per_step,
        "start_users",
        *per_step,
        "stop_users",
        "load_stopped",
        "final_write",
        "quit",
    ]
    assert [detail for name, detail in locust.calls if name == "start_users"] == [4, 6]
    steps = controller.record.steps
    assert [(s["index"], s["users"]) for s in steps] == [(0, 2), (1, 4), (2, 6)]
    assert [s["stats_file"] for s in steps] == ["stats_0_2.csv", "stats_1_4.csv", "stats_2_6.csv"]
    assert all(s["window_s"] == 4.0 for s in steps)
    assert controller.record.window_s == 12.0
    # each step settles SETTLE_S after its users are in, then measures
    assert steps[1]["window_started_at"] == steps[0]["window_ended_at"] + WindowController.SETTLE_S
    opened = [detail for name, detail in locust.calls if name == "window_opened"]
    assert opened == [(s["index"], s["users"], s["window_started_at"]) for s in steps]


def test_a_failed_login_aborts_before_any_window(clock: FakeClock, tmp_path: Path) -> None:
    controller = _controller(clock, tmp_path)
    locust = FakeLocust(clock, controller)
    controller.spawning_complete()
    controller.user_ready(True)
    controller.user_ready(False)
    controller.run(locust.hooks())
    assert locust.names() == ["load_stopped", "quit"]
    record = json.loads((tmp_path / "window.json").read_text())
    assert record["reason"] == (
        "1 of 2 users could not log in (see locust_failures.csv and locust.log)"
    )
    assert not record["completed"] and record["window_started_at"] is None


def test_an_overload_run_counts_failed_setups_and_measures_anyway(
    clock: FakeClock, tmp_path: Path
) -> None:
    controller = _controller(clock, tmp_path, setup_failures_expected=True)
    locust = FakeLocust(clock, controller)
    controller.spawning_complete()
    controller.user_ready(True)
    controller.user_ready(False)
    controller.run(locust.hooks())
    assert "window_opened" in locust.names() and locust.names()[-1] == "quit"
    record = json.loads((tmp_path / "window.json").read_text())
    assert record["completed"] and record["logins_failed"] == 1 and record["users_ready"] == 2


def test_a_failed_login_in_a_later_step_aborts_after_the_first_window(
    clock: FakeClock, tmp_path: Path
) -> None:
    controller = _controller(clock, tmp_path, steps=(2, 4), warmup_s=0.0, window_s=4.0)
    locust = FakeLocust(clock, controller, new_users_log_in=False)
    controller.spawning_complete()
    controller.user_ready(True)
    controller.user_ready(True)
    controller.run(locust.hooks(steps=True))
    assert locust.names()[-3:] == ["start_users", "load_stopped", "quit"]
    assert "stop_users" not in locust.names()
    assert controller.record.reason.startswith("2 of 4 users could not log in")
    assert len(controller.record.steps) == 1


def test_users_that_never_log_in_time_out(tmp_path: Path) -> None:
    """With the real clock and a short timeout: waiting for logins is bounded."""
    controller = WindowController(
        users_target=3,
        warmup_s=0.0,
        window_s=1.0,
        ready_timeout_s=0.3,
        output=tmp_path / "window.json",
    )
    locust = FakeLocust(FakeClock(), controller)
    controller.spawning_complete()
    controller.user_ready(True)
    gevent.spawn(controller.run, locust.hooks()).join(timeout=5)
    assert locust.names() == ["load_stopped", "quit"]
    assert controller.record.reason == "only 1 of 3 users logged in within 0 s"


def test_locust_that_never_spawns_times_out(tmp_path: Path) -> None:
    controller = WindowController(
        users_target=1,
        warmup_s=0.0,
        window_s=1.0,
        ready_timeout_s=0.2,
        output=tmp_path / "window.json",
    )
    locust = FakeLocust(FakeClock(), controller)
    gevent.spawn(controller.run, locust.hooks()).join(timeout=5)
    assert locust.names() == ["load_stopped", "quit"]
    assert controller.record.reason.startswith("Locust did not start its users")
