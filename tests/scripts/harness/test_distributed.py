"""scripts/harness/distributed.py and worker_figures.py: the master's set-up, the workers'
command, the one line for missing workers, and saturation judged per worker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from loadtests.shape import LoadShape
from loadtests.window import WindowRecord
from scripts.harness.distributed import (
    DEFAULT_MASTER_PORT,
    STEP_SHAPE_FILE,
    LoadWorkers,
    connect_failure,
    for_run,
    parse_master,
    worker_argv,
)
from scripts.harness.locust_runner import LoadRequest
from scripts.harness.plan import BenchPlan, build_parser, plan_from_args
from scripts.harness.worker_figures import locust_workers, worker_signs


def _plan(*args: str) -> BenchPlan | str:
    return plan_from_args(build_parser().parse_args(list(args)), available_cpus=(0, 1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.0.0.5", ("10.0.0.5", DEFAULT_MASTER_PORT)),
        ("bench.lan:6000", ("bench.lan", 6000)),
        ("[fd00::5]:5558", ("fd00::5", 5558)),
        ("[fd00::5]", ("fd00::5", DEFAULT_MASTER_PORT)),
    ],
)
def test_master_addresses(text: str, expected: tuple[str, int]) -> None:
    assert parse_master(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "MASTER is empty"),
        ("host:0", "from 1 to 65535"),
        ("host:http", "from 1 to 65535"),
        ("http://host", "expected a host name"),
        ("[fd00::5]5558", "expected [address]:port"),
    ],
)
def test_bad_master_addresses_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[")):
        parse_master(text)


def test_one_local_process_is_not_distributed_and_more_are() -> None:
    assert not LoadWorkers(local=1).distributed
    assert LoadWorkers(local=1).master_args() == []
    workers = LoadWorkers(local=2, remote=1, master_bind="0.0.0.0", master_port=5557)
    assert workers.distributed and workers.expected == 3
    assert workers.master_args() == [
        "--master", "--master-bind-host", "0.0.0.0", "--master-bind-port", "5557",
        "--expect-workers", "3", "--expect-workers-max-wait", "60",
    ]  # fmt: skip
    assert workers.local_master_host == "127.0.0.1"
    assert workers.locustfiles(stepped=True).split(",")[1].endswith("step_shape.py")
    assert "," not in LoadWorkers(local=1).locustfiles(stepped=True)


def test_a_run_without_a_chosen_port_gets_a_free_one() -> None:
    chosen = for_run(LoadWorkers(local=2))
    assert chosen.master_port > 0
    assert for_run(LoadWorkers(local=2, master_port=6001)).master_port == 6001


def test_local_and_remote_workers_run_the_same_command() -> None:
    argv = worker_argv("10.0.0.5", 5557)
    assert argv[:3] == [sys.executable, "-m", "locust"]
    assert argv[argv.index("--master-host") + 1] == "10.0.0.5"
    assert "--worker" in argv and argv[argv.index("-f") + 1].endswith("loadtests/locustfile.py")


def test_missing_workers_are_one_line_naming_how_many_came() -> None:
    workers = LoadWorkers(local=1, remote=2, master_port=5557, connect_timeout_s=20)
    record = WindowRecord(users_target=4, workers_expected=3, workers_connected=2)
    line = connect_failure(record, workers)
    assert line is not None and "\n" not in line
    assert line.startswith("only 2 of 3 Locust workers connected within 20 s")
    assert "make loadworker MASTER=<this host>:5557" in line
    record.spawned_at = 1.0  # they came: the users started
    assert connect_failure(record, workers) is None
    assert connect_failure(WindowRecord(users_target=4), LoadWorkers()) is None


def test_a_masters_own_reason_stands_over_the_missing_workers_line() -> None:
    """A worker of another commit is refused while the master still waits for the others:
    the refusal, not 'only 1 of 2 connected', is why the run failed."""
    workers = LoadWorkers(local=1, remote=1, master_port=5557, connect_timeout_s=20)
    record = WindowRecord(users_target=4, workers_expected=2, workers_connected=1)
    record.reason = "Locust worker 0 on far (pid 7) runs commit 000000000000, the master ..."
    assert connect_failure(record, workers) is None


def test_the_plan_takes_remote_workers_and_steps_with_workers() -> None:
    plan = _plan("--expect-remote-workers", "2", "--host", "10.0.0.5", "--users", "5")
    assert isinstance(plan, BenchPlan), plan
    workers = plan.load_workers
    assert (workers.local, workers.remote, workers.master_bind) == (1, 2, "0.0.0.0")
    assert workers.master_port == DEFAULT_MASTER_PORT
    assert plan.seeded_accounts == 6  # three shares of two: whichever worker gets the extra
    stepped = _plan("--shape", "steps", "--users", "8,16", "--locust-processes", "2")
    assert isinstance(stepped, BenchPlan), stepped
    assert stepped.load_workers.distributed and stepped.load_workers.master_port == 0


def test_remote_workers_need_a_server_address_they_reach() -> None:
    refused = _plan("--expect-remote-workers", "1")
    assert isinstance(refused, str) and "EXPECT_REMOTE_WORKERS needs HOST=" in refused


def _entry(index: int, **window: float) -> dict[str, object]:
    return {
        "index": index, "host": f"h{index}", "pid": 10 + index, "commit": "c", "lost": None,
        "windows": [dict(index=0, **window)],
    }  # fmt: skip


def test_saturation_is_judged_per_worker() -> None:
    record = WindowRecord(users_target=4)
    record.workers = [
        _entry(0, cpu_pct=40.0, loop_lag_mean_ms=1.0),
        _entry(1, cpu_pct=97.0, loop_lag_mean_ms=1.2),
        _entry(2, cpu_pct=50.0, loop_lag_mean_ms=9.0),
    ]
    found = locust_workers(record)
    assert [worker.saturated == "" for worker in found] == [True, False, False]
    assert found[1].host == "h1" and found[1].cpu_pct == 97.0 and found[1].windows_reported == 1
    signs = worker_signs(found)
    assert signs == [
        "Locust worker 1 on h1 used 97 % of a CPU",
        "Locust worker 2 on h2 used its event loop 9.0 ms late on average",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "MASTER is required: make loadworker MASTER=<host>[:port]"),
        (["--master", "h:99999"], "from 1 to 65535"),
        (["--master", "no-such-host.invalid"], "cannot resolve the master's host"),
    ],
)
def test_loadworker_bad_input_exits_2_in_one_line(args: list[str], message: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scripts.loadworker", *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert done.stdout == ""


def test_loadworker_has_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scripts.loadworker", "--help"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0 and "--master" in done.stdout and "--once" in done.stdout


def test_a_load_request_with_processes_is_a_master_and_its_local_workers(tmp_path: Path) -> None:
    request = LoadRequest(
        "http://127.0.0.1:8000", "me", LoadShape((2, 4)), 4.0, 1.0, 3.0, 4, "bench", "pw",
        tmp_path, processes=2,
    )  # fmt: skip
    argv = request.argv()
    assert argv == request.argv()  # one master port, chosen once
    port = argv[argv.index("--master-bind-port") + 1]
    assert int(port) > 0 and "--processes" not in argv
    assert argv[argv.index("-f") + 1].endswith("locustfile.py," + str(STEP_SHAPE_FILE))
    specs = request.worker_specs()
    assert [spec.name for spec in specs] == ["locust-worker-0", "locust-worker-1"]
    assert all(spec.argv[spec.argv.index("--master-port") + 1] == port for spec in specs)
    assert (
        LoadRequest(
            "http://127.0.0.1:8000",
            "me",
            LoadShape((2,)),
            2.0,
            1.0,
            3.0,
            2,
            "bench",
            "pw",
            tmp_path,
        ).worker_specs()
        == []
    )
