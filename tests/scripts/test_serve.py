"""`make serve` for real: the app in the foreground, and Ctrl-C stops everything."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from scripts.harness.deployment import Deployment
from servers.http import request_json
from servers.ports import free_port, port_is_free
from servers.registry import server_names
from tests.process import running
from tests.scripts.benchutil import processes_mentioning
from tests.servers.conftest import require_system_binary

PROJECT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        (
            "--server",
            "tomcat",
            "argument --server: unknown server 'tomcat'; valid servers: "
            + ", ".join(server_names()),
        ),
        ("--proxy", "apache", "argument --proxy: invalid choice: 'apache' (choose from"),
    ],
)
def test_an_unknown_value_is_one_line_and_exit_2(flag: str, value: str, message: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scripts.serve", flag, value],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("serve: error: " + message), line


def test_make_serve_with_unknown_server_exits_2() -> None:
    done = subprocess.run(
        ["make", "--no-print-directory", "serve", "SERVER=tomcat"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "valid servers: runserver, gunicorn, uwsgi, daphne, uvicorn" in done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("server", ["uwsgi", "uvicorn"])
def test_serve_runs_until_ctrl_c_and_leaves_nothing(server: str, tmp_path: Path) -> None:
    port = free_port()
    argv = [sys.executable, "-m", "scripts.serve", "--server", server, "--port", str(port)]
    with running([*argv, "--workers", "2"], tmp_path / "serve.out") as serve:
        banner = serve.wait_for_line("Ctrl-C stops it.", timeout_s=60)
        assert f"is ready at http://127.0.0.1:{port}/" in banner, banner
        assert "demo / demo-pass-123" in banner
        token = request_json(
            "POST",
            f"http://127.0.0.1:{port}/api/auth/token/",
            payload={"username": "demo", "password": "demo-pass-123"},
        )
        assert token.status == 200
        me = request_json("GET", f"http://127.0.0.1:{port}/api/me/", token=token.body["access"])
        assert me.body["username"] == "demo"
        status = serve.interrupt()
        output = serve.output
    assert status == 0, output
    assert "stopped in" in output
    assert port_is_free("127.0.0.1", port)
    assert processes_mentioning(f"127.0.0.1:{port}") == []
    assert processes_mentioning(f"--port {port}") == []


@pytest.mark.slow
def test_serve_production_profile_answers_through_nginx_and_stops_everything(
    tmp_path: Path,
) -> None:
    require_system_binary(Deployment("nginx", "postgres").missing_requirement() is None, "nginx")
    port = free_port()
    argv = [sys.executable, "-m", "scripts.serve", "--server", "gunicorn", "--port", str(port)]
    with running([*argv, "--profile", "production"], tmp_path / "serve.out") as serve:
        banner = serve.wait_for_line("Ctrl-C stops it.", timeout_s=120)
        assert "behind nginx" in banner and "on PostgreSQL" in banner, banner
        auto_workers = 2 * len(os.sched_getaffinity(0)) + 1  # Gunicorn's rule, unpinned
        assert f"with {auto_workers} worker(s)" in banner, banner
        url = f"http://127.0.0.1:{port}"
        token = request_json(
            "POST",
            url + "/api/auth/token/",
            payload={"username": "demo", "password": "demo-pass-123"},
        )
        assert token.status == 200
        me = request_json("GET", url + "/api/me/", token=token.body["access"])
        assert me.body["username"] == "demo"
        asset = request_json("GET", url + "/static/bench/asset.json")
        assert asset.status == 200, "nginx serves the collected static files"
        status = serve.interrupt()
        output = serve.output
    assert status == 0, output
    assert port_is_free("127.0.0.1", port)
    assert processes_mentioning("drfb-nginx-") == [], "nginx and its socket dir are gone"
    assert processes_mentioning("/var/tmp/drf-server-bench/pg") == [], "postgres stopped"


def _serve(server: str, port: int) -> list[str]:
    return [sys.executable, "-m", "scripts.serve", "--server", server, "--port", str(port)]


def _assert_nothing_left(port: int) -> None:
    assert port_is_free("127.0.0.1", port)
    assert processes_mentioning(f"127.0.0.1:{port}") == []
    assert processes_mentioning(f"--port {port}") == []


@pytest.mark.slow
@pytest.mark.parametrize(("presses", "said"), [(2, "still stopping"), (3, "at once")])
def test_more_ctrl_c_while_stopping_still_stops_everything(
    presses: int, said: str, tmp_path: Path
) -> None:
    port = free_port()
    with running([*_serve("gunicorn", port), "--workers", "1"], tmp_path / "serve.out") as serve:
        serve.wait_for_line("Ctrl-C stops it.", timeout_s=60)
        token = request_json(
            "POST",
            f"http://127.0.0.1:{port}/api/auth/token/",
            payload={"username": "demo", "password": "demo-pass-123"},
        ).body["access"]
        # a request in flight: gunicorn's graceful stop waits up to 2 s for it
        url = f"http://127.0.0.1:{port}/api/slow/?ms=2000"

        def in_flight() -> None:
            with contextlib.suppress(OSError):  # cut off when the stop kills at once
                request_json("GET", url, token=token, timeout_s=10)

        slow = threading.Thread(target=in_flight, daemon=True)
        slow.start()
        time.sleep(0.3)
        serve.process.send_signal(signal.SIGINT)
        serve.wait_for_line("stopping gunicorn", timeout_s=10)
        for _ in range(presses - 1):
            time.sleep(0.3)
            serve.process.send_signal(signal.SIGINT)
        status = serve.wait(timeout_s=60)
        output = serve.output
        slow.join(timeout=10)
    assert status == 0, output
    assert said in output and "stopped in" in output, output
    assert "Traceback" not in output, output
    _assert_nothing_left(port)


@pytest.mark.slow
def test_a_hang_up_stops_everything_and_exits_129(tmp_path: Path) -> None:
    port = free_port()
    with running(_serve("uvicorn", port), tmp_path / "serve.out") as serve:
        serve.wait_for_line("Ctrl-C stops it.", timeout_s=60)
        status = serve.interrupt(signal.SIGHUP)
        output = serve.output
    assert status == 129, output
    assert "SIGHUP" in output and "stopped in" in output, output
    _assert_nothing_left(port)
