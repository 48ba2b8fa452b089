"""The lesson's closing recommendation, computed from the sections' verdicts and facts.

Each line stands on named sections: it is written only when those sections ran and their
verdicts were decided (anything but "not supported by this run"), and every number in it is
one of their facts (scripts/lessons/findings.py). A line whose sections did not run or did
not decide becomes a line saying so; a lesson that supports nothing says that. Short enough
for one slide: one line per kind of app, one for the proxy, one for the settings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from scripts.lessons.findings import Finding, Rating


@dataclass(frozen=True)
class Recommendation:
    lines: tuple[str, ...]
    unsupported: tuple[str, ...]  # the topics this run could not support, and why

    @property
    def supported(self) -> bool:
        return bool(self.lines)


Findings = Mapping[int, Finding]


def _number(finding: Finding, name: str) -> float | None:
    value = finding.fact(name)
    return value if isinstance(value, float) else None


def _names(finding: Finding, name: str) -> tuple[str, ...]:
    value = finding.fact(name)
    return value if isinstance(value, tuple) else ()


def _decided(found: Findings, number: int) -> Finding | None:
    """Section `number`'s finding when it ran and decided, else None (a line's optional
    clause from that section is then left out)."""
    finding = found.get(number)
    if finding is None or finding.rating is Rating.NOT_SUPPORTED:
        return None
    return finding


def _development(found: Findings) -> str | None:
    overload, stop = found[3], _decided(found, 7)
    threads, users = _number(overload, "runserver_threads"), _number(overload, "users")
    cut = stop is not None and "runserver" in _names(stop, "stop_cut_by")
    if threads is None or users is None:
        return None
    line = (
        f"runserver: development only. Under {users:.0f} users at once it ran {threads:.0f} "
        "threads, one per request with no bound (section 3)"
    )
    return line + ("; asked to stop, it cut every request in flight (section 7)." if cut else ".")


def _sync_app(found: Findings) -> str | None:
    gain = _number(found[2], "process_gain")
    if gain is None:
        return None
    stop = _decided(found, 7)
    answered = _names(stop, "stop_answered_by") if stop is not None else ()
    line = (
        "A sync DRF app (CPU or database work): gunicorn or uWSGI with a worker process "
        f"per core; two workers served {gain:.1f} times runserver's goodput on the "
        "CPU-bound endpoint (section 2)"
    )
    if answered:
        line += f", and {', '.join(answered)} finished the requests in flight at a stop (section 7)"
    return line + "."


def _waiting_app(found: Findings) -> str | None:
    payoff, users = _number(found[6], "async_payoff"), _number(found[6], "users")
    if payoff is None or users is None:
        return None
    return (
        "Views that wait on I/O: threads (gunicorn gthread) for sync DRF views; an ASGI "
        f"server (Uvicorn) pays off only for async views, {payoff:.1f} times one sync "
        f"worker at {users:.0f} users (section 6). Daphne: for WebSockets, not measured here."
    )


def _proxy(found: Findings) -> str | None:
    starved = _names(found[4], "starved_alone")
    kept = found[4].fact("nginx_kept_all_answering") == "yes"
    cost = _decided(found, 5)
    costs = _names(cost, "nginx_cost") if cost is not None else ()
    if not starved or not kept:
        return None
    line = (
        f"Put nginx in front: slow clients starved {', '.join(starved)} alone, and behind "
        "nginx every server kept answering (section 4)"
    )
    if costs:
        line += "; its cost: " + "; ".join(costs) + " (section 5)"
    return line + "."


def _settings(found: Findings) -> str | None:
    development = _number(found[4], "deploy_check_development")
    production = _number(found[4], "deploy_check_production")
    leaking = _number(found[4], "debug_pages_leaking")
    if development is None or production is None or leaking is None:
        return None
    return (
        f"Whatever the server: DEBUG off and a strong key. `check --deploy` found "
        f"{development:.0f} issues in the development settings and {production:.0f} in the "
        f"production ones; with DEBUG on, {leaking:.0f} error pages showed internals "
        "(section 4)."
    )


@dataclass(frozen=True)
class Line:
    """One line of the recommendation: the sections it stands on and how it is written."""

    topic: str
    sections: tuple[int, ...]
    write: Callable[[Findings], str | None]


LINES: Final = (
    Line("development server", (3,), _development),
    Line("sync app", (2,), _sync_app),
    Line("I/O-bound app", (6,), _waiting_app),
    Line("proxy", (4,), _proxy),
    Line("settings", (4,), _settings),
)


def _why_not(line: Line, found: Findings) -> str:
    missing = [number for number in line.sections if number not in found]
    if missing:
        return f"{line.topic}: section {', '.join(map(str, missing))} did not run"
    undecided = [n for n in line.sections if found[n].rating is Rating.NOT_SUPPORTED]
    if undecided:
        return (
            f"{line.topic}: section {', '.join(map(str, undecided))} was not supported by this run"
        )
    return f"{line.topic}: its figures were not measured in this run"


def recommend(findings: Mapping[int, Finding]) -> Recommendation:
    """The lines the sections' verdicts support, and why the others are missing."""
    found = MappingProxyType(dict(findings))
    lines: list[str] = []
    unsupported: list[str] = []
    for line in LINES:
        decided = all(
            number in found and found[number].rating is not Rating.NOT_SUPPORTED
            for number in line.sections
        )
        text = line.write(found) if decided else None
        if text is None:
            unsupported.append(_why_not(line, found))
        else:
            lines.append(text)
    return Recommendation(tuple(lines), tuple(unsupported))
