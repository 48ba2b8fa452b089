"""scripts/harness/calibration/run.py: calibration.json kept up to date pair by pair.
(The whole run, against a real server, is tested in tests/scripts/test_calibrate.py.)"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from scripts.harness.calibration.plan import HARNESS, LOCUST, REFERENCES, WRK
from scripts.harness.calibration.run import SIDES, RecordFile
from scripts.records.schema import CalibrationPair, read_calibration
from tests.scripts.harness.calibration.records import fixture_record


def test_a_pair_is_added_then_replaced_in_place_and_saved(tmp_path: Path) -> None:
    recorded = fixture_record()
    file = RecordFile(tmp_path / "calibration.json", replace(recorded, pairs=()))
    file.save()
    assert read_calibration(file.path).pairs == ()
    file.put_pair(CalibrationPair(index=2, order=("H", "W")))
    file.put_pair(CalibrationPair(index=1, order=("W", "H")))
    assert not json.loads(file.path.read_text())["pairs"], "put_pair alone writes nothing"
    file.put_pair(recorded.pairs[0])
    file.save()
    saved = read_calibration(file.path)
    assert [p.index for p in saved.pairs] == [1, 2]
    assert saved.pairs[0] == recorded.pairs[0] and saved.pairs[1].wrk is None
    file.save(recorded)
    assert read_calibration(file.path) == recorded == file.record


def test_every_side_has_a_measurement() -> None:
    assert set(SIDES) == {WRK, HARNESS, LOCUST} == {HARNESS, *REFERENCES}
