"""One bench per machine at a time: two at once pin to the same CPUs and publish numbers
measured under each other's load.

A bench takes an exclusive `flock` on <state dir>/machine.lock (servers/machine_state.py)
for its whole length. A second bench waits for it, saying so in one line, who holds the
machine and how to run alongside instead: `--share-machine` (SHARE_MACHINE=1) does not
wait, and marks its runs `shares_machine` in meta.json. A sharing bench takes a shared lock
when it can, so an exclusive bench that comes later waits for it too. The kernel releases
the lock when its holder exits, however it ends (SIGKILL included), and children never
inherit it (Popen closes every other descriptor).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from servers.machine_state import state_dir

LOCK_NAME = "machine.lock"


def lock_path() -> Path:
    return state_dir() / LOCK_NAME


def _holder(fd: int) -> str:
    """What the exclusive holder wrote into the lock file: its pid and command line."""
    with contextlib.suppress(OSError):
        text = os.pread(fd, 4096, 0).decode(errors="replace").strip()
        if text:
            return text
    return "another bench"


def _describe_self() -> bytes:
    with contextlib.suppress(OSError):
        argv = Path("/proc/self/cmdline").read_bytes().split(b"\0")
        return b"pid %d: %s" % (os.getpid(), b" ".join(part for part in argv if part)[:300])
    return b"pid %d" % os.getpid()


@contextlib.contextmanager
def machine_lock(share: bool, say: Callable[[str], None]) -> Iterator[None]:
    """Hold the machine for the block: exclusively (waiting, with one line, while another
    bench has it), or with `share` alongside whoever has it."""
    fd = os.open(lock_path(), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if share:
            with contextlib.suppress(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        else:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                say(
                    f"bench: this machine is busy ({_holder(fd)}); waiting for it to finish "
                    "(SHARE_MACHINE=1 runs alongside, its runs marked as sharing the machine)"
                )
                fcntl.flock(fd, fcntl.LOCK_EX)
            os.ftruncate(fd, 0)
            os.pwrite(fd, _describe_self(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock
