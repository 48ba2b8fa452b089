"""A whole lesson's results built from committed fixture runs, for the page tests.

Every bench the lesson plans (scripts/lessons/schedule.py, every section) gets derived runs
(tests/fixtures/derived_runs.py: copies of committed real runs with the figures a case
needs) for each of its configurations and repetitions, and each probe gets its record; the
lesson's own experiments.json ties them together, so `lesson --rebuild` writes the page
exactly as after a real lesson. The figures are those of a machine where every claim is
decided (`DECIDED`); a test may override some of them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from scripts.lessons.probes import PROBES_DIR
from scripts.lessons.schedule import TINY, bench_plan, plan_lesson
from scripts.lessons.sections import SECTIONS
from scripts.records.schema.lesson import (
    DeployCheckFigures,
    DeployCheckRecord,
    ErrorPageFigures,
    ErrorPagesRecord,
)
from tests.fixtures.derived_runs import SOURCE, derive_run

STEP_SOURCE: Final = sorted((SOURCE.parents[1] / "step_runs" / "runs").iterdir())[0]
CPUS: Final = (0, 1)


def robustness(answered: int, stop: Mapping[str, int] | None) -> dict[str, Any]:
    """summary.json's robustness figures: `answered` of 16 probes within 1 s, and the
    graceful stop's outcomes."""
    return {
        "slow_clients": {
            "clients": 50,
            "duration_s": 3.0,
            "probes": 16,
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
        else {"in_flight": 10, "request_ms": 1000, "outcomes": dict(stop), "stop_s": 1.5},
    }


def _steps(goodputs: tuple[float, ...]) -> list[dict[str, Any]]:
    steps = json.loads((STEP_SOURCE / "summary.json").read_text())["steps"]
    return [{**step, "rps": rate} for step, rate in zip(steps, goodputs, strict=True)]


# (experiment key, server, workers, threads) -> summary.json fields of each repetition's run;
# a list gives one value per repetition (the goodput), a mapping is every repetition's.
Figures = Mapping[tuple[str, str, int, int], Any]
DECIDED: Final[Figures] = {
    ("io", "runserver", 1, 1): [(38.0, 76.0, 150.0), (37.5, 75.0, 151.0)],
    ("io", "runserver-nothreading", 1, 1): [(19.0, 19.2, 19.1), (19.3, 19.0, 19.4)],
    ("io", "gunicorn", 1, 1): [(19.1, 19.0, 19.2), (19.0, 19.2, 19.1)],
    ("io", "gunicorn", 1, 4): [(19.0, 75.0, 76.0), (19.2, 74.0, 75.5)],
    ("io", "uvicorn", 1, 1): [(19.0, 70.0, 120.0), (19.1, 71.0, 118.0)],
    ("io", "daphne", 1, 1): [(18.0, 60.0, 100.0), (18.2, 61.0, 101.0)],
    ("cpu", "runserver", 1, 1): [50.0, 51.0],
    ("cpu", "gunicorn", 1, 1): [50.5, 50.0],
    ("cpu", "gunicorn", 2, 1): [95.0, 97.0],
    ("overload", "runserver", 1, 1): {"server_threads_peak": 201, "users": 200},
    ("overload", "gunicorn", 1, 1): {"server_threads_peak": 3, "users": 200},
    ("overload", "uvicorn", 1, 1): {"server_threads_peak": 45, "users": 200},
    ("robust_alone", "runserver", 1, 1): {"robustness": robustness(16, {"reset": 10})},
    ("robust_alone", "gunicorn", 2, 1): {"robustness": robustness(0, {"ok": 2, "refused": 8})},
    ("robust_alone", "uwsgi", 2, 1): {"robustness": robustness(0, {"ok": 2, "reset": 8})},
    ("robust_nginx", "runserver", 1, 1): {"robustness": robustness(16, None)},
    ("robust_nginx", "gunicorn", 2, 1): {"robustness": robustness(16, None)},
    ("robust_nginx", "uwsgi", 2, 1): {"robustness": robustness(16, None)},
    ("alone", "gunicorn", 2, 1): [300.0, 305.0],
    ("alone", "uwsgi", 2, 1): [320.0, 318.0],
    ("nginx", "gunicorn", 2, 1): [270.0, 268.0],
    ("nginx", "uwsgi", 2, 1): [290.0, 292.0],
    ("async", "uvicorn", 1, 1): [150.0, 152.0],
    ("async", "daphne", 1, 1): [140.0, 141.0],
    ("recycling", "gunicorn", 2, 1): {
        "worker_restarts": 6,
        "requests": 900,
        "failures": 0,
        "rps": 300.0,
    },
    ("recycling", "uwsgi", 2, 1): {
        "worker_restarts": 5,
        "requests": 950,
        "failures": 0,
        "rps": 316.0,
    },
}


def _page(server: str, debug: bool, request: str, leaks: bool) -> ErrorPageFigures:
    return ErrorPageFigures(
        server=server,
        debug=debug,
        request=request,
        status=404 if request == "unknown URL" else 400,
        content_type="text/html" if leaks else "application/json",
        body_bytes=66_827 if leaks and request != "unknown URL" else (2_376 if leaks else 27),
        traceback_frames=4 if leaks and request != "unknown URL" else 0,
        settings_shown=110 if leaks and request != "unknown URL" else 0,
        environment_variables_shown=31 if leaks and request != "unknown URL" else 0,
        values_masked=21 if leaks and request != "unknown URL" else 0,
        file_paths_shown=9 if leaks and request != "unknown URL" else 0,
        sql_statements_shown=0,
        url_patterns_shown=2 if leaks and request == "unknown URL" else 0,
        versions_shown=("Django 5.2.19", "Python 3.11.7")
        if leaks and request != "unknown URL"
        else (),
        database_url_shown=leaks and request != "unknown URL" and server == "runserver",
    )


ERROR_PAGES: Final = ErrorPagesRecord(
    tuple(
        _page(server, debug, request, leaks=debug)
        for server in ("runserver", "gunicorn")
        for debug in (True, False)
        for request in ("unknown URL", "bad Host header")
    )
)
DEPLOY_CHECK: Final = DeployCheckRecord(
    (
        DeployCheckFigures("development", True, ("security.W009", "security.W018"), 3, "..."),
        DeployCheckFigures("production", False, (), 3, "System check identified no issues"),
    )
)


def _runs(
    index: int, key: str, flags: tuple[str, ...], runs_dir: Path, figures: Figures
) -> list[str]:
    plan = bench_plan(flags, CPUS)
    names = []
    for repeat in range(plan.repeats):
        for server in plan.servers:
            spec = server.spec
            value = figures[(key, spec.name, server.workers, server.threads)]
            meta: dict[str, Any] = {
                "server": spec.name,
                "scenario": plan.scenario,
                "users": plan.users,
                "workers": server.workers,
                "threads": server.threads if spec.threads_supported else None,
                "max_requests": plan.max_requests,
                "checks": list(plan.checks),
                "errors_expected": plan.errors_expected,
            }
            if isinstance(value, Mapping):
                summary = dict(value)
                source = SOURCE
            elif isinstance(value[repeat], tuple):
                summary = {"steps": _steps(value[repeat]), "rps": value[repeat][-1]}
                source = STEP_SOURCE
            else:
                summary = {"rps": value[repeat]}
                source = SOURCE
            suffix = f"b{index:02d}w{server.workers}t{server.threads}r{repeat}"
            run = derive_run(runs_dir, suffix, summary, meta, source=source)
            names.append(run.name)
    return names


def build_lesson(results: Path, figures: Figures = DECIDED) -> Path:
    """<results>/runs and <results>/lesson/experiments.json (and the probes' files) for
    every section, as a tiny lesson would leave them; returns the lesson directory."""
    lesson_dir = results / "lesson"
    (lesson_dir / PROBES_DIR).mkdir(parents=True, exist_ok=True)
    benches: list[dict[str, Any]] = []
    for index, planned in enumerate(plan_lesson(tuple(SECTIONS), TINY, CPUS)):
        serves = [list(pair) for pair in planned.serves]
        if planned.probe is not None:
            record = ERROR_PAGES if planned.probe == "error_pages" else DEPLOY_CHECK
            file = f"{PROBES_DIR}/{planned.probe}.json"
            (lesson_dir / file).write_text(json.dumps(record.to_json()))
            benches.append({"probe": planned.probe, "serves": serves, "file": file})
            continue
        key = planned.serves[0][1]
        runs = _runs(index, key, planned.flags, results / "runs", figures)
        benches.append({"flags": list(planned.flags), "serves": serves, "runs": runs})
    document = {"mode": TINY.name, "benches": benches}
    (lesson_dir / "experiments.json").write_text(json.dumps(document))
    return lesson_dir
