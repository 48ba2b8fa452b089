"""The results schema: what meta.json, summary.json, window.json and calibration.json hold.

Every result file is written from, and read back into, the frozen dataclasses of this
package; the JSON keys of those files appear here only. One SCHEMA_VERSION covers them all
(its history is in base.py), and the readers accept every version written so far, or refuse
with a message naming the version, so results of older benches keep loading in newer
reports, as pyperf's do.

    base         SCHEMA_VERSION and its history, Status, SchemaError, strict JSON reading
    runs         meta.json, summary.json and its steps, window.json
    arrival      summary.json's open-model figures (ARRIVAL_RATE runs)
    calibration  calibration.json
    verdicts     verdicts.json (make report) and compare.json (make compare)
"""

from scripts.records.schema.arrival import ArrivalFigures, LatencyFigures
from scripts.records.schema.base import (
    READABLE_VERSIONS,
    SCHEMA_VERSION,
    SchemaError,
    Status,
    check_version,
    read_document,
)
from scripts.records.schema.calibration import (
    CalibrationPair,
    CalibrationRecord,
    CauseEffect,
    Estimate,
    HarnessSide,
    LocustSide,
    SideResources,
    SideSeries,
    WrkSide,
    read_calibration,
)
from scripts.records.schema.runs import (
    LATENCY_HDR,
    LATENCY_LOCUST,
    ExternalTarget,
    RunMeta,
    RunSummary,
    StepSummary,
    WindowFigures,
    WindowResources,
    read_meta,
    read_summary,
    read_window,
    step_stats_files,
    window_from_json,
    window_to_json,
)
from scripts.records.schema.verdicts import (
    COMPARE_FORMAT,
    OUTCOMES,
    VERDICTS_FORMAT,
    ComparedConfiguration,
    CompareRecord,
    ConfigurationSpread,
    NotCompared,
    VerdictEntry,
    VerdictGroup,
    VerdictsRecord,
    VerdictTable,
    read_compare,
    read_verdicts,
)
from scripts.records.schema.workers import LocustWorker

__all__ = [
    "COMPARE_FORMAT",
    "LATENCY_HDR",
    "LATENCY_LOCUST",
    "OUTCOMES",
    "READABLE_VERSIONS",
    "SCHEMA_VERSION",
    "VERDICTS_FORMAT",
    "ArrivalFigures",
    "CalibrationPair",
    "CalibrationRecord",
    "CauseEffect",
    "CompareRecord",
    "ComparedConfiguration",
    "ConfigurationSpread",
    "Estimate",
    "ExternalTarget",
    "HarnessSide",
    "LatencyFigures",
    "LocustSide",
    "LocustWorker",
    "NotCompared",
    "RunMeta",
    "RunSummary",
    "SchemaError",
    "SideResources",
    "SideSeries",
    "Status",
    "StepSummary",
    "VerdictEntry",
    "VerdictGroup",
    "VerdictTable",
    "VerdictsRecord",
    "WindowFigures",
    "WindowResources",
    "WrkSide",
    "check_version",
    "read_calibration",
    "read_compare",
    "read_document",
    "read_meta",
    "read_summary",
    "read_verdicts",
    "read_window",
    "step_stats_files",
    "window_from_json",
    "window_to_json",
]
