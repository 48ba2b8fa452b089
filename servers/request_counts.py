"""Read the sample app's own request counters from disk: the server-side ground truth.

With REQUEST_COUNTS_DIR set, every process of the app counts what it answered, per (method,
route, status), in its own memory-mapped file in that directory. Reading the files needs no
request, so a read does not count itself, and it works the same behind a proxy. Files of
processes that died stay behind, so the sums never go down: the requests served in a window
are `end.minus(start)` of two reads.

The format is restated here and read independently (the app imports nothing of the harness
and the harness nothing of the app); the writer's docstring (sampleapp/api/counters.py) is
the reference. In short: a 64-byte header (magic b"REQCOUNT", u32 version 1, u32 slot count,
u32 key bytes 120, u32 slot bytes 128, u64 pid, u64 creation ns, u64 used slots, u64
overflow), then fixed 128-byte slots of a NUL-padded UTF-8 key "METHOD ROUTE STATUS" and a
u64 count at offset 120; little-endian throughout. The u64 words are read through a
memoryview cast to "Q" over an mmap, one aligned 64-bit load each, so a count being updated
at that moment is read whole (a plain read() copies bytes and could tear it).

Worker restarts: a process's file appears when it answers its first request, so `new_pids`
of a later read against an earlier one lists processes that began answering in between:
respawned workers, or workers that had simply answered nothing before the earlier read.
"""

from __future__ import annotations

import mmap
import struct
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

MAGIC = b"REQCOUNT"
SUPPORTED_VERSION = 1
HEADER_BYTES = 64
FILE_GLOB = "requests-*.cnt"
_HEADER = struct.Struct("<8sIIIIQQ")
_USED_SLOTS_WORD = 5
_OVERFLOW_WORD = 6
_WORD_BYTES = 8


class RequestCountsFormatError(ValueError):
    """A file in the counters directory is not a counter file this reader understands."""


@dataclass(frozen=True, order=True)
class RequestKey:
    """One kind of answered request."""

    method: str
    route: str
    status: int

    @classmethod
    def parse(cls, text: str) -> RequestKey:
        """'GET /api/me/ 200' -> RequestKey('GET', '/api/me/', 200); the route may hold spaces."""
        method, rest = text.split(" ", 1)
        route, status = rest.rsplit(" ", 1)
        return cls(method=method, route=route, status=int(status))


@dataclass(frozen=True)
class ProcessCounts:
    """What one process had answered when its file was read."""

    pid: int
    created_ns: int
    counts: Mapping[RequestKey, int]
    overflow: int
    path: Path


@dataclass(frozen=True)
class RequestCounts:
    """One read of the whole counters directory."""

    processes: tuple[ProcessCounts, ...]

    @property
    def counts(self) -> Mapping[RequestKey, int]:
        """Counts summed over every process."""
        total: Counter[RequestKey] = Counter()
        for process in self.processes:
            total.update(process.counts)
        return MappingProxyType(dict(total))

    @property
    def total(self) -> int:
        """Every request counted, plus those a full table could not count."""
        return sum(self.counts.values()) + self.overflow

    @property
    def overflow(self) -> int:
        """Requests answered but not counted per key because a process's table was full."""
        return sum(process.overflow for process in self.processes)

    @property
    def pids(self) -> frozenset[int]:
        """Every process that has answered at least one request."""
        return frozenset(process.pid for process in self.processes)

    def count(
        self, *, method: str | None = None, route: str | None = None, status: int | None = None
    ) -> int:
        """The sum over the keys that match every given field."""
        return sum(
            value
            for key, value in self.counts.items()
            if (method is None or key.method == method)
            and (route is None or key.route == route)
            and (status is None or key.status == status)
        )

    def minus(self, earlier: RequestCounts) -> Mapping[RequestKey, int]:
        """What was answered between `earlier` and this read, per key (zeros left out)."""
        before = earlier.counts
        return MappingProxyType(
            {
                key: value - before.get(key, 0)
                for key, value in self.counts.items()
                if value != before.get(key, 0)
            }
        )

    def new_pids(self, earlier: RequestCounts) -> frozenset[int]:
        """Processes that began answering after `earlier` was read (see the module doc)."""
        return self.pids - earlier.pids


def read_request_counts(directory: Path) -> RequestCounts:
    """Read every counter file in `directory` (none yet: empty counts)."""
    files = sorted(directory.glob(FILE_GLOB))
    return RequestCounts(processes=tuple(read_process_counts(path) for path in files))


def read_process_counts(path: Path) -> ProcessCounts:
    """Read one process's counter file; RequestCountsFormatError if it is not one."""
    if sys.byteorder != "little":
        raise RequestCountsFormatError("counter files are little-endian: this machine is not")
    with path.open("rb") as handle:
        size = path.stat().st_size
        if size < HEADER_BYTES:
            raise RequestCountsFormatError(f"{path}: {size} bytes is too short for a header")
        with mmap.mmap(handle.fileno(), size, access=mmap.ACCESS_READ) as mapped:
            words = memoryview(mapped).cast("Q")
            try:
                return _decode(path, mapped, words)
            finally:
                words.release()


def _decode(path: Path, mapped: mmap.mmap, words: memoryview) -> ProcessCounts:
    magic, version, slot_count, key_bytes, slot_bytes, pid, created_ns = _HEADER.unpack_from(
        mapped, 0
    )
    if magic != MAGIC:
        raise RequestCountsFormatError(f"{path}: not a request counter file (magic {magic!r})")
    if version != SUPPORTED_VERSION:
        raise RequestCountsFormatError(f"{path}: format version {version}, expected 1")
    if len(mapped) < HEADER_BYTES + slot_count * slot_bytes or key_bytes + 8 > slot_bytes:
        raise RequestCountsFormatError(f"{path}: header does not match the file's size")
    used = min(int(words[_USED_SLOTS_WORD]), slot_count)
    counts: dict[RequestKey, int] = {}
    for slot in range(used):
        offset = HEADER_BYTES + slot * slot_bytes
        text = mapped[offset : offset + key_bytes].rstrip(b"\0").decode(errors="replace")
        key = RequestKey.parse(text)
        counts[key] = counts.get(key, 0) + int(words[(offset + key_bytes) // _WORD_BYTES])
    return ProcessCounts(
        pid=pid,
        created_ns=created_ns,
        counts=MappingProxyType(counts),
        overflow=int(words[_OVERFLOW_WORD]),
        path=path,
    )
