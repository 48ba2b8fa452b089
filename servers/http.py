"""A tiny JSON-over-HTTP client on the standard library, for readiness and response checks.

Not for load: Locust does that. This one is for the few requests made outside the measured
window (health polls, pre-load response checks, tests), where clarity beats speed.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class JsonResponse:
    """Status code and decoded body (None when the body was empty or not JSON), and the
    Retry-After header of a throttled answer (None without one)."""

    status: int
    body: Any
    content_type: str
    retry_after: str | None = None


def request_json(
    method: str,
    url: str,
    *,
    payload: Any = None,
    token: str | None = None,
    timeout_s: float = 10.0,
    tls: ssl.SSLContext | None = None,
) -> JsonResponse:
    """Send one request and decode the JSON answer; HTTP error statuses are returned, not
    raised. Connection errors raise OSError (a TLS failure too: urllib's URLError with the
    ssl error as its reason). An https URL is verified against `tls`, or the system's CA
    certificates without it."""
    data, headers = _encoded(payload, token)
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s, context=tls) as response:
            return _decode(
                response.status, response.headers.get("Content-Type", ""), response.read()
            )
    except urllib.error.HTTPError as error:
        with error:
            answer = _decode(error.code, error.headers.get("Content-Type", ""), error.read())
            return replace(answer, retry_after=error.headers.get("Retry-After"))


def _encoded(payload: Any, token: str | None) -> tuple[bytes | None, dict[str, str]]:
    """The body and headers of a JSON request."""
    data = None if payload is None else json.dumps(payload).encode()
    headers = {"Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return data, headers


def _decode(status: int, content_type: str, raw: bytes) -> JsonResponse:
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    return JsonResponse(status=status, body=body, content_type=content_type)


class _UnixSocketConnection(http.client.HTTPConnection):
    """HTTP over a Unix socket (urllib speaks TCP only); the Host header says localhost."""

    def __init__(self, socket_path: Path, timeout_s: float) -> None:
        super().__init__("localhost", timeout=timeout_s)
        self.socket_path = socket_path

    def connect(self) -> None:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.settimeout(self.timeout)
        try:
            connection.connect(str(self.socket_path))
        except OSError:
            connection.close()
            raise
        self.sock = connection


def request_json_unix(
    socket_path: Path,
    method: str,
    path: str,
    *,
    payload: Any = None,
    token: str | None = None,
    timeout_s: float = 10.0,
) -> JsonResponse:
    """Like request_json, to a server listening on a Unix socket (a server behind nginx is
    checked for readiness this way, before nginx starts). Connection errors raise OSError."""
    data, headers = _encoded(payload, token)
    connection = _UnixSocketConnection(socket_path, timeout_s)
    try:
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        return _decode(response.status, response.getheader("Content-Type", ""), response.read())
    finally:
        connection.close()
