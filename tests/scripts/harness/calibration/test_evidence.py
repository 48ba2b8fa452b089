"""The kept evidence of the search for the harness's extra server CPU per request (issue
17): a real `make calibrate SERVER=gunicorn CAUSES=all` (tests/fixtures/README.md). It
reads back under the current schema, its derived figures are what the analysis computes
from its own pairs today, and it says what README.md quotes of it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from scripts.harness.calibration.analysis import with_cause_effects
from scripts.harness.calibration.text import summary_text
from scripts.records.schema import CalibrationRecord

EVIDENCE = next(
    (Path(__file__).resolve().parents[3] / "fixtures" / "evidence" / "calibrations").glob(
        "*-gunicorn-*/calibration.json"
    )
)


def _evidence() -> CalibrationRecord:
    return CalibrationRecord.from_json(json.loads(EVIDENCE.read_text()))


def test_the_evidence_reads_back_and_its_effects_follow_from_its_pairs() -> None:
    record = _evidence()
    assert record.causes == ("locust-headers", "one-token", "busy-generator")
    assert record.measured_pairs == 12 and record.noisy_pairs == 0
    assert with_cause_effects(replace(record, cause_effects=())) == record
    assert json.loads(json.dumps(record.to_json())) == json.loads(EVIDENCE.read_text())


def test_what_the_readme_quotes_is_what_the_evidence_holds() -> None:
    record = _evidence()
    effects = {effect.cause: effect for effect in record.cause_effects}
    # no candidate moves the server's CPU per request by more than 2 %
    assert all(effect.server_cpu_reading == "within 2%" for effect in effects.values())
    # a busy generator CPU slows wrk's sending, not the server
    assert effects["busy-generator"].rps_reading == "lower"
    assert record.target_met is True
    text = summary_text(record)
    assert "median server CPU ms/request: wrk 1.568, harness 1.562" in text
    assert "median connections opened/request: wrk 1.00, harness 1.00" in text
