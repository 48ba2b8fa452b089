"""The report's numbers and run lists (scripts/reporting/tables.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from scripts.reporting.load import load_run
from scripts.reporting.tables import Group, comparability_notes, resolution_notes, runs_table

FIXTURE_RUNS = Path(__file__).resolve().parents[2] / "fixtures" / "runs"
STEP_RUNS = FIXTURE_RUNS.parent / "step_runs" / "runs"


def test_resolution_note_names_close_p50s() -> None:
    summary = pd.DataFrame(
        {
            "scenario": ["read"] * 3,
            "users": [4] * 3,
            "duration_s": [30.0] * 3,
            "label": ["gunicorn", "uwsgi", "runserver"],
            "p50_ms": [12.0, 12.5, 40.0],
        }
    )
    notes = resolution_notes(summary)
    assert len(notes) == 1
    assert "gunicorn (12 ms) and uwsgi (12.5 ms)" in notes[0]
    assert "below Locust's resolution" in notes[0]
    assert "runserver" not in notes[0]
    assert resolution_notes(summary.assign(p50_ms=[10.0, 12.0, 40.0])) == []


def test_a_run_is_grouped_by_its_typed_settings() -> None:
    step_record, _ = load_run(sorted(STEP_RUNS.iterdir())[0])
    assert step_record.meta is not None
    meta = json.loads((step_record.path / "meta.json").read_text())
    assert Group.of_run(step_record.meta) == Group(
        meta["scenario"], meta["users"], meta["duration_s"], "steps"
    )
    assert Group.of_run(step_record.meta).stepped


def test_runs_of_one_group_on_different_cpus_get_a_note(tmp_path: Path) -> None:
    sources = sorted(FIXTURE_RUNS.glob("*-u12-*"))[:2]
    copies = [Path(shutil.copytree(source, tmp_path / source.name)) for source in sources]
    meta = json.loads((copies[1] / "meta.json").read_text())
    meta["cpu_model"] = "Another CPU"
    (copies[1] / "meta.json").write_text(json.dumps(meta))
    records = [load_run(run_dir)[0] for run_dir in copies]
    notes = comparability_notes(records)
    assert len(notes) == 1
    assert "2 CPU models" in notes[0] and "Another CPU" in notes[0]
    assert comparability_notes([load_run(source)[0] for source in sources]) == []


def test_runs_table_lists_unreadable_runs_with_what_they_say(tmp_path: Path) -> None:
    source = sorted(FIXTURE_RUNS.glob("*-gunicorn-read-u12-*"))[0]
    run_dir = Path(shutil.copytree(source, tmp_path / source.name))
    meta = json.loads((run_dir / "meta.json").read_text())
    meta["users"] = "twelve"
    (run_dir / "meta.json").write_text(json.dumps(meta))
    corrupt = next(FIXTURE_RUNS.glob("*-c0ffee"))
    table = runs_table([load_run(run_dir)[0], load_run(corrupt)[0]]).set_index("run_id")
    assert table.loc[run_dir.name, "status"] == "unreadable"
    assert table.loc[run_dir.name, "server"] == "gunicorn"
    assert pd.isna(table.loc[run_dir.name, "users"])  # not a whole number: left out
    assert table.loc[corrupt.name, "server"] == ""
    assert table.loc[corrupt.name, "shape"] == ""
