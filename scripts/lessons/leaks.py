"""Section 4's probes read into tables and sentences: what an error page showed with DEBUG
on and off, and what `check --deploy` reported for each set of settings.

Every number in a sentence comes from the probe files; where a probe is missing, failed or
showed nothing to tell, the sentence says that instead of a figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scripts.lessons.evidence import ExperimentRuns
from scripts.lessons.findings import Fact, Figure, Table
from scripts.records.schema.lesson import (
    DeployCheckFigures,
    DeployCheckRecord,
    ErrorPageFigures,
    ErrorPagesRecord,
)


@dataclass(frozen=True)
class ProbeReading:
    """What the probes add to section 4: tables, sentences, caveats and facts."""

    tables: tuple[Table, ...]
    sentences: tuple[str, ...]
    caveats: tuple[str, ...]
    facts: Mapping[str, Fact]


def _on_off(debug: bool) -> str:
    return "on" if debug else "off"


def _page_row(page: ErrorPageFigures) -> Figure:
    return Figure(
        f"{page.server}, DEBUG {_on_off(page.debug)}, {page.request}",
        {
            "answer": f"{page.status} {page.content_type or '-'}, {page.body_bytes:,} bytes",
            "traceback frames": str(page.traceback_frames),
            "settings": str(page.settings_shown),
            "environment variables": str(page.environment_variables_shown)
            + (" (DATABASE_URL)" if page.database_url_shown else ""),
            "file paths": str(page.file_paths_shown),
            "SQL": str(page.sql_statements_shown),
            "URL patterns": str(page.url_patterns_shown),
            "versions": ", ".join(page.versions_shown) or "-",
            "masked": str(page.values_masked),
        },
    )


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def _debug_sentence(pages: Sequence[ErrorPageFigures]) -> tuple[str, dict[str, Fact]]:
    on = [page for page in pages if page.debug]
    off = [page for page in pages if not page.debug]
    if not on or not off:
        return "the error pages were not measured with DEBUG both on and off", {}
    leaky_on = [page for page in on if page.leaks]
    leaky_off = [page for page in off if page.leaks]
    facts: dict[str, Fact] = {
        "debug_pages_leaking": float(len(leaky_on)),
        "debug_pages": float(len(on)),
        "production_pages_leaking": float(len(leaky_off)),
    }
    if not leaky_on:
        return "with DEBUG on, no error page showed more than a status and a message", facts
    worst = max(leaky_on, key=lambda page: page.body_bytes)
    shown = [
        _plural(worst.traceback_frames, "traceback frame"),
        _plural(worst.settings_shown, "setting"),
        _plural(worst.environment_variables_shown, "environment variable")
        + (" (DATABASE_URL among them, unmasked)" if worst.database_url_shown else ""),
        _plural(worst.file_paths_shown, "file path"),
    ]
    if worst.sql_statements_shown:
        shown.append(_plural(worst.sql_statements_shown, "SQL statement"))
    if worst.versions_shown:
        shown.append(" and ".join(worst.versions_shown))
    sentence = (
        f"with DEBUG on (the development settings), {worst.server} answered the "
        f"{worst.request} with {worst.body_bytes:,} bytes of {worst.content_type}: "
        + ", ".join(shown)
        + (f" ({worst.values_masked} values masked by name)" if worst.values_masked else "")
    )
    listing = [page for page in leaky_on if page.url_patterns_shown]
    if listing:
        sentence += (
            f"; the {listing[0].request} got the "
            f"{_plural(listing[0].url_patterns_shown, 'URL pattern')} the app routes"
        )
    largest_off = max(page.body_bytes for page in off)
    if leaky_off:
        sentence += (
            f". With DEBUG off, {len(leaky_off)} of {len(off)} error pages still showed internals"
        )
    else:
        sentence += (
            f". With DEBUG off every error page was at most {largest_off:,} bytes "
            f"({', '.join(sorted({page.content_type for page in off}))}) and showed none of it"
        )
    servers = sorted({page.server for page in pages})
    same = (
        all(
            {page.leaks for page in pages if page.server == server and page.debug} == {True}
            for server in servers
        )
        and not leaky_off
    )
    facts["debug_is_the_cause"] = "yes" if same and len(servers) > 1 else "no"
    if same and len(servers) > 1:
        sentence += (
            f", under {' and '.join(servers)} alike: the page is DEBUG's, not the server's "
            "(runserver is only where DEBUG is usually on)"
        )
    return sentence, facts


def _check_row(check: DeployCheckFigures) -> Figure:
    return Figure(
        f"{check.settings} settings (DEBUG {_on_off(check.debug)})",
        {
            "warnings and errors": str(check.count),
            "ids": ", ".join(check.check_ids) or "none",
            "silenced by the app": str(check.silenced),
        },
    )


def _check_sentence(checks: Sequence[DeployCheckFigures]) -> tuple[str, dict[str, Fact]]:
    found = {check.settings: check for check in checks}
    development, production = found.get("development"), found.get("production")
    if development is None or production is None:
        return "`check --deploy` was not run for both sets of settings", {}
    facts: dict[str, Fact] = {
        "deploy_check_development": float(development.count),
        "deploy_check_production": float(production.count),
    }
    sentence = (
        f"`manage.py check --deploy` reported {_plural(development.count, 'issue')} for the "
        f"development settings ({', '.join(development.check_ids) or 'none'}) and "
        f"{_plural(production.count, 'issue')} for the production ones"
        + (f" ({', '.join(production.check_ids)})" if production.check_ids else "")
    )
    if production.silenced:
        sentence += (
            f"; the app silences {production.silenced} HTTPS checks that belong to the TLS "
            "proxy in front (config/settings.py)"
        )
    return sentence, facts


def read_probes(
    error_pages: ExperimentRuns | None, deploy_check: ExperimentRuns | None
) -> ProbeReading:
    """Tables and sentences from section 4's two probes (either may be absent)."""
    tables: list[Table] = []
    sentences: list[str] = []
    caveats: list[str] = []
    facts: dict[str, Fact] = {}
    for experiment in (error_pages, deploy_check):
        if experiment is None:
            continue
        caveats += [f"{experiment.key}: {name} could not be read" for name in experiment.unreadable]
        record = experiment.probe
        if record is not None:
            caveats += [f"{experiment.key}: {problem}" for problem in record.problems]
    pages = error_pages.probe if error_pages is not None else None
    if isinstance(pages, ErrorPagesRecord) and pages.pages:
        tables.append(
            Table(
                "What an error page showed a client (counted from the bytes received)",
                "server, DEBUG, request",
                tuple(_page_row(page) for page in pages.pages),
            )
        )
        sentence, found = _debug_sentence(pages.pages)
        sentences.append(sentence)
        facts |= found
    checks = deploy_check.probe if deploy_check is not None else None
    if isinstance(checks, DeployCheckRecord) and checks.checks:
        tables.append(
            Table(
                "manage.py check --deploy",
                "settings",
                tuple(_check_row(check) for check in checks.checks),
            )
        )
        sentence, found = _check_sentence(checks.checks)
        sentences.append(sentence)
        facts |= found
    return ProbeReading(tuple(tables), tuple(sentences), tuple(caveats), facts)
