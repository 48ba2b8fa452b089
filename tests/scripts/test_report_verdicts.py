"""`make report`'s verdicts (`python -m scripts.report`): verdicts.json beside summary.csv,
the headline at the top of index.html and a verdict table per group with repeats, stated
with its rule; "not enough data" where a group has no repeats; BASELINE and POOL."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from scripts import report
from scripts.records.schema import read_verdicts
from tests.fixtures.derived_runs import FIXTURE_RUNS, derive_side

PROJECT_DIR = Path(__file__).resolve().parents[2]
TIGHT = (240.0, 241.0, 239.0, 240.5)


def fixtures(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE_RUNS, tmp_path / "runs")
    return tmp_path


def run_report(*argv: str) -> int:
    try:
        return report.main(list(argv))
    except SystemExit as exit_:
        return int(exit_.code or 0)


def test_verdicts_json_and_the_page_for_a_group_with_repeats(tmp_path: Path) -> None:
    results = fixtures(tmp_path)
    assert run_report("--results", str(results), "--baseline", "uvicorn") == 0
    output = results / "report"
    assert (output / "summary.csv").is_file()
    record = read_verdicts(output / "verdicts.json")
    assert record.baseline == "uvicorn" and not record.pooled
    judged = [group for group in record.groups if group.tables]
    assert [group.users for group in judged] == [4]
    page = (output / "index.html").read_text()
    # The headline comes first, before any table of numbers.
    assert (
        page.index('id="headline"') < page.index('id="verdicts"') < page.index('id="group-read-u4')
    )
    for sentence in record.headline:
        assert sentence.replace("'", "&#x27;") in page
    for table in judged[0].tables:
        assert f"{table.rule}." in page
    assert "Against the baseline: uvicorn" in page
    assert "repeats from separate benches are not pooled" in page


def test_group_without_repeats_says_not_enough_data(tmp_path: Path) -> None:
    results = fixtures(tmp_path)
    assert run_report("--results", str(results), "--runs", "*-u12-*") == 0
    record = read_verdicts(results / "report" / "verdicts.json")
    (group,) = record.groups
    assert group.tables == () and "not enough data" in group.notes[0]
    page = (results / "report" / "index.html").read_text()
    assert "not enough data" in page and "Against the group" not in page
    assert record.headline[0].startswith("No verdicts")


def test_bad_baseline_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = fixtures(tmp_path)
    assert run_report("--results", str(results), "--baseline", "uwsgi") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "uwsgi" in err and "gunicorn" in err
    assert not (results / "report").exists()


def test_make_report_passes_baseline_and_pool(tmp_path: Path) -> None:
    results = derive_side(tmp_path, "a", TIGHT[:2], meta={"bench_id": "one"})
    derive_side(results, "b", TIGHT[2:], meta={"bench_id": "two"})
    derive_side(results, "c", [v * 1.3 for v in TIGHT], meta={"server": "uwsgi"})
    completed = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "report",
            f"RESULTS={results}",
            "BASELINE=uwsgi",
            "POOL=1",
        ],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    record = read_verdicts(results / "report" / "verdicts.json")
    assert record.pooled and record.baseline == "uwsgi"
    (group,) = record.groups
    gunicorn = next(c for c in group.configurations if c.server == "gunicorn")
    assert len(gunicorn.run_ids) == 4
    page = (results / "report" / "index.html").read_text()
    assert re.search(r"pooled \(POOL=1\)", page)
