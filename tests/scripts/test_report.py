"""`make report` (`python -m scripts.report`) over the committed fixture runs
(tests/fixtures/README.md). Unit tests of the modules are in tests/scripts/reporting/.

Expected figures are computed here straight from the fixtures' own files (Locust's
locust_stats.csv and meta.json), never through the report's functions, so a report that
reads, filters or aggregates wrongly cannot agree with itself by accident.
"""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pytest
from matplotlib import image as mpimg

from scripts import report

PROJECT_DIR = Path(__file__).resolve().parents[2]
FIXTURES = PROJECT_DIR / "tests" / "fixtures"
FIXTURE_RUNS = FIXTURES / "runs"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The hand-edited runs (tests/fixtures/README.md): suffix -> the status the report must give.
BROKEN = {"fa11ed": "failed", "c0ffee": "unreadable", "0dd0dd": "unreadable"}
# summary.csv column -> Locust's column in locust_stats.csv
LOCUST_FIGURES = {
    "requests": "Request Count",
    "failures": "Failure Count",
    "rps": "Requests/s",
    "p50_ms": "50%",
    "p90_ms": "90%",
    "p95_ms": "95%",
    "p99_ms": "99%",
    "p999_ms": "99.9%",
}


@dataclass(frozen=True)
class Produced:
    """A report written into a private copy of the fixtures."""

    results: Path
    output: Path
    stdout: str

    @property
    def charts(self) -> list[Path]:
        return sorted((self.output / "charts").glob("*.png"))

    def csv_rows(self, name: str) -> list[dict[str, str]]:
        with (self.output / name).open(newline="") as handle:
            return list(csv.DictReader(handle))


def copy_fixtures(target: Path) -> Path:
    shutil.copytree(FIXTURE_RUNS, target / "runs")
    return target


def run_report(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert report.main(list(argv)) == 0
    return capsys.readouterr().out


def is_broken(run_dir: Path) -> bool:
    return run_dir.name.rsplit("-", 1)[1] in BROKEN


def aggregated_row(run_dir: Path) -> dict[str, str]:
    with (run_dir / "locust_stats.csv").open(newline="") as handle:
        return next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")


def expected_summary() -> dict[tuple[str, int], dict[str, object]]:
    """(server, users) -> run count and the median of each figure over its good runs."""
    groups: dict[tuple[str, int], list[dict[str, str]]] = {}
    for run_dir in sorted(FIXTURE_RUNS.iterdir()):
        if is_broken(run_dir):
            continue
        meta = json.loads((run_dir / "meta.json").read_text())
        assert meta["status"] == "ok"
        groups.setdefault((meta["server"], meta["users"]), []).append(aggregated_row(run_dir))
    expected: dict[tuple[str, int], dict[str, object]] = {}
    for key, rows in groups.items():
        figures: dict[str, object] = {"runs": len(rows)}
        for name, column in LOCUST_FIGURES.items():
            values = [float(row[column]) for row in rows]
            figures[name] = statistics.median(values)
            figures[f"{name}_min"] = min(values)
            figures[f"{name}_max"] = max(values)
        expected[key] = figures
    return expected


@pytest.fixture(scope="module")
def produced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Produced]:
    """The report of every fixture run, written to the default place (<results>/report)."""
    results = copy_fixtures(tmp_path_factory.mktemp("results"))
    # One run gets a (tiny) Locust report, to check the link to it.
    linked = sorted(path for path in (results / "runs").iterdir() if not is_broken(path))[0]
    (linked / "locust.html").write_text("<html><body>Locust</body></html>\n")
    stdout = StringIO()
    with redirect_stdout(stdout):
        assert report.main(["--results", str(results)]) == 0
    yield Produced(results=results, output=results / "report", stdout=stdout.getvalue())


def test_fixtures_are_what_the_readme_says() -> None:
    names = [path.name for path in FIXTURE_RUNS.iterdir()]
    assert len(names) == 12
    assert sorted(name.rsplit("-", 1)[1] for name in names if is_broken(FIXTURE_RUNS / name)) == [
        "0dd0dd",
        "c0ffee",
        "fa11ed",
    ]
    # Small, and without Locust's ~1 MB HTML report.
    assert sum(path.stat().st_size for path in FIXTURE_RUNS.rglob("*") if path.is_file()) < 400_000
    assert not list(FIXTURE_RUNS.glob("*/locust.html"))


def test_summary_csv_matches_locust_stats(produced: Produced) -> None:
    expected = expected_summary()
    rows = produced.csv_rows("summary.csv")
    got = {(row["server"], int(row["users"])): row for row in rows}
    assert set(got) == set(expected)
    assert len(rows) == len(expected)
    for key, figures in expected.items():
        row = got[key]
        assert row["scenario"] == "read"
        assert float(row["duration_s"]) == 3.0
        for name, value in figures.items():
            assert math.isclose(float(row[name]), float(str(value)), rel_tol=1e-9), (key, name)
        failures = float(row["failures"])
        requests = float(row["requests"])
        assert float(row["error_rate"]) == pytest.approx(failures / requests if requests else 0)


def test_failed_and_corrupt_runs_are_listed_not_counted(produced: Produced) -> None:
    summary = produced.csv_rows("summary.csv")
    used = {run_id for row in summary for run_id in row["run_ids"].split(";")}
    runs = {row["run_id"]: row for row in produced.csv_rows("runs.csv")}
    assert len(runs) == 12
    for run_id, row in runs.items():
        suffix = run_id.rsplit("-", 1)[1]
        if suffix in BROKEN:
            assert row["status"] == BROKEN[suffix]
            assert row["reason"]
            assert run_id not in used
        else:
            assert row["status"] == "ok"
            assert run_id in used
    reasons = {run_id.rsplit("-", 1)[1]: row["reason"] for run_id, row in runs.items()}
    assert "hand-edited" in reasons["fa11ed"]
    assert "meta.json is not valid JSON" in reasons["c0ffee"]
    assert "summary.json is missing" in reasons["0dd0dd"]
    page = (produced.output / "index.html").read_text()
    markdown = (produced.output / "summary.md").read_text()
    for run_id in runs:
        if run_id.rsplit("-", 1)[1] in BROKEN:
            assert run_id in page
            assert run_id in markdown
    for line in produced.stdout.splitlines()[1:]:
        assert line.strip().split(":", 1)[0] in {"failed", "unreadable"}


def test_every_chart_is_a_valid_png(produced: Produced) -> None:
    names = {path.name for path in produced.charts}
    expected = {
        f"read-u{users}-3s-{kind}.png"
        for users in (4, 12)
        for kind in ("throughput", "failures", "latency", "distribution", "timeline", "resources")
    } | {"users-read-3s.png"}
    assert names == expected
    for path in produced.charts:
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE), path.name
        pixels = mpimg.imread(path)
        height, width = pixels.shape[:2]
        assert height >= 300 and width >= 500, path.name
        assert pixels.std() > 0.05, f"{path.name} looks blank"


def test_resource_figures_come_from_summary_json(produced: Produced) -> None:
    expected: dict[tuple[str, int], list[float]] = {}
    for run_dir in FIXTURE_RUNS.iterdir():
        if not is_broken(run_dir):
            summary = json.loads((run_dir / "summary.json").read_text())
            key = (summary["server"], summary["users"])
            expected.setdefault(key, []).append(summary["server_cpu_pct"])
    for row in produced.csv_rows("summary.csv"):
        values = expected[(row["server"], int(row["users"]))]
        assert float(row["server_cpu_pct"]) == pytest.approx(statistics.median(values))
        assert float(row["server_cpu_pct_max"]) == pytest.approx(max(values))


def test_html_page_is_self_contained(produced: Produced) -> None:
    page = (produced.output / "index.html").read_text()
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == len(produced.charts)
    # Nothing is fetched: every src is a data URI, no style sheet or script is linked.
    sources = re.findall(r'\bsrc="([^"]*)"', page)
    assert sources and all(source.startswith("data:image/png;base64,") for source in sources)
    assert re.search(r"<(script|link|iframe)\b", page) is None
    linked = [
        path.name
        for path in (produced.results / "runs").iterdir()
        if (path / "locust.html").exists()
    ]
    assert len(linked) == 1
    assert f'href="../runs/{linked[0]}/locust.html"' in page
    assert page.count("no Locust report") == 11
    # Every run's settings are on the page.
    for run_dir in (produced.results / "runs").iterdir():
        assert f'id="run-{run_dir.name}"' in page
    assert "gunicorn.conf.py" in page


def test_summary_markdown_has_a_table_per_group(produced: Produced) -> None:
    markdown = (produced.output / "summary.md").read_text()
    assert "## scenario read · 4 users · 3 s window" in markdown
    assert "## scenario read · 12 users · 3 s window" in markdown
    assert "runserver (dev)" in markdown
    assert "## Runs not in the numbers" in markdown


def test_timing_line(produced: Produced) -> None:
    first = produced.stdout.splitlines()[0]
    assert re.fullmatch(
        r"report: 12 runs \(9 ok, 3 left out\), 13 charts in \d+\.\d s -> .*index\.html", first
    ), first


def test_runs_filter_by_glob(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = copy_fixtures(tmp_path)
    output = tmp_path / "out"
    run_report(capsys, "--results", str(results), "--runs", "*-gunicorn-*", "--output", str(output))
    summary = list(csv.DictReader((output / "summary.csv").open()))
    assert {row["server"] for row in summary} == {"gunicorn"}
    runs = list(csv.DictReader((output / "runs.csv").open()))
    assert {row["server"] for row in runs} == {"gunicorn"}
    assert len(runs) == 4  # two at 4 users, one at 12, and the failed copy


def test_runs_filter_by_ids(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = copy_fixtures(tmp_path)
    good = sorted(path.name for path in FIXTURE_RUNS.iterdir() if not is_broken(path))
    chosen = [name for name in good if "-u12-" in name][:2]
    output = tmp_path / "out"
    run_report(
        capsys,
        "--results",
        str(results),
        "--runs",
        f" {chosen[0]}, {chosen[1]} ",
        "--output",
        str(output),
    )
    runs = list(csv.DictReader((output / "runs.csv").open()))
    assert sorted(row["run_id"] for row in runs) == sorted(chosen)
    summary = list(csv.DictReader((output / "summary.csv").open()))
    assert sorted(row["run_ids"] for row in summary) == sorted(chosen)
    # A single user count: no users chart.
    assert not list((output / "charts").glob("users-*.png"))


def test_runs_filter_matching_nothing_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = copy_fixtures(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        report.main(["--results", str(results), "--runs", "*-gunicorn-*,nope-*"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "'nope-*'" in error
    assert not (results / "report").exists()


@pytest.mark.parametrize("layout", ["missing", "no runs dir", "empty runs dir", "only partial"])
def test_no_runs_is_one_line_and_status_2(tmp_path: Path, layout: str) -> None:
    results = tmp_path / "results"
    if layout != "missing":
        results.mkdir()
    if layout in {"empty runs dir", "only partial"}:
        (results / "runs").mkdir()
    if layout == "only partial":
        (results / "runs" / ".partial-20260101T000000Z-gunicorn-read-u4-abcdef").mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "scripts.report", "--results", str(results)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("report: error: ")
    assert ("does not exist" if layout == "missing" else "no runs in") in lines[0]
    assert not (results / "report").exists()


def test_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scripts.report", "--help"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0
    for flag in ("--results", "--runs", "--output"):
        assert flag in done.stdout


def test_invalid_and_only_unusable_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = copy_fixtures(tmp_path)
    target = sorted(path for path in (results / "runs").glob("*-uvicorn-read-u12-*"))[0]
    meta = json.loads((target / "meta.json").read_text())
    meta.update(status="invalid", reason="load generator saturated")
    (target / "meta.json").write_text(json.dumps(meta))
    output = tmp_path / "out"
    stdout = run_report(
        capsys, "--results", str(results), "--runs", target.name, "--output", str(output)
    )
    assert "no usable run" in stdout
    runs = list(csv.DictReader((output / "runs.csv").open()))
    assert [(row["status"], row["reason"]) for row in runs] == [
        ("invalid", "load generator saturated")
    ]
    assert list(csv.DictReader((output / "summary.csv").open())) == []
    assert not list((output / "charts").glob("*.png"))
    assert "No usable run" in (output / "index.html").read_text()


def test_runs_without_resource_samples(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Runs made before resource sampling: no resources chart and no resource columns."""
    results = copy_fixtures(tmp_path)
    for samples in (results / "runs").glob("*/resources.csv"):
        samples.unlink()
    for summary_path in (results / "runs").glob("*/summary.json"):
        summary = json.loads(summary_path.read_text())
        for name in ("server_cpu_pct", "server_rss_peak_mb", "loadgen_cpu_pct"):
            summary.pop(name, None)
        summary_path.write_text(json.dumps(summary))
    output = tmp_path / "out"
    stdout = run_report(capsys, "--results", str(results), "--output", str(output))
    assert "9 ok" in stdout
    charts = {path.name for path in (output / "charts").glob("*.png")}
    assert len(charts) == 11
    assert not any("resources" in name for name in charts)
    assert "server CPU" not in (output / "summary.md").read_text()


def test_rerun_replaces_old_charts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = copy_fixtures(tmp_path)
    run_report(capsys, "--results", str(results))
    run_report(capsys, "--results", str(results), "--runs", "*-u4-*")
    names = {path.name for path in (results / "report" / "charts").glob("*.png")}
    assert names and all(name.startswith("read-u4-") for name in names)


def _break_empty_stats(run_dir: Path) -> None:
    (run_dir / "locust_stats.csv").write_text("")


def _break_truncated_stats(run_dir: Path) -> None:
    text = (run_dir / "locust_stats.csv").read_text()
    (run_dir / "locust_stats.csv").write_text(text.splitlines()[0] + "\n")


def _break_meta_field(run_dir: Path) -> None:
    meta = json.loads((run_dir / "meta.json").read_text())
    meta["users"] = "four"
    (run_dir / "meta.json").write_text(json.dumps(meta))


def _break_schema(run_dir: Path) -> None:
    meta = json.loads((run_dir / "meta.json").read_text())
    meta["schema_version"] = 99
    (run_dir / "meta.json").write_text(json.dumps(meta))


def _break_meta_missing(run_dir: Path) -> None:
    (run_dir / "meta.json").unlink()


def _break_summary_not_object(run_dir: Path) -> None:
    (run_dir / "summary.json").write_text("[1, 2]")


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (_break_empty_stats, "locust_stats.csv cannot be parsed"),
        (_break_truncated_stats, "locust_stats.csv has no Aggregated row"),
        (_break_meta_field, "meta.json lacks or mistypes users"),
        (_break_schema, "schema_version 99"),
        (_break_meta_missing, "meta.json is missing"),
        (_break_summary_not_object, "summary.json is not a JSON object"),
    ],
)
def test_damaged_runs_are_unreadable_not_fatal(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    damage: Callable[[Path], None],
    reason: str,
) -> None:
    results = copy_fixtures(tmp_path)
    target = sorted((results / "runs").glob("*-gunicorn-read-u12-*"))[0]
    damage(target)
    output = tmp_path / "out"
    run_report(capsys, "--results", str(results), "--runs", "*-u12-*", "--output", str(output))
    runs = {row["run_id"]: row for row in csv.DictReader((output / "runs.csv").open())}
    assert runs[target.name]["status"] == "unreadable"
    assert reason in runs[target.name]["reason"]
    summary = list(csv.DictReader((output / "summary.csv").open()))
    assert {row["server"] for row in summary} == {"runserver", "uvicorn"}


def test_missing_history_and_window_are_notes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = copy_fixtures(tmp_path)
    no_history, no_window = sorted((results / "runs").glob("*-u12-*"))[:2]
    (no_history / "locust_stats_history.csv").unlink()
    (no_window / "window.json").unlink()
    output = tmp_path / "out"
    run_report(capsys, "--results", str(results), "--runs", "*-u12-*", "--output", str(output))
    runs = {row["run_id"]: row for row in csv.DictReader((output / "runs.csv").open())}
    assert runs[no_history.name]["status"] == "ok"
    assert "no locust_stats_history.csv" in runs[no_history.name]["notes"]
    assert runs[no_window.name]["status"] == "ok"
    assert "estimated" in runs[no_window.name]["notes"]
    assert (output / "charts" / "read-u12-3s-timeline.png").exists()


STEP_RUNS = FIXTURES / "step_runs" / "runs"
STEP_FILE = re.compile(r"locust_stats_step\d+_u(\d+)\.csv")


def test_step_runs_give_one_group_per_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each step of a step-load run is a window at its own user count; steps are never put
    in the same group as constant-load runs at that user count."""
    shutil.copytree(STEP_RUNS, tmp_path / "runs")
    for run_dir in FIXTURE_RUNS.glob("*-read-u4-*"):
        if not is_broken(run_dir):
            shutil.copytree(run_dir, tmp_path / "runs" / run_dir.name)
    output = tmp_path / "out"
    run_report(capsys, "--results", str(tmp_path), "--output", str(output))
    expected: dict[tuple[str, int], dict[str, str]] = {}
    for run_dir in STEP_RUNS.iterdir():
        server = json.loads((run_dir / "meta.json").read_text())["server"]
        for stats in run_dir.glob("locust_stats_step*.csv"):
            match = STEP_FILE.fullmatch(stats.name)
            assert match is not None
            with stats.open(newline="") as handle:
                rows = csv.DictReader(handle)
                expected[(server, int(match[1]))] = next(
                    row for row in rows if row["Name"] == "Aggregated"
                )
    summary = list(csv.DictReader((output / "summary.csv").open()))
    stepped = {
        (row["server"], int(row["users"])): row for row in summary if row["shape"] == "steps"
    }
    assert set(stepped) == set(expected) and len(expected) == 6
    for key, locust in expected.items():
        for name, column in LOCUST_FIGURES.items():
            assert float(stepped[key][name]) == pytest.approx(float(locust[column])), (key, name)
    constant = [row for row in summary if row["shape"] == "constant"]
    assert {(row["server"], row["users"], row["runs"]) for row in constant} == {
        ("runserver", "4", "2"),
        ("gunicorn", "4", "2"),
        ("uvicorn", "4", "2"),
    }
    charts = {path.name for path in (output / "charts").glob("*.png")}
    assert "users-read-3s-steps.png" in charts
    assert "read-u4-3s-steps-throughput.png" in charts and "read-u4-3s-throughput.png" in charts
    # A step run's history spans every step: no per-step timeline or resource chart.
    assert not any(name.endswith(("steps-timeline.png", "steps-resources.png")) for name in charts)
    assert "read-u4-3s-timeline.png" in charts
    assert "scenario read · 4 users · 3 s window · step load" in (output / "summary.md").read_text()


def test_calibrations_appear_in_the_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = copy_fixtures(tmp_path)
    shutil.copytree(FIXTURES / "calibrations", results / "calibrations")
    run_report(capsys, "--results", str(results))
    page = (results / "report" / "index.html").read_text()
    document = json.loads(next((FIXTURES / "calibrations").glob("*/calibration.json")).read_text())
    assert '<section id="calibration">' in page
    assert 'href="#calibration"' in page
    assert f"{document['ratio_median']:.2f}" in page
