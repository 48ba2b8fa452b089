"""Plain Locust (loadtests/plain_locustfile.py) as a managed child: one calibration side.

Locust runs by its own `-t` for `warmup_s + duration_s` plus RUN_TIME_SLACK_S (its timer is
set before the load starts and fired up to a few tenths of a second early here, and its
users start about a second after the start), resets its statistics once the warm-up after
spawning is over, and writes its CSVs on the way out. The measured window runs from the
reset to the stop, both logged by the locustfile; its rate is the window's requests over
that length (Locust's own Requests/s divides by the time to its last request instead).
The window is about `duration_s` long, not exactly: a rate does not depend on it.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from scripts.records.locust_csv import read_locust_window
from scripts.records.schema import WindowFigures
from servers.child import ChildSpec, ManagedChild, child_environment
from servers.registry import PROJECT_DIR

PLAIN_LOCUSTFILE: Final = PROJECT_DIR / "loadtests" / "plain_locustfile.py"
CSV_PREFIX: Final = "locust"
LOG_FILE: Final = "locust.log"
START_SLACK_S: Final = 30.0  # Locust's start-up and shutdown, beyond its -t
RUN_TIME_SLACK_S: Final = 1  # so the window is not cut short (module docstring)
# The line the locustfile logs at its statistics reset, restated here: importing a
# locustfile would import Locust, and with it gevent's monkey-patching, into the harness.
WINDOW_MARKER: Final = "plain locust: statistics reset at"
STOP_MARKER: Final = "plain locust: stopped at"


class PlainLocustError(RuntimeError):
    """Plain Locust ran but left no measured window (the message says what is missing)."""


@dataclass(frozen=True)
class PlainLocustRequest:
    """One plain-Locust side: `users` users against `base_url`, pinned to `cpus`."""

    base_url: str
    users: int
    warmup_s: int
    duration_s: int
    tokens_file: Path
    run_dir: Path
    cpus: tuple[int, ...] | None = None

    @property
    def run_time_s(self) -> int:
        return self.warmup_s + self.duration_s + RUN_TIME_SLACK_S

    @property
    def deadline_s(self) -> float:
        return self.run_time_s + START_SLACK_S

    def argv(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(PLAIN_LOCUSTFILE),
            "--headless",
            "--host",
            self.base_url,
            "--users",
            str(self.users),
            "--spawn-rate",
            str(self.users * 100),  # all at once: -t counts spawning as run time
            "--run-time",
            f"{self.run_time_s}s",
            "--stop-timeout",
            "0",
            "--only-summary",
            "--csv",
            str(self.run_dir / CSV_PREFIX),
            "--loglevel",
            "INFO",
            "--logfile",
            str(self.run_dir / LOG_FILE),
            "--tokens-file",
            str(self.tokens_file),
            "--warmup-s",
            str(self.warmup_s),
        ]

    def child_spec(self) -> ChildSpec:
        return ChildSpec(
            name="plain locust",
            argv=tuple(self.argv()),
            environment=child_environment(
                {"PYTHONUNBUFFERED": "1"}, bin_dirs=[str(Path(sys.executable).parent)]
            ),
            log_path=self.run_dir / "locust.out",
            cwd=PROJECT_DIR,
            cpus=self.cpus,
            stop_grace_s=10.0,
        )


@dataclass(frozen=True)
class PlainLocustRun:
    """What one plain-Locust side measured, and when its window was (epoch seconds)."""

    exit_code: int
    figures: WindowFigures
    window_started_at: float
    window_s: float

    @property
    def window_ended_at(self) -> float:
        return self.window_started_at + self.window_s


def logged_moment(log_text: str, marker: str) -> float | None:
    """The epoch time the locustfile logged after `marker` (the last such line), if any."""
    found = re.findall(re.escape(marker) + r" (\d+(?:\.\d+)?)", log_text)
    return float(found[-1]) if found else None


def read_plain_run(request: PlainLocustRequest, exit_code: int) -> PlainLocustRun:
    """The side's figures from Locust's files; PlainLocustError when a part is missing."""
    stats_csv = request.run_dir / f"{CSV_PREFIX}_stats.csv"
    if not stats_csv.exists():
        raise PlainLocustError(f"Locust (exit status {exit_code}) wrote no {stats_csv.name}")
    log = request.run_dir / LOG_FILE
    text = log.read_text(errors="replace") if log.exists() else ""
    started, stopped = logged_moment(text, WINDOW_MARKER), logged_moment(text, STOP_MARKER)
    if started is None or stopped is None or stopped <= started:
        raise PlainLocustError(
            f"Locust (exit status {exit_code}) logged no window: statistics reset at "
            f"{started}, stopped at {stopped}"
        )
    figures = read_locust_window(stats_csv)[0]
    if figures.requests == 0:
        raise PlainLocustError("no request completed in the window")
    window_s = stopped - started
    figures = replace(figures, rps=figures.requests / window_s)
    return PlainLocustRun(exit_code, figures, started, window_s)


def run_plain_locust(
    request: PlainLocustRequest, on_started: Callable[[int], None] | None = None
) -> PlainLocustRun:
    """Run plain Locust to completion and read its window. TimeoutError past the
    deadline; Locust is stopped, whatever happens, before this returns or raises."""
    request.run_dir.mkdir(parents=True, exist_ok=True)
    child = ManagedChild.start(request.child_spec())
    try:
        if on_started is not None:
            on_started(child.pid)
        end = time.monotonic() + request.deadline_s
        exit_code = None
        while exit_code is None and time.monotonic() < end:
            exit_code = child.wait(0.5)
        if exit_code is None:
            raise TimeoutError(f"plain Locust did not finish within {request.deadline_s:.0f} s")
    finally:
        child.stop()
    return read_plain_run(request, exit_code)
