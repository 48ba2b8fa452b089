"""`make report` over runs of several deployments (issue 19): profiles apart, dev vs
production side by side, the proxy's and database's CPU.

The runs are copies of committed real runs (tests/fixtures/derived_runs.py) whose meta.json
says they ran under another profile. Their Locust statistics stay the real runs', so the
expected goodput and p99 are read here from those files; the proxy and database CPU figures
are test inputs, set in summary.json as a share of the real run's own server CPU and read
back from the copies, never written here as literals.
"""

from __future__ import annotations

import csv
import json
import re
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path
from typing import Any

from scripts import report
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
