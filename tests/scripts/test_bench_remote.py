"""`make bench TARGET=...` for real: the sample app already running on another test host
(a network namespace, tests/netns_hosts.py), over TLS with a CA the test makes, benchmarked
from the root namespace with nothing launched for it but Locust."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts import bench, report
from scripts.harness.target import PASSWORD_VARIABLE, USER_PREFIX_VARIABLE
from scripts.records.schema import read_meta, read_summary
from servers.app import SeedPlan
from servers.child import child_environment
from servers.registry import PROJECT_DIR
from tests.netns_hosts import ROOT_HOST, TestHost, joined_hosts, require_namespaces
from tests.scripts.benchutil import run_dirs
from tests.tls_target import TestCa, tls_sample_app, write_test_ca

SEED = SeedPlan(users=2, items_per_user=3, password="remote-target-pass-7", prefix="remote")
SHORT = ["--users", "2", "--duration", "2", "--warmup", "1", "--scenario", "me"]


@pytest.fixture
def target_host(monkeypatch: pytest.MonkeyPatch) -> Iterator[TestHost]:
    """The test host the target runs on, with the accounts' credentials in the bench's
    environment (where TARGET takes them from)."""
    require_namespaces()
    monkeypatch.setenv(PASSWORD_VARIABLE, SEED.password)
    monkeypatch.setenv(USER_PREFIX_VARIABLE, SEED.prefix)
    with joined_hosts(["target", ROOT_HOST]) as hosts:
        yield hosts["target"]


def _bench(results: Path, url: str, *extra: str) -> int:
    return bench.main(["--target", url, *extra, *SHORT, "--results", str(results)])


def _locust_failures(url: str, ca: TestCa | None, directory: Path) -> list[dict[str, str]]:
    """Plain Locust with the harness's locustfile against `url`, by hand: what failed."""
    prefix = directory / ("with-ca" if ca else "without-ca")
    argv = [
        sys.executable, "-m", "locust", "-f", str(PROJECT_DIR / "loadtests" / "locustfile.py"),
        "--headless", "-u", "1", "-r", "1", "-t", "2s", "--host", url, "--scenario", "me",
        "--user-prefix", SEED.prefix, "--csv", str(prefix), "--only-summary",
        *(["--target-ca", str(ca.ca_file)] if ca else []),
    ]  # fmt: skip
    environment = child_environment(
        {"LOCUST_USER_PASSWORD": SEED.password}, bin_dirs=[str(Path(sys.executable).parent)]
    )
    subprocess.run(argv, env=environment, cwd=PROJECT_DIR, capture_output=True, timeout=60)
    with Path(f"{prefix}_failures.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_bench_measures_a_running_tls_deployment_and_refuses_an_unverified_one(
    target_host: TestHost, tmp_path: Path
) -> None:
    ca = write_test_ca(tmp_path / "tls", target_host.address)
    with tls_sample_app(target_host, tmp_path / "target", SEED, ca) as url:
        assert _bench(tmp_path / "verified", url, "--target-ca", str(ca.ca_file)) == 0
        assert _bench(tmp_path / "unverified", url) == 1
        # Locust itself verifies too: FastHttpUser's insecure=True default is off
        refused = _locust_failures(url, None, tmp_path)
        trusted = _locust_failures(url, ca, tmp_path)
    [run] = run_dirs(tmp_path / "verified")
    meta, summary = read_meta(run / "meta.json"), read_summary(run / "summary.json")
    assert meta.status.value == "ok" and meta.server == "external" and meta.external
    assert meta.target is not None and meta.target.url == url
    assert meta.target.ca_file == str(ca.ca_file) and not meta.target.server_cpu_observed
    assert meta.argv == () and meta.placement["mode"] == "external"
    assert "check" in meta.timings_s, "the response check ran before the load"
    assert meta.tokens is not None and meta.tokens["logins"] == 2
    assert "login over HTTP before the window" in meta.tokens["source"]
    assert meta.access_lifetime_s == 300  # the target's own, read from its tokens
    assert summary.figures.requests > 0 and summary.figures.failures == 0
    assert summary.resources.server_cpu_pct is None and summary.server_counted is None
    assert not (run / "server.log").exists()
    assert report.main(["--results", str(tmp_path / "verified")]) == 0
    summary_md = (tmp_path / "verified" / "report" / "summary.md").read_text()
    assert "not observed (external target)" in summary_md
    [failed] = run_dirs(tmp_path / "unverified")
    failed_meta = read_meta(failed / "meta.json")
    assert failed_meta.status.value == "failed"
    assert "TLS certificate of" in failed_meta.reason and "not verified" in failed_meta.reason
    assert "\n" not in failed_meta.reason and "TARGET_CA" in failed_meta.reason
    assert refused and all("CERTIFICATE_VERIFY_FAILED" in row["Error"] for row in refused)
    assert trusted == []


@pytest.mark.slow
def test_bench_measures_a_plain_http_deployment(target_host: TestHost, tmp_path: Path) -> None:
    with tls_sample_app(target_host, tmp_path / "target", SEED, None) as url:
        assert url.startswith("http://")
        assert _bench(tmp_path / "results", url + "/") == 0
    [run] = run_dirs(tmp_path / "results")
    meta = read_meta(run / "meta.json")
    assert meta.status.value == "ok" and meta.target is not None
    assert meta.target.tls == "none (http)" and meta.base_url == url
