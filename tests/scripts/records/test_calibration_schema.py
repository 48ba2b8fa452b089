"""calibration.json's schema: the committed fixture (version 1) reads back exactly, a record
the code builds survives a write and a read, and a file that is not a calibration is refused
with a message that says why."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from scripts.records.schema import (
    SCHEMA_VERSION,
    CalibrationPair,
    CalibrationRecord,
    SchemaError,
    Status,
    read_calibration,
)

FIXTURE = next(
    (Path(__file__).resolve().parents[2] / "fixtures" / "calibrations").glob("*/calibration.json")
)


def fixture_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(FIXTURE.read_text())
    return document


def test_the_committed_fixture_reads_back_exactly() -> None:
    document = fixture_document()
    record = CalibrationRecord.from_json(document)
    # written back at today's schema version, otherwise exactly the same
    document["schema_version"] = SCHEMA_VERSION
    assert record.to_json() == document
    # same key order and the same int/float types: the file would be written byte for byte
    assert json.dumps(record.to_json(), indent=2) == json.dumps(document, indent=2)


def test_the_fixture_is_read_into_typed_fields() -> None:
    record = CalibrationRecord.from_json(fixture_document())
    assert record.status is Status.OK and record.target_met is True
    assert record.measured_pairs == 3 and [pair.order for pair in record.pairs][:2] == [
        ("W", "H"),
        ("H", "W"),
    ]
    first = record.pairs[0]
    assert first.wrk is not None and first.harness is not None
    assert first.wrk.rps == 221.25 and first.wrk.socket_errors["timeout"] == 0
    assert first.wrk.resources.server_cpu_pct == 98.95
    assert first.harness.run_dir == "harness-1" and first.harness.loadgen_cpu_warning is False
    assert first.harness.resources.steal_pct == pytest.approx(3.4677, abs=1e-4)
    assert record.server_argv[-1] == "config.wsgi:application"
    assert record.load_average_at_end is not None and len(record.load_average_at_end) == 3


def test_an_interrupted_calibration_round_trips_with_its_unfinished_pair() -> None:
    record = replace(
        CalibrationRecord.from_json(fixture_document()),
        pairs=(CalibrationPair(index=1, order=("W", "H")),),
        status=Status.FAILED,
        reason="interrupted",
        target_met=None,
        load_average_at_end=None,
        finished_at=None,
        notes=(),
    )
    written = record.to_json()
    [pair] = written["pairs"]
    assert pair == {"index": 1, "order": ["W", "H"], "wrk": None, "harness": None, "ratio": None}
    assert "notes" not in pair, "a pair gets its notes only once both sides ran"
    assert written["status"] == "failed" and written["load_average_at_end"] is None
    assert CalibrationRecord.from_json(json.loads(json.dumps(written))) == record


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"schema_version": 99}, "schema_version 99; this code reads 1, 2"),
        ({"schema_version": None}, "schema_version None"),
        ({"status": "great"}, "'great' is not a valid Status"),
        ({"pairs": 7}, "calibration.json: TypeError"),
        ({"pairs": [{"order": ["W", "H"]}]}, "KeyError: 'index'"),
    ],
)
def test_a_document_that_is_not_version_1_is_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(SchemaError, match=re.escape(message)):
        CalibrationRecord.from_json({**fixture_document(), **change})


def test_a_missing_required_field_is_named() -> None:
    document = fixture_document()
    del document["server"], document["wrk_argv"]
    with pytest.raises(SchemaError, match=re.escape("calibration.json lacks server, wrk_argv")):
        CalibrationRecord.from_json(document)
    side = fixture_document()
    del side["pairs"][0]["wrk"]["rps"]
    with pytest.raises(SchemaError, match="wrk side lacks rps"):
        CalibrationRecord.from_json(side)


def test_read_calibration_says_why_a_file_cannot_be_read(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    with pytest.raises(SchemaError, match=re.escape("calibration.json is missing")):
        read_calibration(path)
    path.write_text("{not json")
    with pytest.raises(SchemaError, match="not valid JSON"):
        read_calibration(path)
    path.write_text(FIXTURE.read_text())
    assert read_calibration(path).calibration_id == FIXTURE.parent.name
