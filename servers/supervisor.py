"""The one process supervisor every server runs under.

Start: refuse a busy port (or an existing socket file), launch the server as the leader of a
new session with its output in a log file (an unread pipe would block a chatty server), and
call it ready only when /healthz answers 200 with the expected body (an open port is not
readiness) before a deadline, failing fast, with the log's tail, if the process dies first.
Stop: the spec's stop signal to the group, then SIGKILL to the whole session after a grace
period (servers.child.ManagedChild does both); then confirm that no process of the session
remains and the port is free. Behind a proxy a server may listen on a Unix socket instead
(`LaunchRequest.socket_path`); it is then checked for readiness over that socket.

A /healthz answer on a TCP port counts only when the listening socket is the server's own
(servers/listeners.py): another process can take the port between the free-port check and
the server's bind, and would otherwise be measured in its place. The Unix socket lives in a
fresh private workspace and is refused if it already exists, so no one else can hold it.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from servers.app import AppSettings
from servers.child import ChildLaunchError, ChildSpec, ManagedChild, StopReport
from servers.http import request_json, request_json_unix
from servers.listeners import foreign_listener
from servers.ports import port_is_free, wait_port_free
from servers.registry import SAMPLEAPP_DIR, ServerSpec
from servers.stop_guard import stop_guard

HEALTH_PATH = "/healthz"
LOG_TAIL_LINES = 25


class ServerStartError(RuntimeError):
    """The server could not be started or never became ready."""


class PortInUseError(ServerStartError):
    """The port was taken before launch; nothing was started."""


class ServerStopError(RuntimeError):
    """Processes or the listening socket outlived the stop sequence."""


@dataclass(frozen=True)
class LaunchRequest:
    """Everything needed to start one server process tree."""

    spec: ServerSpec
    app: AppSettings
    host: str
    port: int
    workers: int
    threads: int
    log_path: Path
    startup_deadline_s: float | None = None
    cpus: tuple[int, ...] | None = None
    socket_path: Path | None = None  # listen here instead of host:port (behind a proxy)
    max_requests: int | None = None  # replace each worker after this many (MAX_REQUESTS)

    @property
    def argv(self) -> list[str]:
        python = Path(sys.executable)
        return self.spec.argv(
            bin_dir=python.parent,
            python=python,
            host=self.host,
            port=self.port,
            workers=self.workers,
            threads=self.threads,
            socket_path=self.socket_path,
            max_requests=self.max_requests,
        )

    @property
    def base_url(self) -> str:
        """Where the server listens; a Unix socket is named http+unix://<quoted path>, which
        says where but is no URL that urllib can open."""
        if self.socket_path is not None:
            return "http+unix://" + urllib.parse.quote(str(self.socket_path), safe="")
        return f"http://{self.host}:{self.port}"

    def healthy(self) -> bool:
        """True when the server answers /healthz as expected, on its socket or its port."""
        if self.socket_path is None:
            return health_check(self.base_url)
        try:
            response = request_json_unix(self.socket_path, "GET", HEALTH_PATH, timeout_s=1.0)
        except OSError:
            return False
        return _healthy_answer(response.status, response.body)

    def child_spec(self) -> ChildSpec:
        """The server as a managed child: the app's explicit environment (plus any import
        directories the spec adds), its log, its CPUs and its stop signal and grace."""
        environment = self.app.environ()
        if self.spec.python_path:
            environment["PYTHONPATH"] = ":".join(
                [*self.spec.python_path, environment["PYTHONPATH"]]
            )
        return ChildSpec(
            name=self.spec.name,
            argv=tuple(self.argv),
            environment=environment,
            log_path=self.log_path,
            cwd=SAMPLEAPP_DIR,
            cpus=self.cpus,
            stop_signal=self.spec.stop_signal,
            stop_grace_s=self.spec.stop_grace_s,
            stop_signal_to_group=not self.spec.stop_master_only,
        )


@dataclass
class RunningServer:
    """A started server; `stop` it (or use `supervised`) to end it."""

    request: LaunchRequest
    child: ManagedChild
    argv: list[str]
    ready_after_s: float
    stopped: bool = field(default=False)
    front_url: str | None = None  # a proxy's URL once one serves this server

    @property
    def pid(self) -> int:
        return self.child.pid

    @property
    def process(self) -> subprocess.Popen[bytes]:
        return self.child.process

    @property
    def base_url(self) -> str:
        """Where clients reach the server: its proxy's URL when it has one."""
        return self.front_url or self.request.base_url

    def members(self) -> list[int]:
        """Live pids of the server's process tree (its session)."""
        return self.child.members()


_EXCEPTION_LINE = re.compile(r"^\s*[\w.]*(Error|Exception|Exit)\b[^:]*: .+")


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The first exception line of a log (the cause, which a long traceback can push out of
    view) followed by the log's last `lines` lines, indented for error messages."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "    (no log written)"
    all_lines = text.splitlines()
    if not all_lines:
        return "    (log is empty)"
    cause = next((line.strip() for line in all_lines if _EXCEPTION_LINE.match(line)), None)
    excerpt = [f"    {line}" for line in all_lines[-lines:]]
    if cause is not None:
        excerpt.insert(0, f"    first error: {cause}")
    return "\n".join(excerpt)


def health_check(base_url: str, timeout_s: float = 1.0) -> bool:
    """True when /healthz answers 200 with {"status": "ok"}."""
    try:
        response = request_json("GET", base_url + HEALTH_PATH, timeout_s=timeout_s)
    except OSError:
        return False
    return _healthy_answer(response.status, response.body)


def _healthy_answer(status: int, body: object) -> bool:
    return status == 200 and isinstance(body, dict) and body.get("status") == "ok"


def start(request: LaunchRequest) -> RunningServer:
    """Launch and wait for readiness; ServerStartError (after cleaning up) if it fails."""
    spec = request.spec
    if request.socket_path is not None and request.socket_path.exists():
        raise PortInUseError(
            f"{request.socket_path} already exists; not starting {spec.name} on it"
        )
    if request.socket_path is None and not port_is_free(request.host, request.port):
        raise PortInUseError(
            f"port {request.port} on {request.host} is already in use; "
            f"not starting {spec.name} (choose another PORT)"
        )
    deadline_s = request.startup_deadline_s or spec.startup_deadline_s
    started = time.monotonic()
    try:
        child = ManagedChild.start(request.child_spec())
    except ChildLaunchError as error:
        raise ServerStartError(str(error)) from error
    server = RunningServer(request=request, child=child, argv=request.argv, ready_after_s=0.0)
    try:
        _wait_ready(server, deadline_s, started)
    except BaseException:
        stop(server, check=False)
        raise
    server.ready_after_s = time.monotonic() - started
    return server


def _wait_ready(server: RunningServer, deadline_s: float, started: float) -> None:
    name = server.request.spec.name
    while True:
        status = server.process.poll()
        if status is not None:
            raise ServerStartError(
                f"{name} exited with status {status} before it was ready; "
                f"last lines of {server.request.log_path}:\n{log_tail(server.request.log_path)}"
            )
        if server.request.healthy():
            problem = _listener_problem(server)
            if problem is None:
                return
            if not problem.startswith("nothing listens"):
                raise ServerStartError(
                    f"{name} is not what answers on port {server.request.port}: {problem} "
                    "(it took the port between our free-port check and the server's bind); "
                    "not measuring it"
                )
        if time.monotonic() - started > deadline_s:
            raise ServerStartError(
                f"{name} did not answer 200 on {HEALTH_PATH} within {deadline_s:.0f} s; "
                f"last lines of {server.request.log_path}:\n{log_tail(server.request.log_path)}"
            )
        time.sleep(0.1)


def _listener_problem(server: RunningServer) -> str | None:
    """None when the server's own tree holds every socket listening on its port (or it
    listens on a Unix socket); else what listens there instead."""
    request = server.request
    if request.socket_path is not None:
        return None
    return foreign_listener(server.members(), request.host, request.port)


def stop(server: RunningServer, *, check: bool = True) -> StopReport:
    """Stop the whole process tree and confirm it is gone and the port is free.

    With check=True, a ServerStopError is raised if anything outlived the sequence (after
    everything possible was killed); with check=False the stop is best effort and silent.
    """
    spec = server.request.spec
    with stop_guard(spec.name):
        report = server.child.stop()
        server.stopped = True
        port_free = server.request.socket_path is not None or wait_port_free(
            server.request.host, server.request.port, deadline_s=5
        )
    if check and report.leftovers:
        raise ServerStopError(f"{spec.name}: processes {list(report.leftovers)} survived SIGKILL")
    if check and not port_free:
        raise ServerStopError(f"{spec.name}: port {server.request.port} still in use after stop")
    return report


@contextmanager
def supervised(request: LaunchRequest) -> Iterator[RunningServer]:
    """Start a server and always stop it, whatever happens inside the block."""
    server = start(request)
    try:
        yield server
    finally:
        if not server.stopped:
            stop(server, check=False)
