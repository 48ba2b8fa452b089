"""wrk, the C load generator, as the reference the harness is checked against.

Running it: a child in its own session (like the servers and Locust), pinned where asked,
its output in a file, bounded by a deadline, and killed with its whole session whatever
happens (a timeout, a Ctrl-C), so a calibration never leaves a wrk behind.

Reading it: wrk has no machine-readable output without a Lua script, so its text report is
parsed here. Every figure used is taken from a line whose format wrk's source fixes
(`Requests/sec:`, `N requests in T, B read`, the `--latency` distribution, `Non-2xx or 3xx
responses:` and `Socket errors:`); anything missing is an error, never a silent zero.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from servers.child import ChildSpec, ManagedChild, child_environment

# Seconds wrk may take beyond its -d: connecting, the final in-flight requests, the report.
DEADLINE_SLACK_S = 15.0
# Per-request timeout given to wrk: long enough that a slow but answering server is not
# counted as failing (Locust's FastHttpUser waits far longer), short enough to bound a run.
DEFAULT_REQUEST_TIMEOUT_S = 10
_TIME_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_NUMBER_WITH_UNIT = r"(?P<value>\d+(?:\.\d+)?)(?P<unit>us|ms|s|m|h)"
_REQUESTS_LINE = re.compile(rf"^\s*(?P<requests>\d+) requests in {_NUMBER_WITH_UNIT},")
_RPS_LINE = re.compile(r"^\s*Requests/sec:\s*(?P<rps>\d+(?:\.\d+)?)\s*$")
_PERCENTILE_LINE = re.compile(rf"^\s*(?P<pct>\d+(?:\.\d+)?)%\s+{_NUMBER_WITH_UNIT}\s*$")
_NON_2XX_LINE = re.compile(r"^\s*Non-2xx or 3xx responses:\s*(?P<count>\d+)\s*$")
_SOCKET_ERRORS_LINE = re.compile(
    r"^\s*Socket errors: connect (?P<connect>\d+), read (?P<read>\d+), "
    r"write (?P<write>\d+), timeout (?P<timeout>\d+)\s*$"
)


class WrkNotFoundError(RuntimeError):
    """The wrk binary is not installed (or not where it was said to be)."""


class WrkOutputError(ValueError):
    """wrk's output lacks a figure the calibration needs (wrk failed, or a new format)."""


def to_ms(value: str, unit: str) -> float:
    """A wrk duration such as ("22.10", "ms") or ("812.00", "us") in milliseconds."""
    return float(value) * _TIME_UNIT_MS[unit]


@dataclass(frozen=True)
class SocketErrors:
    """wrk's socket error counters. `read`/`write` count broken connections, `timeout`
    requests that got no answer within wrk's --timeout; a server that closes a connection
    cleanly after its answer (HTTP `Connection: close`) causes none of them."""

    connect: int = 0
    read: int = 0
    write: int = 0
    timeout: int = 0

    @property
    def total(self) -> int:
        return self.connect + self.read + self.write + self.timeout

    def as_dict(self) -> dict[str, int]:
        return {
            "connect": self.connect,
            "read": self.read,
            "write": self.write,
            "timeout": self.timeout,
        }


@dataclass(frozen=True)
class WrkResult:
    """The figures of one wrk run, as wrk printed them."""

    requests: int
    elapsed_s: float
    rps: float
    latency_percentiles_ms: dict[float, float]
    non_2xx_3xx: int
    socket_errors: SocketErrors

    @property
    def p50_ms(self) -> float | None:
        """The median from `--latency` (wrk's own histogram, microsecond resolution)."""
        return self.latency_percentiles_ms.get(50.0)

    @property
    def errors(self) -> int:
        """Answers that were not 2xx/3xx plus socket errors: any of them means wrk did not
        measure what the harness measures (a correct answer to an authenticated request)."""
        return self.non_2xx_3xx + self.socket_errors.total

    def error_summary(self) -> str:
        """A readable account of the errors ("" when there are none)."""
        parts = []
        if self.non_2xx_3xx:
            parts.append(f"{self.non_2xx_3xx} non-2xx/3xx responses")
        sockets = self.socket_errors
        if sockets.total:
            parts.append(
                f"socket errors (connect {sockets.connect}, read {sockets.read}, "
                f"write {sockets.write}, timeout {sockets.timeout})"
            )
        return ", ".join(parts)


def parse_wrk_output(text: str) -> WrkResult:
    """Parse wrk's report (run with --latency); WrkOutputError if a needed line is missing.

    The latency distribution lines are taken only after the "Latency Distribution" header,
    so the Thread Stats table (whose last column is also a percentage) cannot be mistaken
    for it.
    """
    requests: int | None = None
    elapsed_s: float | None = None
    rps: float | None = None
    percentiles: dict[float, float] = {}
    non_2xx = 0
    sockets = SocketErrors()
    in_distribution = False
    for line in text.splitlines():
        if line.strip() == "Latency Distribution":
            in_distribution = True
            continue
        if in_distribution:
            percentile = _PERCENTILE_LINE.match(line)
            if percentile:
                percentiles[float(percentile["pct"])] = to_ms(
                    percentile["value"], percentile["unit"]
                )
                continue
            in_distribution = False
        if match := _REQUESTS_LINE.match(line):
            requests = int(match["requests"])
            elapsed_s = to_ms(match["value"], match["unit"]) / 1000
        elif match := _RPS_LINE.match(line):
            rps = float(match["rps"])
        elif match := _NON_2XX_LINE.match(line):
            non_2xx = int(match["count"])
        elif match := _SOCKET_ERRORS_LINE.match(line):
            sockets = SocketErrors(
                connect=int(match["connect"]),
                read=int(match["read"]),
                write=int(match["write"]),
                timeout=int(match["timeout"]),
            )
    missing = [
        name
        for name, value in (
            ("'N requests in T' line", requests),
            ("'Requests/sec:' line", rps),
            ("50% line of the latency distribution (was --latency given?)", percentiles.get(50.0)),
        )
        if value is None
    ]
    if missing:
        first = next((line.strip() for line in text.splitlines() if line.strip()), "(empty)")
        raise WrkOutputError(f"wrk output has no {', no '.join(missing)}; it begins: {first!r}")
    assert requests is not None and elapsed_s is not None and rps is not None
    if math.isnan(rps):
        raise WrkOutputError("wrk reported Requests/sec as NaN")
    return WrkResult(
        requests=requests,
        elapsed_s=elapsed_s,
        rps=rps,
        latency_percentiles_ms=percentiles,
        non_2xx_3xx=non_2xx,
        socket_errors=sockets,
    )


def find_wrk(binary: str) -> Path:
    """The wrk executable: `binary` as a path if it contains a slash, else looked up on
    PATH; WrkNotFoundError (with what to do about it) otherwise."""
    if "/" in binary:
        found = binary if Path(binary).is_file() and os.access(binary, os.X_OK) else None
    else:
        found = shutil.which(binary)
    if found is None:
        where = binary if "/" in binary else f"{binary!r} on PATH"
        raise WrkNotFoundError(
            f"wrk not found ({where}); install it with `make system-deps` (the Debian package wrk)"
        )
    return Path(found).resolve()


def wrk_version(binary: Path) -> str:
    """wrk's first line of `--version` (it exits 1 after printing it, and the usage text)."""
    try:
        done = subprocess.run(
            [str(binary), "--version"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unknown ({error})"
    text = (done.stdout or "") + (done.stderr or "")
    return next((line.strip() for line in text.splitlines() if line.strip()), "unknown")


@dataclass(frozen=True)
class WrkRequest:
    """One wrk run: `threads` (1, like one Locust process) over `connections` connections
    for `duration_s` whole seconds (wrk takes no fractions), every request carrying the
    same `Authorization` header when a token is given, or built by a Lua `script` (given
    `script_args` after wrk's `--`) when one is."""

    binary: Path
    url: str
    connections: int
    duration_s: int
    token: str | None
    threads: int = 1
    request_timeout_s: int = DEFAULT_REQUEST_TIMEOUT_S
    cpus: tuple[int, ...] | None = None
    script: Path | None = None
    script_args: tuple[str, ...] = ()

    @property
    def deadline_s(self) -> float:
        return self.duration_s + self.request_timeout_s + DEADLINE_SLACK_S

    def argv(self, *, redact: bool = False) -> list[str]:
        """The command line; with `redact`, the token replaced by a placeholder (for
        result files: a bearer token is a credential, even a short-lived local one)."""
        header = []
        if self.token is not None:
            shown = "<token>" if redact else self.token
            header = ["-H", f"Authorization: Bearer {shown}"]
        return [
            str(self.binary),
            "--latency",
            "-t",
            str(self.threads),
            "-c",
            str(self.connections),
            "-d",
            f"{self.duration_s}s",
            "--timeout",
            f"{self.request_timeout_s}s",
            *header,
            *(["-s", str(self.script)] if self.script else []),
            self.url,
            *(["--", *self.script_args] if self.script and self.script_args else []),
        ]


@dataclass(frozen=True)
class WrkRun:
    """What one wrk run left: its exit status, raw output, and when it ran (epoch s)."""

    exit_code: int
    output: str
    started_at: float
    finished_at: float
    pid: int

    def result(self) -> WrkResult:
        """The parsed figures; WrkOutputError if wrk failed or printed no report."""
        if self.exit_code != 0:
            tail = " | ".join(self.output.strip().splitlines()[-3:]) or "(no output)"
            raise WrkOutputError(f"wrk exited with status {self.exit_code}: {tail}")
        return parse_wrk_output(self.output)


def run_wrk(
    request: WrkRequest, output_path: Path, on_started: Callable[[int], None] | None = None
) -> WrkRun:
    """Run wrk to completion, its output going to `output_path`, and return what it did.

    TimeoutError past `request.deadline_s`; on any exit from here (also KeyboardInterrupt)
    no process of wrk's session is left. `on_started` gets wrk's pid (its session id)."""
    started_at = time.time()
    # wrk holds no state worth a graceful stop: an interrupted run is discarded anyway
    child = ManagedChild.start(
        ChildSpec(
            name="wrk",
            argv=tuple(request.argv()),
            environment=child_environment({}),
            log_path=output_path,
            cpus=request.cpus,
            stop_signal=signal.SIGKILL,
            stop_grace_s=0.0,
        )
    )
    try:
        if on_started is not None:
            on_started(child.pid)
        exit_code = child.wait(request.deadline_s)
        if exit_code is None:
            raise TimeoutError(
                f"wrk did not finish within {request.deadline_s:.0f} s "
                f"(-d {request.duration_s}s); it was killed"
            )
    finally:
        child.stop()
    return WrkRun(
        exit_code=exit_code,
        output=output_path.read_text(errors="replace"),
        started_at=started_at,
        finished_at=time.time(),
        pid=child.pid,
    )
