"""The master's flush of its workers' figures before it writes its final CSVs: it asks the
live workers it names, by client id, and waits (bounded) for each acknowledgement. The
real runners are covered by the distributed bench test (its CSV equals Locust's printed
total)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import gevent

from loadtests.final_stats import FLUSH, FLUSH_DONE, WorkerFlush, answer_flushes


class StandInMaster:
    def __init__(self) -> None:
        self.handlers: dict[str, Any] = {}
        self.sent: list[tuple[str, str | None]] = []

    def register_message(self, kind: str, handler: Any) -> None:
        self.handlers[kind] = handler

    def send_message(self, kind: str, data: Any = None, client_id: str | None = None) -> None:
        self.sent.append((kind, client_id))

    def acknowledge_later(self, delay_s: float) -> None:
        gevent.spawn_later(delay_s, self.handlers[FLUSH_DONE], SimpleNamespace(data={}))


def test_the_flush_asks_each_named_worker_and_waits_for_every_answer() -> None:
    master = StandInMaster()
    flush = WorkerFlush(master, lambda: ["a", "b"], timeout_s=5.0)  # type: ignore[arg-type]
    master.acknowledge_later(0.05)
    master.acknowledge_later(0.1)
    started = gevent.get_hub().loop.now()
    assert flush.run() is True
    assert gevent.get_hub().loop.now() - started < 2.0
    assert master.sent == [(FLUSH, "a"), (FLUSH, "b")]


def test_a_worker_that_never_answers_costs_the_timeout_no_more() -> None:
    master = StandInMaster()
    flush = WorkerFlush(master, lambda: ["a", "b"], timeout_s=0.3)  # type: ignore[arg-type]
    master.acknowledge_later(0.05)
    assert flush.run() is False


def test_no_live_worker_needs_no_wait() -> None:
    master = StandInMaster()
    assert WorkerFlush(master, lambda: []).run() is True  # type: ignore[arg-type]
    assert master.sent == []


def test_a_worker_reports_before_it_acknowledges() -> None:
    order: list[str] = []
    worker = StandInMaster()
    worker._send_stats = lambda: order.append("stats")  # type: ignore[attr-defined]
    worker.send_message = lambda kind, data=None, client_id=None: order.append(kind)  # type: ignore[method-assign]
    answer_flushes(worker)  # type: ignore[arg-type]
    worker.handlers[FLUSH](SimpleNamespace(data={}))
    assert order == ["stats", FLUSH_DONE]
