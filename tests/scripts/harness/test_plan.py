"""scripts/harness/plan.py: which servers, and which worker and thread counts, a bench runs."""

from __future__ import annotations

import argparse

import pytest

from scripts.harness.plan import (
    BenchPlan,
    CountChoice,
    build_parser,
    count_choice,
    plan_from_args,
    server_list,
)
from servers.registry import SERVERS, product_server_names

# Two CPUs: PIN=split gives the server one core and Locust the other.
TWO_CPUS = (0, 1)


def _plan(*args: str, cpus: tuple[int, ...] = TWO_CPUS) -> BenchPlan | str:
    return plan_from_args(build_parser().parse_args(list(args)), available_cpus=cpus)


def _runs(*args: str, cpus: tuple[int, ...] = TWO_CPUS) -> list[tuple[str, int, int]]:
    plan = _plan(*args, cpus=cpus)
    assert isinstance(plan, BenchPlan), plan
    return [(run.spec.name, run.workers, run.threads) for run in plan.servers]


def test_all_is_the_products_five_and_every_is_every_server() -> None:
    assert server_list("all") == ("runserver", "gunicorn", "uwsgi", "daphne", "uvicorn")
    assert server_list("all") == tuple(product_server_names())
    assert server_list("every") == tuple(SERVERS)
    # the product's five, seven more, and runserver --nothreading
    assert len(server_list("every")) == 13
    assert server_list("granian-wsgi, waitress") == ("granian-wsgi", "waitress")


def test_an_unknown_server_names_the_valid_choices() -> None:
    with pytest.raises(argparse.ArgumentTypeError) as problem:
        server_list("gunicorn,tomcat")
    message = str(problem.value)
    assert "unknown server tomcat" in message
    assert "valid servers: all, every, runserver, gunicorn" in message
    assert "hypercorn" in message


def test_counts_are_auto_a_number_or_a_list() -> None:
    assert count_choice("auto") == CountChoice(auto=True)
    assert count_choice("4") == CountChoice((4,))
    assert count_choice("1,2,4") == CountChoice((1, 2, 4))
    for bad in ("0", "x", "1,,2", "2,2", "-1", "", "auto,2"):
        with pytest.raises(argparse.ArgumentTypeError, match=r"whole number >= 1.*auto"):
            count_choice(bad)


@pytest.mark.parametrize(
    ("flag", "value"), [("--workers", "many"), ("--threads", "0"), ("--server", "every,x")]
)
def test_bad_values_exit_2_with_one_line_naming_the_valid_ones(
    flag: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([flag, value])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert ("auto" in error) if flag != "--server" else ("all, every" in error)


def test_default_workers_are_one_per_core_and_say_so() -> None:
    plan = _plan("--server", "gunicorn")
    assert isinstance(plan, BenchPlan)
    [run] = plan.servers
    assert (run.workers, run.threads) == (1, 1)
    assert run.workers_rule == "WORKERS default: one per core, 1 for 1 core(s); THREADS=1 given"


def test_auto_applies_each_servers_documented_rule_for_its_cpus() -> None:
    runs = {
        name: (workers, threads)
        for name, workers, threads in _runs(
            "--server", "every", "--workers", "auto", "--pin", "none", cpus=(0, 1)
        )
    }
    # unpinned, the server gets both CPUs
    assert runs["gunicorn"] == (5, 1) and runs["gunicorn-gevent"] == (5, 1)
    assert runs["uwsgi"] == runs["uvicorn"] == runs["hypercorn"] == (2, 1)
    assert runs["granian-wsgi"] == runs["granian-asgi"] == (2, 1)
    assert runs["daphne"] == runs["runserver"] == runs["waitress"] == (1, 1)
    plan = _plan("--server", "gunicorn", "--workers", "auto")
    assert isinstance(plan, BenchPlan)
    [run] = plan.servers
    assert run.workers == 3  # split: one core for the server
    assert run.workers_rule.startswith("WORKERS=auto: (2 x cores) + 1 = 3 for 1 core(s)")
    assert "How many workers?" in run.workers_rule


def test_threads_auto_follows_the_servers_thread_rules() -> None:
    runs = {
        name: (workers, threads)
        for name, workers, threads in _runs(
            "--server", "gunicorn,waitress,granian-wsgi,uvicorn", "--threads", "auto"
        )
    }
    assert runs == {
        "gunicorn": (1, 2),  # 2 x cores
        "waitress": (1, 4),  # waitress's default
        "granian-wsgi": (1, 512),  # granian's own WSGI default for one worker
        "uvicorn": (1, 1),  # no thread setting
    }
    plan = _plan("--server", "gunicorn,uvicorn", "--threads", "auto")
    assert isinstance(plan, BenchPlan)
    gunicorn, uvicorn = plan.servers
    assert "THREADS=auto: 2 x cores = 2 for 1 core(s) (Gunicorn settings" in gunicorn.workers_rule
    assert uvicorn.workers_rule.endswith("THREADS: none, the server has no thread-count setting")


def test_a_sweep_is_one_configuration_per_server_workers_and_threads() -> None:
    runs = _runs("--server", "gunicorn,daphne", "--workers", "1,2,4", "--threads", "1,4")
    assert runs == [
        ("gunicorn", 1, 1),
        ("gunicorn", 1, 4),
        ("gunicorn", 2, 1),
        ("gunicorn", 2, 4),
        ("gunicorn", 4, 1),
        ("gunicorn", 4, 4),
        ("daphne", 1, 1),  # fitted: one process, no threads, and only once
    ]
    plan = _plan("--server", "gunicorn,daphne", "--workers", "1,2", "--repeats", "2")
    assert isinstance(plan, BenchPlan)
    order = [(repeat, run.spec.name, run.workers) for repeat, run in plan.run_order]
    assert order == [
        (0, "gunicorn", 1),
        (0, "gunicorn", 2),
        (0, "daphne", 1),
        (1, "gunicorn", 1),
        (1, "gunicorn", 2),
        (1, "daphne", 1),
    ]
    daphne = plan.servers[-1]
    assert "WORKERS=1 given" in daphne.workers_rule


def test_a_fitted_count_is_recorded() -> None:
    plan = _plan("--server", "gunicorn,daphne", "--workers", "4")
    assert isinstance(plan, BenchPlan)
    assert plan.servers[1].workers == 1
    assert "fitted to 1 worker(s), daphne's most" in plan.servers[1].workers_rule


def test_a_single_server_refuses_counts_it_cannot_take() -> None:
    assert _plan("--server", "daphne", "--workers", "1,2") == (
        "daphne runs 1 process at most; WORKERS=2 is not possible"
    )
    problem = _plan("--server", "uvicorn", "--threads", "1,4")
    assert isinstance(problem, str) and "no thread-count setting" in problem
