"""The lesson's verdicts follow the data (scripts/lessons/judges.py): runs derived from a
committed real step-load run, with the goodput each case needs, give "out of date" where
runserver serves concurrently and --nothreading serially, "confirmed" where runserver is
serial too, and "not supported by this run" where the runs disagree or failed."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from scripts.lessons.evidence import ExperimentRuns, read_experiment
from scripts.lessons.findings import Rating
from scripts.lessons.judges import (
    concurrent_cpu,
    graceful_stop,
    overload,
    protection,
    proxy_cost,
    single_threaded,
)
from scripts.records.schema.lesson import ProbeRecord
from tests.fixtures.derived_runs import SOURCE, derive_run
from tests.scripts.lessons.fixture_lesson import DEPLOY_CHECK, ERROR_PAGES

STEP_SOURCE = sorted((SOURCE.parents[1] / "step_runs" / "runs").iterdir())[0]


def _steps(goodputs: Sequence[float]) -> list[dict[str, Any]]:
    steps = json.loads((STEP_SOURCE / "summary.json").read_text())["steps"]
    assert len(steps) == len(goodputs)
    return [{**step, "rps": rate} for step, rate in zip(steps, goodputs, strict=True)]


def _io_experiment(
    tmp_path: Path, per_server: dict[str, list[list[float]]], **meta: Any
) -> ExperimentRuns:
    dirs = []
    for server, repeats in per_server.items():
        for index, goodputs in enumerate(repeats):
            dirs.append(
                derive_run(
                    tmp_path / "runs",
                    f"{server[-3:]}{index:02d}",
                    {"steps": _steps(goodputs), "rps": goodputs[-1]},
                    {"server": server, "scenario": "io", "threads": None, **meta},
                    source=STEP_SOURCE,
                )
            )
    return read_experiment("io", "python -m scripts.bench ...", dirs)


SERIAL = [[19.0, 19.2, 19.1], [19.3, 19.0, 19.4], [18.9, 19.1, 19.0]]
THREADED = [[38.0, 76.0, 150.0], [37.5, 75.0, 151.0], [38.2, 76.5, 149.0]]


def test_threaded_runserver_and_a_serial_nothreading_make_the_claim_out_of_date(
    tmp_path: Path,
) -> None:
    io = _io_experiment(tmp_path, {"runserver": THREADED, "runserver-nothreading": SERIAL})
    finding = single_threaded({"io": io})
    assert finding.rating is Rating.OUT_OF_DATE, finding.reason
    assert "thread per request" in finding.reason and "7.8 times" in finding.reason
    assert finding.chart is not None and set(finding.chart.lines) >= {"runserver"}
    assert "more requests per second than runserver-nothreading" in finding.comparisons[0]


def test_a_serial_runserver_confirms_the_claim(tmp_path: Path) -> None:
    also_serial = [[19.1, 19.0, 19.2], [19.0, 19.3, 19.1], [19.2, 19.1, 19.0]]
    io = _io_experiment(tmp_path, {"runserver": also_serial, "runserver-nothreading": SERIAL})
    finding = single_threaded({"io": io})
    assert finding.rating is Rating.CONFIRMED, finding.reason


def test_runs_that_disagree_support_no_verdict(tmp_path: Path) -> None:
    scattered = [[38.0, 76.0, 150.0], [19.0, 19.0, 19.5], [38.0, 70.0, 12.0]]
    io = _io_experiment(tmp_path, {"runserver": scattered, "runserver-nothreading": SERIAL})
    finding = single_threaded({"io": io})
    assert finding.rating is Rating.NOT_SUPPORTED, finding.reason


def test_failed_runs_are_named_and_support_no_verdict(tmp_path: Path) -> None:
    io = _io_experiment(
        tmp_path,
        {"runserver": THREADED, "runserver-nothreading": SERIAL},
        status="failed",
        reason="the server exited (signal 9) 1.0 s into the window",
    )
    finding = single_threaded({"io": io})
    assert finding.rating is Rating.NOT_SUPPORTED
    assert any("signal 9" in caveat for caveat in finding.caveats)


def _cpu_experiment(
    tmp_path: Path, per_config: dict[tuple[str, int], list[float]]
) -> ExperimentRuns:
    dirs = []
    for (server, workers), rates in per_config.items():
        for index, rate in enumerate(rates):
            dirs.append(
                derive_run(
                    tmp_path / "runs",
                    f"{server[:3]}{workers}{index:02d}",
                    {"rps": rate},
                    {"server": server, "scenario": "cpu", "workers": workers},
                )
            )
    return read_experiment("cpu", "python -m scripts.bench ...", dirs)


def test_two_processes_beating_runserver_make_the_concurrency_claim_partly_true(
    tmp_path: Path,
) -> None:
    cpu = _cpu_experiment(
        tmp_path,
        {
            ("runserver", 1): [50.0, 51.0, 49.5],
            ("gunicorn", 1): [50.5, 50.0, 50.8],
            ("gunicorn", 2): [95.0, 97.0, 96.0],
        },
    )
    finding = concurrent_cpu({"cpu": cpu})
    assert finding.rating is Rating.PARTLY_TRUE, finding.reason
    assert "processes, not runserver" in finding.reason


def test_no_gain_from_processes_supports_no_verdict(tmp_path: Path) -> None:
    cpu = _cpu_experiment(
        tmp_path,
        {("runserver", 1): [50.0, 51.0, 49.5], ("gunicorn", 2): [50.0, 52.0, 49.0]},
    )
    assert concurrent_cpu({"cpu": cpu}).rating is Rating.NOT_SUPPORTED


def _robustness(
    answered: int, probes: int = 16, stop: dict[str, int] | None = None
) -> dict[str, Any]:
    return {
        "slow_clients": {
            "clients": 50,
            "duration_s": 10.0,
            "probes": probes,
            "answered": answered,
            "answered_within_1s": answered,
            "worst_answer_s": 0.01 if answered else None,
            "dropped_by_server": 0,
        },
        "oversize": {
            "header_bytes": 65536,
            "header_status": 431,
            "body_bytes": 4194304,
            "body_status": 413,
        },
        "graceful_stop": None
        if stop is None
        else {"in_flight": 10, "request_ms": 1000, "outcomes": stop, "stop_s": 1.5},
    }


def _robust_experiment(tmp_path: Path, key: str, answered: dict[str, int]) -> ExperimentRuns:
    dirs = [
        derive_run(
            tmp_path / key / "runs",
            f"{server[:3]}{key[-3:]}",
            {"robustness": _robustness(count)},
            {"server": server, "scenario": "me", "workers": 1},
        )
        for server, count in answered.items()
    ]
    return read_experiment(key, "python -m scripts.bench ...", dirs)


def _protection_experiments(tmp_path: Path, behind_gunicorn: int = 16) -> dict[str, ExperimentRuns]:
    return {
        "robust_alone": _robust_experiment(
            tmp_path, "robust_alone", {"runserver": 16, "gunicorn": 0, "uwsgi": 0}
        ),
        "robust_nginx": _robust_experiment(
            tmp_path, "robust_nginx", {"runserver": 16, "gunicorn": behind_gunicorn, "uwsgi": 16}
        ),
    }


def test_slow_clients_starving_servers_alone_but_not_behind_nginx(tmp_path: Path) -> None:
    finding = protection(_protection_experiments(tmp_path))
    assert finding.rating is Rating.PARTLY_TRUE, finding.reason
    assert "starved gunicorn, uwsgi" in finding.reason
    assert "runserver's thread per connection kept it answering" in finding.reason
    cells = {figure.label: figure.cells for figure in finding.figures}
    assert cells["gunicorn"]["answered within 1 s, alone"] == "0 %"
    assert cells["gunicorn"]["behind nginx"] == "100 %"


def test_a_proxy_that_did_not_protect_supports_no_verdict(tmp_path: Path) -> None:
    finding = protection(_protection_experiments(tmp_path, behind_gunicorn=3))
    assert finding.rating is Rating.NOT_SUPPORTED


def _mixed(tmp_path: Path, key: str, rates: dict[str, list[float]]) -> ExperimentRuns:
    dirs = [
        derive_run(
            tmp_path / key / "runs",
            f"{server[:3]}{key[:3]}{index:02d}",
            {"rps": rate},
            {"server": server, "scenario": "mixed", "workers": 2},
        )
        for server, values in rates.items()
        for index, rate in enumerate(values)
    ]
    return read_experiment(key, "python -m scripts.bench ...", dirs)


def test_the_proxy_claim_rests_on_protection_and_states_the_cost(tmp_path: Path) -> None:
    experiments = {
        **_protection_experiments(tmp_path),
        "alone": _mixed(tmp_path, "alone", {"gunicorn": [300.0, 305.0, 298.0]}),
        "nginx": _mixed(tmp_path, "nginx", {"gunicorn": [270.0, 268.0, 272.0]}),
    }
    finding = proxy_cost(experiments)
    assert finding.rating is Rating.CONFIRMED, finding.reason
    assert "gunicorn (2 workers) 10 % less goodput (slower, 95 % CI of the ratio" in finding.reason
    unprotected = {**experiments, **_protection_experiments(tmp_path / "b", behind_gunicorn=0)}
    assert proxy_cost(unprotected).rating is Rating.NOT_SUPPORTED


def _stops(tmp_path: Path, outcomes: dict[str, dict[str, int]]) -> dict[str, ExperimentRuns]:
    dirs = [
        derive_run(
            tmp_path / "runs",
            f"{server[:3]}stop",
            {"robustness": _robustness(16, stop=stop)},
            {"server": server, "scenario": "me", "workers": 1},
        )
        for server, stop in outcomes.items()
    ]
    return {"robust_alone": read_experiment("robust_alone", "python -m ...", dirs)}


def test_a_cut_runserver_and_graceful_production_servers_confirm_the_operations_claim(
    tmp_path: Path,
) -> None:
    experiments = _stops(
        tmp_path,
        {
            "runserver": {"reset": 10},
            "gunicorn": {"ok": 2, "refused": 8},
            "uwsgi": {"ok": 2, "reset": 8},
        },
    )
    finding = graceful_stop(experiments)
    assert finding.rating is Rating.CONFIRMED, finding.reason
    assert "gunicorn answered 2" in finding.reason
    assert {f.label: f.cells["answered"] for f in finding.figures}["runserver"] == "0 of 10"


def test_a_runserver_that_finished_its_requests_supports_no_verdict(tmp_path: Path) -> None:
    experiments = _stops(tmp_path, {"runserver": {"ok": 10}, "gunicorn": {"ok": 2, "reset": 8}})
    assert graceful_stop(experiments).rating is Rating.NOT_SUPPORTED


def _overload(tmp_path: Path, threads: dict[str, int]) -> dict[str, ExperimentRuns]:
    dirs = [
        derive_run(
            tmp_path / "runs",
            f"{server[:3]}ovl",
            {"server_threads_peak": count, "users": 200},
            {
                "server": server,
                "scenario": "io",
                "users": 200,
                "workers": 1,
                "errors_expected": True,
            },
        )
        for server, count in threads.items()
    ]
    return {"overload": read_experiment("overload", "python -m ...", dirs)}


def test_threads_growing_with_the_load_under_runserver_only_confirm_the_claim(
    tmp_path: Path,
) -> None:
    finding = overload(_overload(tmp_path, {"runserver": 154, "gunicorn": 3}))
    assert finding.rating is Rating.CONFIRMED, finding.reason
    assert "runserver ran up to 154 threads" in finding.reason


def test_an_asgi_server_growing_threads_too_makes_it_partly_true(tmp_path: Path) -> None:
    finding = overload(_overload(tmp_path, {"runserver": 154, "gunicorn": 3, "uvicorn": 241}))
    assert finding.rating is Rating.PARTLY_TRUE
    assert "uvicorn grew too (241 threads)" in finding.reason


def test_a_bounded_runserver_supports_no_verdict(tmp_path: Path) -> None:
    finding = overload(_overload(tmp_path, {"runserver": 12, "gunicorn": 3}))
    assert finding.rating is Rating.NOT_SUPPORTED


def _probe(
    key: str, record: ProbeRecord | None, unreadable: tuple[str, ...] = ()
) -> ExperimentRuns:
    return ExperimentRuns(key, "curl ...", probe=record, unreadable=unreadable)


def test_error_pages_and_the_deploy_check_join_the_protection_verdict(tmp_path: Path) -> None:
    experiments = {
        **_protection_experiments(tmp_path),
        "error_pages": _probe("error_pages", ERROR_PAGES),
        "deploy_check": _probe("deploy_check", DEPLOY_CHECK),
    }
    finding = protection(experiments)
    assert finding.rating is Rating.PARTLY_TRUE, finding.reason
    assert "66,827 bytes of text/html: 4 traceback frames, 110 settings" in finding.reason
    assert "the page is DEBUG's, not the server's" in finding.reason
    assert "reported 2 issues for the development settings (security.W009" in finding.reason
    assert [table.title for table in finding.tables] == [
        "What an error page showed a client (counted from the bytes received)",
        "manage.py check --deploy",
    ]
    assert finding.fact("deploy_check_development") == 2.0


def test_a_production_page_that_leaks_is_said_and_a_failed_probe_is_a_caveat(
    tmp_path: Path,
) -> None:
    leaky = replace(
        ERROR_PAGES,
        pages=tuple(replace(page, traceback_frames=3) for page in ERROR_PAGES.pages),
        problems=("gunicorn with DEBUG off: gunicorn exited with status 1",),
    )
    experiments = {
        **_protection_experiments(tmp_path),
        "error_pages": _probe("error_pages", leaky),
        "deploy_check": _probe("deploy_check", None, unreadable=("deploy_check.json",)),
    }
    finding = protection(experiments)
    assert "With DEBUG off, 4 of 4 error pages still showed internals" in finding.reason
    assert "not the server's" not in finding.reason
    assert "error_pages: gunicorn with DEBUG off: gunicorn exited with status 1" in finding.caveats
    assert "deploy_check: deploy_check.json could not be read" in finding.caveats


def _recycling(tmp_path: Path, restarts: dict[str, int | None]) -> ExperimentRuns:
    dirs = [
        derive_run(
            tmp_path / "recycling" / "runs",
            f"{server[:3]}rec",
            {"worker_restarts": count, "requests": 900, "failures": 3 if server == "uwsgi" else 0},
            {"server": server, "scenario": "me", "workers": 2, "max_requests": 100},
        )
        for server, count in restarts.items()
    ]
    return read_experiment("recycling", "python -m ...", dirs)


def test_recycling_says_what_failed_and_what_was_not_observed(tmp_path: Path) -> None:
    experiments = _stops(
        tmp_path,
        {"runserver": {"reset": 10}, "gunicorn": {"ok": 2, "refused": 8}, "uwsgi": {"ok": 2}},
    )
    experiments["recycling"] = _recycling(tmp_path, {"gunicorn": 0, "uwsgi": 4})
    finding = graceful_stop(experiments)
    assert finding.rating is Rating.CONFIRMED, finding.reason
    assert "uwsgi (2 workers) replaced 4 workers and failed 3 of 900 requests" in finding.reason
    assert "(runserver has no such setting)" in finding.reason
    assert any("gunicorn (2 workers): no worker was replaced" in c for c in finding.caveats)
    assert finding.fact("recycled_failing") == ("uwsgi (2 workers)",)
