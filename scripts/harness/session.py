"""One server session: the part of a measurement every command shares.

bench, calibrate (and anything later: the lesson, profiles) take a measurement the same way:
a fresh copy of the prepared database, the server launched through the supervisor, the
response check before any load, then the caller's load, and always the stop, with the
database copy removed. Failures and interrupts end a session the same way everywhere:
`ending()` turns what was raised into a status and a one-line reason.

A session may deploy more than the server (issue 19's production profile): a PostgreSQL
(the harness's own cluster, or an external one) started before the server, and nginx in
front started after it, listening where the server would have, so the session's base_url
becomes nginx's. They stop in reverse: nginx, the server, the database. What meta.json
records of them is `ServerSession.deployment`; `watched()` names the process trees to
sample, by role.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType

from loadtests.scenarios import Scenario
from scripts.harness.preflight import check_responses
from scripts.options.stop_signals import interrupt_reason
from scripts.records.schema import Status
from servers.app import AppCommandError, SeedPlan, collect_static
from servers.child import StopReport
from servers.nginx import (
    NginxConfig,
    ProxyFacts,
    ProxyPlan,
    ProxyStartError,
    ProxyUnavailableError,
    ProxyWorkspace,
    RunningProxy,
    Upstream,
    nginx_binary,
    start_proxy,
)
from servers.ports import free_port
from servers.postgres import (
    DatabaseFacts,
    DatabasePlan,
    DatabaseStartError,
    DatabaseUnavailableError,
    PostgresBinaries,
    ProvisionedDatabase,
    ServerLoad,
    provision,
)
from servers.stop_guard import stop_guard
from servers.supervisor import LaunchRequest, RunningServer, ServerStartError, start, stop


class SessionFailedError(RuntimeError):
    """The session cannot go on (the response check failed, a side produced nothing); the
    message is the run's reason."""


# What ends a session as `failed` with the error's own message as the reason.
EXPECTED_FAILURES = (
    SessionFailedError,
    ServerStartError,
    ProxyUnavailableError,
    ProxyStartError,
    DatabaseUnavailableError,
    DatabaseStartError,
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
        return Status.FAILED, interrupt_reason(error)
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
    the launch's database needs no copy), what the response check uses, and optionally a
    PostgreSQL (`database`, which replaces the SQLite copy) and nginx in front (`proxy`)."""

    launch: LaunchRequest
    seed: SeedPlan
    scenario: Scenario
    template_db: Path | None = None
    db_path: Path | None = None
    proxy: ProxyPlan | None = None
    database: DatabasePlan | None = None


@dataclass(frozen=True)
class DeploymentFacts:
    """What meta.json records of a session's deployment beyond the server: nginx (version,
    config text, upstream) and PostgreSQL (version, settings, pool size, whether its CPU was
    observed); None where the session has none. `server_argv` is the server's real command
    line (behind nginx it binds a Unix socket, not the launch's port)."""

    server_argv: tuple[str, ...]
    proxy: ProxyFacts | None = None
    database: DatabaseFacts | None = None

    def as_meta(self) -> dict[str, object]:
        return {
            "server_argv": list(self.server_argv),
            "proxy": self.proxy.as_meta() if self.proxy else None,
            "database": self.database.as_meta() if self.database else {"engine": "sqlite"},
        }


@dataclass
class ServerSession:
    """A context manager: entering copies the database (or provisions PostgreSQL), starts
    the server (and nginx in front) and checks its answers (raising SessionFailedError or
    ServerStartError...); leaving always stops everything. A stop that leaves something
    behind does not hide the error that ended the block: it is kept in `stop_problem` for
    the caller to add to its reason."""

    plan: SessionPlan
    timer: PhaseTimer = field(default_factory=PhaseTimer)
    server: RunningServer | None = None
    proxy: RunningProxy | None = None
    database: ProvisionedDatabase | None = None
    workspace: ProxyWorkspace | None = None
    stop_report: StopReport | None = None
    stop_problem: str | None = None

    def __enter__(self) -> RunningServer:
        try:
            self._require_system_binaries()
            launch = self._prepare()
            with self.timer.phase("start"):
                self.server = start(self._behind_proxy(launch))
                if self.plan.proxy is not None:
                    self.proxy = self._start_proxy(launch, self.server, self.plan.proxy)
                    self.server.front_url = self.proxy.base_url
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

    @property
    def deployment(self) -> DeploymentFacts:
        """The deployment as it ran (call once the session has started)."""
        if self.server is None:
            raise RuntimeError("the session has not started a server")
        return DeploymentFacts(
            server_argv=tuple(self.server.argv),
            proxy=self.proxy.facts if self.proxy else None,
            database=self.database.facts if self.database else None,
        )

    def watched(self) -> dict[str, int]:
        """Role -> session id of every process tree the deployment runs on this machine, for
        ResourceSampler.watch: server, proxy, and database (the harness's own cluster only;
        an external server's CPU is not observed)."""
        roles: dict[str, int] = {}
        if self.server is not None:
            roles["server"] = self.server.pid
        if self.proxy is not None:
            roles["proxy"] = self.proxy.pid
        if self.database is not None and self.database.cluster is not None:
            roles["database"] = self.database.cluster.pid
        return roles

    def _require_system_binaries(self) -> None:
        """One line saying how to install nginx or PostgreSQL, before anything starts."""
        if self.plan.proxy is not None:
            nginx_binary()
        if self.plan.database is not None and self.plan.database.external_url is None:
            PostgresBinaries.find()

    def _prepare(self) -> LaunchRequest:
        """The database (a SQLite copy, or PostgreSQL), the proxy's workspace with the
        collected static files, and the launch that uses that database."""
        launch = self.plan.launch
        with self.timer.phase("prepare"):
            if self.plan.database is not None:
                self.database = provision(
                    self.plan.database,
                    launch.app,
                    self.plan.seed,
                    ServerLoad(launch.workers, launch.threads, launch.spec.threads_supported),
                    cpus=launch.cpus,
                    log_dir=launch.log_path.parent,
                )
                launch = replace(launch, app=self.database.app_settings(launch.app))
            elif self.plan.template_db is not None and self.plan.db_path is not None:
                shutil.copyfile(self.plan.template_db, self.plan.db_path)
            if self.plan.proxy is not None:
                self.workspace = ProxyWorkspace.create()
                collect_static(launch.app, self.workspace.static_root)
        return launch

    def _behind_proxy(self, launch: LaunchRequest) -> LaunchRequest:
        """Without a proxy, the launch itself; with one, the server on a Unix socket in the
        proxy's workspace where it supports one, else on another loopback port."""
        if self.workspace is None:
            return launch
        if launch.spec.unix_socket is not None:
            return replace(launch, socket_path=self.workspace.socket_path)
        return replace(launch, port=free_port(launch.host))

    def _start_proxy(
        self, launch: LaunchRequest, server: RunningServer, plan: ProxyPlan
    ) -> RunningProxy:
        assert self.workspace is not None
        behind = server.request
        upstream = (
            Upstream(socket_path=behind.socket_path)
            if behind.socket_path is not None
            else Upstream(host=behind.host, port=behind.port)
        )
        cpus = launch.cpus
        config = NginxConfig(
            listen_host=launch.host,
            listen_port=launch.port,
            upstream=upstream,
            static_root=self.workspace.static_root,
            temp_root=self.workspace.temp_root,
            run_dir=launch.log_path.parent,
            worker_processes=plan.worker_processes or (len(cpus) if cpus else 1),
            limits=plan.limits,
        )
        return start_proxy(config, cpus=cpus)

    def _finish(self) -> None:
        """Stop nginx, the server and the database (in that order, each whatever the others
        did), remove the workspace and the database copy. Never raises, except that a
        Ctrl-C (or TERM, HUP) that came during it is deferred until all of that is done, as
        one guard for the whole deployment (servers/stop_guard.py), then takes effect."""
        with stop_guard(self.plan.launch.spec.name):
            self._stop_all()

    def _stop_all(self) -> None:
        problems: list[str] = []
        with self.timer.phase("stop"):
            if self.proxy is not None and self.proxy.child.last_stop is None:
                _attempt(problems, "nginx", self.proxy.stop, self._leftovers)
            server = self.server
            if server is not None and not server.stopped:
                self.stop_report = _attempt(problems, "server", lambda: stop(server))
            if self.database is not None:
                database = self.database
                _attempt(problems, "postgres", database.close, self._leftovers)
                problems.extend(database.problems)
                database.problems.clear()
        if self.workspace is not None:
            self.workspace.remove()
        self._remove_database()
        if problems:
            self.stop_problem = "; ".join(filter(None, [self.stop_problem, *problems]))

    @staticmethod
    def _leftovers(name: str, report: StopReport | None) -> str | None:
        if report is not None and report.leftovers:
            return f"{name}: processes {list(report.leftovers)} survived SIGKILL"
        return None

    def _remove_database(self) -> None:
        if self.plan.db_path is None or self.plan.template_db is None:
            return
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.plan.db_path}{suffix}").unlink(missing_ok=True)


def _attempt(
    problems: list[str],
    name: str,
    action: Callable[[], StopReport | None],
    judge: Callable[[str, StopReport | None], str | None] | None = None,
) -> StopReport | None:
    """Run one stop; what went wrong becomes a line in `problems` instead of an exception."""
    try:
        report = action()
    except Exception as error:  # recorded: the run says what survived
        problems.append(str(error))
        return None
    verdict = judge(name, report) if judge else None
    if verdict:
        problems.append(verdict)
    return report
