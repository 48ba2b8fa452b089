"""Request counters: what this app served, per (method, route, status), in files on disk.

Why: a load generator's own count of requests can be wrong (retries it does not report,
answers it lost or counted late). The server's count of what it actually answered is the
ground truth to check it against. Counting happens in the app, so it is the same for every
server, and each process writes its own memory-mapped file, so that:

- any other process can read the counts from disk at any moment, without a request (a read
  does not count itself, and it works the same behind a proxy);
- a count is visible as soon as the request is answered: an increment is a store into shared
  memory, not a system call (the only call per request is getpid(), below);
- processes never share a file, so there is no cross-process locking; a threading.Lock per
  file covers threaded servers and ASGI thread pools;
- a worker that dies or is replaced leaves its file behind, so nothing it served is lost.

Enabled only when the environment variable REQUEST_COUNTS_DIR names a directory (settings.py
then puts `RequestCountsMiddleware` first in MIDDLEWARE, so it sees every response, 4xx and
5xx included). Requests a server rejects before Django sees them (a malformed request line,
say) are not counted.

Pre-fork servers import the app and may build the middleware before they fork, so a process
opens its file lazily, on the first request it serves, and checks os.getpid() on every
request: a forked child never writes into its parent's file. A process that has served
nothing has no file yet.

File format, version 1. One file per process, named ``requests-<pid>-<created_ns>.cnt``
(created under a temporary name and renamed once its header is complete, so a reader never
sees a half-made file; the creation time keeps a reused pid from clashing). Fixed size:
64 + SLOT_COUNT * 128 bytes. All integers little-endian; the u64 fields are 8-byte aligned
and written (and best read) as single 64-bit stores/loads, e.g. through a memoryview cast to
"Q" over an mmap of the file, so a reader never sees half of an update.

    offset  size  field
    0       8     magic b"REQCOUNT"
    8       4     u32 format version (1)
    12      4     u32 slot count
    16      4     u32 key bytes per slot (120)
    20      4     u32 slot bytes (128)
    24      8     u64 pid of the writing process
    32      8     u64 creation time, ns since the Unix epoch
    40      8     u64 used slots: slots [0, used) hold a key; the writer stores this after
                  the key's bytes, so a reader that reads it first sees only whole keys
    48      8     u64 requests not counted because every slot was taken
    56      8     reserved (0)
    64 + 128*i    slot i: key, UTF-8, NUL-padded to 120 bytes, "METHOD ROUTE STATUS"
                  (METHOD and STATUS contain no space; ROUTE is everything between them),
                  then the u64 count at slot offset 120

METHOD is the request method, or OTHER for anything outside the standard ones (a client must
not be able to fill the table). ROUTE is "/" + the URL pattern that matched
(request.resolver_match.route, e.g. "/api/items/<int:pk>/"), or "<unmatched>" when no pattern
did; a key longer than 120 bytes has its route cut to fit. STATUS is the response's code.
"""

from __future__ import annotations

import mmap
import os
import struct
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, MiddlewareNotUsed
from django.http import HttpRequest, HttpResponseBase

MAGIC = b"REQCOUNT"
FORMAT_VERSION = 1
HEADER_BYTES = 64
KEY_BYTES = 120
SLOT_BYTES = 128
SLOT_COUNT = 512  # routes x methods x statuses actually seen stay far below this
FILE_PREFIX = "requests-"
FILE_SUFFIX = ".cnt"
UNMATCHED_ROUTE = "<unmatched>"
OTHER_METHOD = "OTHER"
STANDARD_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)

_HEADER = struct.Struct("<8sIIIIQQ")  # magic .. creation time; the rest starts zeroed
# Indexes of the u64 words, in a memoryview of the whole file cast to "Q".
_USED_SLOTS_WORD = 40 // 8
_OVERFLOW_WORD = 48 // 8

Key = tuple[str, str, int]


def encode_key(method: str, route: str, status: int) -> bytes:
    """The slot key for one kind of request, cut to KEY_BYTES by shortening the route."""
    encoded = f"{method} {route} {status}".encode()
    excess = len(encoded) - KEY_BYTES
    if excess > 0:
        shorter = route.encode()[: max(0, len(route.encode()) - excess)]
        encoded = f"{method} {shorter.decode(errors='ignore')} {status}".encode()
    return encoded


class CounterFile:
    """One process's counter file, mapped into memory; `add` counts one request."""

    def __init__(self, directory: Path, pid: int) -> None:
        created_ns = time.time_ns()
        final = directory / f"{FILE_PREFIX}{pid}-{created_ns}{FILE_SUFFIX}"
        temporary = final.with_name(f".{final.name}.tmp")
        size = HEADER_BYTES + SLOT_COUNT * SLOT_BYTES
        descriptor = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.ftruncate(descriptor, size)
            self._map = mmap.mmap(descriptor, size, mmap.MAP_SHARED)
        finally:
            os.close(descriptor)
        _HEADER.pack_into(
            self._map, 0, MAGIC, FORMAT_VERSION, SLOT_COUNT, KEY_BYTES, SLOT_BYTES, pid, created_ns
        )
        os.rename(temporary, final)
        self.pid = pid
        self.path = final
        self._words = memoryview(self._map).cast("Q")
        self._word_of_key: dict[Key, int] = {}
        self._lock = threading.Lock()

    def add(self, key: Key) -> None:
        """Count one request of this kind (thread-safe within the process)."""
        with self._lock:
            word = self._word_of_key.get(key)
            if word is None:
                word = self._claim_slot(key)
                if word is None:
                    self._words[_OVERFLOW_WORD] += 1
                    return
            self._words[word] += 1

    def _claim_slot(self, key: Key) -> int | None:
        """Write the key into the next free slot and publish it; None when the table is full."""
        used = self._words[_USED_SLOTS_WORD]
        if used >= SLOT_COUNT:
            return None
        offset = HEADER_BYTES + used * SLOT_BYTES
        encoded = encode_key(*key)
        self._map[offset : offset + len(encoded)] = encoded
        self._words[_USED_SLOTS_WORD] = used + 1  # after the key: readers see whole keys
        word = (offset + KEY_BYTES) // 8
        self._word_of_key[key] = word
        return word


class ProcessCounter:
    """The counter file of whichever process is running now, opened on first use.

    The file is keyed by os.getpid(), checked on every request, so the same object can be
    built before a fork and used after it: each child opens its own file. Two threads of a
    fresh process may both open one; that costs a file, not a count (a reader sums them all).
    """

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._file: CounterFile | None = None

    def add(self, key: Key) -> None:
        counter_file = self._file
        if counter_file is None or counter_file.pid != os.getpid():
            counter_file = CounterFile(self._directory, os.getpid())
            self._file = counter_file
        counter_file.add(key)


def request_key(request: HttpRequest, response: HttpResponseBase) -> Key:
    """(method, route pattern, status) of an answered request, from a bounded vocabulary."""
    method = request.method if request.method in STANDARD_METHODS else OTHER_METHOD
    match = getattr(request, "resolver_match", None)
    route = UNMATCHED_ROUTE if match is None else "/" + str(match.route)
    return (str(method), route, response.status_code)


def counts_directory() -> Path:
    """settings.REQUEST_COUNTS_DIR, created if needed; MiddlewareNotUsed when unset."""
    configured = getattr(settings, "REQUEST_COUNTS_DIR", None)
    if not configured:
        raise MiddlewareNotUsed("REQUEST_COUNTS_DIR is not set")
    if sys.byteorder != "little":
        raise ImproperlyConfigured("request counters are little-endian: this machine is not")
    directory = Path(configured)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImproperlyConfigured(f"REQUEST_COUNTS_DIR {directory}: {exc}") from exc
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ImproperlyConfigured(f"REQUEST_COUNTS_DIR {directory} is not writable")
    return directory


class RequestCountsMiddleware:
    """Counts every response that passes through it; put it first in MIDDLEWARE.

    Both sync and async capable, so under ASGI it adds no thread hop (a sync-only middleware
    would make Django run the whole chain through sync_to_async).
    """

    sync_capable = True
    async_capable = True

    def __init__(
        self, get_response: Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]]
    ) -> None:
        self._counter = ProcessCounter(counts_directory())
        self.get_response = get_response
        self._is_async = iscoroutinefunction(get_response)
        if self._is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self._is_async:
            return self._acall(request)
        response = self.get_response(request)
        self._counter.add(request_key(request, response))
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        response = await self.get_response(request)
        self._counter.add(request_key(request, response))
        return response
