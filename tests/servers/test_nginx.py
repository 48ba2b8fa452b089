"""nginx in front of a server: the generated config, the one-line error when nginx is
missing, and (slow) real nginx in front of real servers, workers as nobody, pinned."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from servers.app import AppSettings, collect_static
from servers.http import request_json
from servers.nginx import (
    INSTALL_HINT,
    NginxConfig,
    ProxyUnavailableError,
    ProxyWorkspace,
    Upstream,
    nginx_binary,
    start_proxy,
)
from servers.placement import cpus_of
from servers.ports import free_port
from servers.registry import SAMPLEAPP_DIR, get_server
from servers.supervisor import RunningServer
from tests.servers.conftest import SEED, launch_request, require_system_binary, start_tracked

ASSET = SAMPLEAPP_DIR / "api" / "static" / "bench" / "asset.json"


def _config(tmp_path: Path, upstream: Upstream) -> NginxConfig:
    return NginxConfig(
        listen_host="127.0.0.1",
        listen_port=8123,
        upstream=upstream,
        static_root=tmp_path / "static",
        temp_root=tmp_path / "temp",
        run_dir=tmp_path / "run",
        worker_processes=1,
    )


def _nginx_available() -> bool:
    try:
        nginx_binary()
    except ProxyUnavailableError:
        return False
    return True


def test_the_config_buffers_bounds_and_keeps_upstream_connections_alive(tmp_path: Path) -> None:
    text = _config(tmp_path, Upstream(socket_path=Path("/s/app.sock"))).render()
    assert "server unix:/s/app.sock;" in text
    for directive in (
        "keepalive 32;",
        "proxy_http_version 1.1;",
        'proxy_set_header Connection "";',
        "client_header_timeout 10s;",
        "client_body_timeout 10s;",
        "client_max_body_size 1m;",
        "access_log off;",
        "listen 127.0.0.1:8123;",
        f"alias {tmp_path / 'static'}/;",
        f"pid {tmp_path / 'run' / 'nginx.pid'};",
        f"error_log {tmp_path / 'run' / 'nginx.log'} warn;",
    ):
        assert directive in text, directive
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        assert f"{kind}_temp_path {tmp_path / 'temp' / kind};" in text


def test_a_tcp_upstream_for_servers_without_a_unix_socket(tmp_path: Path) -> None:
    text = _config(tmp_path, Upstream(port=9001)).render()
    assert "server 127.0.0.1:9001;" in text
    with pytest.raises(ValueError, match="exactly one"):
        Upstream(socket_path=Path("/s"), port=1)


def test_missing_nginx_is_one_line_saying_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(ProxyUnavailableError) as raised:
        nginx_binary(search_path=str(tmp_path))
    message = str(raised.value)
    assert "\n" not in message
    assert "nginx is not installed" in message and "make system-deps" in message
    assert INSTALL_HINT in message


def test_nginx_itself_accepts_the_generated_config(tmp_path: Path) -> None:
    require_system_binary(_nginx_available(), "nginx")
    config = _config(tmp_path, Upstream(socket_path=tmp_path / "app.sock"))
    config.run_dir.mkdir()
    config.temp_root.mkdir()
    config.config_path.write_text(config.render())
    done = subprocess.run(
        [str(nginx_binary()), "-t", "-c", str(config.config_path), "-e", str(config.log_path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


@pytest.mark.slow
@pytest.mark.parametrize("server_name", ["gunicorn", "runserver"])
def test_nginx_in_front_serves_the_api_and_static_files_itself(
    server_name: str, app_settings: AppSettings, tmp_path: Path, launched: list[RunningServer]
) -> None:
    """gunicorn behind a Unix socket, runserver behind loopback TCP; /static/ comes from
    the collectstatic copy (a file only that copy has proves nginx, not the app, served it);
    nginx's processes are pinned and its workers run as nobody."""
    require_system_binary(_nginx_available(), "nginx")
    spec = get_server(server_name)
    workspace = ProxyWorkspace.create()
    try:
        collect_static(app_settings, workspace.static_root)
        (workspace.static_root / "only-in-the-copy.txt").write_text("collected\n")
        unix = spec.unix_socket is not None
        overrides: dict[str, object] = {"socket_path": workspace.socket_path} if unix else {}
        server = start_tracked(launch_request(spec, app_settings, tmp_path, **overrides), launched)
        upstream = (
            Upstream(socket_path=workspace.socket_path)
            if unix
            else Upstream(host=server.request.host, port=server.request.port)
        )
        config = NginxConfig(
            listen_host="127.0.0.1",
            listen_port=free_port(),
            upstream=upstream,
            static_root=workspace.static_root,
            temp_root=workspace.temp_root,
            run_dir=tmp_path / "run",
            worker_processes=1,
        )
        proxy = start_proxy(config, cpus=(0,))
        try:
            assert proxy.facts.version.startswith("1.")
            assert proxy.facts.config_text == config.config_path.read_text()
            token = request_json(
                "POST",
                f"{proxy.base_url}/api/auth/token/",
                payload={"username": SEED.username(1), "password": SEED.password},
            )
            assert token.status == 200, token.body
            me = request_json("GET", f"{proxy.base_url}/api/me/", token=token.body["access"])
            assert me.status == 200 and me.body["username"] == SEED.username(1)
            assert _get(f"{proxy.base_url}/static/bench/asset.json") == (200, ASSET.read_bytes())
            assert _get(f"{proxy.base_url}/static/only-in-the-copy.txt") == (200, b"collected\n")
            members = proxy.members()
            assert len(members) >= 2, "a master and a worker"
            assert {cpus_of(pid) for pid in members} == {(0,)}
            if os.geteuid() == 0:
                nobody = pwd.getpwnam("nobody").pw_uid
                worker_uids = {_real_uid(pid) for pid in members if pid != proxy.pid}
                assert worker_uids == {nobody}
        finally:
            report = proxy.stop()
        assert report.leftovers == () and proxy.members() == []
    finally:
        workspace.remove()
    assert not workspace.root.exists()


def _real_uid(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])


def test_workspace_is_traversable_by_other_users() -> None:
    workspace = ProxyWorkspace.create()
    try:
        assert workspace.root.stat().st_mode & 0o777 == 0o755
        assert len(str(workspace.socket_path)) < 100, "a Unix socket path is limited to 107"
    finally:
        shutil.rmtree(workspace.root)
