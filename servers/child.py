"""The one managed child process: every server, Locust, wrk (and later nginx) runs as one.

A child is launched with an explicit environment (never the caller's whole environment: a
stray LOCUST_* or DJANGO_* variable in a user's shell must not change what is measured), its
output in a log file (an unread pipe blocks a chatty child), as the leader of a new session
(so a Ctrl-C in the terminal reaches only the harness, and the whole tree can be found and
signalled later), pinned to its CPUs and set to die with the harness.

CPU pinning and the parent-death signal are argv wrappers from util-linux (`taskset`,
`setpriv --pdeathsig`), not a `preexec_fn`: Python documents `preexec_fn` as unsafe once the
parent has threads, and the harness's sampler thread runs while Locust is launched. Both
wrappers exec the real command, so the child's pid is the command's pid. The parent-death
signal fires when the *thread* that launched the child exits, so launch from a thread that
lives as long as the child (the main thread). A child that must run as another user (the
harness's PostgreSQL: it refuses root) switches in the same `setpriv` call: the kernel clears
the parent-death signal whenever a process changes its user id, and setpriv sets the signal
after the switch, so a second, inner setpriv would silently undo it.

Stop: the child's stop signal to its process group, a grace period, then SIGKILL to every
member of its tree, then a wait until none is left; the child is always reaped. The tree is
also remembered as it was when the stop began: a descendant in a session of its own whose
parent exited is reparented, and would otherwise escape. Each child is recorded in the
machine's state directory while it runs (servers/pid_records.py), so that what a harness
killed with SIGKILL left behind can be found and stopped by the next bench.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from servers.pid_records import forget, record_child
from servers.process_group import (
    kill_session,
    signal_group,
    snapshot,
    survivors,
    tree_members,
)
from servers.stop_guard import StopGuard, stop_guard

# The variables a child may inherit from the harness; everything else is set explicitly.
INHERITED_VARIABLES = ("HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER", "LOGNAME")
LEFTOVER_DEADLINE_S = 5.0


class ChildLaunchError(RuntimeError):
    """The command could not be started at all (missing binary, bad working directory)."""


def child_environment(extra: Mapping[str, str], *, bin_dirs: Sequence[str] = ()) -> dict[str, str]:
    """A complete environment for a child: a fixed PATH (the given directories first), the few
    harmless variables of INHERITED_VARIABLES, and `extra` (which wins)."""
    path = [*bin_dirs, "/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"]
    environment = {"PATH": ":".join(dict.fromkeys(path)), "LANG": "C.UTF-8"}
    environment.update(
        {name: os.environ[name] for name in INHERITED_VARIABLES if name in os.environ}
    )
    environment.update(extra)
    return environment


def wrapped_argv(
    argv: Sequence[str],
    *,
    cpus: tuple[int, ...] | None,
    die_with_parent: bool,
    run_as: str | None = None,
) -> list[str]:
    """`argv` behind the util-linux wrappers that pin it, run it as `run_as` (when given) and
    tie its life to ours; one setpriv does both of the latter (see the module docstring)."""
    wrapped = list(argv)
    if cpus:
        wrapped = [_tool("taskset"), "--cpu-list", ",".join(map(str, cpus)), *wrapped]
    privileges = user_switch_flags(run_as) if run_as is not None else []
    if die_with_parent:
        privileges += ["--pdeathsig", "KILL"]
    if privileges:
        wrapped = [_tool("setpriv"), *privileges, *wrapped]
    return wrapped


def user_switch_flags(user: str) -> list[str]:
    """setpriv's flags to become `user` (its uid, primary group and supplementary groups);
    none when we already are that user. ChildLaunchError when the user does not exist or we
    lack the right to switch."""
    try:
        account = pwd.getpwnam(user)
    except KeyError:
        raise ChildLaunchError(f"cannot run as {user!r}: no such user on this machine") from None
    if account.pw_uid == os.geteuid():
        return []
    if os.geteuid() != 0:
        raise ChildLaunchError(f"cannot run as {user!r}: switching users needs root")
    return [f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--init-groups"]


def _tool(name: str) -> str:
    found = shutil.which(name, path="/usr/bin:/bin:/usr/sbin:/sbin")
    if found is None:
        raise ChildLaunchError(f"{name} (util-linux) is missing; install util-linux")
    return found


def _require_executable(spec: ChildSpec) -> None:
    """Behind the wrappers a missing command shows only as exit status 127 of setpriv or
    taskset, later; look it up first so it fails at once, with its name."""
    command = spec.argv[0]
    if "/" in command:
        found = Path(command) if spec.cwd is None else (spec.cwd / command)
        ok = found.is_file() and os.access(found, os.X_OK)
    else:
        ok = shutil.which(command, path=spec.environment.get("PATH", "")) is not None
    if not ok:
        raise ChildLaunchError(
            f"{spec.name} could not be launched: {command} not found or not executable"
        )


@dataclass(frozen=True)
class ChildSpec:
    """Everything needed to launch one child and to stop it again."""

    name: str
    argv: tuple[str, ...]
    environment: Mapping[str, str]
    log_path: Path
    cwd: Path | None = None
    cpus: tuple[int, ...] | None = None
    stop_signal: signal.Signals = signal.SIGTERM
    stop_grace_s: float = 10.0
    # the stop signal goes to the whole process group, as a terminal's Ctrl-C would; False:
    # to the child alone, for a master that stops its workers itself (uWSGI's workers exit
    # at once on TERM, so a signal to the group would cut their requests)
    stop_signal_to_group: bool = True
    die_with_parent: bool = True
    run_as: str | None = None  # a user name; None: the harness's own user


@dataclass(frozen=True)
class StopReport:
    """How a stop went: the exit status (None if it could not be reaped), how long the stop
    took, whether SIGKILL was needed, and any pids that outlived everything."""

    exit_code: int | None
    stop_s: float
    killed: bool
    leftovers: tuple[int, ...] = ()


@dataclass
class ManagedChild:
    """A launched child; `stop` it, or use it as a context manager."""

    spec: ChildSpec
    process: subprocess.Popen[bytes]
    started_at: float
    last_stop: StopReport | None = field(default=None)
    record_path: Path | None = field(default=None)  # servers/pid_records.py

    @classmethod
    def start(cls, spec: ChildSpec) -> ManagedChild:
        """Launch `spec`; ChildLaunchError when the command cannot be executed."""
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        _require_executable(spec)
        argv = wrapped_argv(
            spec.argv, cpus=spec.cpus, die_with_parent=spec.die_with_parent, run_as=spec.run_as
        )
        with spec.log_path.open("ab") as log:
            try:
                process = subprocess.Popen(
                    argv,
                    cwd=spec.cwd,
                    env=dict(spec.environment),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as error:
                raise ChildLaunchError(
                    f"{spec.name} could not be launched ({spec.argv[0]}): {error}"
                ) from error
        record = record_child(spec.name, process.pid, spec.argv)
        return cls(spec=spec, process=process, started_at=time.monotonic(), record_path=record)

    @property
    def pid(self) -> int:
        """The child's pid, which is also its session id and process group id."""
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    @property
    def exit_code(self) -> int | None:
        return self.process.poll()

    def members(self) -> list[int]:
        """Live pids of the child's whole tree (its session and every descendant)."""
        return tree_members(self.pid)

    def wait(self, timeout_s: float) -> int | None:
        """The exit status once the child exits within `timeout_s`, else None."""
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, grace_s: float | None = None) -> StopReport:
        """Stop signal to the group, `grace_s` (default: the spec's) for the whole tree to
        exit, then SIGKILL to every member; always reaps the child. Safe to call twice.
        A Ctrl-C during the stop does not cut it short (servers/stop_guard.py); a second
        one ends the grace period at once."""
        if self.last_stop is not None and not self.members() and not self.running:
            return self.last_stop
        with stop_guard(self.spec.name) as guard:
            report = self._stop(self.spec.stop_grace_s if grace_s is None else grace_s, guard)
        return report

    def _stop(self, grace: float, guard: StopGuard) -> StopReport:
        started = time.monotonic()
        killed = False
        known = snapshot(self.members())

        def remaining() -> list[int]:
            return sorted(set(self.members()) | set(survivors(known)))

        def kill_all() -> None:
            kill_session(self.pid)
            for pid in survivors(known):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

        if self.running and self.spec.stop_signal_to_group:
            signal_group(self.pid, self.spec.stop_signal)
        elif self.running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, self.spec.stop_signal)
        grace_end = started + grace
        while time.monotonic() < grace_end and not guard.abort_requested:
            if not self.running and not remaining():
                break
            time.sleep(0.05)
        else:
            killed = bool(self.running or remaining())
            kill_all()
        exit_code = self.wait(LEFTOVER_DEADLINE_S)
        leftovers_end = time.monotonic() + LEFTOVER_DEADLINE_S
        while remaining() and time.monotonic() < leftovers_end:
            kill_all()
            time.sleep(0.05)
        report = StopReport(
            exit_code=exit_code,
            stop_s=time.monotonic() - started,
            killed=killed,
            leftovers=tuple(remaining()),
        )
        self.last_stop = report
        if not report.leftovers:
            forget(self.record_path)
        return report

    def __enter__(self) -> ManagedChild:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
