"""The master's roster of Locust workers: identities, the commit check, each worker's
tokens, a lost worker, per-worker figures; and a worker's own side.

The runner is a stand-in with Locust's register_message/send_message shape (importing
Locust monkey-patches the test interpreter); the real runners are covered by the
distributed bench test (tests/scripts/test_bench_distributed.py)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gevent
import pytest

from loadtests import workers
from loadtests.window import WindowRecord
from loadtests.workers import (
    MasterRoster,
    RosterHooks,
    WorkerIdentity,
    WorkerSide,
    checkout_commit,
    commit_refusal,
    read_pairs,
    share_of_pairs,
)

COMMIT = "a" * 40


class Hook:
    def __init__(self) -> None:
        self.listeners: list[Any] = []

    def add_listener(self, listener: Any) -> None:
        self.listeners.append(listener)


class StandInRunner:
    """What the roster and a worker side use of a Locust runner."""

    def __init__(self, worker_index: int = 0) -> None:
        self.handlers: dict[str, Any] = {}
        self.sent: list[tuple[str, Any, str | None]] = []
        self.clients: dict[str, SimpleNamespace] = {}
        self.worker_index = worker_index
        self.environment = SimpleNamespace(events=SimpleNamespace(worker_connect=Hook()))

    def register_message(self, kind: str, handler: Any) -> None:
        self.handlers[kind] = handler

    def send_message(self, kind: str, data: Any = None, client_id: str | None = None) -> None:
        self.sent.append((kind, data, client_id))

    def deliver(self, kind: str, client_id: str, data: Any) -> None:
        self.handlers[kind](SimpleNamespace(node_id=client_id, data=data))

    def join(self, client_id: str, index: int, commit: str = COMMIT) -> None:
        self.clients[client_id] = SimpleNamespace(state="running")
        identity = WorkerIdentity(index=index, host=f"host-{index}", pid=100 + index, commit=commit)
        self.deliver(workers.HELLO, client_id, identity.__dict__)


class Calls:
    def __init__(self) -> None:
        self.refused: list[str] = []
        self.lost: list[str] = []
        self.writes = 0

    def hooks(self) -> RosterHooks:
        def write() -> None:
            self.writes += 1

        return RosterHooks(on_refused=self.refused.append, on_lost=self.lost.append, write=write)


PAIRS = {f"bench{number:04d}": (f"access-{number}", f"refresh-{number}") for number in range(1, 7)}


def _roster(runner: StandInRunner, calls: Calls, expected: int = 2) -> MasterRoster:
    return MasterRoster(
        runner,  # type: ignore[arg-type]
        WindowRecord(users_target=4),
        calls.hooks(),
        commit=COMMIT,
        expected=expected,
        pairs=PAIRS,
        prefix="bench",
        accounts=6,
    )


def test_a_worker_of_the_same_commit_is_recorded_and_gets_its_own_tokens() -> None:
    runner, calls = StandInRunner(), Calls()
    roster = _roster(runner, calls)
    runner.join("b", 1)
    runner.join("a", 0)
    assert calls.refused == []
    assert [entry["index"] for entry in roster.record.workers] == [0, 1]
    assert roster.record.workers[1]["host"] == "host-1"
    assert roster.record.workers_expected == 2 and roster.record.master_commit == COMMIT
    assert roster.record.workers_connected == 2
    tokens = {client: data["pairs"] for kind, data, client in runner.sent if kind == workers.TOKENS}
    assert sorted(tokens["a"]) == ["bench0001", "bench0003", "bench0005"]
    assert sorted(tokens["b"]) == ["bench0002", "bench0004", "bench0006"]
    assert tokens["b"]["bench0002"] == ["access-2", "refresh-2"]


def test_workers_that_connected_before_the_roster_existed_are_counted() -> None:
    runner, calls = StandInRunner(), Calls()
    runner.clients["early"] = SimpleNamespace(state="ready")
    roster = _roster(runner, calls)
    assert roster.record.workers_connected == 1
    roster.connected("early")
    roster.connected("late")
    assert roster.record.workers_connected == 2


def test_workers_connected_before_the_roster_are_asked_to_say_hello_again() -> None:
    """Locust drops a hello that arrives before the master registers its handler: the
    roster asks the workers already there, and a second hello changes nothing."""
    runner, calls = StandInRunner(), Calls()
    runner.clients["early"] = SimpleNamespace(state="ready")
    _roster(runner, calls)
    assert (workers.WHO, None, "early") in runner.sent
    runner.join("early", 0, commit="b" * 40)
    runner.join("early", 0, commit="b" * 40)
    assert len(calls.refused) == 1


def test_a_repeated_hello_sends_the_tokens_once() -> None:
    runner, calls = StandInRunner(), Calls()
    roster = _roster(runner, calls)
    runner.join("a", 0)
    runner.join("a", 0)
    assert len(roster.record.workers) == 1
    assert sum(1 for kind, _, _ in runner.sent if kind == workers.TOKENS) == 1


def test_a_worker_of_another_commit_is_refused_with_its_host_and_both_commits() -> None:
    runner, calls = StandInRunner(), Calls()
    _roster(runner, calls)
    runner.join("a", 0)
    runner.join("b", 1, commit="b" * 40)
    assert len(calls.refused) == 1
    reason = calls.refused[0]
    assert "Locust worker 1 on host-1 (pid 101)" in reason
    assert "b" * 12 in reason and "a" * 12 in reason
    assert not any(kind == workers.TOKENS and client == "b" for kind, _, client in runner.sent)


def test_commits_nobody_can_tell_are_refused_too() -> None:
    worker = WorkerIdentity(0, "h", 1, workers.UNKNOWN_COMMIT)
    assert "cannot tell their commit" in (commit_refusal(workers.UNKNOWN_COMMIT, worker) or "")
    assert commit_refusal(COMMIT, WorkerIdentity(0, "h", 1, COMMIT)) is None


@pytest.mark.parametrize("how", ["quit", "missing"])
def test_a_worker_that_leaves_during_the_load_is_reported_once(how: str) -> None:
    runner, calls = StandInRunner(), Calls()
    roster = _roster(runner, calls)
    runner.join("a", 0)
    runner.join("b", 1)
    roster.window_opened(0, 4, 1000.0)
    if how == "quit":
        del runner.clients["b"]
    else:
        runner.clients["b"].state = "missing"
    gevent.sleep(roster.WATCH_INTERVAL_S * 2.5)
    assert len(calls.lost) == 1
    assert calls.lost[0].startswith("Locust worker 1 on host-1 (pid 101) disappeared")
    assert "s into the measurement" in calls.lost[0]
    assert roster.record.workers[1]["lost"] is not None
    assert roster.record.workers[0]["lost"] is None


def test_workers_leaving_after_the_load_stopped_are_not_a_loss() -> None:
    runner, calls = StandInRunner(), Calls()
    roster = _roster(runner, calls)
    runner.join("a", 0)
    roster.load_stopped()
    runner.clients.clear()
    gevent.sleep(roster.WATCH_INTERVAL_S * 2.5)
    assert calls.lost == []


def test_per_worker_figures_are_gathered_for_every_window() -> None:
    runner, calls = StandInRunner(), Calls()
    roster = _roster(runner, calls)
    runner.join("a", 0)
    runner.join("b", 1)
    roster.window_opened(0, 4, 1000.0)
    roster.window_closed(0, 1003.0)
    assert [kind for kind, _, _ in runner.sent if kind in (workers.OPEN, workers.CLOSE)] == [
        workers.OPEN,
        workers.CLOSE,
    ]
    for client, cpu in (("a", 40.0), ("b", 95.0)):
        runner.deliver(workers.FIGURES, client, {"index": 0, "cpu_pct": cpu})
    roster.load_stopped()  # returns at once: every figure is in
    assert [entry["windows"][0]["cpu_pct"] for entry in roster.record.workers] == [40.0, 95.0]


def test_a_window_left_open_by_an_early_end_is_not_waited_for() -> None:
    runner, calls = StandInRunner(), Calls()
    roster = _roster(runner, calls)
    runner.join("a", 0)
    roster.window_opened(0, 4, 1000.0)  # the run ends before the window closes
    started = time.monotonic()
    roster.load_stopped()
    assert time.monotonic() - started < roster.COLLECT_TIMEOUT_S / 2


def test_a_worker_side_says_hello_takes_its_tokens_and_measures_its_window() -> None:
    runner = StandInRunner(worker_index=3)
    side = WorkerSide(SimpleNamespace(), runner)  # type: ignore[arg-type]
    kind, hello, _ = runner.sent[0]
    assert kind == workers.HELLO and hello["index"] == 3 and hello["commit"] == checkout_commit()
    runner.deliver(workers.WHO, "master", None)  # asked again: the same hello again
    assert runner.sent[1] == runner.sent[0]
    runner.deliver(workers.TOKENS, "master", {"pairs": {"bench0004": ["a4", "r4"]}})
    assert side.issued_pairs() == {"bench0004": ("a4", "r4")}
    runner.deliver(workers.OPEN, "master", {"index": 0})
    gevent.sleep(0.2)
    runner.deliver(workers.CLOSE, "master", {"index": 0})
    kind, figures, _ = runner.sent[-1]
    assert kind == workers.FIGURES and figures["index"] == 0
    assert figures["cpu_pct"] is not None and figures["loop_lag_mean_ms"] is not None


def test_the_commit_is_the_checkouts_unless_the_environment_names_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert checkout_commit() == head
    assert checkout_commit(tmp_path) == workers.UNKNOWN_COMMIT  # not a checkout
    monkeypatch.setenv(workers.COMMIT_ENV, "c0ffee")
    assert checkout_commit() == "c0ffee"


def test_shares_of_pairs_follow_the_partition(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    users = [{"username": name, "access": a, "refresh": r} for name, (a, r) in PAIRS.items()]
    tokens.write_text(json.dumps({"users": users}))
    pairs = read_pairs(tokens)
    assert pairs == PAIRS
    assert sorted(share_of_pairs(pairs, "bench", 2, 3, 6)) == ["bench0003", "bench0006"]
