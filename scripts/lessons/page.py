"""The lesson written out: `lesson.md` and a self-contained `index.html` with its charts.

Each section shows the claim with its source, the experiment in one sentence and the exact
command that reproduces it, a chart, the key figures, the comparisons with their CIs, and
the verdict with its reason. Charts are PNGs beside the page and embedded in it as data
URIs (as in the report), so the page can be mailed or opened from anywhere.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import matplotlib

matplotlib.use("Agg")

import numpy as np
from matplotlib.figure import Figure

from scripts.lessons.findings import Figure as FigureRow
from scripts.lessons.findings import Finding, Rating, Series
from scripts.lessons.judges import figure_columns
from scripts.lessons.recommendation import Recommendation, recommend
from scripts.lessons.sections import Section
from scripts.reporting.charts_style import DPI, series_style
from servers.registry import SERVERS

RATING_COLOURS: Final = {
    Rating.CONFIRMED: "#2ca02c",
    Rating.PARTLY_TRUE: "#bcbd22",
    Rating.OUT_OF_DATE: "#d62728",
    Rating.NOT_SUPPORTED: "#7f7f7f",
}
STYLE: Final = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
blockquote { border-left: 4px solid #ccc; margin: 0.5em 0; padding: 0.2em 1em; color: #444; }
code, pre { background: #f4f4f4; padding: 0.1em 0.3em; white-space: pre-wrap;
            word-break: break-all; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; height: auto; }
.rating { display: inline-block; padding: 0.15em 0.6em; border-radius: 4px; color: white;
          font-weight: bold; }
section { border-top: 1px solid #ddd; margin-top: 2em; }
.wide { max-width: 100%; overflow-x: auto; }
"""


@dataclass(frozen=True)
class SectionResult:
    section: Section
    finding: Finding
    commands: tuple[str, ...]


def _label_style(label: str) -> tuple[str, str]:
    """(colour, hatch) of a configuration label, by its server."""
    server = label.split(" ")[0]
    spec = SERVERS.get(server)
    style = series_style(server, spec.production_grade if spec else True)
    return style.colour, style.hatch


def draw_chart(series: Series, path: Path) -> Path:
    """One PNG for a section's chart: lines over users, or grouped bars."""
    figure = Figure(figsize=(9, 4.6), dpi=DPI, layout="constrained")
    axes = figure.subplots()
    positions = np.arange(len(series.x))
    lines = list(series.lines.items())
    if series.kind == "line":
        for label, values in lines:
            colour, _ = _label_style(label)
            ys = [np.nan if value is None else value for value in values]
            dashed = "--" if label.startswith("runserver") else "-"
            axes.plot(positions, ys, marker="o", linestyle=dashed, color=colour, label=label)
    else:
        width = 0.8 / max(len(lines), 1)
        for index, (label, values) in enumerate(lines):
            ys = [0.0 if value is None else value for value in values]
            offsets = positions + (index - (len(lines) - 1) / 2) * width
            if len(lines) == 1:  # one bar per configuration, in its server's colours
                styles = [_label_style(x_label) for x_label in series.x]
                bars = axes.bar(offsets, ys, width, color=[colour for colour, _ in styles])
                for bar, (_, hatch) in zip(bars, styles, strict=True):
                    bar.set_hatch(hatch)
            else:  # one bar per series at each x, the second hatched
                axes.bar(offsets, ys, width, label=label, hatch="///" if index else "")
    axes.set_xticks(positions, series.x)
    axes.set_xlabel(series.x_label)
    axes.set_ylabel(series.y_label)
    axes.grid(axis="y", alpha=0.3)
    if len(lines) > 1:
        axes.legend(fontsize=9)
    figure.suptitle(series.title, fontsize=12, fontweight="bold")
    figure.savefig(path)
    return path


def _md_table(finding: Finding) -> list[str]:
    lines = _md_rows(finding.figures, "configuration")
    for table in finding.tables:
        lines += ["", f"*{table.title}*", "", *_md_rows(table.figures, table.label)]
    return lines


def _md_rows(figures: Sequence[FigureRow], label: str) -> list[str]:
    columns = figure_columns(figures)
    if not columns:
        return []
    lines = [f"| {label} | " + " | ".join(columns) + " |"]
    lines.append("|---" * (len(columns) + 1) + "|")
    for figure in figures:
        cells = [figure.cells.get(column, "-") for column in columns]
        lines.append(f"| {figure.label} | " + " | ".join(cells) + " |")
    return lines


def markdown(results: Sequence[SectionResult], mode: str, header: str) -> str:
    lines = ["# Why runserver is not for production, measured on this machine", "", header, ""]
    for result in results:
        section, finding = result.section, result.finding
        lines += [f"## {section.number}. {section.title}", ""]
        lines += [f'> "{claim.text}" ({claim.source})' for claim in section.claims]
        lines += ["", section.experiment, "", "Reproduce:", ""]
        lines += [f"    {line}" for command in result.commands for line in command.splitlines()]
        lines += ["", f"**Verdict: {finding.rating.value}**" + _quick(mode), "", finding.reason]
        lines += ["", f"![chart](section{section.number}.png)", "", *_md_table(finding), ""]
        lines += [f"- {comparison}" for comparison in finding.comparisons]
        lines += [f"- caveat: {caveat}" for caveat in finding.caveats]
        lines.append("")
    advice = _recommendation(results)
    lines += ["## Recommendation" + _quick(mode), ""]
    lines += [f"- {line}" for line in advice.lines] or [NOTHING_SUPPORTED]
    if advice.unsupported:
        lines += ["", "Not supported by this run: " + "; ".join(advice.unsupported) + "."]
    lines.append("")
    return "\n".join(lines)


_SECTION_NAMED: Final = re.compile(r"section (\d+)")
NOTHING_SUPPORTED: Final = "This run supports no recommendation: no section it rests on decided."


def _recommendation(results: Sequence[SectionResult]) -> Recommendation:
    return recommend({result.section.number: result.finding for result in results})


def _recommendation_html(results: Sequence[SectionResult], mode: str) -> str:
    advice = _recommendation(results)
    shown = {result.section.number for result in results}

    def linked(text: str) -> str:
        """The line with each "section N" it names linked to that section on the page."""
        return _SECTION_NAMED.sub(
            lambda match: (
                f"<a href='#section-{match[1]}'>{match[0]}</a>"
                if int(match[1]) in shown
                else match[0]
            ),
            _e(text),
        )

    parts = [f"<section id='recommendation'><h2>Recommendation{_e(_quick(mode))}</h2>"]
    if advice.lines:
        parts.append("<ul>" + "".join(f"<li>{linked(line)}</li>" for line in advice.lines))
        parts.append("</ul>")
    else:
        parts.append(f"<p>{_e(NOTHING_SUPPORTED)}</p>")
    if advice.unsupported:
        parts.append(f"<p>Not supported by this run: {_e('; '.join(advice.unsupported))}.</p>")
    parts.append("</section>")
    return "".join(parts)


def _quick(mode: str) -> str:
    return "" if mode == "full" else f" ({mode} lesson: 2 repetitions, short windows)"


def _e(text: object) -> str:
    return html.escape(str(text))


def _html_table(finding: Finding) -> str:
    parts = [_html_rows(finding.figures, "configuration")]
    for table in finding.tables:
        parts.append(f"<h3>{_e(table.title)}</h3>")
        parts.append(_html_rows(table.figures, table.label))
    return "".join(parts)


def _html_rows(figures: Sequence[FigureRow], label: str) -> str:
    columns = figure_columns(figures)
    if not columns:
        return ""
    head = "".join(f"<th>{_e(column)}</th>" for column in [label, *columns])
    rows = "".join(
        "<tr><td>"
        + _e(figure.label)
        + "</td>"
        + "".join(f"<td>{_e(figure.cells.get(column, '-'))}</td>" for column in columns)
        + "</tr>"
        for figure in figures
    )
    return f"<div class='wide'><table><tr>{head}</tr>{rows}</table></div>"


def page_html(
    results: Sequence[SectionResult], charts: dict[int, Path], mode: str, header: str
) -> str:
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>Why runserver is not for production</title><style>{STYLE}</style></head><body>",
        "<h1>Why runserver is not for production, measured on this machine</h1>",
        f"<p>{_e(header)}</p>",
        "<nav><ul>",
        *(
            f"<li><a href='#section-{r.section.number}'>{r.section.number}. "
            f"{_e(r.section.title)}</a></li>"
            for r in results
        ),
        "<li><a href='#recommendation'>Recommendation</a></li></ul></nav>",
    ]
    for result in results:
        section, finding = result.section, result.finding
        colour = RATING_COLOURS[finding.rating]
        parts.append(f"<section id='section-{section.number}'>")
        parts.append(f"<h2>{section.number}. {_e(section.title)}</h2>")
        parts += [
            f"<blockquote>&ldquo;{_e(claim.text)}&rdquo; ({_e(claim.source)})</blockquote>"
            for claim in section.claims
        ]
        parts.append(f"<p>{_e(section.experiment)}</p><p>Reproduce:</p>")
        parts += [f"<pre>{_e(command)}</pre>" for command in result.commands]
        parts.append(
            f"<p><span class='rating' style='background:{colour}'>{_e(finding.rating.value)}"
            f"</span>{_e(_quick(mode))} {_e(finding.reason)}</p>"
        )
        chart = charts.get(section.number)
        if chart is not None:
            data = base64.b64encode(chart.read_bytes()).decode("ascii")
            title = finding.chart.title if finding.chart else ""
            parts.append(f"<img src='data:image/png;base64,{data}' alt='{_e(title)}'>")
        parts.append(_html_table(finding))
        if finding.comparisons:
            parts.append("<ul>" + "".join(f"<li>{_e(c)}</li>" for c in finding.comparisons))
            parts.append("</ul>")
        if finding.caveats:
            parts.append("<ul>" + "".join(f"<li>caveat: {_e(c)}</li>" for c in finding.caveats))
            parts.append("</ul>")
        parts.append("</section>")
    parts.append(_recommendation_html(results, mode))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_lesson(
    results: Sequence[SectionResult], output_dir: Path, mode: str, header: str
) -> Path:
    """lesson.md, index.html and one PNG per section chart into `output_dir`."""
    output_dir.mkdir(parents=True, exist_ok=True)
    charts = {
        result.section.number: draw_chart(
            result.finding.chart, output_dir / f"section{result.section.number}.png"
        )
        for result in results
        if result.finding.chart is not None
    }
    (output_dir / "lesson.md").write_text(markdown(results, mode, header))
    index = output_dir / "index.html"
    index.write_text(page_html(results, charts, mode, header))
    return index
