"""Which run directories BASE and CAND of `make compare` name.

A side is a results directory (every whole run under its runs/), one run directory, a path
glob of run directories (`old/runs/*-gunicorn-*`), or comma-separated run ids and globs on
run ids under RESULTS/runs (as RUNS= of `make report`). Kept free of pandas, like
select.py, so that bad input is answered at once.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Final

from scripts.reporting.select import (
    discover_run_dirs,
    parse_run_patterns,
    runs_dir,
    select_run_dirs,
)

META_FILE: Final = "meta.json"


class BadSide(ValueError):
    """A side that names no run; the message says what it named and where it looked."""


def _is_run_dir(path: Path) -> bool:
    return path.is_dir() and (path / META_FILE).is_file() and not path.name.startswith(".")


def _from_directory(path: Path, name: str, text: str) -> list[Path]:
    if _is_run_dir(path):
        return [path]
    found = discover_run_dirs(path) if runs_dir(path).is_dir() else []
    if not found:
        raise BadSide(
            f"{name}={text!r} is a directory but neither a run (no {META_FILE}) nor a "
            f"results directory with runs in {runs_dir(path)}"
        )
    return found


def resolve_side(name: str, text: str, results_dir: Path) -> list[Path]:
    """The run directories `text` names, oldest first; BadSide when it names none."""
    text = text.strip()
    if not text:
        raise BadSide(f"{name} is empty: give a results directory, a run directory or run ids")
    path = Path(text).expanduser()
    if path.is_dir():
        return _from_directory(path, name, text)
    if "/" in text:
        matched = sorted(Path(p) for p in glob.glob(str(path)) if _is_run_dir(Path(p)))
        if not matched:
            raise BadSide(f"{name}={text!r}: no such directory, and no run directory matches it")
        return sorted(matched, key=lambda run: run.name)
    run_dirs = discover_run_dirs(results_dir)
    if not run_dirs:
        raise BadSide(
            f"{name}={text!r} is not a directory, and {runs_dir(results_dir)} has no runs "
            "to match it against"
        )
    selected, unmatched = select_run_dirs(run_dirs, parse_run_patterns(text))
    if unmatched or not selected:
        missing = ", ".join(map(repr, unmatched)) or repr(text)
        raise BadSide(
            f"{name}: no run matches {missing} in {runs_dir(results_dir)} "
            f"({len(run_dirs)} runs, e.g. {run_dirs[-1].name})"
        )
    return selected
