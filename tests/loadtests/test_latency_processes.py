"""One Locust process's recording and progress file, driven through its request hook.

The hook is a stand-in with Locust's add_listener/fire shape, because importing Locust
monkey-patches the test interpreter; the real hook, and the master/worker path, are covered
by test_locust_integration.py."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gevent
import pytest

from loadtests import latency, progress
from loadtests.latency_processes import LocalLatency, MasterLatency, WorkerLatency
from loadtests.progress import ProgressWriter, WindowProgress


class RequestHook:
    def __init__(self) -> None:
        self.listeners: list[Any] = []

    def add_listener(self, listener: Any) -> None:
        self.listeners.append(listener)

    def fire(self, **kwargs: Any) -> None:
        for listener in self.listeners:
            listener(**kwargs)


def _request(hook: RequestHook, ms: float, failed: bool = False) -> None:
    hook.fire(
        request_type="GET",
        name="GET /api/me/",
        response_time=ms,
        response_length=10,
        response=SimpleNamespace(status_code=503 if failed else 200),
        exception=RuntimeError("status 503") if failed else None,
        context={},
    )


def test_one_process_counts_its_window_and_writes_both_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ProgressWriter, "INTERVAL_S", 0.05)
    hook = RequestHook()
    files = tmp_path / latency.FILE_NAME, tmp_path / progress.FILE_NAME
    observer = LocalLatency(SimpleNamespace(events=SimpleNamespace(request=hook)), *files)
    _request(hook, 1.0)  # before the window: not counted
    started = time.time()
    observer.window_opened(0, 3, started)
    first = WindowProgress.read(files[1])
    assert first.open and first.requests == 0 and first.window_started_at == started
    for _ in range(4):
        _request(hook, 2.5)
    _request(hook, 0.3, failed=True)
    gevent.sleep(0.2)  # the writer's loop rewrites the file meanwhile
    live = WindowProgress.read(files[1])
    assert live.open and (live.successes, live.failures, live.requests) == (4, 1, 5)
    assert live.rps == pytest.approx(5 / live.window_elapsed_s)
    assert live.processes_reporting == 1
    ended = started + 0.25
    observer.window_closed(0, ended)
    _request(hook, 1.0)  # after the window: not counted
    final = WindowProgress.read(files[1])
    assert not final.open and final.requests == 5
    assert final.window_elapsed_s == pytest.approx(0.25)
    assert final.goodput_rps == pytest.approx(4 / 0.25)
    gevent.sleep(0.15)
    assert WindowProgress.read(files[1]) == final  # nothing writes after the close
    observer.load_stopped()
    [window] = latency.read(files[0])
    assert (window.successes, window.failures) == (4, 1)
    assert window.failures_by_kind == {"HTTP 503": 1}
    assert (window.started_at, window.ended_at) == (started, ended)
    assert window.goodput_rps == pytest.approx(4 / 0.25)
    assert window.percentile(0.5).value_us is None  # 4 samples: below the rule's 20


def test_the_progress_file_is_documented_by_its_fields(tmp_path: Path) -> None:
    writer = ProgressWriter(tmp_path / "p.json", lambda now: [])
    writer.start(2, 8, started_at=time.time())
    writer.stop(ended_at=time.time())
    data = json.loads((tmp_path / "p.json").read_text())
    documented = set(re.findall(r'"(\w+)":', progress.__doc__ or ""))
    assert set(data) == documented
    assert data["window_index"] == 2 and data["users"] == 8 and data["requests"] == 0


class FakeRunner:
    """Locust's message surface (register_message / send_message) between in-process
    master and workers; a worker's `deliver_after_s` delays its messages to the master."""

    def __init__(self, worker_index: int = 0, deliver_after_s: float | None = 0.0) -> None:
        self.worker_index = worker_index
        self.deliver_after_s = deliver_after_s
        self.handlers: dict[str, Any] = {}
        self.peers: list[FakeRunner] = []
        self.node_id = f"node-{worker_index}"

    @property
    def worker_count(self) -> int:
        return len(self.peers)

    def register_message(self, msg_type: str, listener: Any) -> None:
        self.handlers[msg_type] = listener

    def send_message(self, msg_type: str, data: Any = None) -> None:
        for peer in self.peers:
            message = SimpleNamespace(data=json.loads(json.dumps(data)), node_id=self.node_id)
            if self.deliver_after_s is None:
                continue  # this process never gets through
            gevent.spawn_later(self.deliver_after_s, peer.handlers[msg_type], msg=message)


def _distributed(
    tmp_path: Path, delays: list[float | None]
) -> tuple[MasterLatency, list[RequestHook]]:
    master = FakeRunner(worker_index=-1)
    hooks = []
    for index, delay in enumerate(delays):
        worker = FakeRunner(index, delay)
        worker.peers, hook = [master], RequestHook()
        master.peers.append(worker)
        WorkerLatency(SimpleNamespace(events=SimpleNamespace(request=hook)), worker)
        hooks.append(hook)
    observer = MasterLatency(master, tmp_path / "latency.json", tmp_path / "progress.json")
    return observer, hooks


def _one_window(observer: MasterLatency, hooks: list[RequestHook]) -> float:
    observer.window_opened(0, 4, time.time())
    gevent.sleep(0.05)  # the workers hear of it
    for count, hook in enumerate(hooks, start=1):
        for _ in range(10 * count):
            _request(hook, 4.0)
    observer.window_closed(0, time.time())
    started = time.monotonic()
    observer.load_stopped()
    return time.monotonic() - started


def test_the_master_waits_for_every_worker_and_merges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(MasterLatency, "COLLECT_TIMEOUT_S", 5.0)
    observer, hooks = _distributed(tmp_path, [0.0, 0.3])  # the second answers late
    waited_s = _one_window(observer, hooks)
    assert 0.3 <= waited_s < 2.0
    [window] = latency.read(tmp_path / "latency.json")
    assert window.processes_expected == window.processes_reported == 2
    assert window.successes == 30 and window.aggregate().get_total_count() == 30
    assert sorted(span.recorded for span in window.processes) == [10, 20]
    final = WindowProgress.read(tmp_path / "progress.json")
    assert not final.open and final.requests == 30  # rewritten from the merged counts


def test_the_master_gives_up_on_a_silent_worker_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(MasterLatency, "COLLECT_TIMEOUT_S", 0.4)
    observer, hooks = _distributed(tmp_path, [0.0, None])  # the second never answers
    waited_s = _one_window(observer, hooks)
    assert 0.4 <= waited_s < 1.5
    [window] = latency.read(tmp_path / "latency.json")
    assert (window.processes_expected, window.processes_reported) == (2, 1)
    assert window.successes == 10
