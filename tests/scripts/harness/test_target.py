"""TARGET's input (scripts/harness/target.py and the bench's plan): URLs, credentials from the
environment, the CA file, and the flags that make no sense beside a running deployment."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import bench
from scripts.harness.plan import build_parser, parse_bench_args, plan_from_args
from scripts.harness.remote_tokens import DEFAULT_RETRY_AFTER_S, _retry_after_s
from scripts.harness.target import (
    PASSWORD_VARIABLE,
    USER_PREFIX_VARIABLE,
    TargetUrl,
    accounts_from_environment,
    given_destinations,
    parse_target,
)
from tests.tls_target import write_test_ca

CPUS = (0, 1)
CREDENTIALS = {PASSWORD_VARIABLE: "s3cret-pass", USER_PREFIX_VARIABLE: "load"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://api.example.com", TargetUrl("https", "api.example.com", 443)),
        ("http://10.0.0.5:8000", TargetUrl("http", "10.0.0.5", 8000)),
        ("HTTPS://Example.COM:8443/v1/", TargetUrl("https", "example.com", 8443, "/v1")),
        ("https://host/", TargetUrl("https", "host", 443)),
        ("http://[::1]:9000/app", TargetUrl("http", "::1", 9000, "/app")),
    ],
)
def test_urls_parse_into_scheme_host_port_and_prefix(text: str, expected: TargetUrl) -> None:
    assert parse_target(text) == expected


def test_base_url_joins_request_paths_under_the_prefix() -> None:
    assert TargetUrl("https", "h", 443, "/v1").base_url + "/healthz" == "https://h:443/v1/healthz"
    assert TargetUrl("http", "::1", 80).base_url == "http://[::1]:80"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("example.com", "is not a URL"),
        ("ftp://example.com", "unsupported scheme 'ftp'"),
        ("https://", "has no host"),
        ("https://h:99999", "invalid port"),
        ("https://h:0", "invalid port"),
        ("https://h/?q=1", "query or fragment"),
        ("https://user:pw@h", "must not carry credentials"),
    ],
)
def test_bad_urls_are_one_line_saying_why(text: str, said: str) -> None:
    problem = parse_target(text)
    assert isinstance(problem, str) and said in problem and "\n" not in problem


def test_credentials_come_from_the_environment_only() -> None:
    accounts = accounts_from_environment(CREDENTIALS)
    assert not isinstance(accounts, str)
    assert accounts.username(3) == "load0003" and accounts.password == "s3cret-pass"
    assert "s3cret" not in repr(accounts)
    default = accounts_from_environment({PASSWORD_VARIABLE: "x"})
    assert not isinstance(default, str) and default.prefix == "bench"
    missing = accounts_from_environment({USER_PREFIX_VARIABLE: "load"})
    assert isinstance(missing, str) and PASSWORD_VARIABLE in missing


def test_given_flags_are_told_apart_from_defaults() -> None:
    argv = ["--target", "https://h", "--server", "gunicorn", "--users", "4"]
    assert given_destinations(build_parser(), argv) == {"target", "server", "users"}
    assert given_destinations(build_parser(), []) == set()


def _plan(argv: list[str], monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]) -> object:
    for name in (PASSWORD_VARIABLE, USER_PREFIX_VARIABLE):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return plan_from_args(parse_bench_args(argv), CPUS)


def test_a_target_plan_launches_nothing_and_keeps_the_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan = _plan(["--target", "https://h:8443/api", "--users", "4"], monkeypatch, CREDENTIALS)
    assert not isinstance(plan, str)
    assert plan.target is not None and plan.servers == () and plan.run_order == []
    assert plan.target.url.base_url == "https://h:8443/api"
    assert plan.target.accounts.prefix == "load" and plan.target.ca_file is None
    assert plan.placement.mode == "external" and plan.placement.server_cpus is None
    assert plan.target.tls_context() is not None  # https: verified


def test_a_target_plan_takes_load_workers_and_the_open_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argv = ["--target", "http://10.1.2.3:8000", "--expect-remote-workers", "2"]
    argv += ["--arrival-rate", "30", "--max-in-flight", "4"]
    plan = _plan(argv, monkeypatch, CREDENTIALS)
    assert not isinstance(plan, str)
    assert plan.load_workers.remote == 2 and plan.load_workers.distributed
    assert plan.arrival is not None


def test_remote_workers_need_a_target_they_can_reach(monkeypatch: pytest.MonkeyPatch) -> None:
    argv = ["--target", "http://127.0.0.1:8000", "--expect-remote-workers", "1"]
    problem = _plan(argv, monkeypatch, CREDENTIALS)
    assert isinstance(problem, str) and "a TARGET the other machines reach" in problem


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--workers", "2"], "WORKERS"),
        (["--server", "gunicorn"], "SERVER"),
        (["--proxy", "nginx", "--db", "postgres"], "PROXY, DB"),
        (["--profile", "production"], "PROFILE"),
        (["--pin", "none"], "PIN"),
        (["--port", "8000"], "PORT"),
        (["--max-requests", "100"], "MAX_REQUESTS"),
    ],
)
def test_server_only_flags_beside_target_are_refused(
    flags: list[str], named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    problem = _plan(["--target", "https://h", *flags], monkeypatch, CREDENTIALS)
    assert isinstance(problem, str) and named in problem and "already running" in problem


def test_a_ca_file_needs_an_https_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ca = write_test_ca(tmp_path, "127.0.0.1").ca_file
    problem = _plan(["--target", "http://h", "--target-ca", str(ca)], monkeypatch, CREDENTIALS)
    assert isinstance(problem, str) and "https" in problem
    alone = _plan(["--target-ca", str(ca)], monkeypatch, CREDENTIALS)
    assert isinstance(alone, str) and "give TARGET too" in alone


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--target", "gopher://h"], "unsupported scheme"),
        (["--target", "not a url"], "is not a URL"),
        (["--target", "https://h", "--workers", "2"], "WORKERS"),
        (["--target", "https://h", "--target-ca", "/nonexistent.pem"], "is not a file"),
        (["--target", "https://h"], PASSWORD_VARIABLE),
    ],
)
def test_bench_refuses_bad_target_input_in_one_line_exit_2(
    argv: list[str],
    said: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv(PASSWORD_VARIABLE, raising=False)
    with pytest.raises(SystemExit) as ended:
        bench.main([*argv, "--results", str(tmp_path / "results")])
    assert ended.value.code == 2
    error = capsys.readouterr().err.strip()
    assert said in error and len(error.splitlines()) == 1
    assert not (tmp_path / "results").exists(), "nothing is written on bad input"


def test_a_ca_file_that_is_not_pem_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(SystemExit) as ended:
        bench.main(["--target", "https://h", "--target-ca", str(junk)])
    assert ended.value.code == 2
    assert "no usable PEM CA certificate" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("header", "seconds"), [("12", 12.0), (None, DEFAULT_RETRY_AFTER_S), ("soon", 5.0), ("0", 0.5)]
)
def test_a_throttled_login_waits_as_long_as_retry_after_says(
    header: str | None, seconds: float
) -> None:
    assert _retry_after_s(header) == seconds
