"""`make compare` (`python -m scripts.compare`): exit statuses on fixture result directories,
refusals, and compare.json / compare.html.

Sides are derived from a committed real run (tests/fixtures/derived_runs.py) with goodput
values chosen here: four tight values and the same scaled by 0.8 are "slower" at n = 4, the
same tight values shuffled are "no detectable difference", and values spread by +-20 % are
"inconclusive". The expected ratio is computed here from the values themselves.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from scripts import compare
from scripts.options.exit_status import ExitStatus
from scripts.records.schema import CompareRecord, read_compare
from tests.fixtures.derived_runs import FIXTURE_RUNS, derive_side

PROJECT_DIR = Path(__file__).resolve().parents[2]
TIGHT = (240.0, 241.0, 239.0, 240.5)
SHUFFLED = (240.5, 239.0, 241.0, 240.0)
WIDE = (200.0, 290.0, 230.0, 260.0)


def run_compare(
    capsys: pytest.CaptureFixture[str], base: Path | str, cand: Path | str, *more: str
) -> tuple[int, str, str]:
    try:
        status = compare.main(["--base", str(base), "--cand", str(cand), *more])
    except SystemExit as exit_:
        status = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


def sides(
    tmp_path: Path, base: tuple[float, ...], cand: tuple[float, ...], **cand_meta: object
) -> tuple[Path, Path]:
    return (
        derive_side(tmp_path / "base", "b", base),
        derive_side(tmp_path / "cand", "c", cand, meta=cand_meta or None),
    )


def written(output: Path) -> CompareRecord:
    return read_compare(output / "compare.json")


def test_clearly_slower_candidate_exits_4(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    slower = tuple(value * 0.8 for value in TIGHT)
    base, cand = sides(tmp_path, TIGHT, slower)
    output = tmp_path / "out"
    status, out, _ = run_compare(capsys, base, cand, "--output", str(output))
    assert status == ExitStatus.SLOWER == 4
    record = written(output)
    goodput = record.configurations[0].verdicts[0]
    assert goodput.metric == "goodput_rps" and goodput.outcome == "slower"
    expected = math.exp(sum(map(math.log, slower)) / 4 - sum(map(math.log, TIGHT)) / 4)
    assert goodput.ratio == pytest.approx(expected, rel=1e-9)
    assert goodput.ci_high is not None and goodput.ci_high < 1
    assert "slower" in out and "exit 4" in out
    assert record.exit_status == 4


def test_same_tight_distribution_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, cand = sides(tmp_path, TIGHT, SHUFFLED)
    output = tmp_path / "out"
    status, out, _ = run_compare(capsys, base, cand, "--output", str(output))
    assert status == ExitStatus.OK == 0, out
    outcomes = {v.metric: v.outcome for v in written(output).configurations[0].verdicts}
    assert outcomes == {
        "goodput_rps": "no detectable difference",
        "p50_ms": "no detectable difference",
    }


def test_wide_distribution_exits_5(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, cand = sides(tmp_path, WIDE, tuple(reversed(WIDE)))
    output = tmp_path / "out"
    status, out, _ = run_compare(capsys, base, cand, "--output", str(output))
    assert status == ExitStatus.NO_VERDICT == 5
    goodput = written(output).configurations[0].verdicts[0]
    assert goodput.outcome == "inconclusive" and goodput.repetitions_to_decide is not None
    assert "cannot be ruled out" in out


def test_one_run_per_side_is_not_enough_data_and_exits_5(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, cand = sides(tmp_path, TIGHT[:1], TIGHT[:1])
    output = tmp_path / "out"
    status, _, _ = run_compare(capsys, base, cand, "--output", str(output))
    assert status == 5
    outcomes = {v.outcome for v in written(output).configurations[0].verdicts}
    assert outcomes == {"not enough data"}


def test_failed_candidate_runs_leave_not_enough_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A candidate whose runs all failed is still matched, and cannot pass."""
    base, cand = sides(tmp_path, TIGHT, TIGHT, status="failed", reason="died")
    output = tmp_path / "out"
    status, _, _ = run_compare(capsys, base, cand, "--output", str(output))
    assert status == 5
    configuration = written(output).configurations[0]
    assert configuration.candidate_run_ids == ()
    assert configuration.verdicts[0].outcome == "not enough data"


def test_different_scenarios_are_refused_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, cand = sides(tmp_path, TIGHT, TIGHT, scenario="write")
    output = tmp_path / "out"
    status, out, err = run_compare(capsys, base, cand, "--output", str(output))
    assert status == ExitStatus.BAD_INPUT == 2
    assert err.count("\n") == 1
    assert "scenario differs" in err and "read" in err and "write" in err
    assert not output.exists() and not out


def test_a_different_machine_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, cand = sides(tmp_path, TIGHT, TIGHT, cpu_model="Other CPU")
    status, _, err = run_compare(capsys, base, cand, "--output", str(tmp_path / "out"))
    assert status == 2
    assert "cpu_model differs" in err and "Other CPU" in err and "AMD EPYC" in err


@pytest.mark.parametrize(
    ("base", "cand", "message"),
    [
        ("missing-dir/", "x", "no such directory"),
        ("nomatch-*", "x", "no run matches"),
    ],
)
def test_bad_sides_exit_2(
    base: str, cand: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = derive_side(tmp_path / "results", "b", TIGHT)
    status, _, err = run_compare(capsys, base, cand, "--results", str(results))
    assert status == 2 and message in err
    assert not (results / "compare").exists()


def test_bad_threshold_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, cand = sides(tmp_path, TIGHT, TIGHT)
    status, _, err = run_compare(capsys, base, cand, "--threshold", "0.01")
    assert status == 2 and "percentage" in err


def test_threshold_changes_the_verdict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A 10 % slowdown is "slower" at a 5 % threshold and not at 20 %."""
    base, cand = sides(tmp_path, TIGHT, tuple(value * 0.9 for value in TIGHT))
    assert run_compare(capsys, base, cand, "--output", str(tmp_path / "a"))[0] == 4
    status, _, _ = run_compare(
        capsys, base, cand, "--threshold", "20", "--output", str(tmp_path / "b")
    )
    assert status != 4
    assert written(tmp_path / "b").threshold == pytest.approx(0.2)


def test_unwritable_output_exits_6(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, cand = sides(tmp_path, TIGHT, SHUFFLED)
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where the output directory should go\n")
    status, _, err = run_compare(capsys, base, cand, "--output", str(blocker))
    assert status == ExitStatus.NOT_WRITTEN == 6
    assert "cannot write" in err


def test_compare_json_round_trips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, cand = sides(tmp_path, TIGHT, tuple(value * 0.8 for value in TIGHT))
    output = tmp_path / "out"
    run_compare(capsys, base, cand, "--output", str(output))
    document = json.loads((output / "compare.json").read_text())
    record = CompareRecord.from_json(document)
    assert record.to_json() == document
    assert CompareRecord.from_json(json.loads(json.dumps(record.to_json()))) == record
    assert document["format"] == "drf-bench-compare"


def test_compare_html_is_self_contained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, cand = sides(tmp_path, TIGHT, tuple(value * 0.8 for value in TIGHT))
    output = tmp_path / "out"
    run_compare(capsys, base, cand, "--output", str(output))
    page = (output / "compare.html").read_text()
    record = written(output)
    assert page.startswith("<!DOCTYPE html>")
    assert "src=" not in page and "<link" not in page and "<script" not in page
    assert "slower" in page and record.rule in page
    for run_id in record.configurations[0].base_run_ids:
        assert run_id in page


def test_a_side_may_be_run_ids_under_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = derive_side(tmp_path / "results", "b", TIGHT)
    derive_side(results, "c", tuple(value * 0.8 for value in TIGHT))
    status, _, _ = run_compare(capsys, "*-b0?", "*-c0?", "--results", str(results))
    assert status == 4
    record = written(results / "compare")
    assert all(
        run_id.endswith(("b00", "b01", "b02", "b03"))
        for run_id in record.configurations[0].base_run_ids
    )


def test_a_a_on_the_committed_fixtures_is_never_faster_or_slower(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same runs as BASE and CAND: the real, noisy fixture runs."""
    results = FIXTURE_RUNS.parent
    output = tmp_path / "out"
    status, _, _ = run_compare(capsys, results, results, "--output", str(output))
    assert status in {0, 5}
    verdicts = [v for c in written(output).configurations for v in c.verdicts]
    assert verdicts
    assert {v.outcome for v in verdicts} <= {
        "no detectable difference",
        "inconclusive",
        "not enough data",
    }
    assert all(v.ratio is None or v.ratio == pytest.approx(1.0) for v in verdicts)


def test_a_a_on_tight_runs_is_no_detectable_difference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    side = derive_side(tmp_path / "results", "b", TIGHT)
    status, _, _ = run_compare(capsys, side, side, "--output", str(tmp_path / "out"))
    assert status == 0
    outcomes = {v.outcome for c in written(tmp_path / "out").configurations for v in c.verdicts}
    assert outcomes == {"no detectable difference"}


def test_make_compare_maps_variables_to_flags(tmp_path: Path) -> None:
    """The Makefile target passes BASE, CAND, THRESHOLD and RESULTS on (exit 4 comes back)."""
    results = derive_side(tmp_path / "results", "b", TIGHT)
    derive_side(results, "c", tuple(value * 0.8 for value in TIGHT))
    completed = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "compare",
            "BASE=*-b0?",
            "CAND=*-c0?",
            "THRESHOLD=5",
            f"RESULTS={results}",
        ],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "compare: the candidate is slower" in completed.stdout, completed.stderr
    assert completed.returncode != 0  # make reports the CLI's 4 as its own failure
    assert (results / "compare" / "compare.json").is_file()


def test_help_lists_the_exit_statuses() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "scripts.compare", "--help"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "4 slower" in completed.stdout and "5 no verdict" in completed.stdout


def test_a_different_profile_is_refused_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, cand = sides(tmp_path, TIGHT, TIGHT, profile="production")
    output = tmp_path / "out"
    status, out, err = run_compare(capsys, base, cand, "--output", str(output))
    assert status == ExitStatus.BAD_INPUT
    assert "profile differs: base dev, candidate production" in err
    assert not output.exists() and not out


def test_profiles_are_matched_profile_by_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Both sides hold dev and production runs: each profile is compared with itself only
    (the candidate's production runs are 20 % slower, its dev runs the same)."""
    base = derive_side(tmp_path / "base", "bd", TIGHT)
    derive_side(base, "bp", TIGHT, meta={"profile": "production"})
    cand = derive_side(tmp_path / "cand", "cd", SHUFFLED)
    slower = [value * 0.8 for value in TIGHT]
    derive_side(cand, "cp", slower, meta={"profile": "production"})
    output = tmp_path / "out"
    status, _, _ = run_compare(capsys, base, cand, "--output", str(output))
    assert status == ExitStatus.SLOWER
    by_profile = {c.profile: c for c in written(output).configurations}
    assert sorted(by_profile) == ["dev", "production"]
    assert by_profile["production"].label.startswith("gunicorn 2wx1t · production ")
    assert all(
        run_id.split("-")[-1].startswith("cp")
        for run_id in by_profile["production"].candidate_run_ids
    )
    goodput = {p: c.verdicts[0] for p, c in by_profile.items()}
    assert goodput["production"].outcome == "slower"
    assert goodput["dev"].outcome == "no detectable difference"
