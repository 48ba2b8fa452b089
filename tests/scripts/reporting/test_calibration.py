"""scripts/reporting/calibration.py: the report's calibration section, read through the
schema: one row per calibration, unreadable ones listed with the schema's reason."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

from scripts.records.schema import CalibrationPair, Status
from scripts.reporting.calibration import calibration_section
from tests.scripts.harness.calibration.records import FIXTURE, fixture_record


def _write(results: Path, name: str, content: str) -> None:
    directory = results / "calibrations" / name
    directory.mkdir(parents=True)
    (directory / "calibration.json").write_text(content)


def test_no_calibration_no_section(tmp_path: Path) -> None:
    assert calibration_section(tmp_path) == ""
    (tmp_path / "calibrations").mkdir()
    assert calibration_section(tmp_path) == ""


def test_the_committed_calibration_is_one_row_with_its_figures(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE.parent, tmp_path / "calibrations" / FIXTURE.parent.name)
    section = calibration_section(tmp_path)
    assert section.startswith('<section id="calibration">') and section.endswith("</section>")
    assert section.count("<tbody><tr>") == 1 and section.count("<tr") == 2  # head + 1 row
    assert f"<code>{FIXTURE.parent.name}</code>" in section
    assert "<td>3/3</td>" in section and "<td>1.021</td>" in section
    assert "<td>0.786-1.108</td>" in section and "yes (&ge; 0.95)" in section
    assert "could not be read" not in section


def test_failed_invalid_and_unreadable_calibrations(tmp_path: Path) -> None:
    recorded = fixture_record()
    invalid = replace(
        recorded,
        calibration_id="20260101T000100Z-uwsgi-me-u16-bbbbbb",
        server="<uwsgi>",
        status=Status.INVALID,
        reason="errors during the measurement",
        target_met=None,
    )
    interrupted = replace(
        recorded,
        calibration_id="20260101T000150Z-gunicorn-me-u16-dddddd",
        pairs=(recorded.pairs[0], CalibrationPair(index=2, order=("H", "W"))),
        status=Status.FAILED,
        reason="interrupted",
        target_met=None,
    )
    for record in (invalid, interrupted):
        _write(tmp_path, record.calibration_id, json.dumps(record.to_json()))
    _write(tmp_path, "20260101T000200Z-uvicorn-me-u16-cccccc", "{not json")
    newer = {**recorded.to_json(), "schema_version": 99}
    _write(tmp_path, "20260101T000300Z-daphne-me-u16-eeeeee", json.dumps(newer))
    _write(tmp_path, ".partial-20260101T000400Z-x", "{}")
    section = calibration_section(tmp_path)
    assert section.count("<tr") == 3  # head + 2 rows
    assert section.count("not judged") == 2 and 'class="not-ok"' in section
    assert "&lt;uwsgi&gt;" in section and "<uwsgi>" not in section
    assert "<td>1/3</td>" in section, "the interrupted one measured one pair of three"
    assert 'title="interrupted"' in section
    assert "20260101T000200Z-uvicorn-me-u16-cccccc: calibration.json is not valid JSON" in section
    assert "eeeeee: calibration.json has schema_version 99; this code reads 1" in section
    assert ".partial" not in section


def test_a_calibration_that_tested_causes_gets_their_table(tmp_path: Path) -> None:
    evidence = next((FIXTURE.parents[2] / "evidence" / "calibrations").glob("*/calibration.json"))
    shutil.copytree(evidence.parent, tmp_path / "calibrations" / evidence.parent.name)
    section = calibration_section(tmp_path)
    assert "<h3>Candidate causes of extra server CPU per request</h3>" in section
    for name in ("locust-headers", "one-token", "busy-generator"):
        assert f"<td>{name}</td>" in section
    assert "x0.995 (CI 0.985-1.007): within 2%" in section
    assert "x0.946 (CI 0.938-0.953): lower" in section
    shutil.rmtree(tmp_path / "calibrations" / evidence.parent.name)
    shutil.copytree(FIXTURE.parent, tmp_path / "calibrations" / FIXTURE.parent.name)
    assert "Candidate causes" not in calibration_section(tmp_path), "none tested, no table"
