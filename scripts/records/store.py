"""Where result files go: run directories, atomic writes, run ids.

A run is assembled in `runs/.partial-<run_id>/` and renamed into place when it is complete,
so a directory under runs/ without a leading dot is always whole. What the files hold is
scripts/records/schema.py; the layout is documented in results/README.md.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def new_run_id(started: datetime, server: str, scenario: str, users: int) -> str:
    """Sortable by time, readable, and unique (a random suffix)."""
    return f"{started:%Y%m%dT%H%M%SZ}-{server}-{scenario}-u{users}-{secrets.token_hex(3)}"


def write_text(path: Path, text: str) -> None:
    """Write to a temporary name and rename: a reader never sees half a file, and a crash
    never leaves one."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_text(text)
    except OSError as error:  # e.g. ENOSPC on the write: name the file, free what it took
        temporary.unlink(missing_ok=True)
        if error.filename is None:
            raise OSError(error.errno, error.strerror, str(path)) from error
        raise
    os.replace(temporary, path)


def write_json(path: Path, data: Any) -> None:
    """Atomic JSON (see write_text)."""
    write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


@dataclass(frozen=True)
class RunDirectory:
    """Where one run's files go while it runs, and where they end up."""

    runs_dir: Path
    run_id: str

    @property
    def partial(self) -> Path:
        return self.runs_dir / f".partial-{self.run_id}"

    @property
    def final(self) -> Path:
        return self.runs_dir / self.run_id

    def create(self) -> Path:
        self.partial.mkdir(parents=True, exist_ok=False)
        return self.partial

    def publish(self) -> Path:
        """Move the finished run into place (never over an existing one)."""
        if self.final.exists():
            raise FileExistsError(f"{self.final} already exists; runs are never overwritten")
        os.replace(self.partial, self.final)
        return self.final
