"""The robustness checks (CHECKS=robustness) as a table per server x profile.

summary.json's `robustness` (written by scripts/harness/robustness.py; its keys documented
in results/README.md) holds three short checks run after the load: normal requests probed
while slow clients hold connections, an oversized header and body, and a graceful stop with
requests in flight. They provoke errors on purpose, so their figures are shown, never a
gate: no run is failed or left out by them. One row per configuration (server, workers,
threads, profile) of the usable runs; repeats are summed (probes, outcomes) or take the
worst (slowest answer, longest stop), and differing statuses are all named.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from scripts.reporting.load import RunRecord
from scripts.reporting.profiles import DEV_PROFILE, profile_rank
from scripts.reporting.tables import server_rank

HEADINGS: Final = (
    "server",
    "profile",
    "workers",
    "threads",
    "runs",
    "slow clients: answered within 1 s / probes",
    "slowest answer s",
    "oversized header",
    "oversized body",
    "graceful stop: outcomes of requests in flight",
    "stop took s",
)
NO_ANSWER: Final = "no answer"
NOT_RUN: Final = "not run"
NOT_A_GATE: Final = (
    "These checks provoke errors on purpose: their figures describe the deployment and are "
    "not a gate (no run fails or is left out by them)."
)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _part(document: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    part = document.get(name)
    return part if isinstance(part, Mapping) else {}


def _values(runs: Iterable[Mapping[str, Any]], check: str, key: str) -> list[Any]:
    return [_part(run, check).get(key) for run in runs]


def _joined(values: Iterable[Any], unit: str = "") -> str:
    """Distinct values in first-seen order ("431, no answer")."""
    texts = [NO_ANSWER if value is None else f"{value:,}{unit}" for value in values]
    return ", ".join(dict.fromkeys(texts)) or "-"


@dataclass(frozen=True)
class RobustnessRow:
    """One configuration's robustness figures, over its usable runs that ran the checks."""

    server: str
    workers: int
    threads: int | None
    profile: str
    checks: tuple[Mapping[str, Any], ...]  # each run's summary.json `robustness`

    @property
    def order(self) -> tuple[Any, ...]:
        threads = -1 if self.threads is None else self.threads
        return (server_rank(self.server), profile_rank(self.profile), self.workers, threads)

    def _slow_clients(self) -> tuple[str, str]:
        probes = [_int(v) for v in _values(self.checks, "slow_clients", "probes")]
        within = [_int(v) for v in _values(self.checks, "slow_clients", "answered_within_1s")]
        if not any(value is not None for value in probes):
            return NOT_RUN, "-"
        answered = f"{sum(v or 0 for v in within):,} / {sum(v or 0 for v in probes):,}"
        worst = [_float(v) for v in _values(self.checks, "slow_clients", "worst_answer_s")]
        known = [value for value in worst if value is not None]
        return answered, f"{max(known):.2f}" if known else NO_ANSWER

    def _oversize(self, kind: str) -> str:
        statuses = _values(self.checks, "oversize", f"{kind}_status")
        sizes = [_int(v) for v in _values(self.checks, "oversize", f"{kind}_bytes")]
        if not any(size is not None for size in sizes):
            return NOT_RUN
        return f"{_joined(statuses)} ({_joined(sizes, ' bytes')})"

    def _graceful_stop(self) -> tuple[str, str]:
        stops = [run.get("graceful_stop") for run in self.checks]
        stops_run = [stop for stop in stops if isinstance(stop, Mapping)]
        if not stops_run:
            return NOT_RUN, "-"
        outcomes: dict[str, int] = {}
        for stop in stops_run:
            for outcome, count in _part(stop, "outcomes").items():
                outcomes[str(outcome)] = outcomes.get(str(outcome), 0) + (_int(count) or 0)
        in_flight = sum(_int(stop.get("in_flight")) or 0 for stop in stops_run)
        listed = ", ".join(f"{name} {count:,}" for name, count in sorted(outcomes.items()))
        stop_s = [value for s in stops_run if (value := _float(s.get("stop_s"))) is not None]
        return (
            f"{listed or '-'} (of {in_flight:,})",
            f"{max(stop_s):.2f}" if stop_s else "-",
        )

    @property
    def cells(self) -> tuple[str, ...]:
        answered, worst = self._slow_clients()
        outcomes, stop_s = self._graceful_stop()
        return (
            self.server,
            self.profile,
            str(self.workers),
            "-" if self.threads is None else str(self.threads),
            str(len(self.checks)),
            answered,
            worst,
            self._oversize("header"),
            self._oversize("body"),
            outcomes,
            stop_s,
        )


def robustness_rows(runs: Sequence[RunRecord]) -> list[RobustnessRow]:
    """One row per configuration whose usable runs carry robustness figures."""
    found: dict[tuple[str, int, int | None, str], list[Mapping[str, Any]]] = {}
    for run in runs:
        if not run.usable or run.meta is None or run.summary is None:
            continue
        checks = run.summary.robustness
        if not isinstance(checks, Mapping):
            continue
        meta = run.meta
        key = (meta.server, int(meta.workers), meta.threads, meta.profile or DEV_PROFILE)
        found.setdefault(key, []).append(checks)
    rows = [RobustnessRow(*key, checks=tuple(checks)) for key, checks in found.items()]
    return sorted(rows, key=lambda row: row.order)


def check_sentences(rows: Sequence[RobustnessRow]) -> tuple[str, ...]:
    """One sentence per check saying what it did, with the sizes the runs used."""
    checks = [check for row in rows for check in row.checks]
    clients = _joined(_values(checks, "slow_clients", "clients"))
    duration = _joined(_values(checks, "slow_clients", "duration_s"), " s")
    header = _joined(_values(checks, "oversize", "header_bytes"), " bytes")
    body = _joined(_values(checks, "oversize", "body_bytes"), " bytes")
    stops = [_part(check, "graceful_stop") for check in checks]
    request_ms = _joined((stop["request_ms"] for stop in stops if "request_ms" in stop), " ms")
    return (
        f"Slow clients: {clients} clients held connections open, sending their request "
        f"headers slowly, for {duration}, while normal requests were probed; the table counts "
        "the probes answered within 1 s and gives the slowest answer.",
        f"Oversized input: one request with a header of {header} and one with a body of "
        f"{body}; the table gives the HTTP status each got ({NO_ANSWER}: the connection was "
        "closed or timed out without a status).",
        "Graceful stop: the server was stopped the way it is meant to be (its stop signal) "
        f"while requests taking {request_ms} were in flight; the table counts how each ended "
        "(ok: answered) and how long the stop took.",
    )


def robustness_markdown(runs: Sequence[RunRecord]) -> str:
    """summary.md's "Robustness" section ("" when no run carries the checks)."""
    rows = robustness_rows(runs)
    if not rows:
        return ""
    lines = ["", "## Robustness", "", *(f"- {s}" for s in check_sentences(rows)), "", NOT_A_GATE]
    lines += ["", "| " + " | ".join(HEADINGS) + " |", "|" + "---|" * len(HEADINGS)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row.cells) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def robustness_html(runs: Sequence[RunRecord]) -> str:
    """index.html's "Robustness" section ("" when no run carries the checks)."""
    rows = robustness_rows(runs)
    if not rows:
        return ""
    items = "".join(f"<li>{html.escape(s)}</li>" for s in check_sentences(rows))
    head = "".join(f"<th>{html.escape(heading)}</th>" for heading in HEADINGS)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row.cells) + "</tr>"
        for row in rows
    )
    return (
        '<section id="robustness"><h2>Robustness</h2>'
        f'<ul class="notes">{items}</ul><p>{html.escape(NOT_A_GATE)}</p>'
        f'<div class="table-scroll"><table class="text"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div></section>"
    )
