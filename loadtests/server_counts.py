"""The server's own count of what it answered, read at exactly the window's edges.

The sample app counts every request it answers in per-process files on disk (see
servers/request_counts.py). Reading them needs no request, so a read neither counts itself
nor disturbs the server, and it works behind a proxy. The window controller tells this
observer its own open and close timestamps with no yield in between, so `closed - opened`
is what the server answered inside the window, the ground truth the harness's own count is
checked against.

server_counts.json, next to window.json (SCHEMA 1):

    {"schema": 1, "windows": [
        {"index": 0, "opened_at": 1700000000.1, "closed_at": 1700000010.1,
         "served": {"GET /api/me/ 200": 4000, ...},  # answered in the window, per key
         "served_total": 4000,       # every answered request except health probes
         "health_probes": 0,         # answers on the health route (not load)
         "overflow": 0,              # answered but uncounted (a full table), in the window
         "pids_at_open": [...], "pids_at_close": [...],
         "new_pids": [...]}]}        # processes that began answering inside the window
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from servers.request_counts import RequestCounts, read_request_counts

SCHEMA: Final = 1
FILE_NAME: Final = "server_counts.json"
HEALTH_ROUTE: Final = "healthz"


def _is_health(route: str) -> bool:
    return route.strip("/") == HEALTH_ROUTE


@dataclass
class ServerCountsObserver:
    """A WindowObserver that snapshots the counters directory at each window's edges."""

    counts_dir: Path
    output: Path | None
    windows: list[dict[str, Any]] = field(default_factory=list)
    _opened: tuple[int, float, RequestCounts] | None = None

    def window_opened(self, index: int, users: int, started_at: float) -> None:
        self._opened = (index, started_at, read_request_counts(self.counts_dir))

    def window_closed(self, index: int, ended_at: float) -> None:
        closed = read_request_counts(self.counts_dir)
        if self._opened is None:
            return
        opened_index, opened_at, opened = self._opened
        self._opened = None
        served = closed.minus(opened)
        health = sum(n for key, n in served.items() if _is_health(key.route))
        self.windows.append(
            {
                "index": opened_index,
                "opened_at": opened_at,
                "closed_at": ended_at,
                "served": {
                    f"{key.method} {key.route} {key.status}": n for key, n in served.items()
                },
                "served_total": sum(served.values()) - health,
                "health_probes": health,
                "overflow": closed.overflow - opened.overflow,
                "pids_at_open": sorted(opened.pids),
                "pids_at_close": sorted(closed.pids),
                "new_pids": sorted(closed.new_pids(opened)),
            }
        )

    def load_stopped(self) -> None:
        if self.output is None:
            return
        temporary = self.output.with_name(self.output.name + ".tmp")
        temporary.write_text(json.dumps({"schema": SCHEMA, "windows": self.windows}, indent=2))
        os.replace(temporary, self.output)
