"""Calibration records for the unit tests, built from the committed fixture (a real
calibration), so every figure a test does not set itself is a measured one."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from scripts.records.schema import CalibrationPair, CalibrationRecord, SideResources

FIXTURE = next(
    (Path(__file__).resolve().parents[3] / "fixtures" / "calibrations").glob("*/calibration.json")
)


def fixture_record() -> CalibrationRecord:
    return CalibrationRecord.from_json(json.loads(FIXTURE.read_text()))


def unjudged(record: CalibrationRecord) -> CalibrationRecord:
    """The record as it stood before aggregation: pairs measured, nothing derived yet."""
    return replace(
        record,
        ratio_median=None,
        ratio_min=None,
        ratio_max=None,
        wrk_rps_median=None,
        harness_rps_median=None,
        wrk_p50_ms_median=None,
        harness_p50_ms_median=None,
        target_met=None,
        notes=(),
    )


def pair(
    index: int,
    wrk_rps: float,
    harness_rps: float,
    *,
    wrk_errors: int = 0,
    harness_failures: int = 0,
    wrk_resources: SideResources | None = None,
    harness_resources: SideResources | None = None,
    **harness_changes: object,
) -> CalibrationPair:
    """The fixture's first pair with the rates (and whatever else is given) replaced; the
    sides' CPU figures are empty unless given, so no remark is made by accident."""
    measured = fixture_record().pairs[0]
    assert measured.wrk is not None and measured.harness is not None
    error_summary = f"{wrk_errors} non-2xx/3xx responses" if wrk_errors else ""
    wrk = replace(
        measured.wrk,
        rps=wrk_rps,
        p50_ms=10.0 + index,
        errors=wrk_errors,
        non_2xx_3xx=wrk_errors,
        error_summary=error_summary,
        resources=wrk_resources or SideResources(),
    )
    harness = replace(
        measured.harness,
        rps=harness_rps,
        p50_ms=11.0 + index,
        failures=harness_failures,
        resources=harness_resources or SideResources(),
        **harness_changes,  # type: ignore[arg-type]
    )
    return CalibrationPair(
        index=index,
        order=("W", "H") if index % 2 else ("H", "W"),
        wrk=wrk,
        harness=harness,
        ratio=harness_rps / wrk_rps,
    )
