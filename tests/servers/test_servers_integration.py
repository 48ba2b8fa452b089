"""Every registered server, for real: start on a free port, authenticate, stop cleanly."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from servers.app import AppSettings
from servers.http import request_json, request_json_unix
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


@pytest.mark.parametrize(
    "name", [name for name, spec in SERVERS.items() if spec.unix_socket is not None]
)
def test_server_serves_on_a_unix_socket_any_user_can_connect_to(
    name: str, app_settings: AppSettings, tmp_path: Path, launched: list[RunningServer]
) -> None:
    """Behind nginx the server listens on a Unix socket that nginx's workers (nobody) must be
    able to connect to: mode 0666 or wider, whatever the server's default."""
    socket_path = tmp_path / "app.sock"
    request = launch_request(SERVERS[name], app_settings, tmp_path, socket_path=socket_path)
    server = start_tracked(request, launched)
    assert stat.S_ISSOCK(socket_path.stat().st_mode)
    assert socket_path.stat().st_mode & 0o666 == 0o666
    token = request_json_unix(
        socket_path,
        "POST",
        "/api/auth/token/",
        payload={"username": SEED.username(1), "password": SEED.password},
    )
    assert token.status == 200, token.body
    me = request_json_unix(socket_path, "GET", "/api/me/", token=token.body["access"])
    assert me.status == 200 and me.body["username"] == SEED.username(1)
    assert port_is_free(request.host, request.port), "it must not listen on TCP as well"
    stop(server)
    assert server.members() == []
