"""The supervisor's failure paths: a server that cannot start, and a busy port."""

from __future__ import annotations

import dataclasses
import socket
import time
from pathlib import Path

import pytest

from servers.app import AppSettings
from servers.ports import free_port, port_is_free
from servers.registry import SERVERS, Interface, get_server
from servers.supervisor import (
    PortInUseError,
    RunningServer,
    ServerStartError,
    health_check,
    stop,
)
from tests.servers.conftest import launch_request, start_tracked


def test_missing_executable_is_a_clear_error(
    app_settings: AppSettings, tmp_path: Path, launched: list[RunningServer]
) -> None:
    spec = dataclasses.replace(
        get_server("gunicorn"), argv_template=("/nonexistent/bin/gunicorn", "{host}:{port}")
    )
    with pytest.raises(ServerStartError, match="could not be launched"):
        start_tracked(launch_request(spec, app_settings, tmp_path), launched)


@pytest.mark.slow
def test_bad_argv_fails_fast_with_log_tail(
    app_settings: AppSettings, tmp_path: Path, launched: list[RunningServer]
) -> None:
    spec = dataclasses.replace(
        get_server("gunicorn"),
        argv_template=(
            "{python}",
            "-m",
            "gunicorn",
            "--no-such-flag",
            "--bind",
            "{host}:{port}",
            "{app}",
        ),
    )
    started = time.monotonic()
    with pytest.raises(ServerStartError, match=r"(?s)exited with status \d+.*no-such-flag"):
        start_tracked(launch_request(spec, app_settings, tmp_path), launched)
    assert time.monotonic() - started < 10


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", [spec.name for spec in SERVERS.values() if spec.interface is not Interface.DEV]
)
def test_app_that_cannot_import_fails_within_deadline(
    name: str, app_settings: AppSettings, tmp_path: Path, launched: list[RunningServer]
) -> None:
    spec = dataclasses.replace(
        get_server(name), app_module="config.missing_module:application", startup_deadline_s=15
    )
    request = launch_request(spec, app_settings, tmp_path)
    started = time.monotonic()
    with pytest.raises(ServerStartError) as failure:
        start_tracked(request, launched)
    assert time.monotonic() - started < 20
    message = str(failure.value)
    assert name in message
    assert "missing_module" in message or "did not answer" in message
    assert port_is_free(request.host, request.port)


def test_busy_port_is_refused_before_launch(
    app_settings: AppSettings, tmp_path: Path, launched: list[RunningServer]
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        request = launch_request(get_server("gunicorn"), app_settings, tmp_path, port=port)
        with pytest.raises(PortInUseError, match=f"port {port}"):
            start_tracked(request, launched)
    assert not request.log_path.exists(), "nothing may be launched when the port is busy"


@pytest.mark.slow
def test_stop_is_idempotent_and_health_fails_after(
    app_settings: AppSettings, tmp_path: Path, launched: list[RunningServer]
) -> None:
    server = start_tracked(launch_request(get_server("gunicorn"), app_settings, tmp_path), launched)
    assert health_check(server.base_url)
    stop(server)
    stop(server)
    assert not health_check(server.base_url)


def test_free_port_avoids_reserved_ports() -> None:
    port = free_port()
    assert port not in {3306, 5432, 6379, 5672, 1883, 4222}
    assert port_is_free("127.0.0.1", port)
