"""Our own microsecond recording (latency.json) as the report's statistics rows.

A schema-2 run's figures come from its HDR histograms, not from Locust's rounded buckets:
one row per endpoint plus the Aggregated row, with the same columns as Locust's statistics
(so every table and chart reads both kinds of run alike), `rps` meaning goodput (successful
answers per second of the window), `samples` the histogram's count, every percentile under
the one rule of loadtests/latency.py (NaN where the window holds too few samples for it),
and the encoded histogram itself, so repeats can be pooled exactly.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Final

import pandas as pd
from hdrh.histogram import HdrHistogram

from loadtests import latency
from scripts.reporting.frames import AGGREGATED, PERCENTILE_FRACTIONS, UnreadableRun

HISTOGRAM_COLUMN: Final = "histogram"


def _row(
    method: str,
    endpoint: str,
    histogram: HdrHistogram,
    failures: int,
    not_recorded: int,
    window_s: float,
    goodput_rps: float | None = None,
) -> dict[str, Any]:
    samples = int(histogram.get_total_count())
    successes = samples + not_recorded
    requests = successes + failures
    row: dict[str, Any] = {
        "method": method,
        "endpoint": endpoint,
        "requests": requests,
        "failures": failures,
        "rps": goodput_rps if goodput_rps is not None else successes / window_s,
        "failures_per_s": failures / window_s if window_s > 0 else math.nan,
        "avg_ms": histogram.get_mean_value() / 1000 if samples else math.nan,
        "min_ms": histogram.get_min_value() / 1000 if samples else math.nan,
        "max_ms": histogram.get_max_value() / 1000 if samples else math.nan,
        "samples": samples,
        "error_rate": failures / requests if requests else 0.0,
        HISTOGRAM_COLUMN: latency.encode(histogram),
    }
    for name, q in PERCENTILE_FRACTIONS.items():
        if q >= 1:
            row[name] = row["max_ms"]
            continue
        value = latency.percentile(histogram, q).value_ms
        row[name] = math.nan if value is None else value
    return row


def read_hdr_stats(path: Path, index: int) -> pd.DataFrame:
    """Window `index` of a latency.json as statistics rows."""
    try:
        windows = latency.read(path)
    except (OSError, ValueError, KeyError) as error:
        raise UnreadableRun(f"{path.name} cannot be read ({error})") from None
    if index >= len(windows):
        raise UnreadableRun(f"{path.name} has {len(windows)} windows, not {index + 1}")
    window = windows[index]
    rows = [
        _row(
            name.split(" ", 1)[0],
            name,
            endpoint.histogram,
            endpoint.failures,
            endpoint.not_recorded,
            window.window_s,
        )
        for name, endpoint in sorted(window.endpoints.items())
        if endpoint.successes or endpoint.failures
    ]
    rows.append(
        _row(
            "",
            AGGREGATED,
            window.aggregate(),
            window.failures,
            window.not_recorded,
            window.window_s,
            goodput_rps=window.goodput_rps,
        )
    )
    return pd.DataFrame(rows)


def pooled_percentiles(encoded: list[str]) -> dict[str, float]:
    """Percentiles of several runs' histograms added together (exact pooling), NaN where
    the pooled histogram still holds too few samples; plus its sample count."""
    pooled = latency.new_histogram()
    for text in encoded:
        pooled.add(latency.decode(text))
    figures: dict[str, float] = {"samples": float(pooled.get_total_count())}
    for name, q in PERCENTILE_FRACTIONS.items():
        if q >= 1:
            continue
        value = latency.percentile(pooled, q).value_ms
        figures[name] = math.nan if value is None else value
    return figures
