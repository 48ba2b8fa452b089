"""One server session: the part of a measurement every command shares.

bench, calibrate (and anything later: the lesson, profiles) take a measurement the same way:
a fresh copy of the prepared database, the server launched through the supervisor, the
response check before any load, then the caller's load, and always the stop, with the
database copy removed. Failures and interrupts end a session the same way everywhere:
`ending()` turns what was raised into a status and a one-line reason.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from loadtests.scenarios import Scenario
from scripts.harness.preflight import check_responses
from scripts.records.schema import Status
from servers.app import AppCommandError, SeedPlan
from servers.child import StopReport
from servers.supervisor import LaunchRequest, RunningServer, ServerStartError, start, stop

INTERRUPTED = "interrupted by the user (SIGINT/SIGTERM)"


class SessionFailedError(RuntimeError):
    """The session cannot go on (the response check failed, a side produced nothing); the
    message is the run's reason."""


# What ends a session as `failed` with the error's own message as the reason.
EXPECTED_FAILURES = (
    SessionFailedError,
    ServerStartError,
    AppCommandError,
    OSError,
    TimeoutError,
    ValueError,
)


def ending(error: BaseException) -> tuple[Status, str]:
    """The status and reason a session that raised `error` is recorded with. The caller
    re-raises anything not in EXPECTED_FAILURES after recording it (an interrupt must still
    end the command; a bug should show its traceback)."""
    if isinstance(error, KeyboardInterrupt):
        return Status.FAILED, INTERRUPTED
    if isinstance(error, EXPECTED_FAILURES):
        return Status.FAILED, str(error)
    return Status.FAILED, f"internal error: {type(error).__name__}: {error}"


@dataclass
class PhaseTimer:
    """Seconds spent in each named phase (prepare, start, check, load, stop, ...)."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.monotonic() - started


@dataclass(frozen=True)
class SessionPlan:
    """What one session needs: the launch, where the fresh database copy goes (None when
    the launch's database needs no copy), and what the response check uses."""

    launch: LaunchRequest
    seed: SeedPlan
    scenario: Scenario
    template_db: Path | None = None
    db_path: Path | None = None


@dataclass
class ServerSession:
    """A context manager: entering copies the database, starts the server and checks its
    answers (raising SessionFailedError or ServerStartError); leaving always stops it. A
    stop that leaves something behind does not hide the error that ended the block: it is
    kept in `stop_problem` for the caller to add to its reason."""

    plan: SessionPlan
    timer: PhaseTimer = field(default_factory=PhaseTimer)
    server: RunningServer | None = None
    stop_report: StopReport | None = None
    stop_problem: str | None = None

    def __enter__(self) -> RunningServer:
        try:
            self._prepare()
            with self.timer.phase("start"):
                self.server = start(self.plan.launch)
            with self.timer.phase("check"):
                problems = check_responses(
                    self.server.base_url,
                    self.plan.scenario,
                    self.plan.seed.username(1),
                    self.plan.seed.password,
                )
            if problems:
                raise SessionFailedError("response check failed: " + "; ".join(problems[:5]))
        except BaseException:
            self._finish()
            raise
        return self.server

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._finish()

    def _prepare(self) -> None:
        if self.plan.template_db is None or self.plan.db_path is None:
            return
        with self.timer.phase("prepare"):
            shutil.copyfile(self.plan.template_db, self.plan.db_path)

    def _finish(self) -> None:
        """Stop the server (if it started) and remove the database copy; never raises."""
        try:
            if self.server is not None and not self.server.stopped:
                with self.timer.phase("stop"):
                    try:
                        self.stop_report = stop(self.server)
                    except Exception as error:  # recorded: the run says what survived
                        self.stop_problem = str(error)
        finally:
            self._remove_database()

    def _remove_database(self) -> None:
        if self.plan.db_path is None or self.plan.template_db is None:
            return
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.plan.db_path}{suffix}").unlink(missing_ok=True)
