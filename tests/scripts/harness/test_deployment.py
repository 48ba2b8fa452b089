"""PROFILE, PROXY, DB and CHECKS (scripts/harness/deployment.py, plan.py): what each value
asks for, explicit flags winning over a profile, and bad values or missing system binaries
as one line with exit status 2 before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import bench
from scripts.harness.deployment import PROFILES, Deployment, deployment_of
from scripts.harness.plan import BenchPlan, parse_bench_args, plan_from_args
from servers import nginx, postgres
from servers.nginx import ProxyPlan


def _plan(argv: list[str]) -> BenchPlan:
    plan = plan_from_args(parse_bench_args(argv), available_cpus=(0, 1))
    assert not isinstance(plan, str), plan
    return plan


def test_no_flags_is_the_dev_deployment() -> None:
    plan = _plan([])
    assert plan.deployment == Deployment()
    assert plan.deployment.name == "dev"
    assert plan.deployment.proxy_plan is None and plan.deployment.database_plan is None
    assert plan.checks == ()


def test_the_production_profile_is_nginx_postgres_and_each_server_s_worker_rule() -> None:
    plan = _plan(["--profile", "production", "--server", "gunicorn,uwsgi"])
    assert plan.deployment.name == "production"
    assert isinstance(plan.deployment.proxy_plan, ProxyPlan)
    assert plan.deployment.database_plan is not None
    assert plan.deployment.database_plan.external_url is None
    gunicorn, uwsgi = plan.servers
    assert gunicorn.workers == 3, "Gunicorn's 2 x cores + 1 for the server's one core"
    assert "WORKERS=auto" in gunicorn.workers_rule and "WORKERS=auto" in uwsgi.workers_rule


@pytest.mark.parametrize(
    "argv",
    [
        ["--workers", "2", "--profile", "production", "--proxy", "none"],
        ["--profile", "production", "--proxy", "none", "--workers", "2"],
    ],
)
def test_explicit_flags_win_over_the_profile_wherever_they_stand(argv: list[str]) -> None:
    plan = _plan(argv)
    assert plan.deployment.proxy == "none" and plan.deployment.database == "postgres"
    assert plan.deployment.name == "none+postgres"
    assert [server.workers for server in plan.servers] == [2]


def test_a_pair_that_is_no_profile_is_named_by_the_pair() -> None:
    assert Deployment("nginx", "sqlite").name == "nginx+sqlite"
    assert {Deployment(p.proxy, p.database).name for p in PROFILES.values()} == set(PROFILES)


def test_database_url_names_an_external_postgres_only_with_db_postgres() -> None:
    url = "postgresql://bench@db.example/bench"
    assert deployment_of(None, "postgres", {"DATABASE_URL": url}).external_database_url == url
    assert deployment_of(None, None, {"DATABASE_URL": url}).external_database_url is None
    assert deployment_of(None, "postgres", {}).external_database_url is None


def test_checks_take_robustness() -> None:
    assert _plan(["--checks", "robustness"]).checks == ("robustness",)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--proxy", "apache"], "argument --proxy: invalid choice: 'apache' (choose from"),
        (["--db", "mysql"], "argument --db: invalid choice: 'mysql' (choose from"),
        (["--profile", "prod"], "argument --profile: invalid choice: 'prod' (choose from"),
        (["--checks", "speed"], "unknown check speed; valid checks: robustness"),
    ],
)
def test_an_unknown_value_is_one_line_naming_the_valid_ones_and_exit_2(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as exit_:
        bench.main([*argv, "--results", str(tmp_path / "results")])
    assert exit_.value.code == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert expected in line
    assert not (tmp_path / "results").exists(), "nothing was started or written"


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["--proxy", "nginx"], "PROXY=nginx: nginx is not installed; install it with `make "),
        (["--db", "postgres"], "DB=postgres: PostgreSQL is not installed (no "),
        (["--profile", "production"], "PROXY=nginx: nginx is not installed"),
    ],
)
def test_a_missing_nginx_or_postgres_is_one_line_saying_how_to_install_and_exit_2(
    argv: list[str],
    hint: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setattr(nginx, "NGINX_SEARCH_PATH", str(tmp_path / "no-bin"))
    monkeypatch.setattr(postgres, "BIN_ROOT", tmp_path / "no-postgresql")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(SystemExit) as exit_:
        bench.main([*argv, "--results", str(tmp_path / "results")])
    assert exit_.value.code == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("bench: error: " + hint), line
    assert "make system-deps" in line
    assert not (tmp_path / "results").exists(), "nothing was started or written"
