"""A stop that the user's next Ctrl-C does not cut short.

The first Ctrl-C (or TERM, or a hang-up) starts the stop of what the harness launched; an
impatient second one used to interrupt that stop half-way and leave the server running.
While a guard is active those signals are deferred: the first is noted (one line on stderr),
the second asks for the stop to skip what is left of the grace period and kill at once
(`abort_requested`), and when the outermost guard ends the first deferred signal is handed
to the handler that was in place before, so the command still ends the way it would have.

Guards nest: a guard entered while another is active is that one (the session's stop of
nginx, the server and PostgreSQL is one stop). Signal handlers can only be set in the main
thread; elsewhere a guard defers nothing. Its state lives in the handler table itself, so
there is no module-level state.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Final

DEFERRED_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
KILL_AT_ONCE_AFTER: Final = 2  # deferred signals: the second kills without waiting longer


class StopGuard:
    """The signals deferred while `what` is being stopped."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.received: list[int] = []

    @property
    def abort_requested(self) -> bool:
        """True once the user has asked twice during the stop: kill, do not wait."""
        return len(self.received) >= KILL_AT_ONCE_AFTER

    def handle(self, signum: int, frame: FrameType | None) -> None:
        self.received.append(signum)
        if len(self.received) == 1:
            line = f"\nstill stopping {self.what}; press Ctrl-C again to kill it at once\n"
        elif len(self.received) == KILL_AT_ONCE_AFTER:
            line = f"\nkilling {self.what} at once\n"
        else:
            return
        # os.write, not print: a handler may run while print is half-way through a line
        with contextlib.suppress(OSError):
            os.write(2, line.encode())


def _active_guard() -> StopGuard | None:
    handler = signal.getsignal(signal.SIGINT)
    owner = getattr(handler, "__self__", None)
    return owner if isinstance(owner, StopGuard) else None


def _deliver(signum: int, handler: object) -> None:
    """Hand a deferred signal to the handler it would have reached."""
    if callable(handler):
        handler(signum, None)
    elif handler == signal.SIG_DFL:
        signal.raise_signal(signum)


@contextlib.contextmanager
def stop_guard(what: str) -> Iterator[StopGuard]:
    """Defer SIGINT, SIGTERM and SIGHUP while the block stops `what` (see the module)."""
    if threading.current_thread() is not threading.main_thread():
        yield StopGuard(what)
        return
    outer = _active_guard()
    if outer is not None:
        yield outer
        return
    guard = StopGuard(what)
    previous = {sig: signal.signal(sig, guard.handle) for sig in DEFERRED_SIGNALS}
    try:
        yield guard
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if guard.received:
            first = guard.received[0]
            _deliver(first, previous[signal.Signals(first)])
