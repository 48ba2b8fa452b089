"""How many workers (scripts/reporting/sizing.py): the rule on synthetic per-run rows, and
the section the report writes for a real (fixture) worker sweep."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from scripts.reporting.load import load_results
from scripts.reporting.select import discover_run_dirs
from scripts.reporting.sizing import (
    GOODPUT,
    per_run_rows,
    sizing_answers,
    sizing_markdown,
)
from scripts.reporting.verdicts import Outcome
from scripts.reporting.write import write_report

FIXTURE_RUNS = Path(__file__).resolve().parents[2] / "fixtures" / "runs"


def _rows(
    goodput_by_workers: dict[int, list[float]],
    server: str = "gunicorn",
    threads: int | None = 1,
    users: int = 16,
    profile: str = "dev",
) -> pd.DataFrame:
    """Per-run rows of one sweep: one row per run, as per_run_rows gives them."""
    return pd.DataFrame(
        [
            {
                "run_id": f"{server}-{profile}-{workers}w-{index}",
                "server": server,
                "profile": profile,
                "scenario": "mixed",
                "shape": "constant",
                "users": users,
                "duration_s": 5.0,
                "workers": workers,
                "threads": pd.NA if threads is None else threads,
                GOODPUT: value,
                "server_rss_peak_mb": 40.0 + 30.0 * workers,
                "ready_s": 0.5 + 0.1 * workers,
            }
            for workers, values in goodput_by_workers.items()
            for index, value in enumerate(values)
        ]
    )


def test_the_smallest_count_within_five_percent_of_the_best_median() -> None:
    [answer] = sizing_answers(_rows({1: [400.0], 2: [760.0], 4: [800.0]}))
    assert answer.best.workers == 4
    assert answer.enough.workers == 2  # 760 is 5 % below 800: within
    [answer] = sizing_answers(_rows({1: [400.0], 2: [759.0], 4: [800.0]}))
    assert answer.enough.workers == 4
    assert "4 worker(s): the best median goodput (800.0 rps), and no smaller count within 5 %" in (
        sizing_markdown([answer])
    )
    [answer] = sizing_answers(_rows({4: [700.0], 1: [690.0], 2: [720.0]}))
    assert [count.workers for count in answer.counts] == [1, 2, 4]
    assert (answer.best.workers, answer.enough.workers) == (2, 1)


def test_memory_per_worker_and_time_to_ready_stand_beside_each_count() -> None:
    [answer] = sizing_answers(_rows({1: [400.0], 4: [800.0]}))
    four = answer.counts[1]
    assert four.rss_peak_mb == 160.0 and four.rss_per_worker_mb == 40.0
    assert four.ready_s == 0.9
    text = sizing_markdown([answer])
    assert "| 4 (best) | 1 | 800.0 | +0.0 % | 160.0 | 40.0 | 0.90 |" in text
    assert "| 1 | 1 | 400.0 | -50.0 % | 70.0 | 70.0 | 0.60 |" in text


def test_a_sweep_per_profile_is_answered_apart_and_named() -> None:
    dev = _rows({1: [400.0], 2: [700.0]})
    production = _rows({1: [300.0], 2: [310.0], 4: [320.0]}, profile="production")
    answers = sizing_answers(pd.concat([dev, production], ignore_index=True))
    by_profile = {answer.profile: answer for answer in answers}
    assert sorted(by_profile) == ["dev", "production"]
    assert [c.workers for c in by_profile["dev"].counts] == [1, 2]
    assert [c.workers for c in by_profile["production"].counts] == [1, 2, 4]
    assert by_profile["production"].label == "gunicorn, 1 thread(s) · production"
    # one profile only: no profile in the label
    [alone] = sizing_answers(production)
    assert alone.label == "gunicorn, 1 thread(s)"


def test_only_sweeps_get_an_answer_each_group_and_thread_count_apart() -> None:
    assert sizing_answers(_rows({2: [500.0, 510.0]})) == []
    rows = pd.concat(
        [
            _rows({1: [400.0], 2: [700.0]}),
            _rows({1: [300.0], 2: [650.0]}, threads=4),
            _rows({1: [100.0], 2: [200.0]}, users=64),
            _rows({1: [390.0], 2: [405.0]}, server="uwsgi"),
            _rows({1: [900.0]}, server="daphne", threads=None),
        ],
        ignore_index=True,
    )
    answers = sizing_answers(rows)
    keys = [(a.server, a.threads, a.group.users) for a in answers]
    assert sorted(keys, key=str) == sorted(
        [("gunicorn", 1, 16), ("gunicorn", 4, 16), ("gunicorn", 1, 64), ("uwsgi", 1, 16)], key=str
    )
    labels = {a.label for a in answers}
    assert "gunicorn gthread, 4 thread(s)" in labels
    [uwsgi] = [a for a in answers if a.server == "uwsgi"]
    assert uwsgi.enough.workers == 1


def test_with_repeats_the_verdicts_answer_with_confidence() -> None:
    steady = {1: [400.0, 404.0, 398.0], 2: [781.0, 786.0, 783.0], 4: [800.0, 799.0, 802.0]}
    [answer] = sizing_answers(_rows(steady))
    assert dict((w, v.outcome) for w, v in answer.verdicts) == {
        1: Outcome.SLOWER,
        2: Outcome.NO_DIFFERENCE,
    }
    assert answer.enough.workers == 2
    assert answer.enough_with_confidence is not None
    assert answer.enough_with_confidence.workers == 2
    # the median says 2 workers are enough, but their runs spread too wide to be sure
    noisy = {2: [500.0, 790.0, 1100.0], 4: [800.0, 799.0, 802.0]}
    [answer] = sizing_answers(_rows(noisy))
    assert answer.enough.workers == 2
    [(_, verdict)] = answer.verdicts
    assert verdict.outcome is Outcome.INCONCLUSIVE
    assert answer.enough_with_confidence is not None
    assert answer.enough_with_confidence.workers == 4
    text = sizing_markdown([answer])
    assert "With confidence: 4 worker(s)" in text and "inconclusive" in text


def test_one_run_per_count_says_it_is_a_median_comparison() -> None:
    [answer] = sizing_answers(_rows({1: [400.0], 2: [790.0, 780.0], 4: [800.0]}))
    assert answer.verdicts == () and answer.enough_with_confidence is None
    text = sizing_markdown([answer])
    assert text.startswith("\n## How many workers\n")
    assert "2 worker(s): the smallest count whose median goodput (785.0 rps)" in text
    assert "a median comparison only" in text
    assert sizing_markdown([]) == ""


def _gunicorn_sweep(tmp_path: Path) -> Path:
    """Two fixture gunicorn runs of one group, one of them rewritten to 1 worker."""
    results = tmp_path / "results"
    sources = sorted(FIXTURE_RUNS.glob("*-gunicorn-read-u4-*"))
    ok = [s for s in sources if json.loads((s / "meta.json").read_text())["status"] == "ok"]
    for source in ok[:2]:
        shutil.copytree(source, results / "runs" / source.name)
    one = sorted((results / "runs").iterdir())[0]
    for name in ("meta.json", "summary.json"):
        document = json.loads((one / name).read_text())
        document["workers"] = 1
        (one / name).write_text(json.dumps(document))
    return results


def test_per_run_rows_count_goodput_and_read_time_to_ready(tmp_path: Path) -> None:
    results = _gunicorn_sweep(tmp_path)
    loaded = load_results(results, discover_run_dirs(results))
    rows = per_run_rows(loaded)
    assert sorted(rows["workers"]) == [1, 2]
    for _, row in rows.iterrows():
        meta = json.loads((results / "runs" / row["run_id"] / "meta.json").read_text())
        assert row["ready_s"] == meta["timings_s"]["start"]
        assert row[GOODPUT] == row["rps"] * (1 - row["error_rate"])


def test_the_report_answers_how_many_workers_for_a_sweep(tmp_path: Path) -> None:
    results = _gunicorn_sweep(tmp_path)
    loaded = load_results(results, discover_run_dirs(results))
    index, _ = write_report(loaded, tmp_path / "report", "all runs")
    summary = (tmp_path / "report" / "summary.md").read_text()
    assert "## How many workers" in summary
    assert "### gunicorn, 1 thread(s) · scenario read · 4 users · 3 s window" in summary
    page = index.read_text()
    assert '<section id="sizing"><h2>How many workers</h2>' in page
    assert 'href="#sizing"' in page


def test_no_usable_run_is_no_answer(tmp_path: Path) -> None:
    loaded = load_results(tmp_path, [])
    assert per_run_rows(loaded).empty
    assert sizing_answers(per_run_rows(loaded)) == []
