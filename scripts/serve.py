"""`make serve`: the sample app under one server, in the foreground, until Ctrl-C.

It prepares a fresh SQLite database (migrate + seed, including the demo user), starts the
server through the supervisor, prints the URL and the demo credentials, then follows the
server's log. Ctrl-C stops every process it started (exit 0: the normal way to stop it);
TERM and a hang-up (the terminal closed) do the same and exit 143 and 129. A second Ctrl-C
while it stops does not cut the stop short; a third kills at once (servers/stop_guard.py).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from scripts.options.parsing import (
    OneLineErrorParser,
    fail_usage,
    port_number,
    positive_int,
    server_choice,
)
from scripts.options.stop_signals import (
    install_stop_signals,
    interrupt_exit_status,
    interrupt_reason,
    signal_number,
)
from servers.app import AppCommandError, AppSettings, SeedPlan, prepare_database
from servers.registry import get_server
from servers.supervisor import LaunchRequest, RunningServer, ServerStartError, start, stop


def build_parser() -> OneLineErrorParser:
    parser = OneLineErrorParser(
        prog="serve",
        description="Run the sample app under one server in the foreground (Ctrl-C stops).",
    )
    parser.add_argument(
        "--server", type=server_choice, default="gunicorn", help="which server (default: gunicorn)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: 127.0.0.1)")
    parser.add_argument("--port", type=port_number, default=8000, help="port (default: 8000)")
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        help="worker processes (default: one per core where supported)",
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=1,
        help="threads per worker where supported (default: 1)",
    )
    parser.add_argument(
        "--users",
        type=positive_int,
        default=4,
        help="bench users to seed besides demo (default: 4)",
    )
    parser.add_argument("--demo-username", default=os.environ.get("DEMO_USERNAME", "demo"))
    parser.add_argument("--demo-password", default=os.environ.get("DEMO_PASSWORD", "demo-pass-123"))
    return parser


def _exit_status(interrupt: KeyboardInterrupt) -> int:
    """Ctrl-C is how one stops `make serve`: 0; TERM and HUP: 128 + N."""
    return 0 if signal_number(interrupt) == signal.SIGINT else interrupt_exit_status(interrupt)


def _stop_and_say(server: RunningServer) -> None:
    """Stop the server; a signal deferred during the stop has done its work once the stop
    is over (the command is ending anyway), so it is not raised further."""
    with contextlib.suppress(KeyboardInterrupt):
        stop(server, check=False)
    report = server.child.last_stop
    if report is not None:
        print(f"stopped in {report.stop_s:.1f} s", flush=True)


def follow(log_path: Path, server_alive: Callable[[], bool]) -> None:
    """Copy new log output to stdout until the server exits or Ctrl-C."""
    position = 0
    while True:
        try:
            with log_path.open("rb") as log:
                log.seek(position)
                chunk = log.read()
                position += len(chunk)
        except OSError:
            chunk = b""
        if chunk:
            sys.stdout.write(chunk.decode(errors="replace"))
            sys.stdout.flush()
        if not server_alive():
            return
        time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    spec = get_server(args.server)
    workers = args.workers or spec.default_workers(len(os.sched_getaffinity(0)))
    problem = spec.validate_counts(workers, args.threads)
    if problem:
        fail_usage("serve", problem)
    # Ctrl-C, TERM and HUP all end in the same clean stop, even when the parent (a test, or
    # a shell running us in the background) started us with SIGINT ignored.
    install_stop_signals()
    with tempfile.TemporaryDirectory(prefix="drf-bench-serve-") as scratch:
        scratch_dir = Path(scratch)
        app = AppSettings.for_sqlite(scratch_dir / "db.sqlite3")
        seed = SeedPlan(
            users=args.users,
            items_per_user=5,
            demo_username=args.demo_username,
            demo_password=args.demo_password,
        )
        try:
            print(f"preparing a fresh database in {scratch_dir} ...", flush=True)
            prepare_database(app, seed)
            request = LaunchRequest(
                spec=spec,
                app=app,
                host=args.host,
                port=args.port,
                workers=workers,
                threads=args.threads,
                log_path=scratch_dir / "server.log",
            )
            server = start(request)
        except (AppCommandError, ServerStartError) as error:
            print(f"serve: {error}", file=sys.stderr)
            return 1
        except KeyboardInterrupt as interrupt:
            return interrupt_exit_status(interrupt)
        try:
            print(
                f"{spec.name} ({spec.description}) is ready at {server.base_url}/ "
                f"with {workers} worker(s), after {server.ready_after_s:.1f} s\n"
                f"  health:  {server.base_url}/healthz\n"
                f"  login:   curl -s -X POST {server.base_url}/api/auth/token/ "
                f"-H 'Content-Type: application/json' "
                f'-d \'{{"username": "{seed.demo_username}", '
                f'"password": "{seed.demo_password}"}}\'\n'
                f"  demo credentials (local use only): {seed.demo_username} / "
                f"{seed.demo_password}\n"
                "Ctrl-C stops it.",
                flush=True,
            )
            follow(request.log_path, lambda: server.process.poll() is None)
            print(f"serve: {spec.name} exited with status {server.process.poll()}", file=sys.stderr)
            return 1
        except KeyboardInterrupt as interrupt:
            print(f"\n{interrupt_reason(interrupt)}: stopping {spec.name} ...", flush=True)
            return _exit_status(interrupt)
        finally:
            _stop_and_say(server)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt as late:  # a signal between two steps of the cleanup
        sys.exit(interrupt_exit_status(late))
