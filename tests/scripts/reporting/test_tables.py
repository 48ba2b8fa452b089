"""The report's numbers and run lists (scripts/reporting/tables.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from scripts.reporting.load import load_run
from scripts.reporting.tables import (
    ALL_METRICS,
    NOT_OBSERVED,
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


def _aggregated_stats(
    configs: list[tuple[str, int, int | None]], profiles: list[str] | None = None
) -> pd.DataFrame:
    """One Aggregated row per (server, workers, threads) and profile (dev by default), as
    the loader gives them; the figures only tell the rows apart."""
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
                "profile": "dev" if profiles is None else profiles[index],
                "database_unobserved": False,
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


def test_profiles_never_pool_and_every_label_names_its_profile() -> None:
    configs: list[tuple[str, int, int | None]] = [
        ("gunicorn", 2, 1),
        ("gunicorn", 2, 1),
        ("runserver", 1, None),
    ]
    summary = summarize(_aggregated_stats(configs, ["production", "dev", "dev"]))
    assert list(summary["runs"]) == [1, 1, 1]
    assert list(zip(summary["server"], summary["profile"], strict=True)) == [
        ("runserver", "dev"),
        ("gunicorn", "dev"),
        ("gunicorn", "production"),
    ]
    assert list(summary["label"]) == [
        "runserver · dev",
        "gunicorn 2wx1t · dev",
        "gunicorn 2wx1t · production",
    ]
    _, cells = display_rows(summary)
    assert cells[0][0].value == "runserver · dev (dev server)"
    # one profile only: labels as before, no profile named
    alone = summarize(_aggregated_stats(configs, ["dev", "dev", "dev"]))
    assert list(alone["runs"]) == [1, 2]
    assert list(alone["label"]) == ["runserver", "gunicorn"]
    assert display_rows(alone)[1][0][0].value == "runserver (dev)"


def test_proxy_and_database_cpu_columns_only_where_runs_have_them() -> None:
    configs: list[tuple[str, int, int | None]] = [("gunicorn", 2, 1), ("uwsgi", 2, None)]
    stats = _aggregated_stats(configs)
    without = stats.assign(proxy_cpu_pct=float("nan"), database_cpu_pct=float("nan"))
    headings, _ = display_rows(summarize(without))
    assert "proxy CPU %" not in headings and "database CPU %" not in headings
    assert "deployment CPU %" not in headings  # it is the server's CPU again
    headings, cells = display_rows(summarize(stats))
    for heading in ("proxy CPU %", "database CPU %", "deployment CPU %"):
        column = headings.index(heading)
        assert [row[column].value for row in cells] == ["10", "11"]


def test_an_unobserved_database_says_so_instead_of_an_empty_cell() -> None:
    configs: list[tuple[str, int, int | None]] = [("gunicorn", 2, 1), ("uwsgi", 2, None)]
    stats = _aggregated_stats(configs).assign(database_cpu_pct=float("nan"))
    stats.loc[0, "database_unobserved"] = True
    headings, cells = display_rows(summarize(stats))
    column = headings.index("database CPU %")
    assert [row[column].value for row in cells] == [NOT_OBSERVED, "-"]
