"""What `make compare` shows and writes: a console table, compare.json and compare.html.

compare.html is one self-contained page (inline style, no scripts, no images): the
conclusion, then one row per verdict with the rule under the table. compare.json is the
same record (scripts/records/schema/verdicts.py), so a pipeline can read the verdicts
instead of parsing the table.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Final

from scripts.records.schema import CompareRecord
from scripts.records.store import write_json, write_text
from scripts.reporting.verdict_html import (
    VERDICT_STYLE,
    not_compared_html,
    table_html,
    verdict_headings,
    verdict_row,
)
from scripts.reporting.verdict_text import (
    VERDICT_COLUMNS,
    noise_warning,
    verdict_cells,
    verdict_word,
)

JSON_FILE: Final = "compare.json"
HTML_FILE: Final = "compare.html"
BASE_NAME: Final = "BASE"
CAND_NAME: Final = "CAND"
PAGE_STYLE: Final = """
body { font-family: system-ui, sans-serif; margin: 24px 32px; color: #1b1b1b; }
table { border-collapse: collapse; margin: 12px 0; font-size: 14px; }
th, td { border: 1px solid #d6d6d6; padding: 5px 9px; text-align: right; vertical-align: top; }
th { background: #eef1f5; }
td:first-child, th:first-child { text-align: left; }
.conclusion { font-size: 18px; font-weight: 600; }
"""


def _e(value: object) -> str:
    return html.escape(str(value))


def _warning(base_cv: float | None, candidate_cv: float | None) -> str:
    return noise_warning({"base": base_cv, "candidate": candidate_cv})


def compare_text(record: CompareRecord) -> str:
    """The console table: one line per verdict, aligned, the rule and what was left out."""
    headings = ["configuration", *VERDICT_COLUMNS, "noise"]
    rows = [
        [
            c.label,
            *verdict_cells(e)[:-1],
            verdict_word(e),
            _warning(c.base_goodput_cv, c.candidate_goodput_cv),
        ]
        for c in record.configurations
        for e in c.verdicts
    ]
    widths = [max(len(row[i]) for row in (headings, *rows)) for i in range(len(headings))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (headings, *rows)
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    lines.append(f"{record.rule}; baseline and candidate are geometric means (runs).")
    for configuration in record.configurations:
        for caveat in dict.fromkeys(e.caveat for e in configuration.verdicts if e.caveat):
            lines.append(f"caveat: {configuration.label}, {caveat}")
    for configuration in record.configurations:
        for entry in configuration.not_compared:
            lines.append(f"not compared: {configuration.label}, {entry.metric}: {entry.reason}")
    for side, labels in ((BASE_NAME, record.only_in_base), (CAND_NAME, record.only_in_candidate)):
        for label in labels:
            lines.append(f"only in {side}, not compared: {label}")
    return "\n".join(lines)


def compare_html(record: CompareRecord) -> str:
    """compare.html: the conclusion, the verdict table, its rule, and what was left out."""
    rows = [
        verdict_row(e, [c.label], _warning(c.base_goodput_cv, c.candidate_goodput_cv))
        for c in record.configurations
        for e in c.verdicts
    ]
    left_out = "".join(not_compared_html(c.not_compared) for c in record.configurations)
    only = "".join(
        f"<li>only in {side}, not compared: {_e(label)}</li>"
        for side, labels in (
            (BASE_NAME, record.only_in_base),
            (CAND_NAME, record.only_in_candidate),
        )
        for label in labels
    )
    runs = "".join(
        f"<li>{_e(c.label)}: base {_e(', '.join(c.base_run_ids) or 'no usable run')}; "
        f"candidate {_e(', '.join(c.candidate_run_ids) or 'no usable run')}</li>"
        for c in record.configurations
    )
    headline = "".join(f"<li>{_e(sentence)}</li>" for sentence in record.headline[1:])
    body = (
        "<h1>Baseline vs candidate</h1>"
        f"<p>BASE <code>{_e(record.base)}</code> · CAND <code>{_e(record.candidate)}</code></p>"
        f'<p class="conclusion">{_e(record.conclusion)}</p>'
        f'<ul class="headline">{headline}</ul>'
        + table_html(verdict_headings(["configuration"]), rows)
        + f'<p class="rule">{_e(record.rule)}. Change and CI are candidate / base of geometric '
        "means; baseline and candidate columns show the geometric means and the runs behind "
        "them.</p>"
        + left_out
        + (f'<ul class="notes">{only}</ul>' if only else "")
        + f"<h2>Runs</h2><ul>{runs}</ul>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>compare: {_e(record.conclusion)}</title>"
        f"<style>{PAGE_STYLE}{VERDICT_STYLE}</style></head><body>{body}</body></html>\n"
    )


def write_compare(record: CompareRecord, output_dir: Path) -> tuple[Path, Path]:
    """Write compare.json and compare.html (atomically); OSError when they cannot be."""
    output_dir.mkdir(parents=True, exist_ok=True)
    json_path, html_path = output_dir / JSON_FILE, output_dir / HTML_FILE
    write_json(json_path, record.to_json())
    write_text(html_path, compare_html(record))
    return json_path, html_path
