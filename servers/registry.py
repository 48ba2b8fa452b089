"""Every application server the harness knows, as data.

Adding a server means adding a `ServerSpec` to `SERVERS`; nothing else in the harness branches
on a server's name. Each spec says how to build the command line (an argv template), which
signal asks the server to stop, whether it is meant for production, whether it is one of the
five servers of the product (`SERVER=all`; `SERVER=every` runs them all), how many worker
processes and threads it may run, and which documented rule `WORKERS=auto`/`THREADS=auto`
apply (servers/count_rules.py).
"""

from __future__ import annotations

import signal
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Final

from servers.count_rules import THREAD_RULES, WORKER_RULES, CountRule

SERVERS_DIR: Final = Path(__file__).resolve().parent
PROJECT_DIR: Final = SERVERS_DIR.parent
SAMPLEAPP_DIR: Final = PROJECT_DIR / "sampleapp"


class Interface(StrEnum):
    """How the server talks to Django."""

    DEV = "dev"
    WSGI = "wsgi"
    ASGI = "asgi"


# The application object each interface loads (runserver loads Django's own settings).
APP_MODULES: Final[Mapping[Interface, str]] = MappingProxyType(
    {
        Interface.DEV: "config.wsgi:application",
        Interface.WSGI: "config.wsgi:application",
        Interface.ASGI: "config.asgi:application",
    }
)


@dataclass(frozen=True)
class UnixSocketBind:
    """How a server listens on a Unix socket instead of TCP (behind nginx, as deployed): the
    items of its `argv_template` that bind TCP, and what replaces them, with `{socket}` for
    the socket's path. nginx's workers run as `nobody`, so the socket must be connectable by
    any user: the replacement sets its mode where the server does not make it 0666 itself."""

    tcp_argv: tuple[str, ...]
    unix_argv: tuple[str, ...]

    def applied_to(self, template: tuple[str, ...]) -> tuple[str, ...]:
        """`template` with the TCP bind replaced; ValueError if it has no such items."""
        size = len(self.tcp_argv)
        for start in range(len(template) - size + 1):
            if template[start : start + size] == self.tcp_argv:
                return (*template[:start], *self.unix_argv, *template[start + size :])
        raise ValueError(f"argv template has no {' '.join(self.tcp_argv)!r} to replace")


@dataclass(frozen=True)
class ServerSpec:
    """One way of running the sample app.

    `argv_template` items are `str.format` templates filled by `ServerSpec.argv` with:
    `{bin}` (the directory of the running interpreter, where the servers' scripts live),
    `{python}`, `{host}`, `{port}`, `{workers}`, `{threads}`, `{servers_dir}` and `{app}`, the
    application object: `app_module` if set, else the interface's (APP_MODULES), so a test can
    run any server with another application without knowing how that server names it.
    `python_path` adds import directories for such an application. `unix_socket` says how
    the server binds a Unix socket (`{socket}`) instead of `{host}:{port}`; None: TCP only.

    `stop_master_only`: the stop signal goes to the server's first process alone, which
    stops its workers itself, instead of to its whole process group.

    `recycle_argv` is how the server replaces a worker after `{max_requests}` requests (MAX_
    REQUESTS); None: it has no such setting.

    `product` marks the five servers the product compares (`SERVER=all`). `threaded_label`
    names the configuration in tables when THREADS > 1 changes what the server is (Gunicorn
    switches to its gthread worker). `auto_workers`/`auto_threads` name the rules of
    servers/count_rules.py. `companion_distributions` are packages whose versions meta.json
    records beside the server's own (a worker class shipped apart, an event library).
    """

    name: str
    interface: Interface
    argv_template: tuple[str, ...]
    description: str
    production_grade: bool
    version_distribution: str
    stop_signal: signal.Signals = signal.SIGTERM
    stop_master_only: bool = False  # the stop signal to the master alone, not its group
    config_file: str | None = None
    max_workers: int | None = None
    threads_supported: bool = False
    threads_note: str = ""
    startup_deadline_s: float = 30.0
    stop_grace_s: float = 15.0
    app_module: str | None = None
    python_path: tuple[str, ...] = ()
    unix_socket: UnixSocketBind | None = None
    product: bool = False
    threaded_label: str | None = None
    auto_workers: str = "single-process"
    auto_threads: str = "none"
    companion_distributions: tuple[str, ...] = ()
    recycle_argv: tuple[str, ...] | None = None

    @property
    def workers_rule(self) -> CountRule:
        """What WORKERS=auto gives this server (its documentation's recommendation)."""
        return WORKER_RULES[self.auto_workers]

    @property
    def threads_rule(self) -> CountRule:
        """What THREADS=auto gives this server."""
        return THREAD_RULES[self.auto_threads]

    def label(self, threads: int | None) -> str:
        """The configuration's name in tables: `threaded_label` when THREADS > 1."""
        if self.threaded_label and threads is not None and threads > 1:
            return self.threaded_label
        return self.name

    @property
    def application(self) -> str:
        """The `module:attribute` this server loads."""
        return self.app_module or APP_MODULES[self.interface]

    def default_workers(self, cores: int) -> int:
        """One worker per core for multi-process servers: CPU-bound DRF views gain nothing
        from more, and the same rule for every server keeps the comparison fair."""
        if self.max_workers is not None:
            return min(self.max_workers, max(1, cores))
        return max(1, cores)

    def validate_counts(self, workers: int, threads: int) -> str | None:
        """Return why `workers`/`threads` do not fit this server, or None when they do."""
        if workers < 1:
            return f"{self.name}: WORKERS must be at least 1, got {workers}"
        if self.max_workers is not None and workers > self.max_workers:
            return (
                f"{self.name} runs {self.max_workers} process at most; "
                f"WORKERS={workers} is not possible"
            )
        if threads < 1:
            return f"{self.name}: THREADS must be at least 1, got {threads}"
        if threads > 1 and not self.threads_supported:
            return f"{self.name} has no thread-count setting; THREADS={threads} is not possible"
        return None

    def argv(
        self,
        *,
        bin_dir: Path,
        python: Path,
        host: str,
        port: int,
        workers: int,
        threads: int,
        socket_path: Path | None = None,
        max_requests: int | None = None,
    ) -> list[str]:
        """The command line for this server with every placeholder filled in; bound to
        `socket_path` instead of host and port when given, and replacing each worker after
        `max_requests` requests when given (ValueError if the server cannot)."""
        template = self.argv_template
        if socket_path is not None:
            if self.unix_socket is None:
                raise ValueError(f"{self.name} cannot listen on a Unix socket")
            template = self.unix_socket.applied_to(template)
        if max_requests is not None:
            if self.recycle_argv is None:
                raise ValueError(f"{self.name} has no worker-recycling setting")
            template = (*template, *self.recycle_argv)
        fields = {
            "bin": str(bin_dir),
            "python": str(python),
            "host": host,
            "port": str(port),
            "workers": str(workers),
            "threads": str(threads),
            "servers_dir": str(SERVERS_DIR),
            "app": self.application,
            "socket": str(socket_path),
            "max_requests": str(max_requests),
        }
        return [part.format(**fields) for part in template]


# Gunicorn's production settings (servers/gunicorn.conf.py) with the harness's bind and workers;
# a worker class on the command line overrides the file's.
_GUNICORN_COMMON: Final = (
    "{python}",
    "-m",
    "gunicorn",
    "--config",
    "{servers_dir}/gunicorn.conf.py",
    "--bind",
    "{host}:{port}",
    "--workers",
    "{workers}",
)


# Gunicorn's master replaces a worker once it has handled this many requests; the worker
# finishes the request it is serving first (gunicorn's --max-requests).
_GUNICORN_RECYCLE: Final = ("--max-requests", "{max_requests}")


def _granian_common(interface: str) -> tuple[str, ...]:
    """Granian with the settings the others run with: no access log (its default, said
    anyway), warnings only, and a deadline of 10 s for workers to finish on TERM."""
    return (
        "{python}",
        "-m",
        "granian",
        "--interface",
        interface,
        "--host",
        "{host}",
        "--port",
        "{port}",
        "--workers",
        "{workers}",
        "--no-access-log",
        "--log-level",
        "warning",
        "--workers-kill-timeout",
        "10",
    )


def _spec_table(*specs: ServerSpec) -> Mapping[str, ServerSpec]:
    return MappingProxyType({spec.name: spec for spec in specs})


SERVERS: Final[Mapping[str, ServerSpec]] = _spec_table(
    ServerSpec(
        name="runserver",
        interface=Interface.DEV,
        argv_template=("{python}", "manage.py", "runserver", "--noreload", "{host}:{port}"),
        description="Django's development server: one process, a new thread per request, "
        "no bound; logs every request to stderr",
        production_grade=False,
        version_distribution="django",
        max_workers=1,
        threads_note="one thread per request, unbounded",
        stop_grace_s=5.0,
        product=True,
    ),
    ServerSpec(
        name="gunicorn",
        interface=Interface.WSGI,
        argv_template=(
            "{python}",
            "-m",
            "gunicorn",
            "--config",
            "{servers_dir}/gunicorn.conf.py",
            "--bind",
            "{host}:{port}",
            "--workers",
            "{workers}",
            "--threads",
            "{threads}",
            "{app}",
        ),
        description="Gunicorn, pre-fork sync workers (gthread when THREADS > 1)",
        production_grade=True,
        version_distribution="gunicorn",
        config_file="gunicorn.conf.py",
        threads_supported=True,
        product=True,
        threaded_label="gunicorn gthread",
        auto_workers="gunicorn",
        auto_threads="gunicorn",
        recycle_argv=_GUNICORN_RECYCLE,
        # --umask 0 makes the socket 0777 (gunicorn applies it to the bind only)
        unix_socket=UnixSocketBind(
            tcp_argv=("--bind", "{host}:{port}"),
            unix_argv=("--bind", "unix:{socket}", "--umask", "0"),
        ),
    ),
    ServerSpec(
        name="uwsgi",
        interface=Interface.WSGI,
        argv_template=(
            "{bin}/uwsgi",
            "--ini",
            "{servers_dir}/uwsgi.ini",
            "--module",
            "{app}",
            "--http-socket",
            "{host}:{port}",
            "--processes",
            "{workers}",
            "--threads",
            "{threads}",
        ),
        description="uWSGI with a master; HTTP served by the workers, one request per connection",
        production_grade=True,
        version_distribution="uwsgi",
        config_file="uwsgi.ini",
        threads_supported=True,
        product=True,
        auto_workers="uwsgi",
        auto_threads="uwsgi",
        # uWSGI's workers exit at once on TERM (end_me), so TERM goes to the master alone,
        # which uwsgi.ini makes stop them gracefully (measured: 0 of 10 requests in flight
        # answered with TERM to the group, every one being served with TERM to the master)
        stop_master_only=True,
        # a worker that served this many requests finishes the one it serves, then the
        # master starts a new one (uWSGI's --max-requests). uWSGI also keeps every worker
        # for min-worker-lifetime (10 s by default) whatever max-requests says, which no
        # worker of a seconds-long window reaches: 1 s lets max-requests decide
        recycle_argv=("--max-requests", "{max_requests}", "--min-worker-lifetime", "1"),
        # chmod-socket's value is optional, so it must follow an "=" on the command line
        unix_socket=UnixSocketBind(
            tcp_argv=("--http-socket", "{host}:{port}"),
            unix_argv=("--http-socket", "{socket}", "--chmod-socket=666"),
        ),
    ),
    ServerSpec(
        name="daphne",
        interface=Interface.ASGI,
        argv_template=(
            "{python}",
            "-m",
            "daphne",
            "--bind",
            "{host}",
            "--port",
            "{port}",
            "--verbosity",
            "0",
            "{app}",
        ),
        description="Daphne (Twisted), one process; sync DRF views run in a thread pool",
        production_grade=True,
        version_distribution="daphne",
        max_workers=1,
        threads_note="Django's sync-to-async executor",
        product=True,
        # Twisted's Unix endpoint creates the socket with mode 0666
        unix_socket=UnixSocketBind(
            tcp_argv=("--bind", "{host}", "--port", "{port}"), unix_argv=("-u", "{socket}")
        ),
    ),
    ServerSpec(
        name="uvicorn",
        interface=Interface.ASGI,
        argv_template=(
            "{python}",
            "-m",
            "uvicorn",
            "--host",
            "{host}",
            "--port",
            "{port}",
            "--workers",
            "{workers}",
            "--lifespan",
            "off",
            "--no-access-log",
            "--timeout-graceful-shutdown",
            "10",
            "{app}",
        ),
        description="Uvicorn (uvloop + httptools) with --workers; sync DRF views run in a "
        "thread pool",
        production_grade=True,
        version_distribution="uvicorn",
        threads_note="Django's sync-to-async executor",
        product=True,
        auto_workers="uvicorn",
        # uvicorn chmods a new socket to 0666 itself
        unix_socket=UnixSocketBind(
            tcp_argv=("--host", "{host}", "--port", "{port}"), unix_argv=("--uds", "{socket}")
        ),
    ),
    ServerSpec(
        name="gunicorn-uvicorn",
        interface=Interface.ASGI,
        argv_template=(
            *_GUNICORN_COMMON,
            "--worker-class",
            "uvicorn_worker.UvicornWorker",
            "{app}",
        ),
        description="Gunicorn's master with the uvicorn-worker package's UvicornWorker "
        "(uvloop + httptools; the class inside uvicorn itself is deprecated); sync DRF views "
        "run in a thread pool",
        production_grade=True,
        version_distribution="gunicorn",
        companion_distributions=("uvicorn-worker", "uvicorn"),
        config_file="gunicorn.conf.py",
        threads_note="Django's sync-to-async executor",
        auto_workers="gunicorn",
        recycle_argv=_GUNICORN_RECYCLE,
    ),
    ServerSpec(
        name="gunicorn-asgi",
        interface=Interface.ASGI,
        argv_template=(
            *_GUNICORN_COMMON,
            "--worker-class",
            "asgi",
            # Django answers no lifespan events (uvicorn runs with --lifespan off too)
            "--asgi-lifespan",
            "off",
            "{app}",
        ),
        description="Gunicorn's own ASGI worker (-k asgi, beta since Gunicorn 24; asyncio "
        "with uvloop when installed); sync DRF views run in a thread pool",
        production_grade=True,
        version_distribution="gunicorn",
        config_file="gunicorn.conf.py",
        threads_note="Django's sync-to-async executor (--threads has no effect)",
        auto_workers="gunicorn",
        recycle_argv=_GUNICORN_RECYCLE,
    ),
    ServerSpec(
        name="gunicorn-gevent",
        interface=Interface.WSGI,
        argv_template=(*_GUNICORN_COMMON, "--worker-class", "gevent", "{app}"),
        description="Gunicorn with gevent workers: the standard library monkey-patched, one "
        "greenlet per connection (up to worker_connections, 1000)",
        production_grade=True,
        version_distribution="gunicorn",
        companion_distributions=("gevent",),
        config_file="gunicorn.conf.py",
        threads_note="greenlets, up to worker_connections per worker",
        auto_workers="gunicorn",
        recycle_argv=_GUNICORN_RECYCLE,
    ),
    ServerSpec(
        name="granian-wsgi",
        interface=Interface.WSGI,
        argv_template=(
            *_granian_common("wsgi"),
            # the threads that call the WSGI application, per worker
            "--blocking-threads",
            "{threads}",
            "{app}",
        ),
        description="Granian (Rust, hyper) over WSGI: Rust threads do the I/O, THREADS "
        "blocking threads per worker call Django",
        production_grade=True,
        version_distribution="granian",
        threads_supported=True,
        threads_note="blocking threads per worker",
        auto_workers="granian",
        auto_threads="granian-wsgi",
    ),
    ServerSpec(
        name="granian-asgi",
        interface=Interface.ASGI,
        # asginl: ASGI without the lifespan protocol, which Django does not speak
        argv_template=(*_granian_common("asginl"), "{app}"),
        description="Granian (Rust, hyper) over ASGI (no lifespan); sync DRF views run in a "
        "thread pool",
        production_grade=True,
        version_distribution="granian",
        threads_note="Django's sync-to-async executor",
        auto_workers="granian",
    ),
    ServerSpec(
        name="hypercorn",
        interface=Interface.ASGI,
        argv_template=(
            "{python}",
            "-m",
            "hypercorn",
            "--bind",
            "{host}:{port}",
            "--workers",
            "{workers}",
            "--graceful-timeout",
            "10",
            "--log-level",
            "warning",
            "{app}",
        ),
        description="Hypercorn (asyncio, h11) with --workers spawned processes; no access "
        "log unless asked; sync DRF views run in a thread pool",
        production_grade=True,
        version_distribution="hypercorn",
        threads_note="Django's sync-to-async executor",
        auto_workers="hypercorn",
    ),
    ServerSpec(
        name="waitress",
        interface=Interface.WSGI,
        argv_template=(
            "{python}",
            "-m",
            "waitress",
            "--listen={host}:{port}",
            "--threads={threads}",
            "{app}",
        ),
        description="waitress: one process, an asyncore loop does the I/O and THREADS threads "
        "call Django; logs no requests",
        production_grade=True,
        version_distribution="waitress",
        max_workers=1,
        threads_supported=True,
        threads_note="application threads of the one process",
        # TERM would end waitress at once; on INT (KeyboardInterrupt) it gives running
        # requests 5 s to finish and cancels queued ones: its only graceful stop
        stop_signal=signal.SIGINT,
        stop_grace_s=10.0,
        auto_threads="waitress",
    ),
    # Not one of the product's five: the lesson's serial case (make lesson, section 1).
    ServerSpec(
        name="runserver-nothreading",
        interface=Interface.DEV,
        argv_template=(
            "{python}",
            "manage.py",
            "runserver",
            "--noreload",
            "--nothreading",
            "{host}:{port}",
        ),
        description="Django's development server with --nothreading: one request at a time, "
        "what the lesson's single-threaded claim describes",
        production_grade=False,
        version_distribution="django",
        max_workers=1,
        threads_note="one request at a time (--nothreading)",
        stop_grace_s=5.0,
    ),
)


def server_names() -> list[str]:
    """Registered server names, in the registry's (and the benchmark's) order."""
    return list(SERVERS)


def product_server_names() -> list[str]:
    """The five servers of the product (`SERVER=all`), in registry order."""
    return [spec.name for spec in SERVERS.values() if spec.product]


def get_server(name: str) -> ServerSpec:
    """The spec called `name`; a `KeyError` naming the valid choices otherwise."""
    try:
        return SERVERS[name]
    except KeyError:
        raise KeyError(f"unknown server {name!r}; valid servers: {', '.join(SERVERS)}") from None
