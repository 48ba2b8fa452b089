"""`make loadworker MASTER=<host>[:port]`: a Locust worker for a bench on another machine.

Run it from a checkout of the same commit as the machine that runs `make bench ...
EXPECT_REMOTE_WORKERS=M` (the master refuses a worker of another commit). The worker is
`locust --worker` on this checkout's locustfile (scripts/harness/distributed.py builds the
same command the bench uses for its local workers); everything about the load (target,
scenario, accounts, tokens, windows) comes from the master. A bench's master lives for one
run, so by default a new worker starts when one ends, ready for the bench's next run,
until Ctrl-C; `--once` serves a single run and exits with the worker's status.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Sequence

from loadtests.workers import checkout_commit
from scripts.harness.distributed import parse_master, worker_argv
from scripts.options.exit_status import SIGNAL_BASE
from scripts.options.parsing import OneLineErrorParser, fail_usage
from servers.registry import PROJECT_DIR

PROG = "loadworker"
INTERRUPTED = SIGNAL_BASE + 2  # 130, as after Ctrl-C everywhere else
RESTART_PAUSE_S = 1.0


def build_parser() -> OneLineErrorParser:
    parser = OneLineErrorParser(
        prog=PROG,
        description="A Locust worker for a bench whose master runs on another machine "
        "(make bench ... EXPECT_REMOTE_WORKERS=M there).",
    )
    parser.add_argument(
        "--master",
        default="",
        help="the bench machine: host or host:port (default port 5557; the bench's MASTER_PORT)",
    )
    parser.add_argument(
        "--once",
        action="store_true",
        help="serve one run and exit with the worker's status (default: one run after "
        "another, until Ctrl-C)",
    )
    return parser


def _resolvable(host: str) -> bool:
    try:
        socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        return False
    return True


def _serve_one(argv: list[str]) -> int:
    """One worker in the foreground (Ctrl-C reaches it too: same process group)."""
    process = subprocess.Popen(argv, cwd=PROJECT_DIR)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        raise


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.master:
        fail_usage(PROG, "MASTER is required: make loadworker MASTER=<host>[:port]")
    try:
        host, port = parse_master(args.master)
    except ValueError as error:
        fail_usage(PROG, str(error))
    if not _resolvable(host):
        fail_usage(PROG, f"cannot resolve the master's host {host!r}")
    command = worker_argv(host, port)
    print(
        f"{PROG}: Locust worker of commit {checkout_commit()[:12]} for the master at "
        f"{host}:{port} (Ctrl-C stops)",
        flush=True,
    )
    try:
        while True:
            status = _serve_one(command)
            if args.once:
                return status
            print(f"{PROG}: worker ended ({status}); waiting for the next run's master", flush=True)
            time.sleep(RESTART_PAUSE_S)  # a worker that cannot start must not spin
    except KeyboardInterrupt:
        print(f"{PROG}: stopped", flush=True)
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
