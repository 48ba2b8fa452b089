"""Result files: run directories, atomic JSON, machine metadata and Locust CSV summaries.

A run is assembled in `runs/.partial-<run_id>/` and renamed into place when it is complete,
so a directory under runs/ without a leading dot is always whole. The layout is documented
in results/README.md; SCHEMA_VERSION changes whenever a field changes meaning.
"""

from __future__ import annotations

import csv
import json
import math
import os
import platform
import secrets
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from servers.registry import PROJECT_DIR

SCHEMA_VERSION = 1
AGGREGATED = "Aggregated"
SETUP_SUFFIX = " (setup)"
PERCENTILE_COLUMNS = {
    "p50_ms": "50%",
    "p90_ms": "90%",
    "p95_ms": "95%",
    "p99_ms": "99%",
    "p999_ms": "99.9%",
}
LIBRARIES = ("django", "djangorestframework", "djangorestframework-simplejwt", "locust")


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def new_run_id(started: datetime, server: str, scenario: str, users: int) -> str:
    """Sortable by time, readable, and unique (a random suffix)."""
    return f"{started:%Y%m%dT%H%M%SZ}-{server}-{scenario}-u{users}-{secrets.token_hex(3)}"


def write_json(path: Path, data: Any) -> None:
    """Write JSON to a temporary name and rename: a crash never leaves half a file."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    os.replace(temporary, path)


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


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


@dataclass(frozen=True)
class MachineInfo:
    """Facts about the harness and machine that are the same for every run of a bench."""

    git_sha: str | None
    git_dirty: bool | None
    python: str
    libraries: dict[str, str | None]
    cpu_model: str
    cpu_count: int
    cpu_affinity: list[int]

    @classmethod
    def collect(cls) -> MachineInfo:
        sha = _git("rev-parse", "HEAD")
        status = _git("status", "--porcelain")
        return cls(
            git_sha=sha,
            git_dirty=None if status is None else bool(status),
            python=platform.python_version(),
            libraries={name: _version(name) for name in LIBRARIES},
            cpu_model=_cpu_model(),
            cpu_count=os.cpu_count() or 1,
            cpu_affinity=sorted(os.sched_getaffinity(0)),
        )

    def versions(self, server_distribution: str) -> dict[str, str | None]:
        return {
            "python": self.python,
            **self.libraries,
            server_distribution: _version(server_distribution),
        }


def _number(text: str | None) -> float | None:
    if text is None or text.strip() in {"", "N/A"}:
        return None
    value = float(text)
    return None if math.isnan(value) else value


def _figures(row: dict[str, str]) -> dict[str, Any]:
    requests = int(row["Request Count"])
    failures = int(row["Failure Count"])
    figures: dict[str, Any] = {
        "requests": requests,
        "failures": failures,
        "error_rate": failures / requests if requests else 0.0,
        "rps": _number(row["Requests/s"]) or 0.0,
        "avg_ms": _number(row["Average Response Time"]),
        "min_ms": _number(row["Min Response Time"]),
    }
    for field_name, column in PERCENTILE_COLUMNS.items():
        figures[field_name] = _number(row.get(column))
    figures["max_ms"] = _number(row["Max Response Time"])
    return figures


def summarize_locust_csv(stats_csv: Path) -> dict[str, Any]:
    """Aggregate and per-endpoint figures from Locust's stats CSV (the measured window).

    Set-up rows (logins before the window) were reset with the window and carry no
    requests; rows without requests are left out of `endpoints`.
    """
    with stats_csv.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    aggregate = next((row for row in rows if row["Name"] == AGGREGATED), None)
    if aggregate is None:
        raise ValueError(f"{stats_csv} has no Aggregated row")
    endpoints = {
        row["Name"]: _figures(row)
        for row in rows
        if row["Name"] != AGGREGATED and int(row["Request Count"]) > 0
    }
    return {**_figures(aggregate), "endpoints": endpoints}
