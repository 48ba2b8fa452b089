"""The open model with two Locust worker processes against a real server: each worker runs
half the schedule, and the master's arrival.json merges their windows exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadtests import arrival, latency
from servers.app import AppSettings
from servers.registry import get_server
from servers.supervisor import RunningServer
from tests.loadtests.test_locust_integration import PROCESSES, WINDOW_S, _locust_argv, _run_locust
from tests.servers.conftest import launch_request, start_tracked

RATE_RPS = 20.0


@pytest.mark.slow
def test_two_processes_share_the_schedule_and_merge_exactly(
    app_settings: AppSettings, launched: list[RunningServer], tmp_path: Path
) -> None:
    server = start_tracked(
        launch_request(get_server("gunicorn"), app_settings, tmp_path, workers=1), launched
    )
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    argv = [*_locust_argv(server.base_url, run_dir), "--arrival-rates", f"{RATE_RPS:g}"]
    status = _run_locust(argv, run_dir)
    assert status == 0, (run_dir / "locust.out").read_text()[-3000:]
    record = json.loads((run_dir / "window.json").read_text())
    assert record["completed"], record

    [window] = arrival.read(run_dir / arrival.FILE_NAME)
    assert sorted(span.process for span in window.processes) == ["worker 0", "worker 1"]
    assert [span.offered_rps for span in window.processes] == [RATE_RPS / PROCESSES] * 2
    assert window.offered_rps == RATE_RPS and window.max_in_flight == 4
    # the merge is exact: the histograms hold every worker's completions, no more
    assert window.corrected.get_total_count() == window.uncorrected.get_total_count()
    assert window.successes + window.failures == sum(s.completed for s in window.processes)
    assert sum(second.count for second in window.timeline) == window.successes
    # a fast endpoint (`read`) at 20 rps: the server keeps up, nothing is left unsent
    assert window.kept_up and window.not_sent <= 1, window.to_json()
    assert abs(window.intended - RATE_RPS * WINDOW_S) <= 2
    # the same requests as the closed-loop recording of the same window, give or take the
    # few completing between the two recorders' arming messages
    [recorded] = latency.read(run_dir / latency.FILE_NAME)
    assert abs(recorded.successes - window.successes) <= 2
