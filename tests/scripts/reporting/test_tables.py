"""The report's numbers and run lists (scripts/reporting/tables.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from scripts.reporting.load import load_run
from scripts.reporting.tables import (
    ALL_METRICS,
    Group,
    comparability_notes,
    display_rows,
    resolution_notes,
    runs_table,
    summarize,
)

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


def _aggregated_stats(configs: list[tuple[str, int, int | None]]) -> pd.DataFrame:
    """One Aggregated row per (server, workers, threads), as the loader gives them."""
    return pd.DataFrame(
        [
            {
                "run_id": f"run-{index}",
                "server": server,
                "production_grade": server != "runserver",
                "scenario": "mixed",
                "shape": "constant",
                "users": 8,
                "duration_s": 5.0,
                "workers": workers,
                "threads": pd.NA if threads is None else threads,
                "endpoint": "Aggregated",
                **{metric: 10.0 + index for metric in ALL_METRICS},
            }
            for index, (server, workers, threads) in enumerate(configs)
        ]
    )


def test_tables_group_servers_by_interface_and_name_gthread_once() -> None:
    stats = _aggregated_stats(
        [
            ("waitress", 1, 4),
            ("uvicorn", 1, None),
            ("gunicorn", 1, 4),
            ("runserver", 1, None),
            ("granian-asgi", 1, None),
            ("gunicorn-gevent", 1, None),
        ]
    )
    summary = summarize(stats)
    assert list(summary["server"]) == [
        "runserver",
        "gunicorn",
        "gunicorn-gevent",
        "waitress",
        "uvicorn",
        "granian-asgi",
    ]
    labels = dict(zip(summary["server"], summary["label"], strict=True))
    assert labels["gunicorn"] == "gunicorn gthread"
    assert labels["waitress"] == "waitress"
    headings, cells = display_rows(summary)
    assert headings[:2] == ["server", "interface"]
    assert [row[1].value for row in cells] == ["dev", "wsgi", "wsgi", "wsgi", "asgi", "asgi"]


def test_gunicorn_sync_and_gthread_side_by_side_keep_their_counts() -> None:
    summary = summarize(_aggregated_stats([("gunicorn", 2, 1), ("gunicorn", 2, 4)]))
    assert list(summary["label"]) == ["gunicorn 2wx1t", "gunicorn gthread 2wx4t"]
