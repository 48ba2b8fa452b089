"""Finding and signalling every process a launched server created.

A server is started as the leader of a new session; its workers inherit that session id even
if they move to another process group, so the session is what we scan for. A child that puts
its own children in sessions of their own (PostgreSQL's postmaster calls setsid() in every
backend) is followed by parentage as well: a launched child's tree is its session plus every
descendant of it. Only processes of trees we created are ever signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


def _session_of(stat_text: str) -> int:
    # /proc/<pid>/stat: "pid (comm) state ppid pgrp session ..."; comm may contain spaces
    # and parentheses, so split after the last ')'.
    fields = stat_text.rsplit(")", 1)[1].split()
    return int(fields[3])


def _parent_of(stat_text: str) -> int:
    return int(stat_text.rsplit(")", 1)[1].split()[1])


def process_alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie waiting for its parent (or init) to reap it."""
    try:
        stat_text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat_text.rsplit(")", 1)[1].split()[0] != "Z"


def session_members(session_id: int) -> list[int]:
    """Pids of live (non-zombie) processes whose session id is `session_id`."""
    members: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat_text = (entry / "stat").read_text()
        except OSError:
            continue
        state = stat_text.rsplit(")", 1)[1].split()[0]
        if state == "Z":
            continue
        if _session_of(stat_text) == session_id:
            members.append(int(entry.name))
    return sorted(members)


def tree_members(session_id: int) -> list[int]:
    """Pids of live (non-zombie) processes in the session `session_id` and of every
    descendant of those, wherever their session."""
    parents: dict[int, int] = {}
    members: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat_text = (entry / "stat").read_text()
        except OSError:
            continue
        if stat_text.rsplit(")", 1)[1].split()[0] == "Z":
            continue
        pid = int(entry.name)
        parents[pid] = _parent_of(stat_text)
        if _session_of(stat_text) == session_id:
            members.add(pid)
    grown = True
    while grown:
        children = {pid for pid, parent in parents.items() if parent in members} - members
        members |= children
        grown = bool(children)
    return sorted(members)


def start_ticks(pid: int) -> int | None:
    """When `pid` started (clock ticks since boot), None once it is gone or a zombie: with
    the pid, it names one process even after the pid is reused."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else int(fields[19])


def snapshot(pids: list[int]) -> dict[int, int]:
    """pid -> start ticks of the given processes that are still alive."""
    taken = {pid: start_ticks(pid) for pid in pids}
    return {pid: ticks for pid, ticks in taken.items() if ticks is not None}


def survivors(known: dict[int, int]) -> list[int]:
    """The processes of a snapshot that are still alive (the same processes, not reused
    pids), wherever they were reparented to."""
    return sorted(pid for pid, ticks in known.items() if start_ticks(pid) == ticks)


def signal_group(group_id: int, sig: signal.Signals) -> None:
    """Send `sig` to the process group, as a terminal's Ctrl-C would; servers expect that."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group_id, sig)


def kill_session(session_id: int) -> None:
    """SIGKILL the session's group and every other process of its tree (members that moved
    to another group, descendants in sessions of their own)."""
    signal_group(session_id, signal.SIGKILL)
    for pid in tree_members(session_id):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
