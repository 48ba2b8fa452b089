"""The machine lock against a real second process holding it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from scripts.harness.machine_lock import lock_path, machine_lock
from servers.machine_state import STATE_DIR_VARIABLE
from tests.process import PROJECT_DIR

HOLDER = textwrap.dedent(
    """
    import sys, time
    from scripts.harness.machine_lock import machine_lock
    with machine_lock(False, print):
        print("holding", flush=True)
        time.sleep(float(sys.argv[1]))
    """
)


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(STATE_DIR_VARIABLE, str(tmp_path / "state"))
    return tmp_path / "state"


@contextmanager
def held_elsewhere(state: Path, hold_s: float) -> Iterator[subprocess.Popen[bytes]]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(hold_s)],
        cwd=PROJECT_DIR,
        env={**os.environ, STATE_DIR_VARIABLE: str(state)},
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"holding\n"
        yield holder
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_a_second_bench_waits_for_the_first_with_one_line(state: Path) -> None:
    said: list[str] = []
    with held_elsewhere(state, 1.5) as holder:
        started = time.monotonic()
        with machine_lock(False, said.append):
            waited_s = time.monotonic() - started
            assert f"pid {os.getpid()}" in lock_path().read_text()
    assert waited_s > 1.0
    [line] = said
    assert f"this machine is busy (pid {holder.pid}:" in line and "SHARE_MACHINE=1" in line


def test_sharing_does_not_wait_and_nothing_waits_on_a_killed_holder(state: Path) -> None:
    said: list[str] = []
    with held_elsewhere(state, 30):
        started = time.monotonic()
        with machine_lock(True, said.append):
            assert time.monotonic() - started < 0.5
    # the holder was SIGKILLed on leaving: the kernel released its lock
    started = time.monotonic()
    with machine_lock(False, said.append):
        assert time.monotonic() - started < 0.5
    assert said == []
