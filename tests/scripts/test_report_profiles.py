"""`make report` over runs of several deployments (issue 19): profiles apart, dev vs
production side by side, the proxy's and database's CPU, the robustness checks.

The runs are copies of committed real runs (tests/fixtures/derived_runs.py) whose meta.json
says they ran under another profile. Their Locust statistics stay the real runs', so the
expected goodput and p99 are read here from those files; the proxy and database CPU figures
are test inputs, set in summary.json as a share of the real run's own server CPU and read
back from the copies, never written here as literals. Robustness figures are built with
the harness's own dataclasses and sizes (scripts/harness/robustness.py).
"""

from __future__ import annotations

import csv
import json
import re
from contextlib import redirect_stdout
from http import HTTPStatus
from io import StringIO
from pathlib import Path
from typing import Any

from scripts import report
from scripts.harness.robustness import (
    BODY_BYTES,
    HEADER_BYTES,
    IN_FLIGHT_SLEEP_MS,
    MAX_IN_FLIGHT,
    NORMAL_ANSWER_S,
    PROBE_TIMEOUT_S,
    GracefulStopFigures,
    OversizeFigures,
    RobustnessFigures,
    SlowClientFigures,
)
from tests.fixtures.derived_runs import FIXTURE_RUNS, SOURCE, derive_run

UVICORN = FIXTURE_RUNS / "20261122T111438Z-uvicorn-read-u4-5432d2"
PRODUCTION_META: dict[str, Any] = {
    "profile": "production",
    "proxy": {"version": "nginx/1.22.1", "upstream": "unix socket"},
    "database": {"engine": "postgresql", "managed": True, "cpu_observed": True},
}
EXTERNAL_META: dict[str, Any] = {
    "profile": "none+postgres",
    "database": {"engine": "postgresql", "managed": False, "cpu_observed": False},
}


def deployment_cpu(source: Path) -> dict[str, float]:
    """Test inputs for a production copy of `source`: nginx at a tenth and PostgreSQL at a
    fifth of the real run's server CPU, and their sum with it."""
    server = float(json.loads((source / "summary.json").read_text())["server_cpu_pct"])
    proxy, database = server / 10, server / 5
    return {
        "proxy_cpu_pct": proxy,
        "database_cpu_pct": database,
        "deployment_cpu_pct": server + proxy + database,
    }


def locust_aggregated(source: Path) -> dict[str, str]:
    with (source / "locust_stats.csv").open(newline="") as handle:
        return next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")


def shown(value: float) -> str:
    """A CPU figure as the report's tables print it (whole when whole, else one decimal)."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def produce(results: Path) -> Path:
    with redirect_stdout(StringIO()):
        assert report.main(["--results", str(results)]) == 0
    return results / "report"


def two_profiles(results: Path) -> None:
    """gunicorn and uvicorn, each twice under dev and twice under production."""
    runs = results / "runs"
    for source, tag in ((SOURCE, "g"), (UVICORN, "u")):
        for index in range(2):
            derive_run(runs, f"{tag}dev{index}", source=source)
            derive_run(
                runs,
                f"{tag}prod{index}",
                summary=deployment_cpu(source),
                meta=PRODUCTION_META,
                source=source,
            )


def markdown_section(markdown: str, heading: str) -> str:
    start = markdown.index(heading)
    end = markdown.find("\n## ", start + len(heading))
    return markdown[start : end if end >= 0 else None]


def test_dev_and_production_are_apart_named_and_side_by_side(tmp_path: Path) -> None:
    two_profiles(tmp_path)
    output = produce(tmp_path)
    summary = list(csv.DictReader((output / "summary.csv").open(newline="")))
    assert sorted((row["server"], row["profile"], row["runs"]) for row in summary) == [
        ("gunicorn", "dev", "2"),
        ("gunicorn", "production", "2"),
        ("uvicorn", "dev", "2"),
        ("uvicorn", "production", "2"),
    ]
    labels = [row["label"] for row in summary]
    assert labels == [
        "gunicorn 2wx1t · dev",
        "gunicorn 2wx1t · production",
        "uvicorn 2w · dev",
        "uvicorn 2w · production",
    ]
    markdown = (output / "summary.md").read_text()
    side_by_side = markdown_section(markdown, "## dev vs production")
    for source, server in ((SOURCE, "gunicorn"), (UVICORN, "uvicorn")):
        figures = locust_aggregated(source)
        goodput = f"{float(figures['Requests/s']):,.1f}"
        p99 = shown(float(figures["99%"]))
        (row,) = [line for line in side_by_side.splitlines() if line.startswith(f"| {server} |")]
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[3:] == [goodput, goodput, "1.00x", p99, p99]
    verdicts = json.loads((output / "verdicts.json").read_text())
    (group,) = verdicts["groups"]
    assert sorted(c["label"] for c in group["configurations"]) == sorted(labels)
    page = (output / "index.html").read_text()
    section = re.search(r'<section id="profiles">.*?</section>', page, flags=re.DOTALL)
    assert section is not None and section.group(0).count("<img ") == 1
    assert '<a href="#profiles">' in page
    assert len(list((output / "charts").glob("profiles-*.png"))) == 1


def test_one_profile_only_has_no_side_by_side_and_no_profile_in_labels(tmp_path: Path) -> None:
    for index in range(2):
        derive_run(tmp_path / "runs", f"p{index}", meta=PRODUCTION_META)
    output = produce(tmp_path)
    summary = list(csv.DictReader((output / "summary.csv").open(newline="")))
    assert [row["label"] for row in summary] == ["gunicorn"]
    assert "## dev vs production" not in (output / "summary.md").read_text()
    assert not list((output / "charts").glob("profiles-*.png"))


def test_proxy_and_database_cpu_columns_show_summary_json(tmp_path: Path) -> None:
    two_profiles(tmp_path)
    output = produce(tmp_path)
    markdown = (output / "summary.md").read_text()
    table = [line for line in markdown.splitlines() if line.startswith("| server |")]
    headings = [cell.strip() for cell in table[0].strip("|").split("|")]
    figures = deployment_cpu(SOURCE)
    (row,) = [line for line in markdown.splitlines() if line.startswith("| gunicorn 2wx1t · prod")]
    cells = dict(zip(headings, (cell.strip() for cell in row.strip("|").split("|")), strict=True))
    assert cells["proxy CPU %"] == shown(figures["proxy_cpu_pct"])
    assert cells["database CPU %"] == shown(figures["database_cpu_pct"])
    assert cells["deployment CPU %"] == shown(figures["deployment_cpu_pct"])
    (dev,) = [line for line in markdown.splitlines() if line.startswith("| gunicorn 2wx1t · dev")]
    dev_cells = dict(zip(headings, (c.strip() for c in dev.strip("|").split("|")), strict=True))
    assert dev_cells["proxy CPU %"] == "-"


def test_an_external_database_is_said_not_observed(tmp_path: Path) -> None:
    for index in range(2):
        derive_run(tmp_path / "runs", f"x{index}", meta=EXTERNAL_META)
    output = produce(tmp_path)
    markdown = (output / "summary.md").read_text()
    assert "database CPU %" in markdown
    (row,) = [line for line in markdown.splitlines() if line.startswith("| gunicorn |")]
    assert "not observed (external database)" in row
    assert "The database's CPU was not observed for 2 run(s)" in markdown
    assert (
        "The database&#x27;s CPU was not observed for 2 run(s)"
        in (output / "index.html").read_text()
    )


def robustness_figures(probes: int, slow_answers: int, graceful: bool) -> dict[str, object]:
    """summary.json's `robustness` as the harness writes it (its own dataclasses and sizes):
    `slow_answers` of the probes late, the oversized requests refused with the statuses
    HTTP names for them, and (when `graceful`) every request in flight answered but one."""
    stop = GracefulStopFigures(
        in_flight=MAX_IN_FLIGHT,
        request_ms=IN_FLIGHT_SLEEP_MS,
        outcomes={"ok": MAX_IN_FLIGHT - 1, "reset": 1},
        stop_s=IN_FLIGHT_SLEEP_MS / 1000,
    )
    return RobustnessFigures(
        slow_clients=SlowClientFigures(
            clients=MAX_IN_FLIGHT,
            duration_s=float(probes),
            probes=probes,
            answered=probes,
            answered_within_1s=probes - slow_answers,
            worst_answer_s=PROBE_TIMEOUT_S if slow_answers else NORMAL_ANSWER_S / 10,
            dropped_by_server=0,
        ),
        oversize=OversizeFigures(
            header_bytes=HEADER_BYTES,
            header_status=HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
            body_bytes=BODY_BYTES,
            body_status=None if slow_answers else HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        ),
        graceful_stop=stop if graceful else None,
    ).to_json()


def test_robustness_table_per_server_and_profile(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    derive_run(runs, "dev0", summary={"robustness": robustness_figures(10, 4, graceful=True)})
    derive_run(runs, "dev1", summary={"robustness": robustness_figures(10, 6, graceful=False)})
    derive_run(
        runs,
        "prod0",
        summary={"robustness": robustness_figures(12, 0, graceful=True)},
        meta={**PRODUCTION_META, "checks": ["robustness"]},
    )
    derive_run(runs, "none0", meta={"server": "uwsgi"})  # no checks: no row
    output = produce(tmp_path)
    markdown = (output / "summary.md").read_text()
    section = markdown_section(markdown, "## Robustness")
    rows = {
        tuple(cells[:2]): cells
        for line in section.splitlines()
        if line.startswith("| gunicorn |")
        for cells in [[cell.strip() for cell in line.strip("|").split("|")]]
    }
    assert sorted(rows) == [("gunicorn", "dev"), ("gunicorn", "production")]
    dev, production = rows["gunicorn", "dev"], rows["gunicorn", "production"]
    assert dev[4:7] == ["2", "10 / 20", f"{PROBE_TIMEOUT_S:.2f}"]
    header = f"{int(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)} ({HEADER_BYTES:,} bytes)"
    assert dev[7] == production[7] == header
    assert dev[8] == f"no answer ({BODY_BYTES:,} bytes)"
    assert production[8] == f"{int(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)} ({BODY_BYTES:,} bytes)"
    assert dev[9] == f"ok {MAX_IN_FLIGHT - 1}, reset 1 (of {MAX_IN_FLIGHT})"
    assert production[5:7] == ["12 / 12", f"{NORMAL_ANSWER_S / 10:.2f}"]
    assert "not a gate" in section
    for check in ("Slow clients:", "Oversized input:", "Graceful stop:"):
        assert section.count(check) == 1
    # The checks are figures, not a gate: every run is in the numbers.
    summary = list(csv.DictReader((output / "summary.csv").open(newline="")))
    assert sum(int(row["runs"]) for row in summary) == 4
    assert '<section id="robustness">' in (output / "index.html").read_text()


def test_no_robustness_section_without_the_checks(tmp_path: Path) -> None:
    two_profiles(tmp_path)
    output = produce(tmp_path)
    assert "## Robustness" not in (output / "summary.md").read_text()
    assert 'id="robustness"' not in (output / "index.html").read_text()
