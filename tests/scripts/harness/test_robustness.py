"""The robustness checks against real deployments (slow): gunicorn sync alone and behind
nginx, where each check's figures differ in the way the deployments do."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.scenarios import SCENARIOS
from scripts.harness.robustness import (
    RobustnessFigures,
    graceful_stop_check,
    oversize_check,
    slow_client_check,
)
from scripts.harness.session import ServerSession, SessionPlan
from scripts.harness.slow_clients import SlowClientPlan
from servers.http import request_json
from servers.nginx import ProxyPlan, ProxyUnavailableError, nginx_binary
from servers.supervisor import stop
from tests.scripts.harness.conftest import SESSION_SEED, session_launch
from tests.servers.conftest import require_system_binary

pytestmark = pytest.mark.slow


def _nginx_available() -> bool:
    try:
        nginx_binary()
    except ProxyUnavailableError:
        return False
    return True


def test_robustness_of_gunicorn_alone_and_behind_nginx(
    sqlite_template: Path, tmp_path: Path
) -> None:
    require_system_binary(_nginx_available(), "nginx")
    figures: dict[str, RobustnessFigures] = {}
    for name, proxy in (("alone", None), ("nginx", ProxyPlan())):
        launch = session_launch("gunicorn", tmp_path / name, workers=2)
        plan = SessionPlan(
            launch=launch,
            seed=SESSION_SEED,
            scenario=SCENARIOS["me"],
            template_db=sqlite_template,
            db_path=launch.log_path.parent / "db.sqlite3",
            proxy=proxy,
        )
        session = ServerSession(plan)
        with session as running:
            token = request_json(
                "POST",
                running.base_url + "/api/auth/token/",
                payload={"username": SESSION_SEED.username(1), "password": SESSION_SEED.password},
            ).body["access"]
            slow = slow_client_check(
                launch.host, launch.port, SlowClientPlan(count=20, duration_s=4.0)
            )
            oversize = oversize_check(launch.host, launch.port)
            graceful = graceful_stop_check(
                launch.host, launch.port, token, lambda: stop(running), in_flight=4
            )
        assert session.stop_problem is None
        figures[name] = RobustnessFigures(slow, oversize, graceful)
    for name, figure in figures.items():
        print(name, figure.to_json())
    alone, behind = figures["alone"], figures["nginx"]
    assert alone.slow_clients.probes >= 1 and alone.slow_clients.answered == 0
    assert behind.slow_clients.answered_within_1s == behind.slow_clients.probes >= 2
    assert alone.oversize.header_status == 431  # gunicorn's limit_request_field_size
    assert behind.oversize.header_status == 400  # nginx's large_client_header_buffers
    assert behind.oversize.body_status == 413  # nginx's client_max_body_size
    for figure in (alone, behind):
        stopped = figure.graceful_stop
        assert stopped is not None and sum(stopped.outcomes.values()) == 4
        assert stopped.outcomes.get("ok", 0) >= 1, "requests being served finish gracefully"
    # behind nginx, a client whose request the stopping server dropped gets a 502, not a reset
    assert "reset" not in behind.graceful_stop.outcomes  # type: ignore[union-attr]


@pytest.mark.parametrize("server", ["gunicorn", "uwsgi"])
def test_a_graceful_stop_lets_busy_workers_finish(
    server: str, sqlite_template: Path, tmp_path: Path
) -> None:
    """Two requests in flight on two workers, the stop signal halfway: both are answered.
    uWSGI's die-on-term alone made TERM a brutal stop (0 answered); servers/uwsgi.ini maps
    TERM to its graceful stop."""
    launch = session_launch(server, tmp_path, workers=2)
    plan = SessionPlan(
        launch=launch,
        seed=SESSION_SEED,
        scenario=SCENARIOS["me"],
        template_db=sqlite_template,
        db_path=launch.log_path.parent / "db.sqlite3",
    )
    session = ServerSession(plan)
    with session as running:
        token = request_json(
            "POST",
            running.base_url + "/api/auth/token/",
            payload={"username": SESSION_SEED.username(1), "password": SESSION_SEED.password},
        ).body["access"]
        stopped = graceful_stop_check(
            launch.host, launch.port, token, lambda: stop(running), in_flight=2
        )
    assert session.stop_problem is None
    assert stopped.outcomes == {"ok": 2}, stopped
