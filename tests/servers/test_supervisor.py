"""The supervisor's failure paths: a server that cannot start, and a busy port."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


class _HealthyImposter(BaseHTTPRequestHandler):
    """Answers every GET as a healthy server of ours would."""

    def do_GET(self) -> None:
        body = json.dumps({"status": "ok"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def _imposter_once_launched(log_path: Path, host: str, port: int) -> Iterator[None]:
    """Take the port the moment the supervisor has checked it and launched the server (its
    log file appears), as another process racing for the same port would."""
    taken: list[ThreadingHTTPServer] = []

    def take() -> None:
        deadline = time.monotonic() + 20
        while not log_path.exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        imposter = ThreadingHTTPServer((host, port), _HealthyImposter)
        taken.append(imposter)
        imposter.serve_forever(poll_interval=0.1)

    thread = threading.Thread(target=take, daemon=True)
    thread.start()
    try:
        yield
    finally:
        deadline = time.monotonic() + 5
        while not taken and time.monotonic() < deadline:
            time.sleep(0.05)
        for imposter in taken:
            imposter.shutdown()
            imposter.server_close()
        thread.join(timeout=5)


@pytest.mark.slow
def test_a_port_taken_after_the_check_is_not_readiness(
    app_settings: AppSettings, tmp_path: Path, launched: list[RunningServer]
) -> None:
    gunicorn = get_server("gunicorn")
    # the real server, started 1.5 s late, so the other listener surely binds first
    late = ("/bin/sh", "-c", 'sleep 1.5; exec "$0" "$@"', *gunicorn.argv_template)
    request = launch_request(
        dataclasses.replace(gunicorn, argv_template=late), app_settings, tmp_path
    )
    started = time.monotonic()
    with (
        _imposter_once_launched(request.log_path, request.host, request.port),
        pytest.raises(ServerStartError) as failure,
    ):
        start_tracked(request, launched)
    assert time.monotonic() - started < 10
    message = str(failure.value)
    assert f"held by another process, pid {os.getpid()}" in message, message
    assert "not measuring it" in message
