"""Helpers for tests that run the real bench."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# a bench as short as a complete run can be: 4 users, 1 s of warm-up, a 3 s window
SHORT = ["--duration", "3", "--warmup", "1", "--users", "4"]


@dataclass(frozen=True)
class FinishedBench:
    """What a test may read of a bench that already ran: its exit status and results."""

    status: int
    results: Path


def run_dirs(results: Path) -> list[Path]:
    runs = results / "runs"
    return sorted(p for p in runs.iterdir() if not p.name.startswith(".")) if runs.exists() else []


def load(path: Path) -> Any:
    return json.loads(path.read_text())


def aggregated_row(stats_csv: Path) -> dict[str, str]:
    with stats_csv.open(newline="") as handle:
        return next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")


def processes_mentioning(marker: str) -> list[str]:
    """Command lines of live processes that contain `marker` (a run id or a bind address)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmdline and state != "Z":
            found.append(f"{entry.name}: {cmdline}")
    return found


def agrees_with_locust(ours: int, locust: int) -> bool:
    """Our count is of completions between the window's own timestamps; Locust's also takes
    the few that complete between the window's end and the users' stop. So ours <=
    Locust's <= ours x 1.02 + 5."""
    return ours <= locust <= ours * 1.02 + 5


def locust_printed_total(run_dir: Path) -> int:
    """The request count of the statistics Locust prints as it exits (locust.out's first
    "Aggregated" row): its final figures, which locust_stats.csv must equal."""
    for line in (run_dir / "locust.out").read_text().splitlines():
        fields = line.split()
        if fields[:1] == ["Aggregated"]:
            return int(fields[1])
    raise AssertionError(f"no Aggregated row in {run_dir / 'locust.out'}")
