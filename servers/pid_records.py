"""Records of every launched child, so that a harness killed with SIGKILL (which no handler
sees) leaves nothing running for long: the next `make bench` finds and stops it.

Every child already dies with the harness (`setpriv --pdeathsig KILL`), but the signal
reaches only the child itself: a server's workers, nginx's workers or Locust's forked
processes can outlive it. So each child's start writes one small JSON file (its pid, which
is also its session id, its start time in clock ticks, and the same two facts of the
harness that launched it) into <state dir>/children/; a clean stop removes it.

`reclaim` reads records whose harness is gone and stops what remains, by identity, never
by name: the leader only when its pid still has the recorded start time (a reused pid has
another, and then nothing is touched), and when the pid is free, the members of its session
that started no earlier than it. Linux does not hand out a number while a session of that
id still has a member, so those are processes the leader left behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from servers.machine_state import state_dir
from servers.process_group import kill_session, session_members, start_ticks

RECLAIM_DEADLINE_S = 5.0


def records_dir() -> Path:
    return state_dir() / "children"


@dataclass(frozen=True)
class ChildRecord:
    """One launched child and the harness that launched it."""

    name: str
    pid: int  # also the child's session id and process group id
    start_ticks: int
    owner_pid: int
    owner_start_ticks: int
    argv: tuple[str, ...] = ()

    @property
    def file_name(self) -> str:
        return f"{self.pid}-{self.start_ticks}.json"

    def owner_alive(self) -> bool:
        return start_ticks(self.owner_pid) == self.owner_start_ticks

    def live_processes(self) -> list[int]:
        """The processes of this child's session that are still ours (see the module)."""
        leader_ticks = start_ticks(self.pid)
        if leader_ticks == self.start_ticks:
            return [self.pid, *[pid for pid in session_members(self.pid) if pid != self.pid]]
        if leader_ticks is not None:  # the pid now names another process, and its session
            return []
        return [
            pid
            for pid in session_members(self.pid)
            if (ticks := start_ticks(pid)) is not None and ticks >= self.start_ticks
        ]


def record_child(name: str, pid: int, argv: tuple[str, ...]) -> Path | None:
    """Write the record of a child just launched; None when it cannot be written (a record
    is a safety net: its absence must not stop a run)."""
    ticks, owner_ticks = start_ticks(pid), start_ticks(os.getpid())
    if ticks is None or owner_ticks is None:
        return None
    record = ChildRecord(name, pid, ticks, os.getpid(), owner_ticks, argv)
    try:
        directory = records_dir()
        directory.mkdir(exist_ok=True)
        path = directory / record.file_name
        path.write_text(json.dumps(asdict(record)))
    except OSError:
        return None
    return path


def forget(path: Path | None) -> None:
    """Remove a record once its child is stopped and nothing of it remains."""
    if path is not None:
        with contextlib.suppress(OSError):
            path.unlink()


def _read(path: Path) -> ChildRecord | None:
    try:
        data = json.loads(path.read_text())
        return ChildRecord(**{**data, "argv": tuple(data.get("argv", ()))})
    except (OSError, ValueError, TypeError):
        return None


def _kill(record: ChildRecord) -> list[int]:
    """SIGKILL what is left of the record's child; the pids that were killed."""
    found = record.live_processes()
    if start_ticks(record.pid) == record.start_ticks:
        kill_session(record.pid)
    for pid in found:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    end = time.monotonic() + RECLAIM_DEADLINE_S
    while record.live_processes() and time.monotonic() < end:
        time.sleep(0.05)
    return found


def reclaim(directory: Path | None = None) -> list[str]:
    """Stop what harnesses that are no longer alive left running, remove their records,
    and say what was done: one line per killed harness, none when there was nothing."""
    directory = directory or records_dir()
    if not directory.is_dir():
        return []
    stopped: dict[int, list[str]] = {}
    for path in sorted(directory.glob("*.json")):
        record = _read(path)
        if record is None:
            forget(path)
            continue
        if record.owner_alive():
            continue
        killed = _kill(record)
        stopped.setdefault(record.owner_pid, [])
        if killed:
            stopped[record.owner_pid].append(f"{record.name} ({len(killed)} process(es))")
        if not record.live_processes():
            forget(path)
    return [
        f"a harness (pid {owner}) was killed earlier: stopped what it left running: "
        + ", ".join(names)
        if names
        else f"a harness (pid {owner}) was killed earlier; nothing it started was still running"
        for owner, names in stopped.items()
    ]
