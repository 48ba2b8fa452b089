"""index.html: the whole report as one self-contained page.

Charts are embedded as base64 data URIs and the style sheet is inline, so the page can be
mailed, archived or opened offline and still show everything. Links to each run's Locust
report are relative, so they work wherever the results directory is moved as a whole.
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import pandas as pd

from scripts.records.schema import VerdictsRecord
from scripts.reporting.calibration import calibration_section
from scripts.reporting.charts import PROFILES_SECTION, ChartFile
from scripts.reporting.charts_style import DEV_NOTE
from scripts.reporting.left_out import left_out_html
from scripts.reporting.load import STATUS_MEANINGS, RunRecord, RunStatus
from scripts.reporting.noise import NoiseReport, noise_section_html
from scripts.reporting.noise import headline_html as noise_headline_html
from scripts.reporting.open_model import SECTION as OPEN_MODEL_SECTION
from scripts.reporting.open_model import open_model_html
from scripts.reporting.profile_pairs import GroupPairs, profiles_html
from scripts.reporting.robustness import robustness_html
from scripts.reporting.tables import Cell, display_rows, groups_of
from scripts.reporting.verdict_html import VERDICT_STYLE, headline_html, verdicts_section_html

STYLE: Final = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #1b1b1b; background: #fafafa; line-height: 1.45; }
main { max-width: 1300px; margin: 0 auto; padding: 24px 32px 64px; }
h1 { margin: 0 0 4px; font-size: 28px; }
h2 { margin-top: 40px; border-bottom: 2px solid #ddd; padding-bottom: 4px; }
.meta { color: #555; margin: 0 0 16px; }
nav a { margin-right: 14px; }
table { border-collapse: collapse; margin: 12px 0 20px; background: white; font-size: 14px; }
th, td { border: 1px solid #d6d6d6; padding: 5px 9px; text-align: right; vertical-align: top; }
th { background: #eef1f5; }
table.numbers td { white-space: nowrap; }
td:first-child, th:first-child, table.text td, table.text th { text-align: left; }
tr.dev td:first-child { color: #b00000; font-weight: 600; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px; }
figure { margin: 0; background: white; border: 1px solid #e2e2e2; padding: 8px; }
figure.wide { grid-column: 1 / -1; }
.table-scroll { overflow-x: auto; }
.spread { color: #666; font-size: 12px; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption { color: #555; font-size: 13px; padding-top: 4px; }
.notes li { margin-bottom: 6px; }
.status { font-weight: 600; padding: 1px 6px; border-radius: 4px; color: white; }
.status-ok { background: #2e7d32; }
.status-failed { background: #c62828; }
.status-invalid { background: #ef6c00; }
.status-unreadable { background: #6a1b9a; }
.warning { border-left: 5px solid #c62828; background: #fff3f3; padding: 8px 14px; }
.legend-dev { color: #b00000; }
details { margin: 6px 0; background: white; border: 1px solid #e2e2e2; padding: 6px 10px; }
summary { cursor: pointer; font-family: ui-monospace, monospace; }
pre { white-space: pre-wrap; word-break: break-word; font-size: 12px; }
"""

# Columns of the runs table: heading -> meta.json field.
RUN_SETTINGS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "server": "server",
        "version": "server_version",
        "profile": "profile",
        "workers": "workers",
        "threads": "threads",
        "scenario": "scenario",
        "users": "users",
        "window s": "duration_s",
        "warm-up s": "warmup_s",
        "repeat": "repeat_index",
        "pinning": "placement.mode",
        "started (UTC)": "started_at",
    }
)


@dataclass(frozen=True)
class PageInput:
    """What the page shows; everything is already computed."""

    results_dir: Path
    output_dir: Path
    runs: Sequence[RunRecord]
    summary: pd.DataFrame
    charts: Sequence[ChartFile]
    notes: Sequence[str]
    selection: str
    verdicts: VerdictsRecord | None = None
    sizing_html: str = ""  # the "How many workers" section (scripts/reporting/sizing.py)
    noise: NoiseReport | None = None
    profile_pairs: Sequence[GroupPairs] = ()  # dev vs production (profile_pairs.py)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _table(
    headings: Sequence[str],
    rows: Sequence[Sequence[str]],
    row_classes: Sequence[str] = (),
    kind: str = "text",
) -> str:
    """A table of already-escaped cells; `kind` "numbers" right-aligns and never wraps."""
    head = "".join(f"<th>{heading}</th>" for heading in headings)
    body = []
    for index, cells in enumerate(rows):
        css = (
            f' class="{row_classes[index]}"'
            if index < len(row_classes) and row_classes[index]
            else ""
        )
        body.append(f"<tr{css}>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    return (
        f'<div class="table-scroll"><table class="{kind}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _status_badge(status: RunStatus) -> str:
    meaning = _e(STATUS_MEANINGS.get(status, ""))
    name = _e(status.value)
    return f'<span class="status status-{name}" title="{meaning}">{name}</span>'


def _image(chart: ChartFile) -> str:
    data = base64.b64encode(chart.path.read_bytes()).decode("ascii")
    css = ' class="wide"' if chart.wide else ""
    return (
        f'<figure{css}><img src="data:image/png;base64,{data}" alt="{_e(chart.title)}">'
        f"<figcaption>{_e(chart.title)} ({_e(chart.path.name)})</figcaption></figure>"
    )


def _locust_link(run: RunRecord, output_dir: Path) -> str:
    if not run.has_locust_html:
        return "<em>no Locust report</em>"
    target = os.path.relpath(run.path / "locust.html", output_dir)
    return f'<a href="{_e(Path(target).as_posix())}">Locust report</a>'


def _cell_html(cell: Cell) -> str:
    spread = f'<br><span class="spread">{_e(cell.spread)}</span>' if cell.spread else ""
    return _e(cell.value) + spread


def _summary_section(page: PageInput) -> str:
    parts = []
    for group, rows in groups_of(page.summary):
        headings, cells = display_rows(rows)
        classes = ["" if bool(grade) else "dev" for grade in rows["production_grade"]]
        parts.append(f'<section class="group" id="group-{_e(group.slug)}">')
        parts.append(f"<h2>{_e(group.label)}</h2>")
        if group.stepped:
            parts.append(
                "<p>Steps of step-load runs: this window followed the run's lower steps "
                "without a restart. A step run's time series span all its steps: see its "
                "Locust report.</p>"
            )
        parts.append(
            _table(
                [_e(heading) for heading in headings],
                [[_cell_html(cell) for cell in row] for row in cells],
                classes,
                kind="numbers",
            )
        )
        images = [_image(chart) for chart in page.charts if chart.section == group.label]
        parts.append('<div class="charts">' + "".join(images) + "</div>")
        parts.append("</section>")
    return "\n".join(parts)


def _profiles_section(page: PageInput) -> str:
    images = [_image(chart) for chart in page.charts if chart.section == PROFILES_SECTION]
    return profiles_html(page.profile_pairs, images)


def _users_section(page: PageInput) -> str:
    charts = [chart for chart in page.charts if chart.section == "users"]
    if not charts:
        return ""
    intro = (
        "<p>Lines join one server's figures across user counts: separate runs (each user "
        "count its own comparison group) or the steps of step-load runs (marked step load); "
        "the two are never drawn together.</p>"
    )
    images = "".join(map(_image, charts))
    return (
        f'<section id="users"><h2>Scaling with users</h2>{intro}<div class="charts">{images}</div>'
        "</section>"
    )


def _excluded_section(page: PageInput) -> str:
    badges = {run.run_id: _status_badge(run.status) for run in page.runs}
    return left_out_html(page.runs, badges)


def _notes_section(page: PageInput) -> str:
    notes = list(page.notes)
    if not notes:
        return ""
    items = "".join(f"<li>{_e(note)}</li>" for note in notes)
    return f'<section id="notes"><h2>Notes</h2><ul class="notes">{items}</ul></section>'


def _settings_json(run: RunRecord) -> str:
    """meta.json as written (the typed record would add defaults the file does not hold)."""
    return json.dumps(dict(run.meta_document), indent=2, sort_keys=True, default=str)


def _runs_section(page: PageInput) -> str:
    headings = ["run", "status", *RUN_SETTINGS, "git", "report"]
    rows = []
    for run in page.runs:
        sha = str(run.setting("git_sha") or "")[:10]
        dirty = "+dirty" if run.setting("git_dirty") else ""
        rows.append(
            [
                f'<a href="#run-{_e(run.run_id)}">{_e(run.run_id)}</a>',
                _status_badge(run.status),
                *(_e(run.setting(field)) for field in RUN_SETTINGS.values()),
                _e(sha + dirty),
                _locust_link(run, page.output_dir),
            ]
        )
    details = []
    for run in page.runs:
        extra = ""
        if run.reason:
            extra += f"<p><strong>{_e(run.status.value)}:</strong> {_e(run.reason)}</p>"
        if run.notes:
            extra += "<ul>" + "".join(f"<li>{_e(note)}</li>" for note in run.notes) + "</ul>"
        settings = _e(_settings_json(run)) if run.meta_document else "(meta.json unreadable)"
        details.append(
            f'<details id="run-{_e(run.run_id)}">'
            f"<summary>{_e(run.run_id)} — {_e(run.status.value)}</summary>"
            f"{extra}<p>Directory: {_e(run.path)}</p><pre>{settings}</pre></details>"
        )
    return (
        '<section id="runs"><h2>Runs and their settings</h2>'
        + _table([_e(heading) for heading in headings], rows)
        + "<p>Every run's full meta.json (command line, server configuration, versions, CPU):</p>"
        + "".join(details)
        + "</section>"
    )


def _counts(runs: Sequence[RunRecord]) -> str:
    counts: dict[str, int] = {}
    for run in runs:
        counts[run.status.value] = counts.get(run.status.value, 0) + 1
    return ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))


def render_page(page: PageInput) -> str:
    """The complete HTML document."""
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    nav_links = [
        f'<a href="#group-{_e(group.slug)}">{_e(group.label)}</a>'
        for group, _ in groups_of(page.summary)
    ]
    verdicts = verdicts_section_html(page.verdicts)
    if verdicts:
        nav_links.insert(0, '<a href="#verdicts">verdicts</a>')
    profiles = _profiles_section(page)
    if profiles:
        nav_links.append('<a href="#profiles">dev vs production</a>')
    robustness = robustness_html(page.runs)
    if robustness:
        nav_links.append('<a href="#robustness">robustness</a>')
    open_model = open_model_html(
        page.runs, [_image(chart) for chart in page.charts if chart.section == OPEN_MODEL_SECTION]
    )
    if open_model:
        nav_links.append('<a href="#open-model">open model</a>')
    if any(chart.section == "users" for chart in page.charts):
        nav_links.append('<a href="#users">scaling with users</a>')
    if page.sizing_html:
        nav_links.append('<a href="#sizing">how many workers</a>')
    noise = noise_section_html(page.noise) if page.noise else ""
    if noise:
        nav_links.append('<a href="#noise">noise</a>')
    calibration = calibration_section(page.results_dir)
    if calibration:
        nav_links.append('<a href="#calibration">wrk cross-check</a>')
    nav_links.append('<a href="#runs">runs</a>')
    empty = (
        '<p class="warning">No usable run among the selected ones: no numbers to show.</p>'
        if page.summary.empty
        else ""
    )
    body = [
        "<main>",
        "<h1>DRF server benchmark report</h1>",
        f'<p class="meta">Generated {_e(generated)} from <code>{_e(page.results_dir)}</code>'
        f" · {len(page.runs)} runs ({_e(_counts(page.runs))})"
        f" · selection: {_e(page.selection)}</p>",
        "<p>Figures cover each run's measured window only (after logins and warm-up). "
        "Percentiles, not averages. With several runs of one configuration, tables show the "
        "median and the min-max range, and charts draw whiskers. Only runs with the same "
        "scenario, user count, window length and load shape share a table or chart. "
        f'<span class="legend-dev">{_e(DEV_NOTE)}.</span></p>',
        noise_headline_html(page.noise) if page.noise else "",
        "<nav>" + " ".join(nav_links) + "</nav>",
        headline_html(page.verdicts),
        empty,
        _excluded_section(page),
        _notes_section(page),
        verdicts,
        _summary_section(page),
        profiles,
        robustness,
        page.sizing_html,
        _users_section(page),
        open_model,
        noise,
        calibration,
        _runs_section(page),
        "</main>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>DRF server benchmark report</title><style>{STYLE}{VERDICT_STYLE}</style>"
        "</head><body>\n" + "\n".join(part for part in body if part) + "\n</body></html>\n"
    )
