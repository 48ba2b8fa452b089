"""Reading run directories through the typed schema (scripts/reporting/load.py).

Expectations come from the fixtures' own JSON (read here with json, not the schema), so a
loader that reads the wrong field cannot agree with itself.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from loadtests.window import WindowRecord
from scripts.records.schema import RunMeta, RunSummary, Status
from scripts.reporting.frames import AGGREGATED
from scripts.reporting.load import ReportStatus, load_run

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
FIXTURE_RUNS = FIXTURES / "runs"
STEP_RUNS = FIXTURES / "step_runs" / "runs"
# The hand-edited runs (tests/fixtures/README.md): suffix -> the status the report gives.
BROKEN = {
    "fa11ed": Status.FAILED,
    "c0ffee": ReportStatus.UNREADABLE,
    "0dd0dd": ReportStatus.UNREADABLE,
}


def _json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data))


def _copy(run_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(run_dir, tmp_path / run_dir.name))


def _step_run(tmp_path: Path) -> Path:
    return _copy(sorted(STEP_RUNS.iterdir())[0], tmp_path)


def _good_run(tmp_path: Path) -> Path:
    return _copy(sorted(FIXTURE_RUNS.glob("*-gunicorn-read-u12-*"))[0], tmp_path)


@pytest.mark.parametrize(
    "run_dir",
    [*sorted(FIXTURE_RUNS.iterdir()), *sorted(STEP_RUNS.iterdir())],
    ids=lambda path: path.name,
)
def test_every_committed_fixture_run_loads(run_dir: Path) -> None:
    record, frames = load_run(run_dir)
    suffix = run_dir.name.rsplit("-", 1)[1]
    if suffix in BROKEN:
        assert record.status is BROKEN[suffix]
        assert record.reason
        assert frames.stats is None
        return
    assert record.status is Status.OK, record.reason
    assert isinstance(record.meta, RunMeta)
    assert isinstance(record.summary, RunSummary)
    assert isinstance(record.window, WindowRecord)
    raw = _json(run_dir / "meta.json")
    assert record.meta.server == raw["server"]
    assert record.setting("placement.mode") == raw["placement"]["mode"]
    assert record.meta_document == raw
    assert frames.stats is not None and not frames.stats.empty


def test_failed_run_keeps_its_status_and_reason() -> None:
    failed = next(FIXTURE_RUNS.glob("*-fa11ed"))
    record, _ = load_run(failed)
    assert record.status is Status.FAILED
    assert record.reason == _json(failed / "meta.json")["reason"]
    assert not record.usable


def test_step_users_come_from_summary_json(tmp_path: Path) -> None:
    """The files are still named ..._u2.csv etc.; the user counts shown are summary.json's."""
    run = _step_run(tmp_path)
    summary = _json(run / "summary.json")
    for step in summary["steps"]:
        step["users"] += 1
    _write_json(run / "summary.json", summary)
    record, frames = load_run(run)
    assert record.status is Status.OK, record.reason
    assert frames.stats is not None
    aggregated = frames.stats[frames.stats["endpoint"] == AGGREGATED]
    assert aggregated["users"].tolist() == [step["users"] for step in summary["steps"]]
    assert aggregated["server_cpu_pct"].tolist() == pytest.approx(
        [step["server_cpu_pct"] for step in summary["steps"]]
    )
    # Resource figures belong to the Aggregated rows only.
    assert frames.stats[frames.stats["endpoint"] != AGGREGATED]["server_cpu_pct"].isna().all()


def test_step_files_are_the_ones_window_json_names(tmp_path: Path) -> None:
    """Step files renamed to names that carry no user count still load, in step order."""
    run = _step_run(tmp_path)
    window = _json(run / "window.json")
    for index, step in enumerate(window["steps"]):
        renamed = f"step-{'abc'[index]}.csv"
        (run / step["stats_file"]).rename(run / renamed)
        step["stats_file"] = renamed
    _write_json(run / "window.json", window)
    record, frames = load_run(run)
    assert record.status is Status.OK, record.reason
    assert frames.stats is not None
    aggregated = frames.stats[frames.stats["endpoint"] == AGGREGATED]
    summary = _json(run / "summary.json")
    assert aggregated["requests"].tolist() == [step["requests"] for step in summary["steps"]]
    assert aggregated["users"].tolist() == [step["users"] for step in summary["steps"]]


def test_step_run_whose_window_json_lacks_a_step_is_unreadable(tmp_path: Path) -> None:
    run = _step_run(tmp_path)
    window = _json(run / "window.json")
    window["steps"].pop()
    _write_json(run / "window.json", window)
    record, frames = load_run(run)
    assert record.status is ReportStatus.UNREADABLE
    assert "summary.json has 3 steps but window.json 2" in record.reason
    assert frames.stats is None


def test_step_run_without_window_json_is_unreadable(tmp_path: Path) -> None:
    run = _step_run(tmp_path)
    (run / "window.json").unlink()
    record, _ = load_run(run)
    assert record.status is ReportStatus.UNREADABLE
    assert "window.json" in record.reason


def test_step_file_outside_the_run_is_refused(tmp_path: Path) -> None:
    run = _step_run(tmp_path)
    window = _json(run / "window.json")
    window["steps"][0]["stats_file"] = "../" + window["steps"][0]["stats_file"]
    _write_json(run / "window.json", window)
    record, _ = load_run(run)
    assert record.status is ReportStatus.UNREADABLE
    assert "outside the run" in record.reason


def test_unreadable_meta_still_shows_what_it_says(tmp_path: Path) -> None:
    run = _good_run(tmp_path)
    meta = _json(run / "meta.json")
    meta["schema_version"] = 99
    _write_json(run / "meta.json", meta)
    record, frames = load_run(run)
    assert record.status is ReportStatus.UNREADABLE
    assert "schema_version 99" in record.reason
    assert record.meta is None and frames.stats is None
    assert record.setting("server") == meta["server"]
    assert record.setting("placement.mode") == meta["placement"]["mode"]


def test_summary_json_disagreeing_with_locust_is_a_note(tmp_path: Path) -> None:
    run = _good_run(tmp_path)
    summary = _json(run / "summary.json")
    summary["requests"] += 7
    _write_json(run / "summary.json", summary)
    record, _ = load_run(run)
    assert record.status is Status.OK
    assert any(f"summary.json says {summary['requests']} requests" in note for note in record.notes)
