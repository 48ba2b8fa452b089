"""Locust's files as frames (scripts/reporting/frames.py)."""

from __future__ import annotations

import math
from pathlib import Path

from scripts.reporting.frames import read_history


def test_history_throughput_comes_from_the_request_counter(tmp_path: Path) -> None:
    header = (
        "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,"
        "99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,"
        "Total Average Response Time,Total Min Response Time,Total Max Response Time,"
        "Total Average Content Size"
    )
    tail = ",0,5,5.0,1,9,100"
    rows = [
        f"100,4,,Aggregated,0.0,0.0,{','.join(['N/A'] * 11)},0{tail}",
        f"101,4,,Aggregated,0.0,0.0,{','.join(['0'] * 11)},50{tail}",
        f"102,4,,Aggregated,0.0,0.0,{','.join(['7'] * 11)},30{tail}",  # stats reset
        f"103,4,,Aggregated,80.0,0.0,{','.join(['8'] * 11)},150{tail}",
    ]
    path = tmp_path / "locust_stats_history.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    history = read_history(path, window_start_s=101.5)
    assert history["t_s"].tolist() == [-1.5, -0.5, 0.5, 1.5]
    counted = history["rps_counted"].tolist()
    assert math.isnan(counted[0]) and counted[1] == 50 and math.isnan(counted[2])
    assert counted[3] == 120
    # A row without responses has unknown percentiles, not 0 ms.
    assert history["p50_ms"].isna().tolist() == [True, True, False, False]
