"""Runs against an external target in the report and in `make compare`: what was not
observed is said, never drawn empty or shown as zero, and verdicts say that the repeats
shared one server process. The runs are derived from a committed real run
(tests/fixtures/derived_runs.py), its meta.json made external as the harness writes it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from scripts import compare
from scripts.records.schema import read_compare
from scripts.reporting.charts_time import resources_chart
from scripts.reporting.load import load_results
from scripts.reporting.select import discover_run_dirs
from scripts.reporting.tables import (
    SERVER_NOT_OBSERVED,
    display_rows,
    groups_of,
    summarize,
    target_notes,
)
from scripts.reporting.verdict_tables import VerdictOptions, judge_results
from tests.fixtures.derived_runs import derive_side

URL = "https://10.0.0.9:8443/api"
EXTERNAL = {
    "server": "external",
    "profile": "external",
    "workers": 0,
    "threads": None,
    "placement": {"mode": "external", "server_cpus": None, "loadgen_cpus": None, "note": ""},
    "target": {"url": URL, "tls": "verified against the system's CA certificates"},
}
UNOBSERVED = {"server_cpu_pct": None, "server_rss_peak_mb": None, "server_threads_peak": None}
RPS = (240.0, 241.0, 239.0, 240.5)


def external_side(results: Path, tag: str, rps: tuple[float, ...] = RPS) -> Path:
    """Derived external runs, whose resources.csv holds the load generator's samples only
    (no server runs on the machine)."""
    derive_side(results, tag, rps, summary=UNOBSERVED, meta=EXTERNAL)
    for run in (results / "runs").iterdir():
        path = run / "resources.csv"
        with path.open(newline="") as handle:
            rows = [row for row in csv.DictReader(handle) if row["role"] != "server"]
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return results


def test_the_summary_says_server_cpu_was_not_observed(tmp_path: Path) -> None:
    results = external_side(tmp_path, "x")
    loaded = load_results(results, discover_run_dirs(results))
    summary = summarize(loaded.stats)
    ((_, rows),) = groups_of(summary)
    headings, cells = display_rows(rows)
    (row,) = cells
    texts = dict(zip(headings, (cell.text for cell in row), strict=True))
    assert texts["server CPU %"] == SERVER_NOT_OBSERVED == "not observed (external target)"
    assert texts["server peak RSS MB"] == SERVER_NOT_OBSERVED
    assert texts["workers"] == "unknown"
    (note,) = target_notes(loaded.runs)
    assert URL in note and "server CPU not observed (external target)" in note
    assert "share one server process" in note


def test_the_resources_chart_says_so_instead_of_an_empty_panel(tmp_path: Path) -> None:
    results = external_side(tmp_path, "x")
    loaded = load_results(results, discover_run_dirs(results))
    ((group, rows),) = groups_of(summarize(loaded.stats))
    figure = resources_chart(group, rows, loaded.resources)
    assert isinstance(figure, Figure)
    texts = [text.get_text() for axes in figure.axes for text in axes.texts]
    assert "server CPU not observed (external target)" in texts
    assert "server memory not observed (external target)" in texts
    assert "no samples" not in texts


def test_report_verdicts_note_the_shared_process(tmp_path: Path) -> None:
    results = external_side(tmp_path, "x")
    record = judge_results(load_results(results, discover_run_dirs(results)).runs, VerdictOptions())
    (group,) = record.groups
    (configuration,) = group.configurations
    assert configuration.shared_process
    assert any("share its process" in note for note in group.notes)


def test_compare_verdicts_carry_the_shared_process_caveat(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = external_side(tmp_path / "base", "b")
    cand = external_side(tmp_path / "cand", "c", tuple(value * 0.99 for value in RPS))
    output = tmp_path / "out"
    compare.main(["--base", str(base), "--cand", str(cand), "--output", str(output)])
    out = capsys.readouterr().out
    record = read_compare(output / "compare.json")
    (configuration,) = record.configurations
    assert configuration.verdicts
    for entry in configuration.verdicts:
        assert "repeats against one external server share its process" in entry.caveat
    assert any("Caveat:" in sentence for sentence in record.headline)
    assert "caveat: " in out and out.count("share its process") == 1


def test_local_runs_carry_no_caveat(tmp_path: Path) -> None:
    base = derive_side(tmp_path / "base", "b", RPS)
    cand = derive_side(tmp_path / "cand", "c", RPS)
    output = tmp_path / "out"
    compare.main(["--base", str(base), "--cand", str(cand), "--output", str(output)])
    record = read_compare(output / "compare.json")
    assert all(not entry.caveat for c in record.configurations for entry in c.verdicts)
