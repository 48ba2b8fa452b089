"""Oversized request bodies are refused before Django reads them, under ASGI and under WSGI.

The wrappers are driven the way a server drives them, around the real Django application: an
ASGI event loop feeding `http.request` messages (counting how many were asked for), and a WSGI
environ whose input stream shows how much was read.
"""

from __future__ import annotations

import asyncio
import io
import json
from dataclasses import dataclass, field
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from django.conf import settings
from django.core.asgi import get_asgi_application
from django.core.wsgi import get_wsgi_application

from config.body_limit import AsgiBodyLimit, WsgiBodyLimit, declared_length

LIMIT_BYTES = 100
# Unauthenticated POST: DRF answers 401 without reading the body, so reaching Django shows.
PATH = "/api/items/"


@dataclass
class AsgiExchange:
    """One request as an ASGI server would run it: body chunks in, response messages out."""

    chunks: list[bytes]
    content_length: int | None
    receive_calls: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)

    def run(self, app: Any) -> None:
        asyncio.run(self._run(app))

    async def _run(self, app: Any) -> None:
        done = asyncio.Event()
        pending = list(self.chunks)
        headers = [(b"host", b"testserver"), (b"content-type", b"application/json")]
        if self.content_length is not None:
            headers.append((b"content-length", str(self.content_length).encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": PATH,
            "raw_path": PATH.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }

        async def receive() -> dict[str, Any]:
            self.receive_calls += 1
            if pending:
                chunk = pending.pop(0)
                return {"type": "http.request", "body": chunk, "more_body": bool(pending)}
            await done.wait()  # like a server: the client disconnects only after the answer
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            self.sent.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                done.set()

        await asyncio.wait_for(app(scope, receive, send), timeout=10)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def headers(self) -> dict[bytes, bytes]:
        return dict(self.sent[0]["headers"])

    @property
    def body(self) -> Any:
        return json.loads(b"".join(m.get("body", b"") for m in self.sent[1:]))


@pytest.fixture(scope="module")
def asgi_app() -> AsgiBodyLimit:
    return AsgiBodyLimit(get_asgi_application(), LIMIT_BYTES)  # type: ignore[arg-type]


def test_asgi_declared_length_over_the_limit_is_413_without_reading_the_body(
    asgi_app: AsgiBodyLimit,
) -> None:
    exchange = AsgiExchange(chunks=[b"x" * 50] * 4, content_length=LIMIT_BYTES + 1)

    exchange.run(asgi_app)

    assert exchange.status == 413
    assert exchange.receive_calls == 0
    assert exchange.body == {"detail": "Request body too large."}
    assert exchange.headers[b"connection"] == b"close"
    assert exchange.headers[b"content-type"] == b"application/json"


def test_asgi_chunked_body_stops_being_read_once_over_the_limit(
    asgi_app: AsgiBodyLimit,
) -> None:
    exchange = AsgiExchange(chunks=[b"x" * 40] * 10, content_length=None)

    exchange.run(asgi_app)

    assert exchange.status == 413
    assert exchange.receive_calls == 3  # 40 + 40 + 40 > 100: the other 7 chunks stay unread


@pytest.mark.parametrize("size", [0, LIMIT_BYTES])
def test_asgi_body_within_the_limit_reaches_django(asgi_app: AsgiBodyLimit, size: int) -> None:
    declared = AsgiExchange(chunks=[b"x" * size], content_length=size)
    chunked = AsgiExchange(
        chunks=[b"x" * (size // 2), b"x" * (size - size // 2)], content_length=None
    )

    declared.run(asgi_app)
    chunked.run(asgi_app)

    assert declared.status == chunked.status == 401
    assert declared.body == {"detail": "Authentication credentials were not provided."}


@pytest.mark.parametrize("value", ["abc", "-1", "+5", "1e9", "5, 6"])
def test_bad_content_length_is_400(value: str) -> None:
    app = WsgiBodyLimit(get_wsgi_application(), LIMIT_BYTES)  # type: ignore[arg-type]
    result = call_wsgi(app, content_length=value, body=b"")

    assert result.status.startswith("400 ")
    assert json.loads(result.body) == {"detail": "Bad request."}


def test_conflicting_content_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="conflicting"):
        declared_length(["5", "6"])
    assert declared_length(["7", "7"]) == 7
    assert declared_length([]) is None


@dataclass(frozen=True)
class WsgiResult:
    status: str
    headers: dict[str, str]
    body: bytes
    read_bytes: int


def call_wsgi(app: Any, *, content_length: str, body: bytes) -> WsgiResult:
    """Call a WSGI app like a server, noting how much of the input stream it read."""
    stream = io.BytesIO(body)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": PATH,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": content_length,
        "wsgi.input": stream,
    }
    setup_testing_defaults(environ)
    environ["HTTP_HOST"] = "testserver"
    started: list[tuple[str, dict[str, str]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        started.append((status, dict(headers)))

    chunks = app(environ, start_response)
    content = b"".join(chunks)
    getattr(chunks, "close", lambda: None)()
    return WsgiResult(started[0][0], started[0][1], content, stream.tell())


def test_wsgi_declared_length_over_the_limit_is_413_without_touching_the_input() -> None:
    app = WsgiBodyLimit(get_wsgi_application(), LIMIT_BYTES)  # type: ignore[arg-type]

    result = call_wsgi(app, content_length=str(LIMIT_BYTES + 1), body=b"x" * (LIMIT_BYTES + 1))

    assert result.status == "413 Request Entity Too Large"
    assert result.headers["Content-Type"] == "application/json"
    assert json.loads(result.body) == {"detail": "Request body too large."}
    assert result.read_bytes == 0


def test_wsgi_body_within_the_limit_reaches_django(db: None) -> None:
    app = WsgiBodyLimit(get_wsgi_application(), LIMIT_BYTES)  # type: ignore[arg-type]

    result = call_wsgi(app, content_length=str(LIMIT_BYTES), body=b"x" * LIMIT_BYTES)

    assert result.status.startswith("401 ")


def test_the_project_entry_points_are_wrapped_with_the_configured_limit(db: None) -> None:
    from config.asgi import application as asgi_application
    from config.wsgi import application as wsgi_application

    limit = settings.MAX_REQUEST_BODY_BYTES
    over_asgi = AsgiExchange(chunks=[b"x"], content_length=limit + 1)
    at_asgi = AsgiExchange(chunks=[b"x" * limit], content_length=limit)
    over_asgi.run(asgi_application)
    at_asgi.run(asgi_application)
    over_wsgi = call_wsgi(wsgi_application, content_length=str(limit + 1), body=b"x")
    at_wsgi = call_wsgi(wsgi_application, content_length=str(limit), body=b"x" * limit)

    assert (over_asgi.status, at_asgi.status) == (413, 401)
    assert (over_wsgi.status[:3], at_wsgi.status[:3]) == ("413", "401")
