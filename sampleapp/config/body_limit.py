"""Refuse request bodies over a size limit before Django reads them, under ASGI and WSGI.

Why a wrapper around Django's application and not a middleware: under ASGI, Django reads the
whole body into a temporary file (on disk past FILE_UPLOAD_MAX_MEMORY_SIZE) before it builds the
request and runs any middleware, so a client could make every worker write gigabytes before a
size check or the token check ran. Wrapped, a request is refused from its headers alone:

- a Content-Length over the limit gets 413 before a byte of the body is read;
- a body without Content-Length (chunked) is read as it arrives, and the read stops with 413
  as soon as it passes the limit (ASGI only: under WSGI, Django reads no body at all without a
  Content-Length, so there is nothing to stop);
- a Content-Length that is not a number gets 400.

The answers are JSON like the API's other errors. The server decides what happens to the
unread rest of the body (usually it closes the connection; under ASGI the 413 also says
`Connection: close`).

What the servers add (checked with Gunicorn 27, uWSGI 2.0.31, Uvicorn 0.54, Daphne 4.2):
Gunicorn, Uvicorn and Daphne have no body-size setting; uWSGI's limit-post drops the
connection without an answer (see servers/uwsgi.ini). Daphne is the exception to "before the
body is read": Twisted reads the whole body into a temporary file before it calls the
application, so there the 413 comes only once the upload is complete; only a proxy in front
(nginx's client_max_body_size) stops it earlier.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from http import HTTPStatus
from typing import Any

AsgiMessage = MutableMapping[str, Any]
AsgiReceive = Callable[[], Awaitable[AsgiMessage]]
AsgiSend = Callable[[AsgiMessage], Awaitable[None]]
AsgiApp = Callable[[MutableMapping[str, Any], AsgiReceive, AsgiSend], Awaitable[None]]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_ERRORS = {
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "Request body too large.",
    HTTPStatus.BAD_REQUEST: "Bad request.",
}


class BadContentLength(ValueError):
    """The Content-Length header is not one non-negative whole number."""


class BodyTooLarge(Exception):
    """A body without a declared length grew past the limit while it was being read."""


def declared_length(values: Iterable[str]) -> int | None:
    """The body length the Content-Length header(s) declare, None when there is none.

    Several headers must agree (RFC 9110 8.6); each must be digits only, so "+5", " 5" or
    "1e9" are refused rather than guessed at.
    """
    lengths = set()
    for value in values:
        stripped = value.strip()
        if not stripped.isascii() or not stripped.isdigit():
            raise BadContentLength(f"Content-Length {value!r} is not a whole number")
        lengths.add(int(stripped))
    if len(lengths) > 1:
        raise BadContentLength("conflicting Content-Length headers")
    return lengths.pop() if lengths else None


def error_body(status: HTTPStatus) -> bytes:
    return json.dumps({"detail": _ERRORS[status]}).encode()


def refusal(max_body_bytes: int, values: Iterable[str]) -> HTTPStatus | None:
    """The status that refuses a request from its Content-Length alone, or None."""
    try:
        length = declared_length(values)
    except BadContentLength:
        return HTTPStatus.BAD_REQUEST
    if length is not None and length > max_body_bytes:
        return HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    return None


class AsgiBodyLimit:
    """ASGI wrapper: 413 from Content-Length before reading, or as soon as a chunked body
    passes `max_body_bytes`; anything else goes to the wrapped application untouched."""

    def __init__(self, app: AsgiApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(
        self, scope: MutableMapping[str, Any], receive: AsgiReceive, send: AsgiSend
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        lengths = [
            value.decode("latin-1") for name, value in scope["headers"] if name == b"content-length"
        ]
        status = refusal(self.max_body_bytes, lengths)
        if status is not None:
            await _send_error(send, status)
            return
        guard = _ReceiveGuard(receive, send, self.max_body_bytes)
        try:
            await self.app(scope, guard.receive, guard.send)
        except BodyTooLarge:
            if guard.response_started:
                raise
            await _send_error(send, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)


class _ReceiveGuard:
    """Counts body bytes as the application receives them and notes when it starts to answer
    (a 413 can replace the answer only before then)."""

    def __init__(self, receive: AsgiReceive, send: AsgiSend, max_body_bytes: int) -> None:
        self._receive = receive
        self._send = send
        self._max_body_bytes = max_body_bytes
        self.received_bytes = 0
        self.response_started = False

    async def receive(self) -> AsgiMessage:
        message = await self._receive()
        if message["type"] == "http.request":
            self.received_bytes += len(message.get("body", b""))
            if self.received_bytes > self._max_body_bytes:
                raise BodyTooLarge(f"body passed {self._max_body_bytes} bytes")
        return message

    async def send(self, message: AsgiMessage) -> None:
        if message["type"] == "http.response.start":
            self.response_started = True
        await self._send(message)


async def _send_error(send: AsgiSend, status: HTTPStatus) -> None:
    body = error_body(status)
    await send(
        {
            "type": "http.response.start",
            "status": int(status),
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class WsgiBodyLimit:
    """WSGI wrapper: 413 when CONTENT_LENGTH is over `max_body_bytes`, without touching
    wsgi.input (no hop-by-hop headers: WSGI forbids them, the server handles the connection)."""

    def __init__(self, app: WsgiApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        raw = environ.get("CONTENT_LENGTH", "")
        status = refusal(self.max_body_bytes, [raw] if raw else [])
        if status is None:
            return self.app(environ, start_response)
        body = error_body(status)
        start_response(
            f"{int(status)} {status.phrase}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]
