"""The one table of exit statuses: README.md shows exactly the codes of
scripts/options/exit_status.py, and `make help` lists them."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from scripts.options.exit_status import MEANINGS, SIGNAL_BASE, ExitStatus

PROJECT_DIR = Path(__file__).resolve().parents[3]


def readme_table() -> dict[str, str]:
    text = (PROJECT_DIR / "README.md").read_text()
    section = re.search(r"^## Exit status$(.*?)(?=^## )", text, re.M | re.S)
    assert section, "README.md has no Exit status section"
    rows = [line for line in section[1].splitlines() if line.startswith("|")][2:]
    return {row.split("|")[1].strip(): row.split("|")[2].strip() for row in rows}


def test_readme_lists_every_exit_status_once() -> None:
    table = readme_table()
    assert set(table) == {str(int(status)) for status in ExitStatus} | {f"{SIGNAL_BASE}+N"}
    assert set(MEANINGS) == set(ExitStatus)
    assert "slower" in table[str(int(ExitStatus.SLOWER))]
    assert "verdict" in table[str(int(ExitStatus.NO_VERDICT))]


def test_make_help_lists_them() -> None:
    shown = subprocess.run(
        ["make", "--no-print-directory", "help"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for status in ExitStatus:
        assert f"{int(status)} " in shown
    assert "4 compare: slower" in shown and "5 verdict not reached" in shown
    assert "make compare BASE=" in shown
