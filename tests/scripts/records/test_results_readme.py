"""results/README.md documents meta.json and summary.json field by field; these tests hold
those tables to the schema (scripts/records/schema.py), so the two cannot drift apart.

A table row names one or more fields in its first cell (`run_id, bench_id`). The schema's
side is the JSON the writers produce (`to_json`), built from committed fixture runs with the
optional parts (a step load's steps, an SLO, robustness figures) present, so every key a
file can hold counts.
"""

from __future__ import annotations

import re
from dataclasses import fields, replace
from pathlib import Path

import pytest

from scripts.records.schema import (
    ArrivalFigures,
    LatencyFigures,
    LocustWorker,
    RunMeta,
    read_meta,
    read_summary,
)

PROJECT_DIR = Path(__file__).resolve().parents[3]
README = PROJECT_DIR / "results" / "README.md"
STEP_RUN = sorted((PROJECT_DIR / "tests" / "fixtures" / "step_runs" / "runs").iterdir())[0]


def documented_fields(readme: str, file_name: str) -> set[str]:
    """The field names in the first column of the table under `## <file_name>`."""
    match = re.search(rf"^## {re.escape(file_name)}\b.*?$(.*?)(?=^## |\Z)", readme, re.M | re.S)
    assert match, f"results/README.md has no section for {file_name}"
    rows = [line for line in match[1].splitlines() if line.startswith("|")]
    assert len(rows) > 2, f"the {file_name} section of results/README.md has no table"
    names: set[str] = set()
    for row in rows[2:]:  # past the heading and the |---| line
        first_cell = row.strip("|").split("|")[0]
        names |= {name.strip(" `") for name in first_cell.split(",") if name.strip(" `")}
    return names


def meta_json_fields() -> set[str]:
    meta = read_meta(STEP_RUN / "meta.json")
    keys = set(meta.to_json())
    assert {field.name for field in fields(RunMeta)} <= keys
    return keys


def summary_json_fields() -> tuple[set[str], set[str]]:
    """Top-level keys of summary.json, and the keys of one step and one endpoint."""
    summary = read_summary(STEP_RUN / "summary.json")
    assert summary.steps, "the fixture is a step-load run"
    open_window = ArrivalFigures(
        offered_rps=10.0, achieved_rps=10.0, max_in_flight=4, keep_up_margin=0.05,
        kept_up=True, intended=40, sent=40, not_sent=0, late=0, late_after_ms=5.0,
        failures=0, corrected=LatencyFigures(40), uncorrected=LatencyFigures(40),
    )  # fmt: skip
    steps = tuple(replace(step, arrival=open_window) for step in summary.steps)
    document = replace(
        summary,
        slo={"slo_p99_ms": 100.0},
        robustness={"slow_clients": {}},
        loadgen_workers=(LocustWorker(index=0, host="h", pid=1, commit="c"),),
        steps=steps,
        arrival=open_window,
    ).to_json()
    step = document["steps"][0]
    endpoint = next(iter(document["endpoints"].values()))
    return set(document), set(step) | set(endpoint)


@pytest.fixture(scope="module")
def readme() -> str:
    return README.read_text()


def test_every_meta_json_field_is_documented(readme: str) -> None:
    missing = meta_json_fields() - documented_fields(readme, "meta.json")
    assert not missing, f"results/README.md does not document meta.json's {sorted(missing)}"


def test_meta_json_table_names_only_schema_fields(readme: str) -> None:
    unknown = documented_fields(readme, "meta.json") - meta_json_fields()
    assert not unknown, f"results/README.md documents meta.json fields {sorted(unknown)}"


def test_every_summary_json_field_is_documented(readme: str) -> None:
    top_level, nested = summary_json_fields()
    documented = documented_fields(readme, "summary.json")
    missing = top_level - documented
    assert not missing, f"results/README.md does not document summary.json's {sorted(missing)}"
    # A step and an endpoint hold "the same figures as above" (plus a step's users).
    undocumented = nested - documented
    assert not undocumented, f"summary.json steps/endpoints hold {sorted(undocumented)}"


def test_summary_json_table_names_only_schema_fields(readme: str) -> None:
    top_level, _ = summary_json_fields()
    unknown = documented_fields(readme, "summary.json") - top_level
    assert not unknown, f"results/README.md documents summary.json fields {sorted(unknown)}"
