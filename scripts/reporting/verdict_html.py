"""The report's headline and verdict tables as HTML (index.html), and the verdict table both
the report and compare.html draw.

The rule each table was judged by is printed under it, every time: a "faster" means
nothing without the number of comparisons it survived and the threshold it cleared.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any, Final

from scripts.records.schema import (
    ConfigurationSpread,
    NotCompared,
    VerdictEntry,
    VerdictGroup,
    VerdictsRecord,
    VerdictTable,
)
from scripts.reporting.run_windows import METRIC_HEADINGS
from scripts.reporting.verdict_text import (
    OUTCOME_CLASSES,
    VERDICT_COLUMNS,
    noise_warning,
    verdict_cells,
    verdict_detail,
)
from scripts.reporting.verdicts import MIN_REPETITIONS, NOISY_CV

VERDICT_STYLE: Final = """
.headline li { margin-bottom: 4px; font-size: 16px; }
.verdict { font-weight: 600; }
.verdict-faster { color: #1b5e20; }
.verdict-slower { color: #b71c1c; }
.verdict-inconclusive { color: #8a5300; }
.verdict-same { color: #37474f; }
.verdict-nodata { color: #6a1b9a; }
.noisy { color: #b71c1c; }
.detail { color: #555; font-size: 12px; white-space: normal; display: inline-block;
          min-width: 16em; }
td .verdict { white-space: nowrap; }
.rule { color: #444; font-size: 13px; }
"""

OUTCOMES_EXPLAINED: Final = (
    "Each verdict is Welch's t-test on the logarithm of one figure per run (a run is one "
    "fresh server process), so the change is candidate / baseline of geometric means, with "
    "its 95 % CI. <b>faster</b> / <b>slower</b>: significant after Holm's correction over "
    "every comparison of the table, and beyond the practical threshold; <b>no detectable "
    "difference</b>: the whole 95 % CI lies within the threshold; <b>inconclusive</b>: "
    "neither (a difference beyond the threshold is neither shown nor ruled out; more runs "
    "would decide); <b>not enough data</b>: fewer than "
    f"{MIN_REPETITIONS} usable runs on a side. Baseline and candidate columns show geometric "
    "means and, in brackets, the runs behind them. A p99 is compared only where every run's "
    "window held enough samples for it (loadtests/latency.py)."
)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def table_html(headings: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table of already-escaped cells."""
    head = "".join(f"<th>{heading}</th>" for heading in headings)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return (
        f'<div class="table-scroll"><table class="numbers"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def verdict_row(entry: VerdictEntry, leading: Sequence[str], warning: str) -> list[str]:
    """One row: the escaped leading cells, the verdict's cells, and the noise warning."""
    cells = [_e(cell) for cell in verdict_cells(entry)]
    css = OUTCOME_CLASSES[entry.outcome]
    detail = verdict_detail(entry)
    cells[-1] = f'<span class="verdict verdict-{css}">{cells[-1]}</span>' + (
        f'<br><span class="detail">{_e(detail)}</span>' if detail else ""
    )
    return [*(_e(cell) for cell in leading), *cells, f'<span class="noisy">{_e(warning)}</span>']


def verdict_headings(leading: Sequence[str]) -> list[str]:
    noise = f"noise (goodput CV above {NOISY_CV * 100:g} %)"
    return [*(_e(heading) for heading in leading), *map(_e, VERDICT_COLUMNS), _e(noise)]


def not_compared_html(entries: Sequence[NotCompared]) -> str:
    if not entries:
        return ""
    items = "".join(
        f"<li>{_e(METRIC_HEADINGS.get(e.metric, e.metric))} of {_e(e.candidate)} vs "
        f"{_e(e.baseline)} not compared: {_e(e.reason)}</li>"
        for e in entries
    )
    return f'<ul class="notes">{items}</ul>'


def _configurations_html(configurations: Sequence[ConfigurationSpread]) -> str:
    rows = []
    for configuration in configurations:
        cv = configuration.goodput_cv
        warning = (
            f"above {NOISY_CV * 100:g} %: verdicts less certain" if configuration.noisy else ""
        )
        rows.append(
            [
                _e(configuration.label),
                str(len(configuration.run_ids)),
                "-" if cv is None else f"{cv * 100:.1f} %",
                f'<span class="noisy">{_e(warning)}</span>',
            ]
        )
    return table_html(["configuration", "runs", "goodput CV", ""], rows)


def _table_html(table: VerdictTable, warning_of: Callable[[VerdictEntry], str]) -> str:
    against = "the group's best" if table.reference == "best" else "the baseline"
    rows = [verdict_row(entry, [entry.candidate], warning_of(entry)) for entry in table.verdicts]
    return (
        f"<h4>Against {against}: {_e(table.reference_label)}</h4>"
        + (table_html(verdict_headings(["configuration"]), rows) if rows else "")
        + f'<p class="rule">{_e(table.rule)}.</p>'
        + not_compared_html(table.not_compared)
    )


def _group_html(group: VerdictGroup) -> str:
    cvs = {c.label: c.goodput_cv for c in group.configurations}

    def warning_of(entry: VerdictEntry) -> str:
        return noise_warning({name: cvs.get(name) for name in (entry.candidate, entry.baseline)})

    notes = "".join(f'<p class="warning">{_e(note)}</p>' for note in group.notes)
    tables = "".join(_table_html(table, warning_of) for table in group.tables)
    return f"<h3>{_e(group.label)}</h3>{notes}{_configurations_html(group.configurations)}{tables}"


def headline_html(record: VerdictsRecord | None) -> str:
    """The headline at the top of the page: a few plain sentences from the verdicts."""
    if record is None or not record.headline:
        return ""
    items = "".join(f"<li>{_e(sentence)}</li>" for sentence in record.headline)
    return (
        f'<section id="headline"><h2>Headline</h2><ul class="headline">{items}</ul>'
        '<p>Details and the rule behind each verdict: <a href="#verdicts">verdicts</a>.</p>'
        "</section>"
    )


def _grouping_text(record: VerdictsRecord) -> str:
    if record.pooled:
        return "Repeats from separate benches are pooled (POOL=1) into one group per setting."
    return (
        "Each group is one bench (bench_id): repeats from separate benches are not pooled, "
        "because the machine drifts between them (POOL=1 pools them)."
    )


def verdicts_section_html(record: VerdictsRecord | None) -> str:
    """Every group's configurations, verdict tables and their rules (verdicts.json)."""
    if record is None or not record.groups:
        return ""
    baseline = (
        f" and against the baseline {_e(record.baseline)} (BASELINE)" if record.baseline else ""
    )
    intro = (
        f"<p>Each configuration against its group's best (the highest mean goodput){baseline}, "
        f"for {', '.join(_e(METRIC_HEADINGS.get(m, m)) for m in record.metrics)}. "
        f"{_e(_grouping_text(record))}</p><p>{OUTCOMES_EXPLAINED}</p>"
    )
    groups = "".join(_group_html(group) for group in record.groups)
    return f'<section id="verdicts"><h2>Verdicts</h2>{intro}{groups}</section>'
