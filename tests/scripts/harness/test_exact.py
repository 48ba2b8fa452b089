"""Exact window figures from a recorded window, and the harness/server count check."""

from __future__ import annotations

import pytest

from loadtests import latency
from scripts.harness.exact import count_warning, window_figures
from scripts.harness.judge import ServerExit, error_summary, judge
from scripts.harness.sampling import ResourceSummary
from scripts.records.schema import LATENCY_HDR, Status, WindowFigures

RESOURCES = ResourceSummary(None, None, None, None, (), (), 0)


def _window(successes_ms: list[float], failures: dict[str, int], seconds: float = 10.0):
    endpoint = latency.EndpointLatency()
    for value in successes_ms:
        endpoint.histogram.record_value(int(value * 1000))
    endpoint.failures_by_kind.update(failures)
    window = latency.WindowLatency(index=0, users=4, started_at=100.0, ended_at=100.0 + seconds)
    window.endpoints["GET /api/me/"] = endpoint
    window.processes.append(
        latency.ProcessSpan(
            process="local",
            armed_at=100.0,
            disarmed_at=100.0 + seconds,
            recorded=len(successes_ms),
            not_recorded=0,
            failures=sum(failures.values()),
        )
    )
    return window


def test_goodput_counts_successes_over_exactly_the_window() -> None:
    figures, endpoints = window_figures(_window([10.0] * 800, {"HTTP 500": 200}, seconds=8.0))
    assert figures.requests == 1000 and figures.failures == 200
    assert figures.goodput_rps == pytest.approx(800 / 8.0)
    assert figures.rps == pytest.approx(1000 / 8.0)
    assert figures.latency_source == LATENCY_HDR and figures.samples == 800
    assert figures.failures_by_kind == {"HTTP 500": 200}
    assert set(endpoints) == {"GET /api/me/"}


def test_tails_without_enough_samples_are_not_numbers() -> None:
    figures, _ = window_figures(_window([5.0] * 2000, {}))
    assert figures.p99_ms is not None
    assert figures.p999_ms is None, "p99.9 of 2,000 samples is n/a"
    many, _ = window_figures(_window([float(i % 100 + 1) for i in range(20_000)], {}))
    assert many.p999_ms == pytest.approx(100.0, rel=0.001)


def test_counts_apart_by_more_than_half_a_percent_warn_with_both_figures() -> None:
    assert count_warning(10_000, 9_980) is None
    warning = count_warning(10_000, 9_900)
    assert warning is not None and "10,000" in warning and "9,900" in warning
    assert count_warning(0, 0) is None


def _figures(requests: int, failures: int, kinds: dict[str, int]) -> WindowFigures:
    return WindowFigures(requests, failures, failures / requests, 100.0, failures_by_kind=kinds)


def test_error_gate_fails_a_run_above_max_error_rate_and_names_the_kinds() -> None:
    from loadtests.window import WindowRecord

    window = WindowRecord(users_target=4, completed=True)
    kinds = {"HTTP 502": 1200, "ConnectionRefusedError": 9000}
    status, reason = judge(window, 1, _figures(27_600, 10_200, kinds), RESOURCES)
    assert status is Status.FAILED
    assert reason.startswith("37% of responses were errors: ConnectionRefusedError x 9,000")
    assert "HTTP 502 x 1,200" in reason
    ok_status, _ = judge(window, 1, _figures(1000, 5, {"HTTP 500": 5}), RESOURCES)
    assert ok_status is Status.OK
    expected, _ = judge(
        window, 1, _figures(1000, 400, {"HTTP 503": 400}), RESOURCES, errors_expected=True
    )
    assert expected is Status.OK, "a run that provokes errors on purpose is not gated"


def test_a_dead_server_fails_the_run_whatever_else_happened() -> None:
    from loadtests.window import WindowRecord

    window = WindowRecord(users_target=4, completed=True, cpu_warning=True)
    status, reason = judge(
        window,
        1,
        _figures(30_000, 29_000, {"ConnectionRefusedError": 29_000}),
        RESOURCES,
        server_exit=ServerExit(-9, 5.1),
        errors_expected=True,
    )
    assert status is Status.FAILED
    assert reason == "the server exited (signal 9) 5.1 s into the window"
    assert "load generator" not in reason


def test_error_summary_lists_the_biggest_kind_first() -> None:
    text = error_summary(_figures(100, 30, {"HTTP 500": 10, "HTTP 502": 20}))
    assert text == "30% of responses were errors: HTTP 502 x 20, HTTP 500 x 10"
