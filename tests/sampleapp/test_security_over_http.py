"""The app's security points over real HTTP, under every registered server.

One launch per server checks what only a real server can show: an oversized body is refused
with 413 (the wrappers in config.asgi/config.wsgi, whatever the server does with the body),
logins are throttled with 429 and Retry-After across the server's worker processes, and a
/healthz whose database has gone away says 503 without the driver's text. Separately,
concurrent refreshes of one refresh token under multi-process servers yield one success.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import json
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from servers.app import AppSettings
from servers.http import request_json
from servers.registry import SERVERS
from servers.supervisor import RunningServer
from tests.servers.conftest import SEED, launch_request, start_tracked

MAX_BODY_BYTES = 1024 * 1024  # the app's default: AppSettings does not change it
USER_RATE_PER_MIN = 2
ADDRESS_RATE_PER_MIN = 4
TOKEN_PATH = "/api/auth/token/"
REFRESH_PATH = "/api/auth/token/refresh/"
WRONG_PASSWORD = "not-the-password"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def exchange(
    port: int, method: str, path: str, body: bytes = b"", timeout_s: float = 15.0
) -> Answer:
    """One request on a fresh connection, sent whole even if the server stops reading (it may
    answer before the body is in), then the answer as the server wrote it."""
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        # The server may answer before the body is in and close; its answer is still readable.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(head + body)
        response = http.client.HTTPResponse(sock)
        response.begin()
        content = response.read()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, content)


def login(port: int, username: str, password: str) -> Answer:
    payload = json.dumps({"username": username, "password": password}).encode()
    return exchange(port, "POST", TOKEN_PATH, payload)


def assert_throttled(answer: Answer) -> None:
    assert answer.status == 429, answer.body
    assert 1 <= int(answer.headers["retry-after"]) <= 60
    assert "access" not in answer.json()


def break_database(db_path: Path) -> None:
    """Make the SQLite file unopenable under a running server: a directory where it was."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    db_path.mkdir()


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SERVERS))
def test_body_limit_login_throttle_and_health_privacy(
    name: str, app_settings: AppSettings, tmp_path: Path, launched: list[RunningServer]
) -> None:
    app = dataclasses.replace(
        app_settings,
        login_throttle_user_rate=f"{USER_RATE_PER_MIN}/min",
        login_throttle_address_rate=f"{ADDRESS_RATE_PER_MIN}/min",
    )
    request = launch_request(SERVERS[name], app, tmp_path)
    server = start_tracked(request, launched)
    port = request.port

    # Bodies: one byte over the limit is refused before the app; at the limit it gets through
    # (to DRF's 401, since no token is sent).
    over = exchange(port, "POST", "/api/items/", b"x" * (MAX_BODY_BYTES + 1))
    at_limit = exchange(port, "POST", "/api/items/", b"x" * MAX_BODY_BYTES)
    assert over.status == 413, over.body
    assert over.json() == {"detail": "Request body too large."}
    assert at_limit.status == 401, at_limit.body

    # Logins: two guesses for one account, then even its right password is throttled; a
    # guess for another account brings the address to its limit, then that is throttled too.
    first_user, second_user = SEED.username(1), SEED.username(2)
    guesses = [login(port, first_user, WRONG_PASSWORD).status for _ in range(USER_RATE_PER_MIN)]
    account_throttled = login(port, first_user, SEED.password)
    guesses.append(login(port, second_user, WRONG_PASSWORD).status)
    address_throttled = login(port, second_user, SEED.password)
    assert guesses == [401] * (ADDRESS_RATE_PER_MIN - 1)
    assert_throttled(account_throttled)
    assert_throttled(address_throttled)

    # Health: the database goes away; the probe says so without the driver's words, and the
    # server log gets them.
    db_path = tmp_path / "db.sqlite3"
    assert app.database_url.endswith(str(db_path))
    break_database(db_path)
    health = exchange(port, "GET", "/healthz")
    assert health.status == 503
    assert health.json() == {"status": "error", "detail": "Database unavailable."}
    log = server.request.log_path.read_text(errors="replace")
    assert "healthz: database check failed" in log
    assert "unable to open database file" in log
    assert "unable to open" not in health.body.decode()


REFRESH_RACERS = 10
REFRESH_ROUNDS = 3


# Multi-process WSGI servers, as the issue asks: separate processes, so no lock in Python
# can serialize the refreshes; only the database can.
@pytest.mark.slow
@pytest.mark.parametrize("name", ["gunicorn", "uwsgi"])
def test_concurrent_refreshes_of_one_token_yield_exactly_one_success(
    name: str, app_settings: AppSettings, tmp_path: Path, launched: list[RunningServer]
) -> None:
    server = start_tracked(
        launch_request(SERVERS[name], app_settings, tmp_path, workers=2), launched
    )
    url = server.base_url + REFRESH_PATH
    tokens = request_json(
        "POST",
        server.base_url + TOKEN_PATH,
        payload={"username": SEED.username(1), "password": SEED.password},
    )
    assert tokens.status == 200, tokens.body
    refresh = tokens.body["refresh"]

    for _ in range(REFRESH_ROUNDS):
        start_together = threading.Barrier(REFRESH_RACERS)

        def race(token: str = refresh, barrier: threading.Barrier = start_together) -> Any:
            barrier.wait(timeout=10)
            return request_json("POST", url, payload={"refresh": token}, timeout_s=30)

        with ThreadPoolExecutor(REFRESH_RACERS) as pool:
            answers = list(pool.map(lambda _: race(), range(REFRESH_RACERS)))

        statuses = sorted(answer.status for answer in answers)
        assert statuses == [200] + [401] * (REFRESH_RACERS - 1), statuses
        (winner,) = [answer for answer in answers if answer.status == 200]
        refresh = winner.body["refresh"]  # the next round races the new token
