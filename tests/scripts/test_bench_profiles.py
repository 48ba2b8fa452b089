"""`make bench` with the production profile for real (slow): nginx in front, the harness's
own PostgreSQL, each server's documented worker count, and the robustness checks after the
load; what meta.json and summary.json say of it, and where the database ran, read back from
the kernel."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import bench
from scripts.harness.deployment import Deployment
from scripts.records.schema import read_meta, read_summary
from tests.scripts.benchutil import processes_mentioning, run_dirs
from tests.servers.conftest import require_system_binary

pytestmark = pytest.mark.slow


def test_production_profile_runs_behind_nginx_on_postgres_with_robustness_figures(
    tmp_path: Path,
) -> None:
    require_system_binary(Deployment("nginx", "postgres").missing_requirement() is None, "nginx")
    argv = ["--server", "gunicorn", "--profile", "production", "--checks", "robustness"]
    short = ["--duration", "3", "--warmup", "1", "--users", "4", "--pin", "split"]
    # slow clients for 4 s, not the bench's 10: still 3 or 4 probes 0.5 s apart, each
    # answered within PROBE_TIMEOUT_S before the end
    short += ["--robustness-slow-s", "4"]
    status = bench.main([*argv, *short, "--results", str(tmp_path)])
    assert status == 0
    [run] = run_dirs(tmp_path)
    meta, summary = read_meta(run / "meta.json"), read_summary(run / "summary.json")
    assert meta.profile == "production" and meta.database_engine == "postgresql"
    assert meta.checks == ("robustness",)
    assert meta.workers == 3 and "WORKERS=auto" in meta.workers_rule
    assert meta.proxy is not None and meta.proxy["kind"] == "nginx"
    assert "unix:" in str(meta.proxy["upstream"]), "gunicorn sits behind nginx on a socket"
    assert any(part.startswith("unix:") for part in meta.argv), meta.argv
    assert meta.database is not None and meta.database["managed"] is True
    assert meta.proxy["config_path"] == "nginx.conf", "named inside the published run"
    assert (run / "nginx.conf").read_text() == meta.proxy["config_text"]
    assert (run / "postgres.log").exists()
    # what answering cost, by role; nginx and PostgreSQL ran on the server's CPUs only
    resources = summary.resources
    assert resources.server_cpu_pct and resources.database_cpu_pct and resources.proxy_cpu_pct
    assert resources.deployment_cpu_pct == pytest.approx(
        resources.server_cpu_pct + resources.database_cpu_pct + resources.proxy_cpu_pct
    )
    observed = meta.observed_cpus or {}
    server_cpus = set(meta.placement["server_cpus"])
    assert set(observed["database"]) <= server_cpus and set(observed["proxy"]) <= server_cpus
    assert not set(observed["database"]) & set(observed["loadgen"])
    assert set(observed["server"]) == server_cpus
    # slow clients held connections to nginx; normal requests were still answered at once
    assert summary.robustness is not None
    slow = summary.robustness["slow_clients"]
    assert slow["probes"] >= 2 and slow["answered_within_1s"] == slow["probes"]
    assert summary.robustness["oversize"]["body_status"] == 413
    assert sum(summary.robustness["graceful_stop"]["outcomes"].values()) == 10
    assert processes_mentioning(meta.run_id) == []
    assert processes_mentioning(str(meta.database["cluster_dir"])) == []
