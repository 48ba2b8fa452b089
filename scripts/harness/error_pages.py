"""What an error response shows a stranger: the figures of one error page, computed from it.

With DEBUG on, Django answers an unknown URL with the URL patterns it tried, and an exception
(a crash, or a request whose Host header is not allowed) with its technical page: the
traceback, every setting, the request's environment (under runserver, whose wsgiref copies
the server process's environment variables into it, DATABASE_URL among them; gunicorn
passes the request's own only), file paths and versions. Django masks values whose names
look secret (KEY, TOKEN, PASS, ...), so SECRET_KEY shows as stars, but DATABASE_URL, with a
password in it where there is one, does not look secret by name.
With DEBUG off the app's own handlers answer a few bytes of JSON. The figures are counted
from the bytes received, so a page that shows nothing gets zeros, whatever it looks like.
"""

from __future__ import annotations

import html
import http.client
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final

from scripts.records.schema.lesson import ErrorPageFigures
from servers.registry import PROJECT_DIR

TIMEOUT_S: Final = 10.0


@dataclass(frozen=True)
class ErrorRequest:
    """One request that makes the app answer with an error page, and why it does."""

    name: str
    path: str
    headers: Mapping[str, str]
    why: str


# The app has no endpoint that fails on purpose (no 500 path): a Host header outside
# ALLOWED_HOSTS raises inside Django before any view runs, and with DEBUG on Django answers
# it with the same technical page an unhandled exception gets (status 400).
ERROR_REQUESTS: Final = (
    ErrorRequest("unknown URL", "/no-such-page", MappingProxyType({}), "no route matches"),
    ErrorRequest(
        "bad Host header",
        "/api/me/",
        MappingProxyType({"Host": "attacker.example"}),
        "an exception inside Django (DisallowedHost), as a crash would be",
    ),
)

_TRACEBACK_FRAME: Final = re.compile(r'<li class="frame ')
# A settings or environment row of Django's technical page: a name cell, then its value.
_ROW: Final = re.compile(r"<td>([A-Za-z_][A-Za-z0-9_.]*)</td>\s*<td class=\"code\"><pre>")
_URL_PATTERN: Final = re.compile(r"<li>\s*(?:<code>)?\s*([^<\s]+)")
_SQL: Final = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\b\s+\S")
_MASK: Final = "********************"
_VERSION: Final = re.compile(r"(Django|Python) Version:\s*(?:</th>\s*<td>)?\s*([0-9][0-9.a-z]*)")


def _section(text: str, start_id: str) -> str:
    """The part of Django's technical page from the heading with `start_id` to the next."""
    start = text.find(f'id="{start_id}"')
    if start < 0:
        return ""
    end = text.find("<h3 id=", start + 1)
    return text[start : end if end > 0 else len(text)]


def _paths(text: str) -> set[str]:
    """Absolute paths inside the project or the interpreter's installation."""
    roots = {str(PROJECT_DIR.resolve()), str(Path(sys.prefix).resolve()), sys.base_prefix}
    found: set[str] = set()
    for root in roots:
        found |= set(re.findall(re.escape(root) + r"[^\s<>\"'&,)\]]*", text))
    return found


def figures_of(
    server: str, debug: bool, request: str, status: int, content_type: str, body: bytes
) -> ErrorPageFigures:
    """Count what the error page `body` shows (`server` under DEBUG `debug` answered it)."""
    text = html.unescape(body.decode("utf-8", errors="replace"))
    raw = body.decode("utf-8", errors="replace")
    settings = _ROW.findall(_section(raw, "settings-info"))
    environment = _ROW.findall(_section(raw, "meta-info"))
    urls = _section(raw, "info") if "Django tried these URL patterns" in raw else ""
    versions = tuple(f"{name} {version}" for name, version in _VERSION.findall(raw))
    return ErrorPageFigures(
        server=server,
        debug=debug,
        request=request,
        status=status,
        content_type=content_type.split(";")[0].strip(),
        body_bytes=len(body),
        traceback_frames=len(_TRACEBACK_FRAME.findall(raw)),
        settings_shown=len(settings),
        environment_variables_shown=len(environment),
        values_masked=text.count(_MASK),
        file_paths_shown=len(_paths(text)),
        sql_statements_shown=len(_SQL.findall(text)),
        url_patterns_shown=len(_URL_PATTERN.findall(urls)),
        versions_shown=tuple(dict.fromkeys(versions)),
        database_url_shown="DATABASE_URL" in environment,
    )


def fetch_error_page(
    server: str, debug: bool, host: str, port: int, request: ErrorRequest
) -> ErrorPageFigures:
    """Send `request` and count what its answer shows."""
    connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT_S)
    try:
        connection.request("GET", request.path, headers=dict(request.headers))
        response = connection.getresponse()
        body = response.read()
        content_type = response.getheader("Content-Type", "")
        return figures_of(server, debug, request.name, response.status, content_type, body)
    finally:
        connection.close()
