"""The open model's figures of each window, from arrival.json (loadtests/arrival.py).

Percentiles follow loadtests/latency.py's one rule (shown only with enough samples), so a
corrected p99 and an uncorrected p99 are comparable with every other p99 of the report.
"""

from __future__ import annotations

from pathlib import Path

from hdrh.histogram import HdrHistogram

from loadtests import arrival, latency
from scripts.records.schema import ArrivalFigures, LatencyFigures


def latency_figures(histogram: HdrHistogram) -> LatencyFigures:
    samples = int(histogram.get_total_count())

    def shown(q: float) -> float | None:
        return latency.percentile(histogram, q).value_ms

    return LatencyFigures(
        samples=samples,
        avg_ms=histogram.get_mean_value() / 1000 if samples else None,
        p50_ms=shown(0.5),
        p90_ms=shown(0.9),
        p99_ms=shown(0.99),
        p999_ms=shown(0.999),
        max_ms=histogram.get_max_value() / 1000 if samples else None,
    )


def _ms(value_us: float | None) -> float | None:
    return None if value_us is None else value_us / 1000


def arrival_figures(window: arrival.ArrivalWindow) -> ArrivalFigures:
    return ArrivalFigures(
        offered_rps=window.offered_rps,
        achieved_rps=window.achieved_rps,
        max_in_flight=window.max_in_flight,
        keep_up_margin=arrival.KEEP_UP_MARGIN,
        kept_up=window.kept_up,
        intended=window.intended,
        sent=window.sent,
        not_sent=window.not_sent,
        late=window.late,
        late_after_ms=arrival.LATE_AFTER_US / 1000,
        failures=window.failures,
        corrected=latency_figures(window.corrected),
        uncorrected=latency_figures(window.uncorrected),
        corrected_mean_ms_by_second=tuple(_ms(s.corrected_mean_us) for s in window.timeline),
        uncorrected_mean_ms_by_second=tuple(_ms(s.uncorrected_mean_us) for s in window.timeline),
    )


def read_arrival(run_dir: Path) -> list[ArrivalFigures]:
    """Each window's open-model figures (empty for a closed-loop run)."""
    path = run_dir / arrival.FILE_NAME
    return [arrival_figures(window) for window in arrival.read(path)] if path.exists() else []
