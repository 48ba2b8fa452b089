"""The signals that end a command cleanly: Ctrl-C, TERM and a hang-up, all the same way.

Each becomes a KeyboardInterrupt in the main thread (a `StopSignal` that remembers which
signal it was), so the one `except KeyboardInterrupt` path records the run as interrupted
and stops everything the command started; the command then exits 128 + the signal's number
(130 Ctrl-C, 129 hang-up, 143 TERM; scripts/options/exit_status.py).

A hang-up means the terminal is gone: writing to it would now fail with EIO in the middle
of the cleanup, so the handler points a terminal's stdout and stderr at /dev/null first.
"""

from __future__ import annotations

import contextlib
import os
import signal
from types import FrameType
from typing import Final

from scripts.options.exit_status import SIGNAL_BASE

NAMES: Final = {
    signal.SIGINT: "Ctrl-C (SIGINT)",
    signal.SIGTERM: "SIGTERM",
    signal.SIGHUP: "SIGHUP (the terminal was closed)",
}


class StopSignal(KeyboardInterrupt):
    """A KeyboardInterrupt raised for TERM or HUP; `signum` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def signal_number(interrupt: BaseException) -> int:
    """The signal behind an interrupt: a StopSignal's own, else SIGINT (Ctrl-C)."""
    return interrupt.signum if isinstance(interrupt, StopSignal) else int(signal.SIGINT)


def interrupt_exit_status(interrupt: BaseException) -> int:
    return SIGNAL_BASE + signal_number(interrupt)


def interrupt_reason(interrupt: BaseException) -> str:
    """What a run interrupted by `interrupt` records as its reason."""
    signum = signal.Signals(signal_number(interrupt))
    return f"interrupted by {NAMES.get(signum, signum.name)}"


def _silence_lost_terminal() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in (1, 2):
            with contextlib.suppress(OSError):
                if os.isatty(fd):
                    os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    if signum == signal.SIGHUP:
        _silence_lost_terminal()
    raise StopSignal(signum)


def install_stop_signals() -> None:
    """Ctrl-C, TERM and HUP raise in the main thread from now on, even when our parent (a
    test, a shell running us in the background) started us with them ignored."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGHUP, _raise_stop)
