"""Server-side ground truth under real multi-process servers: the counters read from disk sum
exactly to what was sent, over every worker, while the server keeps running."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from servers.app import AppSettings, issue_tokens
from servers.http import request_json
from servers.registry import SERVERS
from servers.request_counts import RequestKey, read_request_counts
from servers.supervisor import RunningServer
from tests.servers.conftest import SEED, launch_request, start_tracked

ME = "/api/me/"
AUTHORIZED_N = 200
UNAUTHORIZED_N = 30
CLIENTS_N = 8  # more concurrent clients than workers, so every worker answers some


@pytest.mark.slow
@pytest.mark.parametrize("name", ["gunicorn", "uvicorn"])
def test_counts_from_disk_equal_what_was_sent_summed_over_workers(
    name: str, app_settings: AppSettings, tmp_path: Path, launched: list[RunningServer]
) -> None:
    counts_dir = tmp_path / "counts"
    app = dataclasses.replace(app_settings, request_counts_dir=counts_dir)
    token = issue_tokens(app, SEED, access_lifetime_s=600, output=tmp_path / "tokens.json")
    server = start_tracked(launch_request(SERVERS[name], app, tmp_path, workers=2), launched)
    before = read_request_counts(counts_dir)
    access = token.users[0].access
    tokens = [access] * AUTHORIZED_N + [None] * UNAUTHORIZED_N

    with ThreadPoolExecutor(CLIENTS_N) as pool:
        statuses = list(
            pool.map(
                lambda bearer: request_json("GET", server.base_url + ME, token=bearer).status,
                tokens,
            )
        )
    after = read_request_counts(counts_dir)

    assert statuses.count(200) == AUTHORIZED_N and statuses.count(401) == UNAUTHORIZED_N
    assert set(before.counts) == {RequestKey("GET", "/healthz", 200)}  # the readiness polls
    assert dict(after.minus(before)) == {
        RequestKey("GET", ME, 200): AUTHORIZED_N,
        RequestKey("GET", ME, 401): UNAUTHORIZED_N,
    }
    assert after.overflow == 0
    workers = set(server.members()) - {server.pid}
    assert len(after.pids) == 2, after.pids
    assert after.pids <= workers


def test_the_counts_directory_reaches_the_app_only_when_set(
    app_settings: AppSettings, tmp_path: Path
) -> None:
    counting = dataclasses.replace(app_settings, request_counts_dir=tmp_path / "counts")

    assert "REQUEST_COUNTS_DIR" not in app_settings.environ()
    assert counting.environ()["REQUEST_COUNTS_DIR"] == str((tmp_path / "counts").resolve())
