"""nginx in front of a server, as people deploy Django: PROXY=nginx.

Gunicorn's deployment docs require a buffering proxy in front of its sync workers: without
one a handful of slow clients hold every worker. nginx reads each request whole before it
passes it on (client header and body timeouts bound the slow ones, a body limit the large
ones), keeps connections to the server alive, and serves /static/ itself from the
`collectstatic` copy, so the app's workers never see those requests.

Debian's nginx (`make system-deps`) runs here as a managed child like the servers: its own
config generated per run (written into the run directory and recorded in meta.json), `-g
'daemon off;'` so it stays in our session, pinned to the server's CPUs, and ready once
/healthz answers through it. Started by root, nginx runs its workers as its compiled-in user
(`nobody` on Debian), so everything the workers touch, the upstream socket, the static copy
and the temporary directories, lives in a short-named workspace under the system's
temporary directory that any user can traverse; the master alone writes the config, the pid
file and the error log in the run directory. A short name also keeps the socket's path under
the kernel's limit of 107 bytes, which a results directory could exceed.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from servers.child import ChildLaunchError, ChildSpec, ManagedChild, StopReport, child_environment
from servers.listeners import foreign_listener
from servers.ports import port_is_free
from servers.supervisor import health_check, log_tail

NGINX_SEARCH_PATH: Final = "/usr/sbin:/usr/local/sbin:/usr/bin:/usr/local/bin"
INSTALL_HINT: Final = "install it with `make system-deps` (Debian package nginx-light)"
STATIC_URL: Final = "/static/"
READY_DEADLINE_S: Final = 15.0
# The few types our static files use; nginx's own mime.types would tie the config to /etc.
MIME_TYPES: Final = (
    ("application/json", "json"),
    ("text/css", "css"),
    ("application/javascript", "js"),
    ("text/plain", "txt"),
    ("image/svg+xml", "svg"),
    ("image/png", "png"),
)
TEMP_KINDS: Final = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


class ProxyUnavailableError(RuntimeError):
    """nginx is not installed; the message is one line that says how to install it."""


class ProxyStartError(RuntimeError):
    """nginx exited or never answered /healthz; the message carries its log's tail."""


def nginx_binary(search_path: str | None = None) -> Path:
    """The nginx executable on `search_path` (default NGINX_SEARCH_PATH, read at the call);
    ProxyUnavailableError (one line) when there is none."""
    found = shutil.which("nginx", path=NGINX_SEARCH_PATH if search_path is None else search_path)
    if found is None:
        raise ProxyUnavailableError(f"PROXY=nginx: nginx is not installed; {INSTALL_HINT}")
    return Path(found)


def nginx_version(binary: Path) -> str:
    """'1.22.1' from `nginx -v` (which prints "nginx version: nginx/1.22.1" on stderr)."""
    done = subprocess.run(
        [str(binary), "-v"], capture_output=True, text=True, timeout=10, check=False
    )
    text = (done.stderr or done.stdout).strip()
    return text.rsplit("/", 1)[-1] if "/" in text else text


@dataclass(frozen=True)
class NginxLimits:
    """What bounds slow and large clients, and the upstream connection pool."""

    client_header_timeout_s: int = 10
    client_body_timeout_s: int = 10
    client_max_body_size: str = "1m"
    client_keepalive_timeout_s: int = 65
    upstream_keepalive: int = 32
    worker_connections: int = 1024


@dataclass(frozen=True)
class ProxyPlan:
    """PROXY=nginx for a session: nginx listens where the server would have (the launch's
    host and port) and the server moves behind it, to a Unix socket where it supports one.
    `worker_processes` None: one per server CPU."""

    limits: NginxLimits = NginxLimits()
    worker_processes: int | None = None


@dataclass(frozen=True)
class Upstream:
    """Where nginx finds the server: a Unix socket where the server supports one, loopback
    TCP otherwise."""

    socket_path: Path | None = None
    host: str = "127.0.0.1"
    port: int | None = None

    def __post_init__(self) -> None:
        if (self.socket_path is None) == (self.port is None):
            raise ValueError("an upstream is a Unix socket or a TCP port, exactly one")

    @property
    def address(self) -> str:
        """The `server` directive's address: unix:/path or host:port."""
        if self.socket_path is not None:
            return f"unix:{self.socket_path}"
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class ProxyWorkspace:
    """The directory nginx's workers (user nobody) touch: the upstream socket, the static
    copy and the temporary paths. Created 0755 under the system's temporary directory."""

    root: Path

    @classmethod
    def create(cls) -> ProxyWorkspace:
        root = Path(tempfile.mkdtemp(prefix="drfb-nginx-"))
        root.chmod(0o755)
        (root / "temp").mkdir(mode=0o755)
        return cls(root=root)

    @property
    def socket_path(self) -> Path:
        return self.root / "upstream.sock"

    @property
    def static_root(self) -> Path:
        return self.root / "static"

    @property
    def temp_root(self) -> Path:
        return self.root / "temp"

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass(frozen=True)
class NginxConfig:
    """One run's nginx configuration; `render()` is the file's text."""

    listen_host: str
    listen_port: int
    upstream: Upstream
    static_root: Path
    temp_root: Path
    run_dir: Path
    worker_processes: int
    limits: NginxLimits = NginxLimits()

    @property
    def config_path(self) -> Path:
        return self.run_dir / "nginx.conf"

    @property
    def pid_path(self) -> Path:
        return self.run_dir / "nginx.pid"

    @property
    def log_path(self) -> Path:
        """nginx's error log and its stderr, one file."""
        return self.run_dir / "nginx.log"

    @property
    def base_url(self) -> str:
        return f"http://{self.listen_host}:{self.listen_port}"

    def render(self) -> str:
        limits = self.limits
        types = "\n".join(f"        {mime} {suffix};" for mime, suffix in MIME_TYPES)
        temp_paths = "\n".join(
            f"    {kind}_temp_path {self.temp_root / kind};" for kind in TEMP_KINDS
        )
        return f"""# Generated by drf-server-bench for one run; nginx -c this -g 'daemon off;'
worker_processes {self.worker_processes};
pid {self.pid_path};
error_log {self.log_path} warn;

events {{
    worker_connections {limits.worker_connections};
}}

http {{
    access_log off;
    types {{
{types}
    }}
    default_type application/octet-stream;
    sendfile on;
{temp_paths}

    client_header_timeout {limits.client_header_timeout_s}s;
    client_body_timeout {limits.client_body_timeout_s}s;
    client_max_body_size {limits.client_max_body_size};
    keepalive_timeout {limits.client_keepalive_timeout_s}s;

    upstream app {{
        server {self.upstream.address};
        keepalive {limits.upstream_keepalive};
    }}

    server {{
        listen {self.listen_host}:{self.listen_port};
        server_name localhost;

        location {STATIC_URL} {{
            alias {self.static_root}/;
        }}

        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"""


@dataclass(frozen=True)
class ProxyFacts:
    """What meta.json records about the proxy of a run."""

    kind: str
    version: str
    binary: str
    config_path: str
    config_text: str
    upstream: str
    worker_processes: int
    cpus: tuple[int, ...] | None
    base_url: str

    def as_meta(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "version": self.version,
            "binary": self.binary,
            "config_path": self.config_path,
            "config_text": self.config_text,
            "upstream": self.upstream,
            "worker_processes": self.worker_processes,
            "cpus": list(self.cpus) if self.cpus else None,
            "base_url": self.base_url,
        }


@dataclass
class RunningProxy:
    """A started nginx; `stop` it."""

    child: ManagedChild
    config: NginxConfig
    facts: ProxyFacts
    ready_after_s: float

    @property
    def pid(self) -> int:
        """nginx's master: its pid is also its session id (for the sampler)."""
        return self.child.pid

    @property
    def base_url(self) -> str:
        return self.config.base_url

    def members(self) -> list[int]:
        return self.child.members()

    def stop(self) -> StopReport:
        """TERM (nginx's fast shutdown) to the group, then KILL; confirms nothing is left."""
        return self.child.stop()


def unreachable_ancestor(path: Path) -> Path | None:
    """The first directory on the way to `path` that other users cannot traverse (no o+x),
    or None: nginx's workers run as nobody and would answer 403 or 502 there."""
    for directory in [*reversed(path.parents), path]:
        if directory.is_dir() and not directory.stat().st_mode & stat.S_IXOTH:
            return directory
    return None


def start_proxy(
    config: NginxConfig, *, cpus: tuple[int, ...] | None, binary: Path | None = None
) -> RunningProxy:
    """Write the config into the run directory, start nginx on `cpus` and wait until
    /healthz answers through it (the server behind must already be ready)."""
    nginx = binary or nginx_binary()
    if not port_is_free(config.listen_host, config.listen_port):
        raise ProxyStartError(
            f"port {config.listen_port} on {config.listen_host} is already in use; "
            "not starting nginx (choose another PORT)"
        )
    if os.geteuid() == 0:
        for needed in (config.static_root, config.temp_root):
            blocked = unreachable_ancestor(needed)
            if blocked is not None:
                raise ProxyStartError(
                    f"nginx's workers (user nobody) cannot reach {needed}: {blocked} is "
                    "not traversable by other users"
                )
    config.run_dir.mkdir(parents=True, exist_ok=True)
    config.temp_root.mkdir(mode=0o755, parents=True, exist_ok=True)
    text = config.render()
    config.config_path.write_text(text)
    spec = ChildSpec(
        name="nginx",
        argv=(
            str(nginx),
            "-c",
            str(config.config_path),
            "-e",
            str(config.log_path),
            "-g",
            "daemon off;",
        ),
        environment=child_environment({}),
        log_path=config.log_path,
        cpus=cpus,
        stop_signal=signal.SIGTERM,
        stop_grace_s=5.0,
    )
    started = time.monotonic()
    try:
        child = ManagedChild.start(spec)
    except ChildLaunchError as error:
        raise ProxyStartError(str(error)) from error
    try:
        _wait_ready(child, config, started)
    except BaseException:
        child.stop()
        raise
    facts = ProxyFacts(
        kind="nginx",
        version=nginx_version(nginx),
        binary=str(nginx),
        config_path=str(config.config_path),
        config_text=text,
        upstream=config.upstream.address,
        worker_processes=config.worker_processes,
        cpus=cpus,
        base_url=config.base_url,
    )
    return RunningProxy(
        child=child, config=config, facts=facts, ready_after_s=time.monotonic() - started
    )


def _wait_ready(child: ManagedChild, config: NginxConfig, started: float) -> None:
    while True:
        status = child.exit_code
        if status is not None:
            raise ProxyStartError(
                f"nginx exited with status {status} before it was ready; last lines of "
                f"{config.log_path}:\n{log_tail(config.log_path)}"
            )
        if health_check(config.base_url):
            problem = foreign_listener(child.members(), config.listen_host, config.listen_port)
            if problem is None:
                return
            if not problem.startswith("nothing listens"):
                raise ProxyStartError(f"nginx is not what answers on its port: {problem}")
        if time.monotonic() - started > READY_DEADLINE_S:
            raise ProxyStartError(
                f"nginx did not answer 200 on /healthz within {READY_DEADLINE_S:.0f} s; last "
                f"lines of {config.log_path}:\n{log_tail(config.log_path)}"
            )
        time.sleep(0.1)
