"""The microsecond recording: what counts, how processes merge, the percentile rule, the file."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from hdrh.histogram import HdrHistogram

from loadtests import latency
from loadtests.latency import LatencyRecorder, WindowLatency

ENDPOINTS = ("GET /api/me/", "GET /api/items/")


def _samples_ms(count: int, seed: int) -> list[float]:
    """Response times with a long tail (lognormal around 5 ms), in Locust's float ms."""
    rng = random.Random(seed)
    return [rng.lognormvariate(math.log(5.0), 0.8) for _ in range(count)]


def _record(recorder: LatencyRecorder, samples_ms: list[float], rng: random.Random) -> None:
    for sample in samples_ms:
        recorder.on_request(name=rng.choice(ENDPOINTS), response_time=sample)


def _window(samples_ms: list[float], process: str = "local", seed: int = 1) -> WindowLatency:
    recorder = LatencyRecorder(process)
    recorder.arm(0, 4, now=100.0)
    _record(recorder, samples_ms, random.Random(seed))
    return recorder.disarm(now=110.0)


def _histogram_of(samples_ms: list[float]) -> HdrHistogram:
    histogram = latency.new_histogram()
    for sample in samples_ms:
        assert histogram.record_value(round(sample * 1000))
    return histogram


def _same_counts(a: HdrHistogram, b: HdrHistogram) -> bool:
    return a.get_total_count() == b.get_total_count() and all(
        a.get_count_at_index(i) == b.get_count_at_index(i) for i in range(a.counts_len)
    )


def test_merge_of_two_processes_equals_one_histogram_of_all_samples() -> None:
    samples = _samples_ms(6000, seed=7)
    first, second = samples[:2500], samples[2500:]
    parts = [
        # each part travels as JSON, as a worker's message to the master does
        WindowLatency.from_json(json.loads(json.dumps(_window(part, f"worker {i}").to_json())))
        for i, part in enumerate((first, second))
    ]
    merged = latency.merge_windows(
        parts, index=0, users=4, started_at=100.0, ended_at=110.0, processes_expected=2
    )
    whole = _histogram_of(samples)
    assert _same_counts(merged.aggregate(), whole)
    assert merged.recorded == len(samples) == sum(span.recorded for span in merged.processes)
    assert merged.processes_reported == merged.processes_expected == 2
    for q in latency.STANDARD_PERCENTILES:
        assert merged.percentile(q).value_us == latency.percentile(whole, q).value_us
    # per endpoint too: the two parts' endpoint histograms add up to the whole's
    single = _window(samples, seed=1)
    assert sorted(merged.endpoints) == sorted(single.endpoints)
    assert sum(e.recorded for e in merged.endpoints.values()) == len(samples)


def test_merge_refuses_a_histogram_of_another_configuration() -> None:
    foreign = HdrHistogram(1, 60_000_000, 2)
    foreign.record_value(1000)
    with pytest.raises(ValueError, match="configuration"):
        latency.decode(foreign.encode().decode())


@pytest.mark.parametrize(("q", "needed"), [(0.5, 20), (0.9, 100), (0.99, 1_000), (0.999, 10_000)])
def test_a_percentile_needs_ten_samples_above_it(q: float, needed: int) -> None:
    assert latency.min_samples(q) == needed
    short = _histogram_of(_samples_ms(needed - 1, seed=3))
    enough = _histogram_of(_samples_ms(needed, seed=3))
    assert not latency.percentile(short, q).shown
    assert latency.percentile(enough, q).shown


def test_p999_of_a_2000_sample_window_is_na() -> None:
    window = _window(_samples_ms(2000, seed=11))
    p999 = window.percentile(0.999)
    assert p999.value_us is None and p999.value_ms is None
    assert str(p999) == "n/a (2,000 samples)"
    assert window.percentile(0.99).shown  # 2,000 >= 1,000


def test_p999_of_20000_samples_is_right_within_hdr_precision() -> None:
    samples = _samples_ms(20_000, seed=5)
    window = _window(samples)
    ordered = sorted(round(sample * 1000) for sample in samples)
    for q in latency.STANDARD_PERCENTILES:
        true_us = ordered[math.ceil(q * len(ordered)) - 1]  # the q-th order statistic
        value_us = window.percentile(q).value_us
        assert value_us is not None
        # HDR gives the top of the bucket holding that sample: never below, at most 0.1 % above
        assert true_us <= value_us <= true_us * (1 + 10**-latency.SIGNIFICANT_FIGURES) + 1
    assert str(window.percentile(0.999)).endswith(" ms")


@pytest.mark.parametrize("response_time_ms", [5_000_000.0, -1.0, math.nan, math.inf])
def test_values_out_of_range_are_counted_not_dropped(response_time_ms: float) -> None:
    recorder = LatencyRecorder("local")
    recorder.arm(0, 1, now=0.0)
    recorder.on_request(name="GET /api/me/", response_time=response_time_ms)
    recorder.on_request(name="GET /api/me/", response_time=3.25)
    window = recorder.disarm(now=1.0)
    assert window.successes == 2 and window.recorded == 1 and window.not_recorded == 1
    assert window.processes[0].not_recorded == 1
    assert window.goodput_rps == 2.0  # a success is a success, recorded or not


def test_the_range_covers_the_client_timeouts() -> None:
    """The histogram must hold the slowest response the client can wait for: connect plus
    read timeout, for the request and geventhttpclient's one silent retry on a stale socket
    (read in a child process: importing Locust monkey-patches the interpreter)."""
    code = (
        "from loadtests.locustfile import ApiUser as U;"
        "print(U.connection_timeout, U.network_timeout, U.max_retries)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    connect_s, read_s, retries = float(out[0]), float(out[1]), int(out[2])
    longest_us = (connect_s + read_s) * (retries + 2) * 1_000_000
    histogram = latency.new_histogram()
    assert longest_us < latency.HIGHEST_TRACKABLE_US
    assert histogram.record_value(latency.HIGHEST_TRACKABLE_US)


def test_failures_are_counted_by_kind_and_kept_out_of_latency() -> None:
    recorder = LatencyRecorder("local")
    recorder.arm(0, 1, now=0.0)
    server_error = SimpleNamespace(status_code=500)
    wrong_body = SimpleNamespace(status_code=200)
    refused = SimpleNamespace(status_code=0, error=ConnectionRefusedError())
    check = RuntimeError("GET /api/me/: status 500, expected 200")  # Locust's CatchResponseError
    for _ in range(3):
        recorder.on_request(
            name="GET /api/me/", response_time=1.0, exception=check, response=server_error
        )
    recorder.on_request(
        name="GET /api/me/", response_time=9000.0, exception=check, response=wrong_body
    )
    recorder.on_request(
        name="GET /api/items/", response_time=0.5, exception=check, response=refused
    )
    recorder.on_request(name="GET /api/items/<id>/", response_time=0, exception=LookupError())
    recorder.on_request(name="GET /api/me/", response_time=2.0)
    window = recorder.disarm(now=2.0)
    assert window.failures_by_kind == {
        "HTTP 500": 3,
        "HTTP 200 rejected": 1,
        "ConnectionRefusedError": 1,
        "LookupError": 1,
    }
    assert window.failures == 6 and window.successes == 1
    assert window.aggregate().get_total_count() == 1
    assert window.aggregate().get_max_value() < 2100  # the 9 s failure is not in it
    assert window.goodput_rps == 0.5 and window.throughput_rps == 3.5


def test_only_completions_between_arming_and_disarming_count() -> None:
    recorder = LatencyRecorder("local")
    recorder.on_request(name="GET /api/me/", response_time=1.0)  # before the window
    assert recorder.counts(now=0.0) is None
    recorder.arm(0, 1, now=10.0)
    recorder.on_request(name="GET /api/me/", response_time=1.0)
    recorder.on_request(name="GET /api/me/", response_time=1.0, exception=ValueError())
    counts = recorder.counts(now=12.0)
    assert counts is not None
    assert (counts.successes, counts.failures, counts.elapsed_s) == (1, 1, 2.0)
    window = recorder.disarm(now=14.0)
    recorder.on_request(name="GET /api/me/", response_time=1.0)  # after the window
    assert (window.successes, window.failures, window.window_s) == (1, 1, 4.0)
    assert window.throughput_rps == 2 / 4.0
    with pytest.raises(RuntimeError):
        recorder.disarm(now=15.0)


def test_rps_is_each_process_over_its_own_window() -> None:
    early = _window(_samples_ms(300, seed=1), "worker 0")  # 300 in [100, 110]
    late = LatencyRecorder("worker 1")
    late.arm(0, 4, now=100.5)
    _record(late, _samples_ms(190, seed=2), random.Random(2))
    merged = latency.merge_windows(
        [early, late.disarm(now=110.0)],
        index=0,
        users=4,
        started_at=100.0,
        ended_at=110.0,
        processes_expected=2,
    )
    assert merged.goodput_rps == pytest.approx(300 / 10 + 190 / 9.5)
    assert merged.window_s == 10.0


def test_a_window_nobody_reported_is_empty_and_says_so() -> None:
    merged = latency.merge_windows(
        [], index=1, users=8, started_at=1.0, ended_at=2.0, processes_expected=2
    )
    assert merged.processes_reported == 0 and merged.successes == 0
    assert str(merged.percentile(0.5)) == "n/a (0 samples)"


def test_the_file_round_trips(tmp_path: Path) -> None:
    windows = [_window(_samples_ms(1500, seed=s)) for s in (1, 2)]
    windows[1].index, windows[1].users = 1, 8
    windows[1].endpoints["GET /api/me/"].failures_by_kind["HTTP 502"] += 2
    path = tmp_path / latency.FILE_NAME
    latency.write(path, windows)
    raw = json.loads(path.read_text())
    assert raw["unit"] == "us" and raw["format"] == latency.FORMAT
    assert raw["highest_trackable_us"] == latency.HIGHEST_TRACKABLE_US
    assert raw["windows"][1]["failures_by_kind"] == {"HTTP 502": 2}
    assert raw["windows"][0]["recorded"] == 1500
    loaded = latency.read(path)
    assert [w.to_json() for w in loaded] == [w.to_json() for w in windows]
    assert loaded[0].percentile(0.99).value_us == windows[0].percentile(0.99).value_us
    assert _same_counts(latency.decode(raw["windows"][0]["histogram"]), windows[0].aggregate())


def test_reading_refuses_another_format(tmp_path: Path) -> None:
    path = tmp_path / "latency.json"
    path.write_text(json.dumps({"format": latency.FORMAT, "schema": 99, "windows": []}))
    with pytest.raises(ValueError, match="schema"):
        latency.read(path)


def test_percentile_labels() -> None:
    labels = [latency.percentile_label(q) for q in latency.STANDARD_PERCENTILES]
    assert labels == ["p50", "p90", "p99", "p99.9"]
