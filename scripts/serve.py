"""`make serve`: the sample app under one server, in the foreground, until Ctrl-C.

It runs one server session (scripts/harness/session.py), as a bench run does: a fresh
database (SQLite, or PostgreSQL with DB=postgres; migrated and seeded, the demo user
included), the server, nginx in front with PROXY=nginx, and the response check; then it
prints the URL and the demo credentials and follows the server's log. PROFILE, PROXY, DB,
WORKERS and THREADS mean what they mean for `make bench`. Ctrl-C stops every process it
started (exit 0: the normal way to stop it); TERM and a hang-up (the terminal closed) do the
same and exit 143 and 129. A second Ctrl-C while it stops does not cut the stop short; a
third kills at once (servers/stop_guard.py).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from loadtests.scenarios import SCENARIOS
from scripts.harness.deployment import deployment_of
from scripts.harness.plan import (
    CountChoice,
    add_deployment_arguments,
    count_choice,
    profile_values,
    server_runs,
)
from scripts.harness.session import EXPECTED_FAILURES, ServerSession, SessionPlan
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
from servers.app import AppSettings, SeedPlan, prepare_database
from servers.registry import get_server
from servers.supervisor import LaunchRequest


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
        type=count_choice,
        default=CountChoice(),
        help="worker processes, or auto (the server's documented rule) "
        "(default: one per core where supported)",
    )
    parser.add_argument(
        "--threads",
        type=count_choice,
        default=CountChoice((1,)),
        help="threads per worker where supported, or auto (default: 1)",
    )
    add_deployment_arguments(parser)
    parser.add_argument(
        "--users",
        type=positive_int,
        default=4,
        help="bench users to seed besides demo (default: 4)",
    )
    parser.add_argument("--demo-username", default=os.environ.get("DEMO_USERNAME", "demo"))
    parser.add_argument("--demo-password", default=os.environ.get("DEMO_PASSWORD", "demo-pass-123"))
    return parser


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


def parse_serve_args(argv: list[str] | None) -> argparse.Namespace:
    """The flags, a --profile's values standing in for the flags not given (as in bench)."""
    parser = build_parser()
    known = parser.parse_known_args(argv)[0]
    return parser.parse_args(argv, argparse.Namespace(**profile_values(known.profile)))


def _ready_text(session: ServerSession, workers: int, seed: SeedPlan, name: str) -> str:
    server = session.server
    assert server is not None
    url = server.base_url
    around = []
    if session.proxy is not None:
        around.append(f"behind nginx {session.proxy.facts.version}")
    if session.database is not None:
        around.append(f"on PostgreSQL {session.database.facts.version}")
    return (
        f"{name} ({server.request.spec.description}) is ready at {url}/ with {workers} "
        f"worker(s){', ' + ', '.join(around) if around else ''}, after "
        f"{server.ready_after_s:.1f} s\n"
        f"  health:  {url}/healthz\n"
        f"  login:   curl -s -X POST {url}/api/auth/token/ "
        f"-H 'Content-Type: application/json' "
        f'-d \'{{"username": "{seed.demo_username}", '
        f'"password": "{seed.demo_password}"}}\'\n'
        f"  demo credentials (local use only): {seed.demo_username} / {seed.demo_password}\n"
        "Ctrl-C stops it."
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_serve_args(argv)
    spec = get_server(args.server)
    runs = server_runs([spec], args.workers, args.threads, len(os.sched_getaffinity(0)))
    if isinstance(runs, str):
        fail_usage("serve", runs)
    if len(runs) != 1:
        fail_usage("serve", "serve runs one configuration: give WORKERS and THREADS one value")
    workers, threads = runs[0].workers, runs[0].threads
    deployment = deployment_of(args.proxy, args.db)
    missing = deployment.missing_requirement()
    if missing:
        fail_usage("serve", missing)
    # Ctrl-C, TERM and HUP all end in the same clean stop, even when the parent (a test, or
    # a shell running us in the background) started us with SIGINT ignored.
    install_stop_signals()
    with tempfile.TemporaryDirectory(prefix="drf-bench-serve-") as scratch:
        scratch_dir = Path(scratch)
        template = scratch_dir / "template.sqlite3"
        app = AppSettings.for_sqlite(scratch_dir / "db.sqlite3")
        seed = SeedPlan(
            users=args.users,
            items_per_user=5,
            demo_username=args.demo_username,
            demo_password=args.demo_password,
        )
        launch = LaunchRequest(
            spec=spec,
            app=app,
            host=args.host,
            port=args.port,
            workers=workers,
            threads=threads,
            log_path=scratch_dir / "server.log",
        )
        session = ServerSession(
            SessionPlan(
                launch=launch,
                seed=seed,
                scenario=SCENARIOS["mixed"],
                template_db=None if deployment.database_plan else template,
                db_path=None if deployment.database_plan else scratch_dir / "db.sqlite3",
                proxy=deployment.proxy_plan,
                database=deployment.database_plan,
            )
        )
        ready = False
        first: KeyboardInterrupt | None = None
        try:
            if deployment.database_plan is None:
                print(f"preparing a fresh database in {scratch_dir} ...", flush=True)
                prepare_database(AppSettings.for_sqlite(template), seed)
            else:
                print("preparing PostgreSQL (the first time: initdb and a seeded template) ...")
            with session as server:
                ready = True
                print(_ready_text(session, workers, seed, spec.name), flush=True)
                try:
                    follow(launch.log_path, lambda: server.process.poll() is None)
                except KeyboardInterrupt as interrupt:
                    # said before the session stops everything (which a second Ctrl-C
                    # does not cut short), so the user knows what is happening
                    first = interrupt
                    print(f"\n{interrupt_reason(interrupt)}: stopping {spec.name} ...", flush=True)
                    raise
                print(f"serve: {spec.name} exited with status {server.process.poll()}")
                status = 1
        except EXPECTED_FAILURES as error:
            print(f"serve: {error}", file=sys.stderr)
            return 1
        except KeyboardInterrupt as interrupt:
            if not ready:
                return interrupt_exit_status(interrupt)
            # a press deferred during the stop is raised after it: the first one decides
            status = _exit_status(first or interrupt)
        _print_stop(session)
        return status


def _exit_status(interrupt: KeyboardInterrupt) -> int:
    """Ctrl-C is how one stops `make serve`: 0; TERM and HUP: 128 + N."""
    return 0 if signal_number(interrupt) == signal.SIGINT else interrupt_exit_status(interrupt)


def _print_stop(session: ServerSession) -> None:
    stopped = session.stop_report
    line = f"stopped in {stopped.stop_s:.1f} s" if stopped else "stopped"
    if session.stop_problem:
        line += f" ({session.stop_problem})"
    print(line, flush=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt as late:  # a signal between two steps of the cleanup
        sys.exit(interrupt_exit_status(late))
