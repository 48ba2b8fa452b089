"""`make report`: failed and invalid runs are kept out of the numbers and listed apart with
their reason and their own figures (issue 16); unreadable runs are listed with what is
wrong. Uses the committed hand-edited runs (tests/fixtures/README.md) and a copy of a real
run marked invalid; expected figures come from the runs' summary.json, read here."""

from __future__ import annotations

import csv
import json
import re
import shutil
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

from scripts import report
from tests.fixtures.derived_runs import FIXTURE_RUNS, derive_run

FAILED = next(FIXTURE_RUNS.glob("*-fa11ed"))
INVALID_REASON = "load generator saturated (a test's copy of a real run)"


def produce(results: Path) -> Path:
    with redirect_stdout(StringIO()):
        assert report.main(["--results", str(results)]) == 0
    return results / "report"


def cells_of(markdown: str, run_id: str) -> list[str]:
    (line,) = [line for line in markdown.splitlines() if line.startswith(f"| {run_id} |")]
    return [cell.strip() for cell in line.strip("|").split("|")]


def expected_figures(run_dir: Path) -> list[str]:
    """requests, failures, error rate, goodput, p50, p99 as the tables print them."""
    summary = json.loads((run_dir / "summary.json").read_text())
    goodput = summary.get("goodput_rps") or summary["rps"] * (1 - summary["error_rate"])

    def ms(value: float) -> str:
        return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"

    return [
        f"{summary['requests']:,}",
        f"{summary['failures']:,}",
        f"{summary['error_rate'] * 100:.2f} %",
        f"{goodput:,.1f}",
        ms(summary["p50_ms"]),
        ms(summary["p99_ms"]),
    ]


def test_failed_and_invalid_runs_are_listed_with_their_figures(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    shutil.copytree(FAILED, runs / FAILED.name)
    for index in range(2):
        derive_run(runs, f"ok{index}")
    invalid = derive_run(runs, "bad0", meta={"status": "invalid", "reason": INVALID_REASON})
    output = produce(tmp_path)
    used = {
        run_id
        for row in csv.DictReader((output / "summary.csv").open(newline=""))
        for run_id in row["run_ids"].split(";")
    }
    assert FAILED.name not in used and invalid.name not in used and len(used) == 2
    markdown = (output / "summary.md").read_text()
    assert "### Failed and invalid runs" in markdown
    failed_meta = json.loads((FAILED / "meta.json").read_text())
    for run_dir, status, reason in (
        (FAILED, "failed", failed_meta["reason"]),
        (invalid, "invalid", INVALID_REASON),
    ):
        cells = cells_of(markdown, run_dir.name)
        assert cells[1:5] == ["gunicorn", "dev", status, reason]
        assert cells[5:11] == expected_figures(run_dir)
    page = (output / "index.html").read_text()
    section = re.search(r'<section id="excluded">.*?</section>', page, flags=re.DOTALL)
    assert section is not None
    assert FAILED.name in section.group(0) and invalid.name in section.group(0)
    assert expected_figures(FAILED)[3] in section.group(0)
    verdicts = json.loads((output / "verdicts.json").read_text())
    judged = {
        run_id for g in verdicts["groups"] for c in g["configurations"] for run_id in c["run_ids"]
    }
    assert FAILED.name not in judged and invalid.name not in judged


def test_a_failed_run_without_summary_and_an_unreadable_run(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    derive_run(runs, "ok0")
    failed = Path(shutil.copytree(FAILED, runs / FAILED.name))
    (failed / "summary.json").unlink()
    corrupt = next(FIXTURE_RUNS.glob("*-c0ffee"))
    shutil.copytree(corrupt, runs / corrupt.name)
    markdown = (produce(tmp_path) / "summary.md").read_text()
    assert cells_of(markdown, failed.name)[5:] == ["-"] * 7
    assert "### Unreadable runs" in markdown
    assert cells_of(markdown, corrupt.name)[2] == "unreadable"
