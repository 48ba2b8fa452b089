"""Writing the report's files from loaded results: tables, charts, verdicts and the HTML page."""

from __future__ import annotations

import os
from pathlib import Path

from scripts.records.store import write_json
from scripts.reporting.charts import ChartFile, draw_charts
from scripts.reporting.html import PageInput, render_page
from scripts.reporting.left_out import left_out_markdown
from scripts.reporting.load import LoadedResults
from scripts.reporting.noise import noise_report, with_noise_markdown
from scripts.reporting.open_model import (
    closed_loop_notes,
    draw_open_model_chart,
    open_model_markdown,
)
from scripts.reporting.profile_pairs import profile_pairs, profiles_markdown
from scripts.reporting.robustness import robustness_markdown
from scripts.reporting.sizing import per_run_rows, sizing_answers, sizing_html, sizing_markdown
from scripts.reporting.tables import (
    comparability_notes,
    database_notes,
    resolution_notes,
    runs_table,
    summarize,
    summary_markdown,
    target_notes,
)
from scripts.reporting.verdict_tables import VerdictOptions, judge_results

CHARTS_SUBDIR = "charts"


def _write_text(path: Path, text: str) -> None:
    """Write to a temporary name and rename: a reader never sees half a file."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def _fresh_charts_dir(output_dir: Path) -> Path:
    """The charts directory, emptied of charts from an earlier report."""
    charts_dir = output_dir / CHARTS_SUBDIR
    charts_dir.mkdir(parents=True, exist_ok=True)
    for stale in charts_dir.glob("*.png"):
        stale.unlink()
    return charts_dir


def _run_notes(results: LoadedResults) -> list[str]:
    notes = []
    for run in results.usable_runs:
        if run.summary is not None and run.summary.loadgen_cpu_warning:
            notes.append(
                f"{run.run_id}: Locust reported its own CPU above 90 %; the load generator may "
                "have limited this run."
            )
    return notes


def write_report(
    results: LoadedResults,
    output_dir: Path,
    selection: str,
    verdict_options: VerdictOptions | None = None,
) -> tuple[Path, list[ChartFile]]:
    """Write every report file; return the HTML page's path and the charts drawn."""
    output_dir.mkdir(parents=True, exist_ok=True)
    summary = summarize(results.stats)
    notes = [
        *resolution_notes(summary),
        *comparability_notes(results.runs),
        *database_notes(results.runs),
        *target_notes(results.runs),
        *_run_notes(results),
        *closed_loop_notes(results.runs),
    ]
    sizing = sizing_answers(per_run_rows(results))
    charts_dir = _fresh_charts_dir(output_dir)
    charts = draw_charts(results, summary, charts_dir)
    charts += draw_open_model_chart(results.runs, charts_dir)
    _write_text(output_dir / "summary.csv", summary.to_csv(index=False))
    noise = noise_report(results, summary)
    pairs = profile_pairs(summary)
    markdown = (
        summary_markdown(summary, notes)
        + left_out_markdown(results.runs)
        + profiles_markdown(pairs)
        + robustness_markdown(results.runs)
        + open_model_markdown(results.runs)
        + sizing_markdown(sizing)
    )
    _write_text(output_dir / "summary.md", with_noise_markdown(markdown, noise))
    _write_text(output_dir / "runs.csv", runs_table(results.runs).to_csv(index=False))
    verdicts = judge_results(results.runs, verdict_options or VerdictOptions())
    write_json(output_dir / "verdicts.json", verdicts.to_json())
    page = PageInput(
        results_dir=results.results_dir,
        output_dir=output_dir,
        runs=results.runs,
        summary=summary,
        charts=charts,
        notes=notes,
        selection=selection,
        verdicts=verdicts,
        sizing_html=sizing_html(sizing),
        profile_pairs=tuple(pairs),
        noise=noise,
    )
    index = output_dir / "index.html"
    _write_text(index, render_page(page))
    return index, charts
