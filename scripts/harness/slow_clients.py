"""Slow clients: connections that send a request's header one line at a time and never end it.

This is the load Gunicorn's deployment docs warn about: a sync worker reads a request whole
before it does anything else, so a few clients that trickle their headers hold every worker,
and a normal request waits in the listen queue. A buffering proxy (nginx) reads the slow
headers itself and passes on only complete requests. Measured here by hand: 20 such clients
made a normal request to gunicorn sync and uWSGI time out after 15 s, and nginx in front
made it answer in 0.01 s.

Always bounded: at most MAX_CLIENTS connections, each closed after at most MAX_DURATION_S,
from one thread that only sleeps and writes a line.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Final

from servers.http import request_json

MAX_CLIENTS: Final = 200
MAX_DURATION_S: Final = 60.0
CONNECT_TIMEOUT_S: Final = 2.0


@dataclass(frozen=True)
class SlowClientPlan:
    """How many slow clients, how often each sends a header line, and for how long at most."""

    count: int = 20
    line_interval_s: float = 0.5
    duration_s: float = 10.0

    def __post_init__(self) -> None:
        if not 1 <= self.count <= MAX_CLIENTS:
            raise ValueError(f"slow clients: count must be 1..{MAX_CLIENTS}, got {self.count}")
        if not 0 < self.duration_s <= MAX_DURATION_S:
            raise ValueError(
                f"slow clients: duration must be above 0 and at most {MAX_DURATION_S:.0f} s"
            )
        if not 0 < self.line_interval_s <= self.duration_s:
            raise ValueError("slow clients: the line interval must be above 0, within duration")


@dataclass
class SlowClients:
    """A context manager: entering connects the clients and starts the trickle; leaving (or
    the plan's duration) closes every connection. `dropped` counts connections the server
    closed or refused (nginx ends a slow header after client_header_timeout)."""

    host: str
    port: int
    plan: SlowClientPlan = field(default_factory=SlowClientPlan)
    opened: int = 0
    dropped: int = 0
    _sockets: list[socket.socket] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> SlowClients:
        deadline = time.monotonic() + self.plan.duration_s
        request_line = f"GET /healthz HTTP/1.1\r\nHost: {self.host}\r\n".encode()
        for _ in range(self.plan.count):
            try:
                connection = socket.create_connection(
                    (self.host, self.port), timeout=CONNECT_TIMEOUT_S
                )
                connection.sendall(request_line)
            except OSError:
                self.dropped += 1
                continue
            self._sockets.append(connection)
            self.opened += 1
        self._thread = threading.Thread(
            target=self._trickle, args=(deadline,), name="slow-clients", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.plan.line_interval_s + CONNECT_TIMEOUT_S + 1)
        self._close_all()

    @property
    def holding(self) -> int:
        """Connections still open and trickling."""
        return len(self._sockets)

    def _trickle(self, deadline: float) -> None:
        line = 0
        while not self._stop.wait(self.plan.line_interval_s) and time.monotonic() < deadline:
            line += 1
            for connection in list(self._sockets):
                try:
                    connection.sendall(f"X-Slow-{line}: {line}\r\n".encode())
                except OSError:
                    self._sockets.remove(connection)
                    connection.close()
                    self.dropped += 1
        self._close_all()

    def _close_all(self) -> None:
        while self._sockets:
            self._sockets.pop().close()


def answer_time_s(base_url: str, path: str = "/healthz", timeout_s: float = 5.0) -> float | None:
    """Seconds until one normal request got a 200, or None when it did not within
    `timeout_s` (a timeout, a refused or reset connection, or another status)."""
    started = time.monotonic()
    try:
        response = request_json("GET", base_url + path, timeout_s=timeout_s)
    except OSError:
        return None
    elapsed_s = time.monotonic() - started
    return elapsed_s if response.status == 200 else None
