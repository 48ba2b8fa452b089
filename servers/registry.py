"""Every application server the harness knows, as data.

Adding a server means adding a `ServerSpec` to `SERVERS`; nothing else in the harness branches
on a server's name. Each spec says how to build the command line (an argv template), which
signal asks the server to stop, whether it is meant for production, and how many worker
processes and threads it may run.
"""

from __future__ import annotations

import signal
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Final

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
class ServerSpec:
    """One way of running the sample app.

    `argv_template` items are `str.format` templates filled by `ServerSpec.argv` with:
    `{bin}` (the directory of the running interpreter, where the servers' scripts live),
    `{python}`, `{host}`, `{port}`, `{workers}`, `{threads}`, `{servers_dir}` and `{app}`, the
    application object: `app_module` if set, else the interface's (APP_MODULES), so a test can
    run any server with another application without knowing how that server names it.
    `python_path` adds import directories for such an application.
    """

    name: str
    interface: Interface
    argv_template: tuple[str, ...]
    description: str
    production_grade: bool
    version_distribution: str
    stop_signal: signal.Signals = signal.SIGTERM
    config_file: str | None = None
    max_workers: int | None = None
    threads_supported: bool = False
    threads_note: str = ""
    startup_deadline_s: float = 30.0
    stop_grace_s: float = 15.0
    app_module: str | None = None
    python_path: tuple[str, ...] = ()

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
        self, *, bin_dir: Path, python: Path, host: str, port: int, workers: int, threads: int
    ) -> list[str]:
        """The command line for this server with every placeholder filled in."""
        fields = {
            "bin": str(bin_dir),
            "python": str(python),
            "host": host,
            "port": str(port),
            "workers": str(workers),
            "threads": str(threads),
            "servers_dir": str(SERVERS_DIR),
            "app": self.application,
        }
        return [part.format(**fields) for part in self.argv_template]


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
    ),
)


def server_names() -> list[str]:
    """Registered server names, in the registry's (and the benchmark's) order."""
    return list(SERVERS)


def get_server(name: str) -> ServerSpec:
    """The spec called `name`; a `KeyError` naming the valid choices otherwise."""
    try:
        return SERVERS[name]
    except KeyError:
        raise KeyError(f"unknown server {name!r}; valid servers: {', '.join(SERVERS)}") from None
