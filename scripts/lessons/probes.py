"""The lesson's experiments that are not load: an error page and Django's deployment check.

Each probe runs for real, in seconds, and writes one file under <results>/lesson/probes/
(schema in scripts/records/schema/lesson.py): what an error page shows with DEBUG on (the
development settings) and off (the production ones) under runserver and gunicorn, and what
`manage.py check --deploy` reports for each set of settings. The development settings are
what `django-admin startproject` gives a newcomer: DEBUG on and a key that starts with
"django-insecure-". A probe names the commands that reproduce it by hand.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final

from scripts.harness.deploy_check import deploy_check
from scripts.harness.error_pages import ERROR_REQUESTS, fetch_error_page
from scripts.records.schema.lesson import (
    DeployCheckRecord,
    ErrorPageFigures,
    ErrorPagesRecord,
    ProbeRecord,
)
from scripts.records.store import write_json
from servers.app import AppCommandError, AppSettings
from servers.ports import free_port
from servers.registry import SERVERS
from servers.supervisor import LaunchRequest, ServerStartError, ServerStopError, supervised

PROBES_DIR: Final = "probes"
ERROR_PAGE_SERVERS: Final = ("runserver", "gunicorn")
HOST: Final = "127.0.0.1"


def development_settings(database_url: str) -> AppSettings:
    """DEBUG on and a throwaway key, as a new project starts (the app accepts a weak key
    only with DEBUG on)."""
    key = "django-insecure-" + secrets.token_urlsafe(30)
    return AppSettings(secret_key=key, database_url=database_url, debug=True)


def production_settings(database_url: str) -> AppSettings:
    return AppSettings(secret_key=secrets.token_urlsafe(50), database_url=database_url)


def _settings(debug: bool, database_url: str) -> AppSettings:
    return development_settings(database_url) if debug else production_settings(database_url)


def error_pages(scratch: Path) -> ErrorPagesRecord:
    """Every error request against each server with DEBUG on and off (one process each;
    /healthz needs only a database file, which SQLite creates)."""
    pages: list[ErrorPageFigures] = []
    problems: list[str] = []
    database_url = f"sqlite:///{scratch / 'error-pages.sqlite3'}"
    for name in ERROR_PAGE_SERVERS:
        spec = SERVERS[name]
        for debug in (True, False):
            launch = LaunchRequest(
                spec=spec,
                app=_settings(debug, database_url),
                host=HOST,
                port=free_port(HOST),
                workers=1,
                threads=1,
                log_path=scratch / f"{name}-debug-{int(debug)}.log",
            )
            try:
                with supervised(launch):
                    for request in ERROR_REQUESTS:
                        pages.append(fetch_error_page(name, debug, HOST, launch.port, request))
            except (ServerStartError, ServerStopError, OSError) as error:
                problems.append(f"{name} with DEBUG {'on' if debug else 'off'}: {error}")
    return ErrorPagesRecord(tuple(pages), tuple(problems))


def deploy_checks(scratch: Path) -> DeployCheckRecord:
    """`check --deploy` for the development and the production settings."""
    database_url = f"sqlite:///{scratch / 'deploy-check.sqlite3'}"
    found, problems = [], []
    for name, debug in (("development", True), ("production", False)):
        try:
            found.append(deploy_check(name, _settings(debug, database_url)))
        except AppCommandError as error:
            problems.append(f"{name} settings: {error}")
    return DeployCheckRecord(tuple(found), tuple(problems))


@dataclass(frozen=True)
class Probe:
    """One probe: what it runs, how long it should take, and how to reproduce it by hand."""

    run: Callable[[Path], ProbeRecord]
    estimate_s: float
    commands: tuple[str, ...]

    def file_name(self, name: str) -> str:
        return f"{name}.json"


_DEV_ENV: Final = "DEBUG=1 SECRET_KEY=django-insecure-$(openssl rand -hex 20)"
_PROD_ENV: Final = "DEBUG=0 SECRET_KEY=$(openssl rand -hex 32)"
PROBES: Final[Mapping[str, Probe]] = MappingProxyType(
    {
        "error_pages": Probe(
            error_pages,
            estimate_s=10.0,
            commands=(
                f"cd sampleapp && {_DEV_ENV} python manage.py runserver --noreload 8000",
                "curl -i -H 'Host: attacker.example' http://127.0.0.1:8000/api/me/",
                "curl -i http://127.0.0.1:8000/no-such-page",
                "(again with DEBUG=0 and a strong key, and under gunicorn config.wsgi)",
            ),
        ),
        "deploy_check": Probe(
            deploy_checks,
            estimate_s=4.0,
            commands=(
                f"cd sampleapp && {_DEV_ENV} python manage.py check --deploy",
                f"cd sampleapp && {_PROD_ENV} python manage.py check --deploy",
            ),
        ),
    }
)


def run_probe(name: str, lesson_dir: Path) -> Path:
    """Run probe `name` in a scratch directory and write its file; returns the file."""
    probe = PROBES[name]
    with tempfile.TemporaryDirectory(prefix="drf-lesson-probe-") as scratch:
        record = probe.run(Path(scratch))
    path = lesson_dir / PROBES_DIR / probe.file_name(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, record.to_json())
    return path
