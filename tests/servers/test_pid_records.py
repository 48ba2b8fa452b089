"""Pid records: written while a child runs, gone after a clean stop, and what a SIGKILLed
harness left behind stopped by identity; real processes throughout."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from servers.child import ChildSpec, ManagedChild, child_environment
from servers.machine_state import STATE_DIR_VARIABLE
from servers.pid_records import ChildRecord, reclaim, records_dir
from servers.process_group import process_alive, session_members, start_ticks
from tests.process import PROJECT_DIR


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(STATE_DIR_VARIABLE, str(tmp_path / "state"))
    return tmp_path / "state"


def _spec(tmp_path: Path, argv: list[str]) -> ChildSpec:
    return ChildSpec(
        name="recorded",
        argv=tuple(argv),
        environment=child_environment({}),
        log_path=tmp_path / "child.log",
        stop_grace_s=1.0,
    )


def test_a_child_is_recorded_while_it_runs_and_forgotten_once_stopped(
    state: Path, tmp_path: Path
) -> None:
    child = ManagedChild.start(_spec(tmp_path, ["sleep", "30"]))
    try:
        [path] = records_dir().glob("*.json")
        record = json.loads(path.read_text())
        assert record["pid"] == child.pid and record["owner_pid"] == os.getpid()
        assert record["start_ticks"] == start_ticks(child.pid)
        assert reclaim() == [], "a record whose harness is alive is not touched"
        assert child.running
    finally:
        child.stop()
    assert list(records_dir().glob("*.json")) == []


OWNER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from servers.child import ChildSpec, ManagedChild, child_environment
    spec = ChildSpec(
        name="left-behind",
        argv=("sh", "-c", "sleep 60 & sleep 60 & wait"),
        environment=child_environment({}),
        log_path=Path(sys.argv[1]),
    )
    child = ManagedChild.start(spec)
    while len(child.members()) < 3:
        time.sleep(0.05)
    print(child.pid, flush=True)
    time.sleep(60)
    """
)


def test_what_a_killed_harness_left_is_stopped_by_the_next_one(state: Path, tmp_path: Path) -> None:
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(tmp_path / "child.log")],
        cwd=PROJECT_DIR,
        env={**os.environ, STATE_DIR_VARIABLE: str(state)},
        stdout=subprocess.PIPE,
    )
    leader = 0
    try:
        assert owner.stdout is not None
        leader = int(owner.stdout.readline())
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=10)
        # pdeathsig took the leader; its two sleeps (same session) live on
        end = time.monotonic() + 5
        while process_alive(leader) and time.monotonic() < end:
            time.sleep(0.05)
        left = session_members(leader)
        assert len(left) == 2, "the test needs something the parent-death signal missed"
        [line] = reclaim()
    finally:
        owner.kill()
        owner.wait(timeout=10)
        for pid in session_members(leader) if leader else []:
            os.kill(pid, signal.SIGKILL)
    assert f"(pid {owner.pid}) was killed earlier" in line
    assert "left-behind (2 process(es))" in line
    assert session_members(leader) == []
    assert list(records_dir().glob("*.json")) == []
    assert reclaim() == []


def test_a_reused_pid_is_never_killed(state: Path, tmp_path: Path) -> None:
    bystander = subprocess.Popen(["sleep", "30"], start_new_session=True)
    gone = subprocess.Popen(["true"])
    gone.wait()
    try:
        ticks = start_ticks(bystander.pid)
        assert ticks is not None
        # a record naming the bystander's pid with another start time, from a dead harness
        record = ChildRecord("old", bystander.pid, ticks - 1, gone.pid, 1)
        records_dir().mkdir(parents=True, exist_ok=True)
        (records_dir() / record.file_name).write_text(json.dumps(record.__dict__))
        reclaim()
        time.sleep(0.2)
        assert bystander.poll() is None, "a process that merely has the pid must live"
    finally:
        bystander.kill()
        bystander.wait(timeout=10)
