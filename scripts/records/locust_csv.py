"""Locust's own statistics CSV of a measured window, read into the schema's figures."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Final

from scripts.records.schema import WindowFigures

AGGREGATED: Final = "Aggregated"
PERCENTILE_COLUMNS: Final = {
    "p50_ms": "50%",
    "p90_ms": "90%",
    "p95_ms": "95%",
    "p99_ms": "99%",
    "p999_ms": "99.9%",
}


def _number(text: str | None) -> float | None:
    if text is None or text.strip() in {"", "N/A"}:
        return None
    value = float(text)
    return None if math.isnan(value) else value


def _figures(row: dict[str, str]) -> WindowFigures:
    requests = int(row["Request Count"])
    failures = int(row["Failure Count"])
    percentiles = {name: _number(row.get(column)) for name, column in PERCENTILE_COLUMNS.items()}
    return WindowFigures(
        requests=requests,
        failures=failures,
        error_rate=failures / requests if requests else 0.0,
        rps=_number(row["Requests/s"]) or 0.0,
        avg_ms=_number(row["Average Response Time"]),
        min_ms=_number(row["Min Response Time"]),
        p50_ms=percentiles["p50_ms"],
        p90_ms=percentiles["p90_ms"],
        p95_ms=percentiles["p95_ms"],
        p99_ms=percentiles["p99_ms"],
        p999_ms=percentiles["p999_ms"],
        max_ms=_number(row["Max Response Time"]),
    )


def read_locust_window(stats_csv: Path) -> tuple[WindowFigures, dict[str, WindowFigures]]:
    """Aggregate and per-endpoint figures from Locust's stats CSV (the measured window).

    Set-up rows (logins before the window) were reset with the window and carry no
    requests; rows without requests are left out of the endpoints.
    """
    with stats_csv.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    aggregate = next((row for row in rows if row["Name"] == AGGREGATED), None)
    if aggregate is None:
        raise ValueError(f"{stats_csv} has no Aggregated row")
    endpoints = {
        row["Name"]: _figures(row)
        for row in rows
        if row["Name"] != AGGREGATED and int(row["Request Count"]) > 0
    }
    return _figures(aggregate), endpoints
