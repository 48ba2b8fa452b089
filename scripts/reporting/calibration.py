"""The report's calibration section: every wrk cross-check found under <results>/calibrations/.

A pure function of the files (like the rest of the report): it reads each calibration.json
through the results schema, skips directories still being written (their names start with a
dot), and lists the ones it cannot read (with the schema's reason) in a note instead of
failing the whole report. The ratio shown is the median of
the pairs' harness_rps / wrk_rps, next to the pairs' range (on a noisy machine the range
says how far the median can be trusted). Failed and invalid calibrations are shown with
their status and without a target verdict, so a number that is not trustworthy never looks
like one.
"""

from __future__ import annotations

import html
from pathlib import Path

from scripts.records.schema import (
    CalibrationRecord,
    Estimate,
    SchemaError,
    Status,
    read_calibration,
)

CALIBRATIONS_DIR = "calibrations"
DOCUMENT = "calibration.json"
COLUMNS = (
    "calibration",
    "server",
    "workers",
    "connections",
    "pairs",
    "median ratio (harness / wrk)",
    "pair ratios (min-max)",
    "CV ratio (harness / wrk)",
    "noisy pairs",
    "wrk p50 ms",
    "harness p50 ms",
    "target met",
    "status",
)


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _number(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def load_calibrations(results_dir: Path) -> tuple[list[CalibrationRecord], list[str]]:
    """(readable calibrations in id order, "name: why" for each unreadable one)."""
    root = results_dir / CALIBRATIONS_DIR
    if not root.is_dir():
        return [], []
    records: list[CalibrationRecord] = []
    unreadable: list[str] = []
    for directory in sorted(root.iterdir()):
        if directory.name.startswith(".") or not directory.is_dir():
            continue
        try:
            records.append(read_calibration(directory / DOCUMENT))
        except SchemaError as error:
            unreadable.append(f"{directory.name}: {error}")
    return records, unreadable


def _with_ci(record: CalibrationRecord, name: str, digits: int) -> str:
    """An estimate and its 95 % CI ("-" for a record from before the estimates)."""
    found = record.estimate(name)
    if found is None or found.point is None:
        return "-"
    if found.ci_low is None or found.ci_high is None:
        return _e(f"{found.point:.{digits}f} (no CI)")
    return _e(f"{found.point:.{digits}f} (CI {found.ci_low:.{digits}f}-{found.ci_high:.{digits}f})")


def _target_cell(record: CalibrationRecord) -> str:
    if record.machine_too_noisy:
        return "not judged: the machine was too noisy"
    if record.target_met is None:
        return "not judged"
    if record.target_ratio_max is None:
        return f"{'yes' if record.target_met else 'no'} (&ge; {_e(_number(record.target, 2))})"
    wanted = (
        f"median {_number(record.target, 2)}-{_number(record.target_ratio_max, 2)}, "
        f"CV ratio &le; {_number(record.target_cv_ratio_max, 1)}"
    )
    return f"{'yes' if record.target_met else 'no'} ({wanted})"


def _noisy_cell(record: CalibrationRecord) -> str:
    if record.noisy_pairs is None:
        return "-"
    return _e(f"{record.noisy_pairs}/{record.measured_pairs}")


def _row(record: CalibrationRecord) -> str:
    status = record.status.value
    cells = [
        f"<code>{_e(record.calibration_id)}</code>",
        _e(record.server),
        _e(record.workers),
        _e(record.connections),
        _e(f"{record.measured_pairs}/{record.pairs_planned}"),
        _with_ci(record, "median_ratio", 3)
        if record.estimates
        else _e(_number(record.ratio_median, 3)),
        _e(f"{_number(record.ratio_min, 3)}-{_number(record.ratio_max, 3)}"),
        _with_ci(record, "cv_ratio", 2),
        _noisy_cell(record),
        _e(_number(record.wrk_p50_ms_median, 2)),
        _e(_number(record.harness_p50_ms_median, 0)),
        _target_cell(record),
        f'<span class="status status-{_e(status)}" title="{_e(record.reason)}">{_e(status)}</span>',
    ]
    row_class = "" if record.status is Status.OK else ' class="not-ok"'
    return f"<tr{row_class}>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def _estimate_cell(estimate: Estimate, reading: str) -> str:
    if estimate.point is None:
        return _e(reading)
    if estimate.ci_low is None or estimate.ci_high is None:
        return _e(f"x{estimate.point:.3f} (no CI): {reading}")
    return _e(f"x{estimate.point:.3f} (CI {estimate.ci_low:.3f}-{estimate.ci_high:.3f}): {reading}")


def _causes_table(records: list[CalibrationRecord]) -> str:
    """One row per candidate cause a calibration tested (CAUSES=...), or "" for none."""
    rows = [
        "<tr>"
        + "".join(
            f"<td>{cell}</td>"
            for cell in (
                f"<code>{_e(record.calibration_id)}</code>",
                _e(effect.cause),
                _e(effect.change),
                _e(effect.pairs),
                _estimate_cell(effect.server_cpu_per_request, effect.server_cpu_reading),
                _estimate_cell(effect.rps, effect.rps_reading),
            )
        )
        + "</tr>"
        for record in records
        for effect in record.cause_effects
    ]
    if not rows:
        return ""
    head = "".join(
        f"<th>{_e(column)}</th>"
        for column in (
            "calibration",
            "candidate",
            "what its wrk side changes",
            "pairs",
            "server CPU per request vs plain wrk",
            "rps vs plain wrk",
        )
    )
    return (
        "<h3>Candidate causes of extra server CPU per request</h3>"
        "<p>Each candidate is a wrk side with one thing changed, measured next to the plain "
        "wrk side in every pair; a median ratio whose CI lies within 2 % either way clears "
        "it.</p>"
        f'<div class="table-scroll"><table class="calibration"><thead><tr>{head}</tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def calibration_section(results_dir: Path) -> str:
    """An HTML fragment (<section id="calibration">) with one row per calibration, or ""
    when there is no calibration at all (readable or not)."""
    records, unreadable = load_calibrations(results_dir)
    if not records and not unreadable:
        return ""
    parts = [
        '<section id="calibration"><h2>Calibration against wrk</h2>',
        "<p>The harness (Locust) and wrk loaded the same server, endpoint "
        "(<code>GET /api/me/</code>) and number of connections, in alternating pairs; the "
        "ratio is the median over the pairs of harness requests/s divided by wrk's; the CV "
        "ratio is the harness's coefficient of variation of requests/s across the pairs "
        "divided by wrk's; CIs are 95 % paired bootstrap intervals over the pairs. A pair is "
        "noisy when steal or other processes' CPU passed the thresholds in calibration.json; "
        "too many noisy pairs and no verdict is given. Older calibrations (before the "
        "estimates) used one token for wrk and logins for Locust; newer ones give every side "
        "the app-issued tokens. "
        "Locust keeps whole milliseconds below 100 ms, so p50 differences under 1 ms are "
        "below its resolution.</p>",
    ]
    if records:
        head = "".join(f"<th>{_e(column)}</th>" for column in COLUMNS)
        body = "".join(_row(record) for record in records)
        parts.append(
            f'<div class="table-scroll"><table class="calibration"><thead><tr>{head}</tr>'
            f"</thead><tbody>{body}</tbody></table></div>"
        )
        parts.append(_causes_table(records))
    if unreadable:
        items = "".join(f"<li>{_e(entry)}</li>" for entry in unreadable)
        parts.append(
            '<p class="warning">Calibrations that could not be read (left out):</p>'
            f'<ul class="notes">{items}</ul>'
        )
    parts.append("</section>")
    return "".join(parts)
