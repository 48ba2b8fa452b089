"""verdicts.json and compare.json (scripts/records/schema/verdicts.py): records the code
builds survive a write and a read, the outcomes are the engine's, and a document that is
not the file it claims to be is refused with the reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scripts.records.schema import (
    OUTCOMES,
    CompareRecord,
    SchemaError,
    VerdictsRecord,
    read_compare,
    read_verdicts,
)
from scripts.records.store import write_json
from scripts.reporting.comparison import CompareOptions, compare_runs
from scripts.reporting.load import load_results
from scripts.reporting.select import discover_run_dirs
from scripts.reporting.verdict_tables import VerdictOptions, judge_results
from scripts.reporting.verdicts import Outcome
from tests.fixtures.derived_runs import FIXTURE_RUNS, derive_side
from tests.scripts.records.test_results_readme import documented_fields


def fixture_runs() -> Any:
    results = FIXTURE_RUNS.parent
    return load_results(results, discover_run_dirs(results)).runs


def verdicts_document() -> dict[str, Any]:
    record = judge_results(fixture_runs(), VerdictOptions(baseline="uvicorn"))
    document: dict[str, Any] = json.loads(json.dumps(record.to_json(), allow_nan=False))
    return document


def compare_document(tmp_path: Path) -> dict[str, Any]:
    base = derive_side(tmp_path / "base", "b", (240.0, 241.0, 239.0))
    cand = derive_side(tmp_path / "cand", "c", (190.0, 200.0, 195.0))
    record = compare_runs(
        "base",
        load_results(base, discover_run_dirs(base)).runs,
        "cand",
        load_results(cand, discover_run_dirs(cand)).runs,
        CompareOptions(),
    )
    document: dict[str, Any] = json.loads(json.dumps(record.to_json(), allow_nan=False))
    return document


def test_outcomes_are_the_engines() -> None:
    assert {outcome.value for outcome in Outcome} == OUTCOMES


def test_verdicts_json_round_trips_through_a_file(tmp_path: Path) -> None:
    document = verdicts_document()
    write_json(tmp_path / "verdicts.json", document)
    record = read_verdicts(tmp_path / "verdicts.json")
    assert record.to_json() == document
    assert record.groups and record.groups[0].tables[0].verdicts


def test_compare_json_round_trips_through_a_file(tmp_path: Path) -> None:
    document = compare_document(tmp_path)
    write_json(tmp_path / "compare.json", document)
    record = read_compare(tmp_path / "compare.json")
    assert record.to_json() == document
    assert record.configurations[0].verdicts[0].outcome == "slower"


def test_one_file_cannot_be_read_as_the_other(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="format 'drf-bench-verdicts'"):
        CompareRecord.from_json(verdicts_document())
    with pytest.raises(SchemaError, match="format 'drf-bench-compare'"):
        VerdictsRecord.from_json(compare_document(tmp_path))


def test_unknown_version_outcome_and_missing_field_are_refused() -> None:
    document = verdicts_document()
    with pytest.raises(SchemaError, match="schema_version 99"):
        VerdictsRecord.from_json({**document, "schema_version": 99})
    bad_outcome = json.loads(json.dumps(document))
    bad_outcome["groups"][0]["tables"][0]["verdicts"][0]["outcome"] = "quicker"
    with pytest.raises(SchemaError, match="quicker"):
        VerdictsRecord.from_json(bad_outcome)
    missing = json.loads(json.dumps(document))
    del missing["groups"][0]["tables"][0]["verdicts"][0]["ci_low"]
    with pytest.raises(SchemaError, match="ci_low"):
        VerdictsRecord.from_json(missing)


def all_keys(value: Any) -> set[str]:
    """Every key of every object in a JSON document, at any depth."""
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in all_keys(item)}
    if isinstance(value, list):
        return {key for item in value for key in all_keys(item)}
    return set()


def test_results_readme_documents_exactly_these_fields(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[3] / "results" / "README.md").read_text()
    documented = documented_fields(readme, "verdicts.json")
    written = all_keys(verdicts_document()) | all_keys(compare_document(tmp_path))
    assert written - documented == set(), "undocumented"
    assert documented - written == set(), "documented but never written"
