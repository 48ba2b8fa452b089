"""Robustness checks of one deployment (CHECKS=robustness): short, bounded, and provoking
errors on purpose, so what they measure are figures, never a gate.

- slow clients: how normal requests fare while N clients trickle headers (slow_clients.py);
- oversized input: the status a request with a huge header, and one with a huge body, gets
  (None: the connection was closed or timed out without an answer);
- graceful stop: what clients with requests in flight see while the server is stopped the
  way it is meant to be (its stop signal): answered, or which error.

Each check says what it did in its figures, so a table per server x profile can be read
without this file.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from types import MappingProxyType
from typing import Final

from scripts.harness.slow_clients import SlowClientPlan, SlowClients, answer_time_s

PROBE_INTERVAL_S: Final = 0.5
PROBE_TIMEOUT_S: Final = 2.0
NORMAL_ANSWER_S: Final = 1.0
HEADER_BYTES: Final = 64 * 1024
BODY_BYTES: Final = 4 * 1024 * 1024
RAW_TIMEOUT_S: Final = 5.0
MAX_IN_FLIGHT: Final = 50
IN_FLIGHT_SLEEP_MS: Final = 1000


@dataclass(frozen=True)
class SlowClientFigures:
    """Normal requests probed while slow clients held connections; `worst_answer_s` is the
    slowest of those answered (probes - answered got no answer within PROBE_TIMEOUT_S)."""

    clients: int
    duration_s: float
    probes: int
    answered: int
    answered_within_1s: int
    worst_answer_s: float | None
    dropped_by_server: int


@dataclass(frozen=True)
class OversizeFigures:
    """What a request with an oversized header, and one with an oversized body, got."""

    header_bytes: int
    header_status: int | None
    body_bytes: int
    body_status: int | None


@dataclass(frozen=True)
class GracefulStopFigures:
    """Requests in flight when the server was asked to stop, by outcome ("ok", "http_502",
    "reset", "refused", "timeout"), and how long the stop took."""

    in_flight: int
    request_ms: int
    outcomes: Mapping[str, int]
    stop_s: float


@dataclass(frozen=True)
class RobustnessFigures:
    """All three checks of one run, for summary.json."""

    slow_clients: SlowClientFigures
    oversize: OversizeFigures
    graceful_stop: GracefulStopFigures | None

    def to_json(self) -> dict[str, object]:
        stop = self.graceful_stop
        return {
            "slow_clients": asdict(self.slow_clients),
            "oversize": asdict(self.oversize),
            "graceful_stop": None
            if stop is None
            else {
                "in_flight": stop.in_flight,
                "request_ms": stop.request_ms,
                "outcomes": dict(stop.outcomes),
                "stop_s": stop.stop_s,
            },
        }


def slow_client_check(host: str, port: int, plan: SlowClientPlan) -> SlowClientFigures:
    """Probe /healthz every PROBE_INTERVAL_S while `plan`'s clients trickle (bounded by its
    duration); the first probe waits one interval, so the clients hold the workers by then."""
    answers: list[float | None] = []
    base_url = f"http://{host}:{port}"
    with SlowClients(host, port, plan) as slow:
        end = time.monotonic() + plan.duration_s
        while time.monotonic() + PROBE_TIMEOUT_S < end:
            time.sleep(PROBE_INTERVAL_S)
            answers.append(answer_time_s(base_url, "/healthz", timeout_s=PROBE_TIMEOUT_S))
        dropped = slow.dropped
    answered = [seconds for seconds in answers if seconds is not None]
    return SlowClientFigures(
        clients=plan.count,
        duration_s=plan.duration_s,
        probes=len(answers),
        answered=len(answered),
        answered_within_1s=sum(seconds < NORMAL_ANSWER_S for seconds in answered),
        worst_answer_s=max(answered) if answered else None,
        dropped_by_server=dropped,
    )


def status_of_raw_request(host: str, port: int, request: bytes) -> int | None:
    """Send `request` as is and read the status line; None when the connection closed or
    timed out without one. A server may answer before it read everything (a 413 or 431),
    so a failed send still reads what came back."""
    with socket.create_connection((host, port), timeout=RAW_TIMEOUT_S) as connection:
        with contextlib.suppress(OSError):
            connection.sendall(request)
        received = b""
        try:
            while b"\r\n" not in received and len(received) < 4096:
                chunk = connection.recv(4096)
                if not chunk:
                    break
                received += chunk
        except OSError:
            return None
    parts = received.split(b"\r\n", 1)[0].split()
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
        return int(parts[1])
    return None


def oversize_check(host: str, port: int) -> OversizeFigures:
    """A GET with one header of HEADER_BYTES, and a POST with a body of BODY_BYTES."""
    big_header = (
        f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nX-Big: {'a' * HEADER_BYTES}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    big_body = (
        f"POST /api/items/ HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {BODY_BYTES}\r\nConnection: close\r\n\r\n"
    ).encode() + b" " * BODY_BYTES
    return OversizeFigures(
        header_bytes=HEADER_BYTES,
        header_status=status_of_raw_request(host, port, big_header),
        body_bytes=BODY_BYTES,
        body_status=status_of_raw_request(host, port, big_body),
    )


def _outcome(host: str, port: int, token: str, request_ms: int) -> str:
    connection = http.client.HTTPConnection(host, port, timeout=request_ms / 1000 + 20)
    try:
        connection.request(
            "GET", f"/api/slow/?ms={request_ms}", headers={"Authorization": f"Bearer {token}"}
        )
        status = connection.getresponse().status
    except ConnectionRefusedError:
        return "refused"
    except TimeoutError:
        return "timeout"
    except (OSError, http.client.HTTPException):
        return "reset"
    finally:
        connection.close()
    return "ok" if status == 200 else f"http_{status}"


def graceful_stop_check(
    host: str,
    port: int,
    token: str,
    stop_server: Callable[[], object],
    *,
    in_flight: int = 10,
    request_ms: int = IN_FLIGHT_SLEEP_MS,
) -> GracefulStopFigures:
    """Start `in_flight` requests to /api/slow/ (each waits `request_ms` in the view), ask
    the server to stop halfway through them, and count what each client saw. It ends the
    server: run it last."""
    if not 1 <= in_flight <= MAX_IN_FLIGHT:
        raise ValueError(f"graceful stop: in_flight must be 1..{MAX_IN_FLIGHT}")
    with ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="in-flight") as pool:
        futures = [pool.submit(_outcome, host, port, token, request_ms) for _ in range(in_flight)]
        time.sleep(request_ms / 2000)
        stop_started = time.monotonic()
        stopper = threading.Thread(target=stop_server, name="graceful-stop")
        stopper.start()
        outcomes = Counter(future.result() for future in futures)
        stopper.join()
        stop_s = time.monotonic() - stop_started
    return GracefulStopFigures(
        in_flight=in_flight,
        request_ms=request_ms,
        outcomes=MappingProxyType(dict(sorted(outcomes.items()))),
        stop_s=stop_s,
    )


# CHECKS=robustness in a bench: the bound (50 clients for 10 s) and a graceful stop
# with ten requests in flight.
BENCH_SLOW_CLIENTS: Final = SlowClientPlan(count=50, duration_s=10.0)
BENCH_IN_FLIGHT: Final = 10


def robustness_checks(
    host: str,
    port: int,
    token: str,
    stop_server: Callable[[], object],
    slow_clients: SlowClientPlan = BENCH_SLOW_CLIENTS,
) -> RobustnessFigures:
    """All three checks against the deployment's front (nginx where there is one), the
    graceful stop last since it ends the server. `token` is a valid access token for the
    in-flight requests."""
    slow = slow_client_check(host, port, slow_clients)
    oversize = oversize_check(host, port)
    stopped = graceful_stop_check(host, port, token, stop_server, in_flight=BENCH_IN_FLIGHT)
    return RobustnessFigures(slow, oversize, stopped)
