"""The report's calibration section: every wrk cross-check found under <results>/calibrations/.

A pure function of the files (like the rest of the report): it reads each calibration.json,
skips directories still being written (their names start with a dot), and lists the ones it
cannot read in a note instead of failing the whole report. The ratio shown is the median of
the pairs' harness_rps / wrk_rps, next to the pairs' range (on a noisy machine the range
says how far the median can be trusted). Failed and invalid calibrations are shown with
their status and without a target verdict, so a number that is not trustworthy never looks
like one.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

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
    "wrk p50 ms",
    "harness p50 ms",
    "target met",
    "status",
)


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _number(value: Any, digits: int) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "-"
    return f"{value:.{digits}f}"


def load_calibrations(results_dir: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """(readable documents in id order, "name: why" for each unreadable one)."""
    root = results_dir / CALIBRATIONS_DIR
    if not root.is_dir():
        return [], []
    documents: list[dict[str, Any]] = []
    unreadable: list[str] = []
    for directory in sorted(root.iterdir()):
        if directory.name.startswith(".") or not directory.is_dir():
            continue
        try:
            document = json.loads((directory / DOCUMENT).read_text())
        except (OSError, ValueError) as error:
            unreadable.append(f"{directory.name}: {type(error).__name__}: {error}")
            continue
        if not isinstance(document, dict) or not isinstance(document.get("pairs"), list):
            unreadable.append(f"{directory.name}: {DOCUMENT} is not a calibration document")
            continue
        document.setdefault("calibration_id", directory.name)
        documents.append(document)
    return documents, unreadable


def _target_cell(document: dict[str, Any]) -> str:
    met = document.get("target_met")
    target = _number(document.get("target"), 2)
    if met is None:
        return "not judged"
    return f"{'yes' if met else 'no'} (&ge; {_e(target)})"


def _row(document: dict[str, Any]) -> str:
    status = str(document.get("status", "unknown"))
    reason = str(document.get("reason") or "")
    pairs = document.get("pairs") or []
    measured = sum(1 for pair in pairs if isinstance(pair, dict) and pair.get("ratio") is not None)
    cells = [
        f"<code>{_e(document.get('calibration_id', '-'))}</code>",
        _e(document.get("server", "-")),
        _e(document.get("workers", "-")),
        _e(document.get("connections", document.get("users", "-"))),
        _e(f"{measured}/{document.get('pairs_planned', len(pairs))}"),
        _e(_number(document.get("ratio_median"), 3)),
        _e(f"{_number(document.get('ratio_min'), 3)}-{_number(document.get('ratio_max'), 3)}"),
        _e(_number(document.get("wrk_p50_ms_median"), 2)),
        _e(_number(document.get("harness_p50_ms_median"), 0)),
        _target_cell(document),
        f'<span class="status status-{_e(status)}" title="{_e(reason)}">{_e(status)}</span>',
    ]
    row_class = "" if status == "ok" else ' class="not-ok"'
    return f"<tr{row_class}>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def calibration_section(results_dir: Path) -> str:
    """An HTML fragment (<section id="calibration">) with one row per calibration, or ""
    when there is no calibration at all (readable or not)."""
    documents, unreadable = load_calibrations(results_dir)
    if not documents and not unreadable:
        return ""
    parts = [
        '<section id="calibration"><h2>Calibration against wrk</h2>',
        "<p>The harness (Locust) and wrk loaded the same server, endpoint "
        "(<code>GET /api/me/</code>) and number of connections, in alternating pairs; the "
        "ratio is the median over the pairs of harness requests/s divided by wrk's. "
        "wrk sends one token on every request, while each Locust user has its own account. "
        "Locust keeps whole milliseconds below 100 ms, so p50 differences under 1 ms are "
        "below its resolution.</p>",
    ]
    if documents:
        head = "".join(f"<th>{_e(column)}</th>" for column in COLUMNS)
        body = "".join(_row(document) for document in documents)
        parts.append(
            f'<div class="table-scroll"><table class="calibration"><thead><tr>{head}</tr>'
            f"</thead><tbody>{body}</tbody></table></div>"
        )
    if unreadable:
        items = "".join(f"<li>{_e(entry)}</li>" for entry in unreadable)
        parts.append(
            '<p class="warning">Calibrations that could not be read (left out):</p>'
            f'<ul class="notes">{items}</ul>'
        )
    parts.append("</section>")
    return "".join(parts)
