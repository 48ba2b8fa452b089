"""Locust's master/worker mode for a bench: the master's flags, the workers' command, and
what a failed gathering of workers is called.

With LOCUST_PROCESSES=N > 1 or EXPECT_REMOTE_WORKERS=M > 0 the harness starts one Locust
master (it runs no users, and the window controller and the step shape run on it) and N
local worker processes, and the master waits for N + M workers, at most
`connect_timeout_s` (Locust's own `--expect-workers-max-wait`). The M others run
`make loadworker MASTER=<this host>:<port>` on other machines.

Why N separate `locust --worker` children and not Locust's `--processes N`: `--processes`
on a master sets its expected worker count to N, so it could not also wait for remote
workers; and a local worker started here is then the very command a remote machine runs
(`worker_argv`, which scripts/loadworker.py uses too), each one a managed child of its
own (own session, pid record, CPU pinning, TERM then KILL), sampled with the generator.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from loadtests.window import WindowRecord
from scripts.options.parsing import checked_number, port_number
from servers.ports import free_port
from servers.registry import PROJECT_DIR

LOCUSTFILE: Final = PROJECT_DIR / "loadtests" / "locustfile.py"
STEP_SHAPE_FILE: Final = PROJECT_DIR / "loadtests" / "step_shape.py"
DEFAULT_MASTER_PORT: Final = 5557  # Locust's own default: what a remote worker expects
DEFAULT_CONNECT_TIMEOUT_S: Final = 60.0
LOCAL_BIND: Final = "127.0.0.1"
ANY_BIND: Final = "0.0.0.0"
UNREACHABLE_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0", "::"})


def non_negative_int(text: str) -> int:
    """argparse type: 0, 1, 2, ..."""
    return checked_number(text, int, lambda value: value >= 0, "a whole number >= 0")


def parse_master(text: str) -> tuple[str, int]:
    """`host` or `host:port` (IPv6 in brackets: `[::1]:5557`) -> (host, port); ValueError
    with one line saying what is wrong."""
    text = text.strip()
    if not text:
        raise ValueError("MASTER is empty: give the master's host, e.g. MASTER=10.0.0.5:5557")
    if any(char.isspace() or char in "/@" for char in text):
        raise ValueError(f"MASTER {text!r}: expected a host name or address, optionally :port")
    host, port_text = text, ""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest and not rest.startswith(":"):
            raise ValueError(f"MASTER {text!r}: expected [address]:port")
        port_text = rest[1:]
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    if not host:
        raise ValueError(f"MASTER {text!r}: expected a host name or address, optionally :port")
    if not port_text:
        return host, DEFAULT_MASTER_PORT
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"MASTER {text!r}: the port must be a number from 1 to 65535")
    return host, int(port_text)


def worker_argv(master_host: str, master_port: int, log_file: Path | None = None) -> list[str]:
    """One Locust worker of this checkout's locustfile; everything else (host, scenario,
    seeded accounts, window) comes from the master's spawn messages."""
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--worker",
        "--master-host",
        master_host,
        "--master-port",
        str(master_port),
        "--loglevel",
        "INFO",
        *(["--logfile", str(log_file)] if log_file is not None else []),
    ]


@dataclass(frozen=True)
class LoadWorkers:
    """Where the load comes from: N local Locust processes and M remote workers."""

    local: int = 1
    remote: int = 0
    master_bind: str = LOCAL_BIND
    master_port: int = 0  # 0: a free port, chosen per run (for_run)
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S

    @property
    def distributed(self) -> bool:
        """A master and workers (else one Locust process runs the users itself)."""
        return self.local > 1 or self.remote > 0

    @property
    def expected(self) -> int:
        return self.local + self.remote

    @property
    def local_master_host(self) -> str:
        """The address local workers connect to."""
        return LOCAL_BIND if self.master_bind in (ANY_BIND, "*") else self.master_bind

    def master_args(self) -> list[str]:
        """The master's own flags (beside the usual ones of locust_runner.LoadRequest)."""
        if not self.distributed:
            return []
        return [
            "--master",
            "--master-bind-host",
            self.master_bind,
            "--master-bind-port",
            str(self.master_port),
            "--expect-workers",
            str(self.expected),
            "--expect-workers-max-wait",
            f"{self.connect_timeout_s:g}",
        ]

    def locustfiles(self, stepped: bool) -> str:
        """`-f`: the locustfile, and on a stepped master the LoadTestShape beside it."""
        if self.distributed and stepped:
            return f"{LOCUSTFILE},{STEP_SHAPE_FILE}"
        return str(LOCUSTFILE)

    def as_meta(self) -> dict[str, object]:
        return {
            "local": self.local,
            "remote": self.remote,
            "master_bind": self.master_bind,
            "master_port": self.master_port,
            "connect_timeout_s": self.connect_timeout_s,
        }


def connect_failure(record: WindowRecord | None, workers: LoadWorkers) -> str | None:
    """One line when the master gave up waiting for its workers: how many came. A master
    that ended the run itself before the users started (a worker of another commit) has
    written its own reason, which stands."""
    if record is None or not workers.distributed or record.spawned_at is not None:
        return None
    if record.reason:
        return None
    if record.workers_connected >= workers.expected:
        return None
    where = f"{workers.local} local"
    if workers.remote:
        where += (
            f" and {workers.remote} remote, started with make loadworker "
            f"MASTER=<this host>:{workers.master_port}"
        )
    return (
        f"only {record.workers_connected} of {workers.expected} Locust workers connected "
        f"within {workers.connect_timeout_s:g} s ({where})"
    )


def add_worker_arguments(parser: argparse.ArgumentParser, duration: Callable[[str], float]) -> None:
    """EXPECT_REMOTE_WORKERS, MASTER_BIND, MASTER_PORT and WORKERS_MAX_WAIT."""
    parser.add_argument(
        "--expect-remote-workers",
        type=non_negative_int,
        default=0,
        help="Locust workers on other machines (make loadworker MASTER=<this host>:<port>) "
        "the master waits for beside the --locust-processes local ones (default: 0)",
    )
    parser.add_argument(
        "--master-bind",
        default=None,
        help="address the Locust master listens on for workers (default: 0.0.0.0 with "
        f"remote workers, else {LOCAL_BIND})",
    )
    parser.add_argument(
        "--master-port",
        type=port_number,
        default=None,
        help=f"the master's port for workers (default: {DEFAULT_MASTER_PORT} with remote "
        "workers, else a free port per run)",
    )
    parser.add_argument(
        "--workers-max-wait",
        type=duration,
        default=DEFAULT_CONNECT_TIMEOUT_S,
        help="how long the master waits for all its workers before the run fails "
        f"(default: {DEFAULT_CONNECT_TIMEOUT_S:g}s)",
    )


def load_workers_of(args: argparse.Namespace, target_host: str | None = None) -> LoadWorkers | str:
    """The plan's workers from the flags, or one line saying what does not fit. The workers
    are sent the server's URL: HOST's for a server launched here, `target_host` for a
    TARGET, and either must be an address the other machines reach."""
    remote = int(args.expect_remote_workers)
    if remote and target_host is not None and target_host in UNREACHABLE_HOSTS:
        return (
            "EXPECT_REMOTE_WORKERS needs a TARGET the other machines reach: the workers are "
            f"sent its URL, and {target_host} is not one"
        )
    if remote and target_host is None and args.host in UNREACHABLE_HOSTS:
        return (
            "EXPECT_REMOTE_WORKERS needs HOST=<this machine's address that the other machines "
            f"reach>: the workers are sent the server's URL, and {args.host} is not one"
        )
    bind = args.master_bind or (ANY_BIND if remote else LOCAL_BIND)
    port = args.master_port or (DEFAULT_MASTER_PORT if remote else 0)
    return LoadWorkers(
        local=int(args.locust_processes),
        remote=remote,
        master_bind=bind,
        master_port=port,
        connect_timeout_s=float(args.workers_max_wait),
    )


def for_run(workers: LoadWorkers) -> LoadWorkers:
    """The workers of one run: a free port for the master when none was chosen."""
    if not workers.distributed or workers.master_port:
        return workers
    return replace(workers, master_port=free_port(workers.local_master_host))
