"""The report's verdict tables (scripts/reporting/verdict_tables.py) on the committed fixture
runs and on runs derived from them (tests/fixtures/derived_runs.py).

Expected figures come from the runs' own summary.json, read here with json, and from
scipy directly, never through the code under test.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from scripts.records.schema import VerdictGroup, VerdictsRecord
from scripts.reporting.load import RunRecord, load_results
from scripts.reporting.select import discover_run_dirs
from scripts.reporting.verdict_tables import (
    FEW_RUNS_NOTE,
    ONE_CONFIGURATION_NOTE,
    VerdictOptions,
    judge_results,
    known_baselines,
)
from tests.fixtures.derived_runs import FIXTURE_RUNS, derive_side

TIGHT = (240.0, 241.0, 239.0, 240.5)


def runs_of(results_dir: Path) -> tuple[RunRecord, ...]:
    return load_results(results_dir, discover_run_dirs(results_dir)).runs


def fixture_record(**options: Any) -> VerdictsRecord:
    return judge_results(runs_of(FIXTURE_RUNS.parent), VerdictOptions(**options))


def group_of(record: VerdictsRecord, users: int) -> VerdictGroup:
    (group,) = [group for group in record.groups if group.users == users]
    return group


def summary_rps(server: str, users: int) -> list[float]:
    """Goodput of each usable fixture run of `server` at `users`, from summary.json."""
    values = []
    for run_dir in sorted(FIXTURE_RUNS.iterdir()):
        try:
            meta = json.loads((run_dir / "meta.json").read_text())
            summary = json.loads((run_dir / "summary.json").read_text())
        except (OSError, ValueError):
            continue
        if meta["status"] == "ok" and meta["server"] == server and meta["users"] == users:
            values.append(float(summary["rps"]))
    return values


def test_group_with_repeats_is_judged_against_its_best() -> None:
    group = group_of(fixture_record(), 4)
    (table,) = group.tables
    geomeans = {
        server: math.exp(statistics.fmean(map(math.log, summary_rps(server, 4))))
        for server in ("runserver", "gunicorn", "uvicorn")
    }
    best = max(geomeans, key=lambda server: geomeans[server])
    assert table.reference == "best" and table.reference_label == best
    goodput = {v.candidate: v for v in table.verdicts if v.metric == "goodput_rps"}
    assert set(goodput) == set(geomeans) - {best}
    for server, verdict in goodput.items():
        cand, base = np.log(summary_rps(server, 4)), np.log(summary_rps(best, 4))
        welch = stats.ttest_ind(cand, base, equal_var=False)
        assert verdict.ratio == pytest.approx(geomeans[server] / geomeans[best], rel=1e-9)
        assert verdict.p_value == pytest.approx(float(welch.pvalue), rel=1e-9)
        assert verdict.baseline_n == verdict.candidate_n == 2
    # Holm ran over every p-value of the table at once, and the table says so.
    raw = [v.p_value for v in table.verdicts if v.p_value is not None]
    assert table.family_size == len(raw) == 4
    holm = multipletests(raw, alpha=0.05, method="holm")[1]
    assert [v.holm_p_value for v in table.verdicts] == pytest.approx(list(holm), rel=1e-12)
    assert (
        table.rule
        == f"Holm over {table.family_size} comparisons, alpha 0.05, practical threshold 5 %"
    )


def test_p99_from_too_few_samples_is_not_compared_and_says_so() -> None:
    (table,) = group_of(fixture_record(), 4).tables
    assert {v.metric for v in table.verdicts} == {"goodput_rps", "p50_ms"}
    assert {entry.metric for entry in table.not_compared} == {"p99_ms"}
    assert all("needs 1,000 samples" in entry.reason for entry in table.not_compared)


def test_p99_is_compared_where_every_run_has_enough_samples(tmp_path: Path) -> None:
    results = derive_side(tmp_path, "a", TIGHT, summary={"requests": 1000})
    derive_side(results, "b", TIGHT, summary={"requests": 1000}, meta={"server": "uvicorn"})
    (group,) = judge_results(runs_of(results), VerdictOptions()).groups
    (table,) = group.tables
    assert {v.metric for v in table.verdicts} == {"goodput_rps", "p50_ms", "p99_ms"}
    assert table.not_compared == ()


def test_group_without_repeats_has_no_table_and_says_not_enough_data() -> None:
    group = group_of(fixture_record(), 12)
    assert group.tables == ()
    assert group.notes == (FEW_RUNS_NOTE,)
    assert "not enough data" in FEW_RUNS_NOTE


def test_no_repeats_anywhere_gives_a_headline_that_says_so(tmp_path: Path) -> None:
    results = derive_side(tmp_path, "a", TIGHT[:1])
    record = judge_results(runs_of(results), VerdictOptions())
    assert record.headline[0].startswith("No verdicts (not enough data")
    assert all(not group.tables for group in record.groups)


def test_one_configuration_with_repeats_says_so_not_that_repeats_are_missing(
    tmp_path: Path,
) -> None:
    results = derive_side(tmp_path, "a", TIGHT)
    record = judge_results(runs_of(results), VerdictOptions())
    (group,) = record.groups
    assert group.tables == () and group.notes == (ONE_CONFIGURATION_NOTE,)
    assert record.headline == (f"No verdicts ({ONE_CONFIGURATION_NOTE}).",)
    assert group.configurations[0].goodput_cv is not None


def test_baseline_table_and_its_headline(tmp_path: Path) -> None:
    results = derive_side(tmp_path, "g", TIGHT)
    derive_side(results, "u", [value * 1.2 for value in TIGHT], meta={"server": "uwsgi"})
    derive_side(results, "d", [value * 0.5 for value in TIGHT], meta={"server": "daphne"})
    record = judge_results(runs_of(results), VerdictOptions(baseline="gunicorn"))
    (group,) = record.groups
    best, baseline = group.tables
    assert (best.reference, best.reference_label) == ("best", "uwsgi")
    assert (baseline.reference, baseline.reference_label) == ("baseline", "gunicorn")
    goodput = {v.candidate: v for v in baseline.verdicts if v.metric == "goodput_rps"}
    assert goodput["uwsgi"].outcome == "faster" and goodput["daphne"].outcome == "slower"
    assert goodput["uwsgi"].ratio == pytest.approx(1.2, rel=1e-9)
    # The headline speaks from the baseline table, in plain sentences.
    assert any(
        sentence.startswith("uwsgi served 20 % more requests per second than gunicorn")
        for sentence in record.headline
    )
    assert any("daphne served 50 % fewer" in sentence for sentence in record.headline)


def test_baseline_that_is_the_best_is_not_tabled_twice() -> None:
    record = fixture_record(baseline="gunicorn")
    group = group_of(record, 4)
    assert len(group.tables) == 1
    assert any("is this group's best" in note for note in group.notes)


def test_baseline_missing_from_a_group_is_noted() -> None:
    group = group_of(fixture_record(baseline="uwsgi"), 4)
    assert [table.reference for table in group.tables] == ["best"]
    assert "baseline uwsgi has no run in this group" in group.notes


def test_known_baselines_are_servers_and_labels() -> None:
    assert known_baselines(runs_of(FIXTURE_RUNS.parent), pool=False) == {
        "runserver",
        "gunicorn",
        "uvicorn",
    }


def test_goodput_cv_and_noise_warning() -> None:
    group = group_of(fixture_record(), 4)
    for configuration in group.configurations:
        values = summary_rps(configuration.server, 4)
        cv = statistics.stdev(values) / statistics.fmean(values)
        assert configuration.goodput_cv == pytest.approx(cv, rel=1e-9)
        assert configuration.noisy is (cv > 0.05)
    noisy = [c.label for c in group.configurations if c.noisy]
    assert noisy and any(
        "their verdicts are less certain" in s and all(n in s for n in noisy)
        for s in fixture_record().headline
    )


def test_separate_benches_are_not_pooled_unless_asked(tmp_path: Path) -> None:
    results = derive_side(tmp_path, "a", TIGHT[:2], meta={"bench_id": "bench-one"})
    derive_side(results, "b", TIGHT[2:], meta={"bench_id": "bench-two"})
    derive_side(results, "c", TIGHT, meta={"server": "uvicorn", "bench_id": "bench-one"})
    apart = judge_results(runs_of(results), VerdictOptions())
    assert sorted(group.bench_id or "" for group in apart.groups) == ["bench-one", "bench-two"]
    assert not apart.pooled
    pooled = judge_results(runs_of(results), VerdictOptions(pool=True))
    (group,) = pooled.groups
    assert pooled.pooled and group.bench_id is None
    gunicorn = next(c for c in group.configurations if c.server == "gunicorn")
    assert len(gunicorn.run_ids) == 4


def test_verdicts_json_record_round_trips() -> None:
    record = fixture_record(baseline="uvicorn")
    document = json.loads(json.dumps(record.to_json(), allow_nan=False))
    assert VerdictsRecord.from_json(document) == record


def test_profiles_are_configurations_of_their_own_named_in_labels(tmp_path: Path) -> None:
    """One server under dev and production: two sides, never pooled, each label naming its
    profile; the production runs here are copies with their goodput scaled by 0.8."""
    derive_side(tmp_path, "d", TIGHT)
    derive_side(tmp_path, "p", [value * 0.8 for value in TIGHT], meta={"profile": "production"})
    record = judge_results(runs_of(tmp_path), VerdictOptions())
    (group,) = record.groups
    by_profile = {c.profile: c for c in group.configurations}
    assert sorted(by_profile) == ["dev", "production"]
    assert by_profile["dev"].label == "gunicorn 2wx1t · dev"
    assert by_profile["production"].label == "gunicorn 2wx1t · production"
    assert all(len(c.run_ids) == len(TIGHT) for c in group.configurations)
    (table,) = group.tables
    assert table.reference_label == "gunicorn 2wx1t · dev"
    goodput = [v for v in table.verdicts if v.metric == "goodput_rps"]
    assert [(v.candidate, v.outcome) for v in goodput] == [
        ("gunicorn 2wx1t · production", "slower")
    ]
    assert "gunicorn 2wx1t · production" in known_baselines(runs_of(tmp_path), pool=False)
    assert VerdictsRecord.from_json(record.to_json()) == record


def test_one_profile_only_keeps_labels_without_it(tmp_path: Path) -> None:
    derive_side(tmp_path, "p", TIGHT, meta={"profile": "production"})
    derive_side(tmp_path, "u", TIGHT, meta={"profile": "production", "server": "uwsgi"})
    (group,) = judge_results(runs_of(tmp_path), VerdictOptions()).groups
    assert [c.label for c in group.configurations] == ["gunicorn", "uwsgi"]
    assert {c.profile for c in group.configurations} == {"production"}
