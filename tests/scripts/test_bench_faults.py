"""Harness faults through the real bench CLI: a full disk, a second bench, a SIGKILLed
harness. Real servers on loopback, each bounded."""

from __future__ import annotations

import filecmp
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts import bench
from servers.machine_state import STATE_DIR_VARIABLE
from servers.process_group import session_members
from tests.process import PROJECT_DIR, running
from tests.scripts.benchutil import load, processes_mentioning, run_dirs
from tests.scripts.harness.test_machine_lock import held_elsewhere

SHORT = ["--server", "gunicorn", "--duration", "2", "--warmup", "0", "--users", "2"]
FIXTURE_RUN = sorted((PROJECT_DIR / "tests" / "fixtures" / "runs").iterdir())[1]


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(STATE_DIR_VARIABLE, str(tmp_path / "state"))
    return tmp_path / "state"


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 200 KiB tmpfs: room for a run's first files, not for Locust's HTML report."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot mount a tmpfs under CI: {mounted.stderr.strip()}")
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.mark.slow
def test_a_full_disk_stops_the_bench_with_one_line_and_exit_6(
    tiny_disk: Path, tmp_path: Path, state: Path
) -> None:
    earlier = tiny_disk / "runs" / FIXTURE_RUN.name
    shutil.copytree(FIXTURE_RUN, earlier)
    argv = [sys.executable, "-m", "scripts.bench", *SHORT, "--results", str(tiny_disk)]
    with running(argv, tmp_path / "bench.out") as harness:
        status = harness.wait(timeout_s=120)
        output = harness.output
    assert status == 6, output
    [line] = [text for text in output.splitlines() if "could not be written" in text]
    assert f"{tiny_disk}/runs/.partial-" in line and "No space left on device (ENOSPC)" in line
    assert "Traceback" not in output
    # the run published before is untouched, and nothing of this bench is left running
    assert run_dirs(tiny_disk) == [earlier]
    same = filecmp.dircmp(FIXTURE_RUN, earlier)
    assert not (same.diff_files or same.left_only or same.right_only)
    assert processes_mentioning(str(tiny_disk)) == []
    assert list((state / "children").glob("*.json")) == []


@pytest.mark.slow
def test_a_second_bench_waits_unless_it_shares_the_machine(state: Path, tmp_path: Path) -> None:
    shared, waiting = tmp_path / "shared", tmp_path / "waiting"
    with held_elsewhere(state, 600) as holder:
        assert bench.main([*SHORT, "--share-machine", "--results", str(shared)]) == 0
        [run] = run_dirs(shared)
        assert load(run / "meta.json")["shares_machine"] is True
        argv = [sys.executable, "-m", "scripts.bench", *SHORT, "--results", str(waiting)]
        with running(argv, tmp_path / "bench.out") as second:
            second.wait_for_line("this machine is busy", timeout_s=60)
            time.sleep(2)
            assert run_dirs(waiting) == [] and not (waiting / "runs").exists()
            holder.kill()
            assert second.wait(timeout_s=120) == 0, second.output
    [run] = run_dirs(waiting)
    assert load(run / "meta.json")["shares_machine"] is False


@pytest.mark.slow
def test_the_next_bench_clears_what_a_sigkilled_bench_left(
    state: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "killed"
    argv = [sys.executable, "-m", "scripts.bench", *SHORT, "--duration", "60"]
    with running([*argv, "--results", str(results)], tmp_path / "bench.out") as harness:
        harness.wait_until(
            lambda: bool(list((results / "runs").glob(".partial-*/window.json"))),
            timeout_s=60,
            what="measured window",
        )
        records = [load(path) for path in (state / "children").glob("*.json")]
        assert {"gunicorn", "locust"} <= {record["name"] for record in records}, records
        harness.process.send_signal(signal.SIGKILL)
        harness.wait(timeout_s=10)
        killed_pid = harness.process.pid
    # Locust dies with it (the parent-death signal); a server's worker may not (seen here:
    # a gunicorn worker outliving its SIGKILLed master) ...
    deadline = time.monotonic() + 15
    while processes_mentioning(str(results)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_mentioning(str(results)) == []
    assert list((state / "children").glob("*.json")), "the records outlive a SIGKILL"
    # ... so the next bench stops whatever is left of their sessions, saying so in one line
    capsys.readouterr()
    assert bench.main([*SHORT, "--results", str(tmp_path / "next")]) == 0
    said = [line for line in capsys.readouterr().out.splitlines() if "killed earlier" in line]
    assert len(said) == 1 and said[0].startswith(f"a harness (pid {killed_pid}) was killed")
    assert all(session_members(record["pid"]) == [] for record in records)
    assert list((state / "children").glob("*.json")) == []
