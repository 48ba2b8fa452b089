"""Every registered server, for real: start on a free port, authenticate, stop cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest

from servers.app import AppSettings
from servers.http import request_json
from servers.ports import port_is_free
from servers.process_group import process_alive
from servers.registry import SERVERS
from servers.supervisor import RunningServer, stop
from tests.servers.conftest import SEED, launch_request, start_tracked

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", list(SERVERS))
def test_server_serves_jwt_api_and_stops_cleanly(
    name: str, app_settings: AppSettings, tmp_path: Path, launched: list[RunningServer]
) -> None:
    request = launch_request(SERVERS[name], app_settings, tmp_path)
    server = start_tracked(request, launched)
    members = server.members()
    assert server.pid in members

    token_response = request_json(
        "POST",
        f"{server.base_url}/api/auth/token/",
        payload={"username": SEED.username(1), "password": SEED.password},
    )
    assert token_response.status == 200, token_response.body
    access = token_response.body["access"]

    me = request_json("GET", f"{server.base_url}/api/me/", token=access)
    assert me.status == 200
    assert me.body["username"] == SEED.username(1)

    anonymous = request_json("GET", f"{server.base_url}/api/me/")
    assert anonymous.status == 401

    report = stop(server)
    assert report.exit_code is not None
    assert port_is_free(request.host, request.port)
    assert server.members() == []
    assert not any(process_alive(pid) for pid in members)
