"""What every result file shares: the schema version, the Status enum, and strict readers.

Version history (one SCHEMA_VERSION for every result file):
    1  2026-11-22  first version: meta.json, summary.json (flat window figures, optional
                   steps and slo), window.json, calibration.json
    2  2026-12-01  exact numbers: summary.json's window figures count completions between the
                   window's own timestamps and take latency from microsecond HDR histograms
                   (latency.json), with goodput_rps, samples, latency_source,
                   failures_by_kind, not_recorded; per-window machine noise (steal_pct,
                   other_cpu_pct, machine_noisy); server_counted, worker_restarts, warnings;
                   meta.json adds tokens, max_error_rate, errors_expected, login_throttle;
                   the report's verdicts.json and make compare's compare.json;
                   later, with a default for older files: meta.json's shares_machine and
                   max_requests; meta.json's target (TARGET: an external deployment, what
                   was observed); distributed load: meta.json's load_workers and
                   locust_workers, summary.json's loadgen_workers (schema/workers.py),
                   window.json's workers_expected, workers_connected, master_commit and
                   workers; the open model (ARRIVAL_RATE): meta.json's load_model,
                   arrival_rates_rps, max_in_flight, summary.json's arrival (per window and
                   the last one's at the top) and open_model (kept up, or at which rates not)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import MISSING, fields
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, TypeVar

SCHEMA_VERSION: Final = 2
READABLE_VERSIONS: Final = frozenset({1, 2})

_T = TypeVar("_T")


class Status(StrEnum):
    """What a run (or a calibration) ended as."""

    OK = "ok"
    FAILED = "failed"  # did not complete: nothing, or nothing trustworthy, was measured
    INVALID = "invalid"  # measured, but not trustworthy (e.g. the generator was saturated)


class SchemaError(ValueError):
    """A result file that does not match any version of the schema; the message says why."""


def check_version(document: Mapping[str, Any], name: str) -> int:
    """The document's schema_version, or SchemaError when this code cannot read it."""
    version = document.get("schema_version")
    if version not in READABLE_VERSIONS:
        readable = ", ".join(map(str, sorted(READABLE_VERSIONS)))
        raise SchemaError(f"{name} has schema_version {version!r}; this code reads {readable}")
    return int(version)


def build(cls: type[_T], data: Mapping[str, Any], name: str) -> _T:
    """A dataclass from the mapping's keys that are its fields; SchemaError naming the
    missing required ones. Unknown keys are ignored (a newer writer's additions)."""
    declared = fields(cls)  # type: ignore[arg-type]
    known = {f.name for f in declared}
    required = {f.name for f in declared if f.default is MISSING and f.default_factory is MISSING}
    missing = sorted(required - set(data))
    if missing:
        raise SchemaError(f"{name} lacks {', '.join(missing)}")
    return cls(**{key: value for key, value in data.items() if key in known})


def number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def read_document(path: Path) -> dict[str, Any]:
    """A JSON object from a result file; SchemaError saying what is wrong with it."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise SchemaError(f"{path.name} is missing") from None
    except OSError as error:
        raise SchemaError(f"{path.name} cannot be read ({error.strerror})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise SchemaError(
            f"{path.name} is not valid JSON (line {error.lineno}, column {error.colno}: "
            f"{error.msg})"
        ) from None
    if not isinstance(data, dict):
        raise SchemaError(f"{path.name} is not a JSON object")
    return data
