"""The harness's own PostgreSQL: the one-line error when it is missing, the pool's size, the
template's identity, and (slow) a real cluster under a real server: the API works, every run
gets a fresh database, and no process of the cluster runs on the load generator's CPUs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dj_database_url
import pytest

from loadtests.scenarios import ITEMS_PATH, SCENARIOS
from scripts.harness.preflight import check_responses
from servers.app import AppSettings, SeedPlan
from servers.http import request_json
from servers.placement import cpus_of
from servers.postgres import (
    DEFAULT_MAX_CONNECTIONS,
    ClusterSettings,
    DatabasePlan,
    DatabaseUnavailableError,
    PoolSizing,
    PostgresBinaries,
    ProvisionedDatabase,
    RunningCluster,
    ServerLoad,
    database_names,
    default_cluster_dir,
    provision,
    template_name,
)
from servers.registry import get_server
from servers.supervisor import RunningServer, stop
from tests.servers.conftest import (
    SEED,
    launch_request,
    machine_split,
    require_system_binary,
    start_tracked,
)


def test_missing_binaries_are_one_line_saying_how_to_install(tmp_path: Path) -> None:
    (tmp_path / "15" / "bin").mkdir(parents=True)  # a version without its programs
    with pytest.raises(DatabaseUnavailableError) as raised:
        PostgresBinaries.find(tmp_path)
    message = str(raised.value)
    assert "\n" not in message
    assert "PostgreSQL is not installed" in message and "make system-deps" in message


def test_the_pool_holds_a_connection_per_thread_under_max_connections() -> None:
    gthread = PoolSizing.for_server(
        workers=4, threads=8, threads_supported=True, max_connections=100
    )
    assert (gthread.per_process, gthread.total) == (8, 32)
    asgi = PoolSizing.for_server(workers=2, threads=1, threads_supported=False, max_connections=100)
    assert asgi.per_process == 4 and "no thread setting" in asgi.rule
    with pytest.raises(ValueError, match="do not fit under max_connections 100"):
        PoolSizing.for_server(workers=12, threads=8, threads_supported=True, max_connections=100)


def test_the_own_cluster_raises_max_connections_only_when_the_pools_need_it() -> None:
    assert PoolSizing.cluster_max_connections(2, 1, True) == DEFAULT_MAX_CONNECTIONS
    needed = PoolSizing.cluster_max_connections(12, 8, True)
    assert needed > 12 * 8
    assert PoolSizing.for_server(
        workers=12, threads=8, threads_supported=True, max_connections=needed
    )


def test_the_cluster_listens_on_its_socket_only() -> None:
    flags = ClusterSettings().flags(Path("/tmp/s"))
    assert flags[:2] == ["-k", "/tmp/s"]
    assert "listen_addresses=" in flags


def test_a_template_is_named_after_what_it_holds() -> None:
    assert template_name(SEED) == template_name(SeedPlan(users=2, items_per_user=3))
    assert template_name(SEED) != template_name(SeedPlan(users=3, items_per_user=3))
    assert len(template_name(SEED)) <= 63  # PostgreSQL's identifier limit


def test_the_app_reaches_the_cluster_through_its_socket_directory() -> None:
    url = "postgres://bench@/run_1?host=/tmp/drfb-pg-x"
    parsed = dj_database_url.parse(url)
    assert parsed["NAME"] == "run_1" and parsed["OPTIONS"]["host"] == "/tmp/drfb-pg-x"


def _binaries_available() -> bool:
    try:
        PostgresBinaries.find()
    except DatabaseUnavailableError:
        return False
    return True


@pytest.fixture
def test_cluster_dir() -> Path:
    """A cluster kept for the tests between runs (initdb once), apart from the benches'."""
    require_system_binary(_binaries_available(), "PostgreSQL")
    major = PostgresBinaries.find().major
    return default_cluster_dir(major).parent / f"tests-pg{major}"


@pytest.fixture
def provisioned() -> Iterator[list[ProvisionedDatabase]]:
    """Databases a test provisioned; closed (dropped, cluster stopped) whatever happened."""
    databases: list[ProvisionedDatabase] = []
    yield databases
    for database in databases:
        database.close()


def _items_of_user_one(base_url: str) -> int:
    token = request_json(
        "POST",
        f"{base_url}/api/auth/token/",
        payload={"username": SEED.username(1), "password": SEED.password},
    )
    listing = request_json("GET", base_url + ITEMS_PATH, token=token.body["access"])
    assert listing.status == 200, listing.body
    return int(listing.body["count"])


def _backend_pids(cluster: RunningCluster, database: str) -> set[int]:
    with cluster.connect() as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", [database]
        ).fetchall()
    return {int(row[0]) for row in rows}


@pytest.mark.slow
def test_a_private_cluster_serves_the_api_pinned_with_a_fresh_database_per_run(
    test_cluster_dir: Path,
    app_settings: AppSettings,
    tmp_path: Path,
    launched: list[RunningServer],
    provisioned: list[ProvisionedDatabase],
) -> None:
    placement = machine_split()
    if placement.server_cpus is None or placement.loadgen_cpus is None:
        pytest.skip("needs two CPUs to keep the cluster off the generator's")
    spec = get_server("gunicorn")
    load = ServerLoad(workers=2, threads=1, threads_supported=spec.threads_supported)
    names: list[str] = []
    for run in range(2):
        database = provision(
            DatabasePlan(cluster_dir=test_cluster_dir),
            app_settings,
            SEED,
            load,
            cpus=placement.server_cpus,
            log_dir=tmp_path / f"run{run}",
        )
        provisioned.append(database)
        assert database.cluster is not None
        facts = database.facts
        assert facts.managed and facts.cpu_observed and facts.version.startswith("15")
        assert facts.pool_per_process == 1 and database.pool_max_size == 1
        names.append(facts.database)
        request = launch_request(
            spec,
            database.app_settings(app_settings),
            tmp_path / f"run{run}",
            workers=2,
            cpus=placement.server_cpus,
        )
        server = start_tracked(request, launched)
        # a fresh copy of the template: what the previous run wrote is not there
        assert _items_of_user_one(server.base_url) == SEED.items_per_user
        for scenario in ("mixed", "write"):
            problems = check_responses(
                server.base_url, SCENARIOS[scenario], SEED.username(1), SEED.password
            )
            assert problems == [], problems
        assert _items_of_user_one(server.base_url) > SEED.items_per_user
        members = database.cluster.members()
        backends = _backend_pids(database.cluster, facts.database)
        assert backends, "the server's pools hold connections to the run's database"
        assert backends <= set(members), "backends belong to the cluster's tree"
        for pid in members:
            assert set(cpus_of(pid)).isdisjoint(placement.loadgen_cpus), pid
        stop(server)
        cluster = database.cluster
        report = database.close()
        assert report is not None and report.leftovers == () and cluster.members() == []
        assert database.problems == []
        assert not cluster.socket_dir.exists()
    assert names[0] != names[1]
    # the runs' databases were dropped: a third start sees neither
    third = provision(
        DatabasePlan(cluster_dir=test_cluster_dir),
        app_settings,
        SEED,
        load,
        cpus=placement.server_cpus,
        log_dir=tmp_path / "run2",
    )
    provisioned.append(third)
    assert third.cluster is not None
    present = database_names(third.cluster)
    assert not {names[0], names[1]} & set(present)
    assert third.facts.template in present


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://bench@localhost/x", "must start with postgres://"),
        ("postgres://bench@/nowhere?host=/nonexistent-socket-dir", "DATABASE_URL is unreachable"),
    ],
)
def test_an_unusable_external_url_is_one_line(
    url: str, expected: str, app_settings: AppSettings
) -> None:
    with pytest.raises(DatabaseUnavailableError) as raised:
        provision(
            DatabasePlan(external_url=url),
            app_settings,
            SEED,
            ServerLoad(1, 1, True),
            cpus=None,
            log_dir=Path("/nonexistent"),
        )
    assert expected in str(raised.value) and "\n" not in str(raised.value)


@pytest.mark.slow
def test_an_external_server_is_used_as_is_and_its_cpu_is_not_observed(
    test_cluster_dir: Path,
    app_settings: AppSettings,
    tmp_path: Path,
    provisioned: list[ProvisionedDatabase],
) -> None:
    """The harness's own cluster stands in for someone else's server: reached by URL only."""
    other = provision(
        DatabasePlan(cluster_dir=test_cluster_dir),
        app_settings,
        SEED,
        ServerLoad(1, 1, True),
        cpus=None,
        log_dir=tmp_path,
    )
    provisioned.append(other)
    external = provision(
        DatabasePlan(external_url=other.url),
        app_settings,
        SEED,
        ServerLoad(2, 4, True),
        cpus=None,
        log_dir=tmp_path,
    )
    facts = external.facts
    assert external.url == other.url and external.cluster is None
    assert not facts.managed and not facts.cpu_observed and "not observed" in facts.note
    assert facts.database == other.facts.database
    assert (facts.pool_per_process, facts.max_connections) == (4, 100)
    assert external.close() is None, "an external server is not ours to stop"
