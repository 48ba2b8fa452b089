"""scripts/harness/calibration/text.py: the per-pair line and the closing report, on the
committed fixture (a real calibration) and on an interrupted one."""

from __future__ import annotations

from dataclasses import replace

from scripts.harness.calibration.text import pair_line, summary_text
from scripts.records.schema import CalibrationPair, Status
from tests.scripts.harness.calibration.records import fixture_record


def test_pair_line_shows_both_sides_and_the_ratio() -> None:
    first = fixture_record().pairs[0]
    assert pair_line(first) == (
        "pair 1 (W H): wrk 221.2 rps, p50 72.30 ms | harness 245.1 rps, p50 65 ms | ratio 1.108"
    )


def test_summary_has_a_row_per_pair_the_medians_the_verdict_and_every_note() -> None:
    record = fixture_record()
    lines = summary_text(record).splitlines()
    header, rule, *rows = lines[: 2 + len(record.pairs)]
    assert header.split()[:3] == ["pair", "order", "wrk"] and set(rule) == {"-", " "}
    assert len(header) == len(rule) == len(rows[0]), "columns are aligned"
    assert [row.split()[:4] for row in rows] == [
        ["1", "W", "H", "221.2"],
        ["2", "H", "W", "259.5"],
        ["3", "W", "H", "355.9"],
    ]
    assert "  99/96  " in rows[0], "server CPU of both sides, wrk/harness"
    text = "\n".join(lines)
    assert "median ratio harness/wrk: 1.021 (min 0.786, max 1.108)" in text
    assert "1-min load average 0.5 at start, 0.9 at end (2 CPUs)" in text
    assert "target (median ratio >= 0.95): met (median 1.0212)" in text
    assert [line for line in lines if line.startswith("note: ")] == [
        f"note: {note}" for note in (*record.notes, record.token_note)
    ]
    assert not any(line.startswith("status ") for line in lines), "an ok calibration has no reason"


def test_an_interrupted_calibration_is_not_judged_and_says_why() -> None:
    record = replace(
        fixture_record(),
        pairs=(CalibrationPair(index=1, order=("W", "H")),),
        ratio_median=None,
        ratio_min=None,
        ratio_max=None,
        target_met=None,
        load_average_at_end=None,
        status=Status.FAILED,
        reason="interrupted by the user (SIGINT/SIGTERM)",
        notes=(),
    )
    lines = summary_text(record).splitlines()
    assert lines[2].split() == ["1", "W", "H", *["-"] * 5, "-/-", *["-/-"] * 5, "-"]
    assert "median ratio harness/wrk: - (min -, max -)" in lines[5]
    assert "target (median ratio >= 0.95): not judged, status failed" in lines
    assert "status failed: interrupted by the user (SIGINT/SIGTERM)" in lines
    assert not any("load average" in line for line in lines), "no end load average yet"
