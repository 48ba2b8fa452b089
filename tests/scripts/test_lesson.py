"""`make lesson` for real: bad input is one line and exit 2; two sections run live with
1 s windows (slow), their runs in <results>/runs/, the page written and rebuilt, nothing
left behind."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from scripts import lesson
from scripts.lessons.schedule import MODES, TINY, plan_lesson
from scripts.records.schema import read_meta, read_summary
from tests.scripts.benchutil import processes_mentioning

PROJECT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--sections", "9"], "argument --sections: expected all or section numbers from"),
        (["--lesson", "long"], "argument --lesson: invalid choice: 'long'"),
        (["--rebuild"], "nothing to rebuild: "),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        lesson.main([*argv, "--results", str(tmp_path / "results")])
    assert exit_.value.code == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert expected in line
    assert not (tmp_path / "results").exists()


def test_make_lesson_help_names_the_target() -> None:
    done = subprocess.run(
        ["make", "--no-print-directory", "help"], cwd=PROJECT, capture_output=True, text=True
    )
    assert "make lesson [LESSON=quick] [SECTIONS=1,4]" in done.stdout


def test_sections_sharing_a_bench_run_it_once() -> None:
    both = plan_lesson([4, 5], MODES["full"], (0, 1))
    alone = plan_lesson([4], MODES["full"], (0, 1))
    assert len(alone) == 4 and len(both) == 6, "5 adds its two, shares section 4's two"
    assert [planned.probe for planned in alone if planned.probe] == ["error_pages", "deploy_check"]
    shared = [planned for planned in both if len(planned.serves) == 2]
    assert {number for planned in shared for number, _ in planned.serves} == {4, 5}


@pytest.mark.slow
def test_two_sections_live_write_the_page_from_their_own_runs(tmp_path: Path) -> None:
    status = lesson.main(["--tiny", "--sections", "2,7", "--results", str(tmp_path)])
    assert status == 0
    recorded = json.loads((tmp_path / "lesson" / "experiments.json").read_text())
    assert recorded["mode"] == TINY.name and len(recorded["benches"]) == 3
    run_ids = [run for entry in recorded["benches"] for run in entry["runs"]]
    assert sorted(run_ids) == sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert len(run_ids) == 3 * 2 + 3 + 2, "section 2: 3 configs x 2; section 7: 3 servers + 2"
    page = (tmp_path / "lesson" / "index.html").read_text()
    assert "id='section-2'" in page and "id='section-7'" in page
    assert page.count("data:image/png;base64,") == 2
    for run_id in run_ids:
        meta = read_meta(tmp_path / "runs" / run_id / "meta.json")
        assert meta.status.value == "ok", meta.reason
        if "robustness" in meta.checks:
            summary = read_summary(tmp_path / "runs" / run_id / "summary.json")
            assert summary.robustness is not None
            assert summary.robustness["slow_clients"]["duration_s"] == 3.0
        assert processes_mentioning(run_id) == []
    # rebuilding from experiments.json gives the same verdicts
    before = (tmp_path / "lesson" / "lesson.md").read_text()
    assert lesson.main(["--rebuild", "--results", str(tmp_path)]) == 0
    after = (tmp_path / "lesson" / "lesson.md").read_text()

    def verdicts(text: str) -> list[str]:
        return [line for line in text.splitlines() if "Verdict" in line]

    assert verdicts(before) == verdicts(after) and len(verdicts(after)) == 2
    # section 7's recycling: every production server replaced workers under load
    assert "workers and failed" in after, after
