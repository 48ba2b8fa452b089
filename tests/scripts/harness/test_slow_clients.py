"""Slow clients are bounded, and (slow, issue 19's "Done means") nginx in front keeps gunicorn
sync answering while 20 of them hold connections, where gunicorn alone does not."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from loadtests.scenarios import SCENARIOS
from scripts.harness.session import ServerSession, SessionPlan
from scripts.harness.slow_clients import (
    MAX_CLIENTS,
    MAX_DURATION_S,
    SlowClientPlan,
    SlowClients,
    answer_time_s,
)
from servers.nginx import ProxyPlan, ProxyUnavailableError, nginx_binary
from tests.scripts.harness.conftest import SESSION_SEED, session_launch
from tests.servers.conftest import require_system_binary


@pytest.mark.parametrize(
    "fields",
    [
        {"count": 0},
        {"count": MAX_CLIENTS + 1},
        {"duration_s": MAX_DURATION_S + 1},
        {"duration_s": 0},
        {"line_interval_s": 0},
        {"line_interval_s": 5, "duration_s": 2},
    ],
)
def test_slow_clients_are_bounded_in_count_and_time(fields: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="slow clients"):
        SlowClientPlan(**fields)  # type: ignore[arg-type]


def _nginx_available() -> bool:
    try:
        nginx_binary()
    except ProxyUnavailableError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.parametrize("server", ["gunicorn", "uwsgi"])
def test_nginx_keeps_a_sync_server_answering_while_slow_clients_hold_connections(
    server: str, sqlite_template: Path, tmp_path: Path
) -> None:
    require_system_binary(_nginx_available(), "nginx")
    answered: dict[str, float | None] = {}
    for name, proxy in (("alone", None), ("behind nginx", ProxyPlan())):
        launch = session_launch(server, tmp_path / name.replace(" ", "-"), workers=2)
        plan = SessionPlan(
            launch=launch,
            seed=SESSION_SEED,
            scenario=SCENARIOS["me"],
            template_db=sqlite_template,
            db_path=launch.log_path.parent / "db.sqlite3",
            proxy=proxy,
        )
        with ServerSession(plan) as running:
            assert running.base_url == launch.base_url, "clients reach nginx where it runs"
            trickle = SlowClientPlan(count=20, line_interval_s=0.5, duration_s=10.0)
            with SlowClients(launch.host, launch.port, trickle) as slow:
                time.sleep(1.0)  # every worker is now reading a header that never ends
                answered[name] = answer_time_s(running.base_url, "/healthz", timeout_s=3.0)
                assert slow.holding == 20
    print(f"normal request while 20 slow clients trickle: {answered}")
    assert answered["alone"] is None, f"{server} alone answered despite the slow clients"
    behind = answered["behind nginx"]
    assert behind is not None and behind < 1.0
