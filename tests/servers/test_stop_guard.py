"""A stop the user's next Ctrl-C does not cut short: real children, real signals sent to
this (the main) thread while a stop waits out its grace period."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from servers.child import ChildSpec, ManagedChild, child_environment
from servers.stop_guard import stop_guard

STUBBORN = "trap '' TERM; sleep 30 & sleep 30 & wait"  # ignores TERM: only the KILL ends it


def _stubborn_child(tmp_path: Path, grace_s: float) -> ManagedChild:
    spec = ChildSpec(
        name="stubborn",
        argv=("sh", "-c", STUBBORN),
        environment=child_environment({}),
        log_path=tmp_path / "child.log",
        stop_grace_s=grace_s,
    )
    child = ManagedChild.start(spec)
    end = time.monotonic() + 5
    while len(child.members()) < 3 and time.monotonic() < end:
        time.sleep(0.05)
    return child


def _ctrl_c_after(*delays_s: float) -> threading.Thread:
    """SIGINT to ourselves after each delay, as a user's Ctrl-C presses would arrive."""

    def press() -> None:
        for delay_s in delays_s:
            time.sleep(delay_s)
            os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=press, daemon=True)
    thread.start()
    return thread


def test_a_ctrl_c_during_the_stop_waits_for_the_stop_to_finish(tmp_path: Path) -> None:
    child = _stubborn_child(tmp_path, grace_s=1.5)
    presses = _ctrl_c_after(0.3)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        child.stop()
    presses.join()
    # the whole grace period was waited out, then the tree killed, and only then the
    # Ctrl-C took effect
    assert time.monotonic() - started >= 1.5
    assert child.last_stop is not None and child.last_stop.killed
    assert child.last_stop.leftovers == () and child.members() == [] and not child.running


def test_a_second_ctrl_c_kills_at_once_and_still_leaves_nothing(tmp_path: Path) -> None:
    child = _stubborn_child(tmp_path, grace_s=20)
    presses = _ctrl_c_after(0.3, 0.2)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        child.stop()
    presses.join()
    assert time.monotonic() - started < 5, "the second Ctrl-C must end the grace period"
    assert child.last_stop is not None and child.last_stop.killed
    assert child.members() == [] and not child.running


def test_guards_nest_and_the_handlers_come_back(tmp_path: Path) -> None:
    before = signal.getsignal(signal.SIGINT)
    child = _stubborn_child(tmp_path, grace_s=0.5)
    presses = _ctrl_c_after(0.2)
    with pytest.raises(KeyboardInterrupt), stop_guard("everything") as outer:
        child.stop()  # its own guard is the outer one: the Ctrl-C waits for the block
        presses.join()
        assert outer.received == [signal.SIGINT]
        assert not child.running
    assert signal.getsignal(signal.SIGINT) is before
