"""scripts/wrk.py: the parser on real wrk 4.1.0 reports, and the runner against real wrk.

Every report below was captured from /usr/bin/wrk (Debian 4.1.0-3+b2) on this project's
machine: against gunicorn with a token, without one (401s), against a server stopped in the
middle of the run, against a tiny asyncio server (sub-millisecond latencies, printed in us)
and with more connections than that server could answer within --timeout.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from scripts.harness.wrk import (
    SocketErrors,
    WrkNotFoundError,
    WrkOutputError,
    WrkRequest,
    find_wrk,
    parse_wrk_output,
    run_wrk,
    to_ms,
    wrk_version,
)
from servers.process_group import session_members

GUNICORN_OK = """\
Running 2s test @ http://127.0.0.1:18123/api/me/
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    21.54ms    4.34ms  34.10ms   72.01%
    Req/Sec   184.65     20.71   240.00     75.00%
  Latency Distribution
     50%   22.10ms
     75%   24.06ms
     90%   27.38ms
     99%   30.68ms
  368 requests in 2.00s, 118.59KB read
Requests/sec:    183.61
Transfer/sec:     59.17KB
"""

# The same server without the Authorization header: every answer is a 401.
GUNICORN_NO_TOKEN = """\
Running 2s test @ http://127.0.0.1:18123/api/me/
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     9.01ms   11.73ms  99.36ms   96.24%
    Req/Sec   550.75    157.76   757.00     80.00%
  Latency Distribution
     50%    7.10ms
     75%    8.72ms
     90%   12.48ms
     99%   82.08ms
  1098 requests in 2.01s, 434.27KB read
  Non-2xx or 3xx responses: 1098
Requests/sec:    547.27
Transfer/sec:    216.45KB
"""

# The server was stopped 4 s into an 8 s run.
SERVER_STOPPED_MIDWAY = """\
Running 8s test @ http://127.0.0.1:18125/api/me/
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    27.82ms   14.04ms  81.57ms   84.70%
    Req/Sec   282.21    114.99   434.00     58.97%
  Latency Distribution
     50%   21.61ms
     75%   28.24ms
     90%   53.33ms
     99%   72.80ms
  1098 requests in 8.03s, 353.85KB read
  Socket errors: connect 0, read 8, write 115814, timeout 0
Requests/sec:    136.72
Transfer/sec:     44.06KB
"""

FAST_SERVER_MICROSECONDS = """\
Running 2s test @ http://127.0.0.1:18126/
  1 threads and 1 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.11ms    1.68ms  14.91ms   85.96%
    Req/Sec     2.94k     0.97k    6.25k    90.00%
  Latency Distribution
     50%  131.00us
     75%    1.69ms
     90%    3.32ms
     99%    7.53ms
  5870 requests in 2.00s, 378.34KB read
Requests/sec:   2929.10
Transfer/sec:    188.79KB
"""

OVERLOADED_TIMEOUTS = """\
Running 3s test @ http://127.0.0.1:18126/
  1 threads and 2000 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    82.29ms  109.01ms 981.33ms   94.26%
    Req/Sec    17.08k     9.52k   34.69k    60.71%
  Latency Distribution
     50%   59.11ms
     75%   76.85ms
     90%  123.58ms
     99%  686.11ms
  49567 requests in 3.10s, 3.12MB read
  Socket errors: connect 0, read 0, write 0, timeout 174
Requests/sec:  16010.26
Transfer/sec:      1.01MB
"""

CONNECTION_REFUSED = "unable to connect to 127.0.0.1:18124 Connection refused\n"


def require_wrk() -> str:
    """The wrk binary; a skip (with the reason) when absent, but a failure on CI, where
    `make system-deps` installs it and a missing wrk must not pass silently."""
    found = shutil.which("wrk")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("wrk is not installed on CI (make system-deps installs it)")
        pytest.skip("wrk is not installed (make system-deps installs it)")
    return found


def test_parses_a_clean_run() -> None:
    result = parse_wrk_output(GUNICORN_OK)
    assert result.requests == 368
    assert result.elapsed_s == pytest.approx(2.0)
    assert result.rps == pytest.approx(183.61)
    assert result.p50_ms == pytest.approx(22.10)
    assert result.latency_percentiles_ms == pytest.approx(
        {50.0: 22.10, 75.0: 24.06, 90.0: 27.38, 99.0: 30.68}
    )
    assert result.errors == 0 and result.error_summary() == ""


def test_counts_non_2xx_answers_as_errors() -> None:
    result = parse_wrk_output(GUNICORN_NO_TOKEN)
    assert result.non_2xx_3xx == 1098 == result.requests
    assert result.socket_errors == SocketErrors()
    assert result.errors == 1098
    assert result.error_summary() == "1098 non-2xx/3xx responses"
    assert result.p50_ms == pytest.approx(7.10)


def test_counts_socket_errors() -> None:
    result = parse_wrk_output(SERVER_STOPPED_MIDWAY)
    assert result.socket_errors == SocketErrors(connect=0, read=8, write=115814, timeout=0)
    assert result.errors == 115822
    assert "read 8, write 115814" in result.error_summary()
    assert result.rps == pytest.approx(136.72) and result.elapsed_s == pytest.approx(8.03)
    timeouts = parse_wrk_output(OVERLOADED_TIMEOUTS)
    assert timeouts.socket_errors.timeout == 174 and timeouts.errors == 174
    assert timeouts.requests == 49567 and timeouts.elapsed_s == pytest.approx(3.10)


def test_latency_units_are_converted_to_milliseconds() -> None:
    result = parse_wrk_output(FAST_SERVER_MICROSECONDS)
    assert result.p50_ms == pytest.approx(0.131)
    assert result.latency_percentiles_ms[75.0] == pytest.approx(1.69)
    assert to_ms("1.02", "s") == pytest.approx(1020.0)
    assert to_ms("2.00", "m") == pytest.approx(120_000.0)
    assert to_ms("812.00", "us") == pytest.approx(0.812)


def test_thread_stats_are_not_taken_for_the_distribution() -> None:
    """Without --latency, the only percentages are the Thread Stats' last column."""
    without_latency = "\n".join(
        line
        for line in GUNICORN_OK.splitlines()
        if "Latency Distribution" not in line and not re.match(r"^\s+\d+%", line)
    )
    assert "72.01%" in without_latency
    with pytest.raises(WrkOutputError, match="was --latency given"):
        parse_wrk_output(without_latency)


@pytest.mark.parametrize("text", [CONNECTION_REFUSED, "", "Usage: wrk <options> <url>\n"])
def test_output_without_a_report_is_an_error(text: str) -> None:
    with pytest.raises(WrkOutputError, match="no 'N requests in T' line"):
        parse_wrk_output(text)


def test_find_wrk_explains_what_to_do_when_missing(tmp_path: Path) -> None:
    with pytest.raises(WrkNotFoundError, match="make system-deps"):
        find_wrk(str(tmp_path / "wrk"))
    with pytest.raises(WrkNotFoundError, match="make system-deps"):
        find_wrk("wrk-that-does-not-exist")
    not_executable = tmp_path / "wrk"
    not_executable.write_text("")
    with pytest.raises(WrkNotFoundError):
        find_wrk(str(not_executable))


def test_request_argv_redacts_the_token() -> None:
    request = WrkRequest(
        binary=Path("/usr/bin/wrk"),
        url="http://127.0.0.1:1/api/me/",
        connections=16,
        duration_s=10,
        token="secret.jwt.value",
    )
    assert request.argv()[:9] == [
        "/usr/bin/wrk",
        "--latency",
        "-t",
        "1",
        "-c",
        "16",
        "-d",
        "10s",
        "--timeout",
    ]
    assert "Authorization: Bearer secret.jwt.value" in request.argv()
    assert "secret.jwt.value" not in " ".join(request.argv(redact=True))
    assert "Authorization: Bearer <token>" in request.argv(redact=True)


class _Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        ok = self.headers.get("Authorization") == "Bearer t0k"
        body = b'{"ok": true}' if ok else b"{}"
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_run_wrk_for_real(local_server: str, tmp_path: Path) -> None:
    binary = Path(require_wrk())
    assert wrk_version(binary).startswith("wrk ")
    pids: list[int] = []
    run = run_wrk(
        WrkRequest(binary=binary, url=local_server, connections=2, duration_s=1, token="t0k"),
        tmp_path / "wrk.txt",
        on_started=pids.append,
    )
    result = run.result()
    assert result.requests > 0 and result.rps > 0 and result.errors == 0
    assert (tmp_path / "wrk.txt").read_text() == run.output
    assert session_members(pids[0]) == []
    refused = run_wrk(
        WrkRequest(binary=binary, url=local_server, connections=2, duration_s=1, token="bad"),
        tmp_path / "refused.txt",
    )
    assert refused.result().non_2xx_3xx == refused.result().requests > 0


@pytest.mark.slow
def test_wrk_that_fails_is_an_error(tmp_path: Path) -> None:
    binary = Path(require_wrk())
    run = run_wrk(
        WrkRequest(
            binary=binary, url="http://127.0.0.1:1/", connections=1, duration_s=1, token=None
        ),
        tmp_path / "wrk.txt",
    )
    assert run.exit_code != 0
    with pytest.raises(WrkOutputError, match="wrk exited with status"):
        run.result()


@pytest.mark.slow
def test_interrupted_wrk_leaves_no_process(local_server: str, tmp_path: Path) -> None:
    """A Ctrl-C while wrk runs: run_wrk re-raises it and wrk's session is gone."""
    binary = require_wrk()
    script = (
        "import sys; from pathlib import Path\n"
        "from scripts.harness.wrk import WrkRequest, run_wrk\n"
        f"request = WrkRequest(binary=Path({binary!r}), url={local_server!r}, connections=1, "
        "duration_s=60, token='t0k')\n"
        "try:\n"
        f"    run_wrk(request, Path({str(tmp_path / 'wrk.txt')!r}), "
        "on_started=lambda pid: print(pid, flush=True))\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        wrk_pid = int(child.stdout.readline())
        time.sleep(0.5)
        assert session_members(wrk_pid) == [wrk_pid]
        child.send_signal(signal.SIGINT)
        rest, _ = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert "interrupted" in rest
    assert session_members(wrk_pid) == []
