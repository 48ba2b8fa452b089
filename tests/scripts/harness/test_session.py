"""The server session with a deployment around the server: PostgreSQL before it, nginx in
front of it, stopped in reverse, facts for meta.json; missing binaries stop it before
anything starts."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import pytest

from loadtests.scenarios import SCENARIOS, STATIC_PATH
from scripts.harness.sampling import ResourceSampler
from scripts.harness.session import ServerSession, SessionPlan
from servers import nginx, postgres
from servers.nginx import ProxyPlan, ProxyUnavailableError
from servers.placement import cpus_of
from servers.postgres import DatabasePlan, DatabaseUnavailableError, PostgresBinaries
from servers.process_group import snapshot, survivors
from servers.registry import SAMPLEAPP_DIR
from tests.scripts.harness.conftest import SESSION_SEED, session_launch
from tests.servers.conftest import machine_split, require_system_binary


@pytest.mark.parametrize("missing", ["nginx", "postgres"])
def test_a_missing_system_binary_is_one_line_and_nothing_starts(
    missing: str, sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if missing == "nginx":
        monkeypatch.setattr(nginx, "NGINX_SEARCH_PATH", str(tmp_path))
    else:
        monkeypatch.setattr(postgres, "BIN_ROOT", tmp_path / "no-postgresql")
    launch = session_launch("gunicorn", tmp_path / "run")
    plan = SessionPlan(
        launch=launch,
        seed=SESSION_SEED,
        scenario=SCENARIOS["me"],
        template_db=sqlite_template,
        db_path=launch.log_path.parent / "db.sqlite3",
        proxy=ProxyPlan(),
        database=DatabasePlan(),
    )
    session = ServerSession(plan)
    expected = ProxyUnavailableError if missing == "nginx" else DatabaseUnavailableError
    with pytest.raises(expected) as raised, session:
        pass
    assert "\n" not in str(raised.value) and "make system-deps" in str(raised.value)
    assert session.server is None and session.database is None and session.proxy is None
    assert not launch.log_path.exists() and not (launch.log_path.parent / "db.sqlite3").exists()


def _binaries_available() -> bool:
    try:
        nginx.nginx_binary()
        PostgresBinaries.find()
    except (ProxyUnavailableError, DatabaseUnavailableError):
        return False
    return True


@pytest.mark.slow
def test_nginx_and_the_harness_s_postgres_around_the_server(tmp_path: Path) -> None:
    require_system_binary(_binaries_available(), "nginx or PostgreSQL")
    placement = machine_split()
    if placement.server_cpus is None or placement.loadgen_cpus is None:
        pytest.skip("needs two CPUs to keep the deployment off the generator's")
    major = PostgresBinaries.find().major
    launch = session_launch("gunicorn", tmp_path / "run", cpus=placement.server_cpus)
    plan = SessionPlan(
        launch=launch,
        seed=SESSION_SEED,
        scenario=SCENARIOS["static"],  # the response check fetches /static/ through nginx
        proxy=ProxyPlan(),
        database=DatabasePlan(
            cluster_dir=postgres.default_cluster_dir(major).parent / f"tests-pg{major}"
        ),
    )
    session = ServerSession(plan)
    with session as running:
        assert running.base_url == launch.base_url
        assert session.server is not None and session.server.request.socket_path is not None
        facts = session.deployment
        assert facts.proxy is not None and facts.proxy.version.startswith("1.")
        assert facts.proxy.config_text == (tmp_path / "run" / "nginx.conf").read_text()
        assert facts.proxy.upstream == f"unix:{session.server.request.socket_path}"
        assert facts.database is not None and facts.database.cpu_observed
        assert facts.as_meta()["database"]["pool"]["total"] == 2  # type: ignore[index]
        assert any("unix:" in part for part in facts.server_argv)
        with urllib.request.urlopen(running.base_url + STATIC_PATH, timeout=5) as response:
            asset = response.read()
        assert asset == (SAMPLEAPP_DIR / "api" / "static" / "bench" / "asset.json").read_bytes()
        roles = session.watched()
        assert set(roles) == {"server", "proxy", "database"}
        trees = {role: _members_of(session, role) for role in roles}
        for role, pids in trees.items():
            for pid in pids:
                assert set(cpus_of(pid)).isdisjoint(placement.loadgen_cpus), (role, pid)
        sampler = ResourceSampler(tmp_path / "resources.csv", interval_s=0.2)
        for role, session_id in roles.items():
            sampler.watch(role, session_id)
        sampler.start()
        time.sleep(1.0)
        samples = sampler.stop()
        database_rows = [s for s in samples if s.role == "database"]
        assert max(s.processes for s in database_rows) > 5, "the backends are sampled too"
        everything = snapshot([pid for pids in trees.values() for pid in pids])
    assert session.stop_problem is None
    assert survivors(everything) == [], "a process of the deployment outlived the session"
    assert session.workspace is not None and not session.workspace.root.exists()


def _members_of(session: ServerSession, role: str) -> list[int]:
    """The live pids of one role's tree."""
    if role == "server":
        assert session.server is not None
        return session.server.members()
    if role == "proxy":
        assert session.proxy is not None
        return session.proxy.members()
    assert session.database is not None and session.database.cluster is not None
    return session.database.cluster.members()
