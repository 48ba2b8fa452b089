"""Finding and signalling every process a launched server created.

A server is started as the leader of a new session; its workers inherit that session id even
if they move to another process group, so the session is what we scan for. Only processes in
the session we created are ever signalled.
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


def signal_group(group_id: int, sig: signal.Signals) -> None:
    """Send `sig` to the process group, as a terminal's Ctrl-C would; servers expect that."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group_id, sig)


def kill_session(session_id: int) -> None:
    """SIGKILL the session's group and every member that moved to another group."""
    signal_group(session_id, signal.SIGKILL)
    for pid in session_members(session_id):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
