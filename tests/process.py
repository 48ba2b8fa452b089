"""One helper for every test that starts a real command: start it, wait for a line or a
condition with a deadline, interrupt it, read its exit status, and always kill it on exit.

Output goes to a file, not a pipe: a test that stops reading a pipe would block a chatty
child, and a `readline()` on a pipe cannot enforce a deadline.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


@dataclass
class CommandUnderTest:
    """A running command and its output file."""

    process: subprocess.Popen[bytes]
    output_path: Path

    @property
    def output(self) -> str:
        try:
            return self.output_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_until(self, condition: Callable[[], bool], timeout_s: float, what: str) -> None:
        """Poll `condition` until it holds; fail (with the output so far) after `timeout_s`
        or when the command exits first."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process.poll() is not None:
                raise AssertionError(
                    f"the command exited ({self.process.returncode}) before {what}:\n{self.output}"
                )
            time.sleep(0.1)
        raise AssertionError(f"no {what} within {timeout_s:.0f} s:\n{self.output}")

    def wait_for_line(self, text: str, timeout_s: float) -> str:
        """Wait until the output contains `text`; return the output so far."""
        self.wait_until(lambda: text in self.output, timeout_s, f"line with {text!r}")
        return self.output

    def interrupt(self, sig: signal.Signals = signal.SIGINT, timeout_s: float = 60) -> int:
        """Send `sig` (Ctrl-C by default) and return the exit status once it exits."""
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"the command did not exit within {timeout_s:.0f} s of {sig.name}:\n{self.output}"
            ) from None

    def wait(self, timeout_s: float) -> int:
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"the command did not finish within {timeout_s:.0f} s:\n{self.output}"
            ) from None


@contextlib.contextmanager
def running(
    argv: Sequence[str], output_path: Path, *, cwd: Path = PROJECT_DIR
) -> Iterator[CommandUnderTest]:
    """Start `argv` in its own session; on leaving, whatever happened, SIGKILL its whole
    process group if it is still alive, and reap it."""
    output_path.parent.mkdir(parents=True, exist_ok=True)
    with output_path.open("wb") as output:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield CommandUnderTest(process, output_path)
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
