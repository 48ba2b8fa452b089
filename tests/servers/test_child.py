"""The one managed child: pinned, explicit environment, dies with its parent, always stopped."""

from __future__ import annotations

import os
import pwd
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from servers.child import (
    ChildLaunchError,
    ChildSpec,
    ManagedChild,
    child_environment,
    wrapped_argv,
)
from servers.placement import cpus_of
from servers.process_group import process_alive


def _spec(tmp_path: Path, argv: list[str], **overrides: object) -> ChildSpec:
    fields: dict[str, object] = {
        "name": "test-child",
        "argv": tuple(argv),
        "environment": child_environment({}),
        "log_path": tmp_path / "child.log",
        "stop_grace_s": 2.0,
    }
    fields.update(overrides)
    return ChildSpec(**fields)  # type: ignore[arg-type]


def _wait_for(predicate: object, timeout_s: float = 5.0) -> bool:
    assert callable(predicate)
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


def test_child_and_its_children_are_pinned(tmp_path: Path) -> None:
    with ManagedChild.start(_spec(tmp_path, ["sh", "-c", "sleep 30 & wait"], cpus=(0,))) as child:
        assert _wait_for(lambda: len(child.members()) == 2)
        assert {cpus_of(pid) for pid in child.members()} == {(0,)}


def test_environment_is_explicit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCUST_USERS", "999")
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "somewhere.else")
    spec = _spec(tmp_path, ["sh", "-c", "env"], environment=child_environment({"MINE": "1"}))
    child = ManagedChild.start(spec)
    assert child.wait(5) == 0
    child.stop()
    seen = dict(
        line.split("=", 1) for line in spec.log_path.read_text().splitlines() if "=" in line
    )
    assert seen["MINE"] == "1"
    assert "LOCUST_USERS" not in seen and "DJANGO_SETTINGS_MODULE" not in seen
    assert seen["PATH"].startswith("/usr/local/bin")


def test_term_ignoring_child_is_killed_after_grace_and_nothing_is_left(tmp_path: Path) -> None:
    stubborn = "trap '' TERM; sleep 30 & sleep 30 & wait"
    child = ManagedChild.start(_spec(tmp_path, ["sh", "-c", stubborn], stop_grace_s=0.5))
    assert _wait_for(lambda: len(child.members()) == 3)
    report = child.stop()
    assert report.killed and report.leftovers == ()
    assert child.members() == [] and not child.running
    assert child.stop() == report, "a second stop reports the first"


def test_missing_command_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ChildLaunchError, match="no-such-command-here not found"):
        ManagedChild.start(_spec(tmp_path, ["no-such-command-here"]))


_AS_ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")


@pytest.mark.parametrize("run_as", [None, pytest.param("nobody", marks=_AS_ROOT)])
def test_child_dies_with_its_parent(tmp_path: Path, run_as: str | None) -> None:
    """A harness killed with SIGKILL cannot stop anything: the parent-death signal must, also
    for a child that switched users (the kernel clears the signal on a uid change)."""
    pid_file = tmp_path / "child.pid"
    parent_code = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        from servers.child import ChildSpec, ManagedChild, child_environment
        child = ManagedChild.start(ChildSpec(
            name="orphan", argv=("sleep", "60"), environment=child_environment({{}}),
            log_path=Path({str(tmp_path / "orphan.log")!r}), run_as={run_as!r}))
        Path({str(pid_file)!r}).write_text(str(child.pid))
        time.sleep(60)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", parent_code])
    try:
        assert _wait_for(pid_file.exists, 10)
        child_pid = int(pid_file.read_text())
        assert process_alive(child_pid)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(5)
        assert _wait_for(lambda: not process_alive(child_pid)), "the child outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if pid_file.exists() and process_alive(int(pid_file.read_text())):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)


def _uids(pid: int) -> set[int]:
    """Real, effective, saved and filesystem uids of `pid`, from the kernel."""
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("Uid:"))
    return {int(value) for value in line.split()[1:]}


@_AS_ROOT
def test_child_runs_as_the_named_user_pinned(tmp_path: Path) -> None:
    nobody = pwd.getpwnam("nobody")
    spec = _spec(tmp_path, ["sleep", "30"], run_as="nobody", cpus=(0,))
    with ManagedChild.start(spec) as child:
        # setpriv switches the user before it execs taskset: wait for both to have run
        assert _wait_for(lambda: _uids(child.pid) == {nobody.pw_uid} and cpus_of(child.pid) == (0,))
    assert child.members() == []


def test_an_unknown_user_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ChildLaunchError, match=r"no-such-user-here.*no such user"):
        ManagedChild.start(_spec(tmp_path, ["true"], run_as="no-such-user-here"))


def test_running_as_oneself_needs_no_switch() -> None:
    me = pwd.getpwuid(os.geteuid()).pw_name
    assert wrapped_argv(["true"], cpus=None, die_with_parent=False, run_as=me) == ["true"]


def test_descendants_in_sessions_of_their_own_belong_to_the_child(tmp_path: Path) -> None:
    """PostgreSQL's postmaster puts every backend in a session of its own: the child's tree
    must still include them, for sampling and for the stop."""
    spec = _spec(tmp_path, ["sh", "-c", "setsid sleep 30 & wait"], stop_grace_s=0.5)
    with ManagedChild.start(spec) as child:

        def detached_once() -> bool:
            """The forked shell has called setsid (a member from its fork, its own session
            leader only once it has: reading it sooner failed on a fresh clone)."""
            others = [pid for pid in child.members() if pid != child.pid]
            return len(others) == 1 and os.getsid(others[0]) == others[0]

        assert _wait_for(detached_once)
        detached = next(pid for pid in child.members() if pid != child.pid)
        assert os.getsid(detached) == detached != child.pid
    assert not process_alive(detached), "a detached descendant outlived the stop"
    assert child.last_stop is not None and child.last_stop.leftovers == ()
