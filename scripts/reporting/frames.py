"""Locust's CSV files and the bench's resource samples as tidy pandas frames.

These readers know the files' columns and nothing of run directories: `load` decides which
file of a run to read and what its rows mean. A file that is not what it claims to be
raises `UnreadableRun` with the reason, which the loader turns into an `unreadable` run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Final

import pandas as pd

AGGREGATED: Final = "Aggregated"

# Our column name -> Locust's percentile column, in increasing order of the fraction.
PERCENTILE_COLUMNS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "p50_ms": "50%",
        "p66_ms": "66%",
        "p75_ms": "75%",
        "p80_ms": "80%",
        "p90_ms": "90%",
        "p95_ms": "95%",
        "p98_ms": "98%",
        "p99_ms": "99%",
        "p999_ms": "99.9%",
        "p9999_ms": "99.99%",
        "p100_ms": "100%",
    }
)
PERCENTILE_FRACTIONS: Final[Mapping[str, float]] = MappingProxyType(
    {name: float(column.rstrip("%")) / 100 for name, column in PERCENTILE_COLUMNS.items()}
)
STATS_COLUMNS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "Request Count": "requests",
        "Failure Count": "failures",
        "Requests/s": "rps",
        "Failures/s": "failures_per_s",
        "Average Response Time": "avg_ms",
        "Min Response Time": "min_ms",
        "Max Response Time": "max_ms",
        **{column: name for name, column in PERCENTILE_COLUMNS.items()},
    }
)
HISTORY_COLUMNS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "Timestamp": "timestamp_s",
        "User Count": "user_count",
        "Requests/s": "rps",
        "Failures/s": "failures_per_s",
        **{column: name for name, column in PERCENTILE_COLUMNS.items()},
        "Total Request Count": "total_requests",
    }
)
RESOURCE_COLUMNS: Final = ("timestamp", "role", "cpu_pct", "rss_mb")

# Columns without which a Locust CSV is not the file it claims to be.
_CORE_COLUMNS: Final = frozenset({"Request Count", "Failure Count", "Requests/s", "Timestamp"})


class UnreadableRun(Exception):
    """A run directory whose files cannot be trusted; the message says why."""


def _read_locust_csv(path: Path, columns: Mapping[str, str]) -> pd.DataFrame:
    """A Locust CSV with our column names; `N/A` (no requests) becomes NaN, and so does any
    other text in a numeric column."""
    try:
        raw = pd.read_csv(path, na_values=["N/A"], keep_default_na=False)
    except FileNotFoundError:
        raise UnreadableRun(f"{path.name} is missing") from None
    except (OSError, ValueError, pd.errors.ParserError) as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UnreadableRun(f"{path.name} cannot be parsed ({first_line})") from None
    needed = ["Type", "Name", *(column for column in columns if column in _CORE_COLUMNS)]
    missing = [column for column in needed if column not in raw.columns]
    if missing:
        raise UnreadableRun(f"{path.name} lacks column(s) {', '.join(missing)}")
    present = {column: name for column, name in columns.items() if column in raw.columns}
    numbers = raw[list(present)].rename(columns=present)
    text_columns = [name for name in numbers.columns if numbers[name].dtype == object]
    if text_columns:
        numbers[text_columns] = numbers[text_columns].apply(pd.to_numeric, errors="coerce")
    numbers = numbers.reindex(columns=list(columns.values()))
    numbers.insert(0, "endpoint", raw["Name"].astype(str))
    numbers.insert(0, "method", raw["Type"].astype(str))
    return numbers


def read_stats(path: Path) -> pd.DataFrame:
    """Locust's statistics of the measured window: one row per endpoint with requests,
    plus the Aggregated row (login rows from before the window were reset to zero)."""
    frame = _read_locust_csv(path, STATS_COLUMNS)
    if not (frame["endpoint"] == AGGREGATED).any():
        raise UnreadableRun(f"{path.name} has no {AGGREGATED} row")
    if frame[["requests", "failures"]].isna().any().any():
        raise UnreadableRun(f"{path.name} has rows without request or failure counts")
    frame = frame[(frame["requests"] > 0) | (frame["endpoint"] == AGGREGATED)]
    requests = frame["requests"]
    return frame.assign(
        requests=requests.astype("int64"),
        failures=frame["failures"].astype("int64"),
        error_rate=(frame["failures"] / requests.where(requests > 0)).fillna(0.0),
    ).reset_index(drop=True)


def read_history_rows(path: Path, window_start_s: float) -> pd.DataFrame:
    """The history file as it is, plus `t_s`; `derive_history` does the rest (once, over
    every run's rows)."""
    frame = _read_locust_csv(path, HISTORY_COLUMNS)
    frame = frame[frame["timestamp_s"].notna()]
    return frame.assign(t_s=frame["timestamp_s"] - window_start_s)


def derive_history(frame: pd.DataFrame) -> pd.DataFrame:
    """Clean Locust's history rows (of one run or many, told apart by `run_id`).

    Locust writes its "current" percentiles there (over roughly the last 10 s); a row whose
    100 % percentile is 0 had no such span yet, so its percentiles are unknown, not 0 ms.
    Locust's own "Requests/s" there is a 10 s average that lags 2 s and reads 0 for the
    first seconds after the reset, so `rps_counted` is the throughput of each second from
    the change of the cumulative request count (unknown across the reset, where it drops).
    """
    keys = [key for key in ("run_id", "method", "endpoint") if key in frame.columns]
    frame = frame.drop_duplicates(subset=[*keys, "timestamp_s"], keep="last")
    frame = frame.sort_values([*keys, "timestamp_s"]).reset_index(drop=True)
    no_data = frame["p100_ms"].fillna(0) <= 0
    frame.loc[no_data, list(PERCENTILE_COLUMNS)] = math.nan
    by_series = frame.groupby(keys, sort=False)
    counted = by_series["total_requests"].diff() / by_series["timestamp_s"].diff()
    return frame.assign(
        rps_counted=counted.where(counted >= 0),
        in_window=frame["t_s"] >= -0.5,
    )


def read_history(path: Path, window_start_s: float) -> pd.DataFrame:
    """One run's per-second history, with `t_s` in seconds since the measured window began
    (see `derive_history` for the columns it adds)."""
    return derive_history(read_history_rows(path, window_start_s))


def last_history_timestamp_s(path: Path) -> float | None:
    """The history's last second (Unix seconds), or None when it has no readable one."""
    try:
        timestamps = pd.read_csv(path, usecols=["Timestamp"])["Timestamp"]
        last = float(pd.to_numeric(timestamps, errors="coerce").max())
    except (OSError, ValueError, KeyError, pd.errors.ParserError):
        return None
    return None if math.isnan(last) else last


def read_resources(path: Path, window_start_s: float) -> pd.DataFrame:
    """Resource samples (`timestamp,role,cpu_pct,rss_mb`); timestamps may be Unix seconds
    or ISO 8601, and `t_s` is seconds since the measured window began."""
    try:
        raw = pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise UnreadableRun(f"{path.name} cannot be parsed ({type(error).__name__})") from None
    missing = [column for column in RESOURCE_COLUMNS if column not in raw.columns]
    if missing:
        raise UnreadableRun(f"{path.name} lacks column(s) {', '.join(missing)}")
    numeric_time = pd.to_numeric(raw["timestamp"], errors="coerce")
    if numeric_time.isna().all() and len(raw):
        parsed = pd.to_datetime(raw["timestamp"], utc=True, errors="coerce")
        numeric_time = (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
    frame = pd.DataFrame(
        {
            "timestamp_s": numeric_time,
            "role": raw["role"].astype(str),
            "cpu_pct": pd.to_numeric(raw["cpu_pct"], errors="coerce"),
            "rss_mb": pd.to_numeric(raw["rss_mb"], errors="coerce"),
        }
    ).dropna(subset=["timestamp_s"])
    frame["t_s"] = frame["timestamp_s"] - window_start_s
    return frame.reset_index(drop=True)
