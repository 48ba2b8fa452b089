"""How much of each configuration's spread the recorded machine noise explains, and the
headline of a sweep made on a machine too noisy to rank servers.

Input: every usable run's rps (the report's Aggregated row) and the noise the bench
recorded for it in summary.json: `steal_pct` (CPU the hypervisor took) and
`other_cpu_pct` (busy CPU that was neither the server's nor Locust's), both in percent of
one CPU summed over the machine, and `machine_noisy` (the bench's flag: steal or other CPU
above its thresholds). They are read from summary.json as written, so runs made before
the bench recorded noise load as "no noise record".

The method, chosen for 3-6 repeats, where fitting anything per configuration would fit
noise: a parameter-free capacity adjustment. The server is the bottleneck of a benchmark
run, so noise that took a share of the machine's CPU took about that share of the
server's capacity: with `cpu_count` CPUs and noise n = steal + other (% of one CPU) spread
evenly over them, the server lost the fraction f = n / (100 * cpu_count), and the run
would have served rps / (1 - f) on a quiet machine. The share of the spread the noise
explains is then 1 - var(log adjusted rps) / var(log rps) across the configuration's
runs: 1 when the adjustment removes the spread entirely, 0 (shown as "none") when it
removes nothing or adds spread. Alongside it, the CV of rps before and after.

What it cannot do: noise that the counters do not see (a lower clock, cache pressure from
a neighbour) stays unexplained, and even spreads the noise fully explains leave the runs'
mean uncertain; the table says how much of the spread is accounted for, not that the rest
is the servers'.

The headline: when more than half of the usable runs carry `machine_noisy`, the report
opens with "The machine was too noisy to rank servers" (the verdicts and rankings of the
page below it must not be read as a comparison of servers).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

from scripts.records.schema import SchemaError, read_document
from scripts.reporting.load import LoadedResults, RunRecord
from scripts.reporting.tables import Group, aggregate_rows, groups_of

NOISY_RUN_SHARE: Final = 0.5  # more than this share of noisy runs: no ranking
HEADLINE: Final = "The machine was too noisy to rank servers"
NO_RECORD: Final = "no noise record"
METHOD_NOTE: Final = (
    "Noise explained: each run's rps divided by (1 - f), f = (steal + other processes' CPU) / "
    "(100 x CPUs), the share of the machine the recorded noise took; the share explained is "
    "1 - var(log adjusted rps) / var(log rps) across the configuration's runs "
    "(scripts/reporting/noise.py)."
)


@dataclass(frozen=True)
class RunNoise:
    """One run's rps and the noise recorded for it (None where summary.json has none)."""

    run_id: str
    rps: float
    steal_pct: float | None
    other_cpu_pct: float | None
    machine_noisy: bool | None
    cpu_count: int

    @property
    def recorded(self) -> bool:
        return self.steal_pct is not None and self.other_cpu_pct is not None

    @property
    def lost_fraction(self) -> float | None:
        """The share of the server's capacity the recorded noise took (module docstring)."""
        if self.steal_pct is None or self.other_cpu_pct is None:
            return None
        return min(0.95, (self.steal_pct + self.other_cpu_pct) / (100.0 * max(1, self.cpu_count)))


@dataclass(frozen=True)
class ConfigNoise:
    """One configuration's spread and how much of it the recorded noise explains."""

    group: Group
    label: str
    runs: int
    noisy_runs: int
    recorded_runs: int
    cv: float | None
    adjusted_cv: float | None
    explained: float | None  # 0-1; None when not computable (one run, no record)
    mean_noise_pct: float | None  # steal + other over the runs, % of one CPU

    @property
    def explained_text(self) -> str:
        if self.runs < 2:
            return "one run: no spread"
        if self.recorded_runs < self.runs:
            missing = self.runs - self.recorded_runs
            return NO_RECORD if missing == self.runs else f"{NO_RECORD} for {missing} run(s)"
        if self.explained is None:
            return "no spread to explain"
        return "none" if self.explained <= 0 else f"{self.explained * 100:.0f} %"


@dataclass(frozen=True)
class NoiseReport:
    """The report's noise section: the headline (None when the machine was quiet enough
    or recorded nothing), and one row per configuration."""

    headline: str | None
    noisy_runs: int
    recorded_runs: int
    usable_runs: int
    configs: tuple[ConfigNoise, ...]


def _number(document: Mapping[str, Any], name: str) -> float | None:
    value = document.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def run_noise(run: RunRecord, rps: float) -> RunNoise:
    """The noise summary.json records for `run` (read as written; see the docstring)."""
    try:
        document: Mapping[str, Any] = read_document(run.path / "summary.json")
    except SchemaError:
        document = {}
    flag = document.get("machine_noisy")
    cpus = run.meta.cpu_count if run.meta is not None else 1
    return RunNoise(
        run_id=run.run_id,
        rps=rps,
        steal_pct=_number(document, "steal_pct"),
        other_cpu_pct=_number(document, "other_cpu_pct"),
        machine_noisy=flag if isinstance(flag, bool) else None,
        cpu_count=cpus,
    )


def _cv(values: Sequence[float]) -> float | None:
    if len(values) < 2 or not np.mean(values):
        return None
    return float(np.std(values, ddof=1) / np.mean(values))


def explain(runs: Sequence[RunNoise]) -> tuple[float | None, float | None]:
    """(the CV of rps after the capacity adjustment, the share of the log-variance the
    adjustment removed); (None, None) unless every run has a noise record."""
    lost = [run.lost_fraction for run in runs]
    if len(runs) < 2 or any(fraction is None for fraction in lost):
        return None, None
    raw = np.array([run.rps for run in runs], dtype=float)
    adjusted = raw / (1.0 - np.array(lost, dtype=float))
    raw_var = float(np.var(np.log(raw), ddof=1))
    adjusted_cv = _cv(list(adjusted))
    if raw_var <= 0:
        return adjusted_cv, None
    explained = 1.0 - float(np.var(np.log(adjusted), ddof=1)) / raw_var
    return adjusted_cv, max(0.0, explained)


def _config(group: Group, label: str, runs: Sequence[RunNoise]) -> ConfigNoise:
    adjusted_cv, explained = explain(runs)
    noise = [(run.steal_pct or 0.0) + (run.other_cpu_pct or 0.0) for run in runs if run.recorded]
    return ConfigNoise(
        group=group,
        label=label,
        runs=len(runs),
        noisy_runs=sum(1 for run in runs if run.machine_noisy),
        recorded_runs=sum(1 for run in runs if run.recorded),
        cv=_cv([run.rps for run in runs]),
        adjusted_cv=adjusted_cv,
        explained=explained,
        mean_noise_pct=float(np.mean(noise)) if noise else None,
    )


def noise_report(results: LoadedResults, summary: pd.DataFrame) -> NoiseReport:
    """The noise section of the report, from the usable runs (step-load groups are left
    out: noise is recorded per run, not per step)."""
    per_run = aggregate_rows(results.stats)
    rps_by_run = {
        str(run_id): float(rps)
        for run_id, rps in zip(per_run["run_id"], per_run["rps"], strict=True)
    }
    by_id = {run.run_id: run for run in results.usable_runs}
    noises = {
        run_id: run_noise(by_id[run_id], rps)
        for run_id, rps in rps_by_run.items()
        if run_id in by_id
    }
    configs = []
    for group, rows in groups_of(summary):
        if group.stepped:
            continue
        for _, row in rows.iterrows():
            runs = [noises[i] for i in str(row["run_ids"]).split(";") if i in noises]
            if runs:
                configs.append(_config(group, str(row["label"]), runs))
    usable = len(noises)
    noisy = sum(1 for run in noises.values() if run.machine_noisy)
    headline = None
    if usable and noisy > NOISY_RUN_SHARE * usable:
        headline = (
            f"{HEADLINE}: {noisy} of {usable} runs were flagged noisy (steal or other "
            "processes' CPU above the bench's thresholds), so their differences are as likely "
            "the machine's as the servers'."
        )
    return NoiseReport(
        headline=headline,
        noisy_runs=noisy,
        recorded_runs=sum(1 for run in noises.values() if run.recorded),
        usable_runs=usable,
        configs=tuple(configs),
    )


def _pct(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value * 100:.{digits}f} %"


def _cells(config: ConfigNoise) -> list[str]:
    noise = "-" if config.mean_noise_pct is None else f"{config.mean_noise_pct:.1f}"
    return [
        config.group.label,
        config.label,
        str(config.runs),
        f"{config.noisy_runs}" if config.recorded_runs else "-",
        noise,
        _pct(config.cv),
        _pct(config.adjusted_cv),
        config.explained_text,
    ]


HEADINGS: Final = (
    "group",
    "configuration",
    "runs",
    "noisy runs",
    "mean steal + other CPU %",
    "rps CV",
    "CV after noise adjustment",
    "spread explained by noise",
)


def with_noise_markdown(markdown: str, report: NoiseReport) -> str:
    """summary.md with the headline under its title and the noise table at its end."""
    title, _, rest = markdown.partition("\n")
    lines = [title]
    if report.headline:
        lines += ["", f"**{report.headline}**"]
    body = [rest.rstrip("\n")]
    if report.configs:
        body += ["", "## Run-to-run spread and machine noise", ""]
        body.append("| " + " | ".join(HEADINGS) + " |")
        body.append("| " + " | ".join(["---", "---", *["---:"] * (len(HEADINGS) - 2)]) + " |")
        body += ["| " + " | ".join(_cells(config)) + " |" for config in report.configs]
        body += ["", METHOD_NOTE]
    return "\n".join(lines + body) + "\n"


def headline_html(report: NoiseReport) -> str:
    if not report.headline:
        return ""
    text = html.escape(report.headline)
    return f'<p class="warning" id="noise-headline"><strong>{text}</strong></p>'


def noise_section_html(report: NoiseReport) -> str:
    """<section id="noise">: one row per configuration, or "" with no configuration."""
    if not report.configs:
        return ""
    head = "".join(f"<th>{html.escape(heading)}</th>" for heading in HEADINGS)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in _cells(config)) + "</tr>"
        for config in report.configs
    )
    recorded = (
        f"{report.recorded_runs} of {report.usable_runs} usable runs have a noise record."
        if report.recorded_runs
        else "No run has a noise record (runs made before the bench recorded steal and "
        "other processes' CPU): the spread cannot be attributed."
    )
    return (
        '<section id="noise"><h2>Run-to-run spread and machine noise</h2>'
        f"<p>{html.escape(recorded)} {html.escape(METHOD_NOTE)}</p>"
        f'<div class="table-scroll"><table class="numbers"><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></div></section>"
    )
