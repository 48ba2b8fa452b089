"""Real benches that several tests read: each runs once per test session, since a bench
costs about ten seconds of server start, token issue, warm-up and window whatever is then
asserted of it."""

from __future__ import annotations

import pytest

from scripts import bench
from tests.scripts.benchutil import SHORT, FinishedBench


@pytest.fixture(scope="session")
def gunicorn_split_bench(tmp_path_factory: pytest.TempPathFactory) -> FinishedBench:
    """gunicorn, one short window, PIN=split spelled out (the default on two CPUs, which the
    tests that read this need), and the report built after it: the complete-run test and
    the placement test read the same run."""
    results = tmp_path_factory.mktemp("gunicorn-split-bench")
    argv = ["--server", "gunicorn", "--pin", "split", *SHORT, "--report"]
    return FinishedBench(bench.main([*argv, "--results", str(results)]), results)
