"""Which run directories a report covers: every whole run, or those `RUNS=` names.

Kept apart from the loading code (and free of pandas and matplotlib, which take seconds to
import) so that bad input is answered at once.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from pathlib import Path
from typing import Final

RUNS_SUBDIR: Final = "runs"


def runs_dir(results_dir: Path) -> Path:
    return results_dir / RUNS_SUBDIR


def discover_run_dirs(results_dir: Path) -> list[Path]:
    """Whole run directories, oldest first (run ids start with the UTC start time).

    Names starting with a dot are runs still being assembled (`.partial-<id>`) and skipped.
    """
    base = runs_dir(results_dir)
    if not base.is_dir():
        return []
    return sorted(
        (entry for entry in base.iterdir() if entry.is_dir() and not entry.name.startswith(".")),
        key=lambda entry: entry.name,
    )


def parse_run_patterns(text: str) -> list[str]:
    """`RUNS=` as a list: comma-separated run ids or shell-style globs on run ids."""
    return [part.strip() for part in text.split(",") if part.strip()]


def select_run_dirs(
    run_dirs: Sequence[Path], patterns: Sequence[str]
) -> tuple[list[Path], list[str]]:
    """The run directories matching any pattern, and the patterns that matched none.

    An exact run id is a glob that matches itself, so one rule covers both forms.
    """
    selected = [
        run_dir
        for run_dir in run_dirs
        if any(fnmatch.fnmatchcase(run_dir.name, pattern) for pattern in patterns)
    ]
    unmatched = [
        pattern
        for pattern in patterns
        if not any(fnmatch.fnmatchcase(run_dir.name, pattern) for run_dir in run_dirs)
    ]
    return selected, unmatched
