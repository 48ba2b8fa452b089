"""runserver starts a thread per request; runserver --nothreading answers one at a time
(slow: both servers for real, eight concurrent 200 ms waits each)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from servers.app import AppSettings
from servers.http import request_json
from servers.registry import get_server
from servers.supervisor import RunningServer
from tests.servers.conftest import SEED, launch_request, start_tracked

pytestmark = pytest.mark.slow
CONCURRENT = 8
WAIT_MS = 200


def _eight_waits_s(base_url: str) -> float:
    token = request_json(
        "POST",
        base_url + "/api/auth/token/",
        payload={"username": SEED.username(1), "password": SEED.password},
    ).body["access"]
    url = f"{base_url}/api/slow/?ms={WAIT_MS}"
    started = time.monotonic()
    with ThreadPoolExecutor(CONCURRENT) as pool:
        answers = list(pool.map(lambda _: request_json("GET", url, token=token), range(CONCURRENT)))
    elapsed_s = time.monotonic() - started
    assert [answer.status for answer in answers] == [200] * CONCURRENT
    return elapsed_s


@pytest.mark.parametrize(
    ("server", "serial"), [("runserver", False), ("runserver-nothreading", True)]
)
def test_runserver_overlaps_waits_and_nothreading_serves_them_one_at_a_time(
    server: str,
    serial: bool,
    app_settings: AppSettings,
    tmp_path: Path,
    launched: list[RunningServer],
) -> None:
    running = start_tracked(launch_request(get_server(server), app_settings, tmp_path), launched)
    elapsed_s = _eight_waits_s(running.base_url)
    one_at_a_time_s = CONCURRENT * WAIT_MS / 1000
    if serial:
        assert elapsed_s >= one_at_a_time_s * 0.95, f"{elapsed_s:.2f} s: they overlapped"
    else:
        assert elapsed_s < one_at_a_time_s / 2, f"{elapsed_s:.2f} s: they did not overlap"
