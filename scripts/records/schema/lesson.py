"""The lesson's probe files: error_pages.json and deploy_check.json.

Written by `make lesson` beside experiments.json (<results>/lesson/probes/), each from what
was received or printed, never from a summary of it: the counts of what an error page
showed with DEBUG on and off, under each server, and what `manage.py check --deploy`
reported for the development and the production settings. They share SCHEMA_VERSION with
the result files, and `format` says which of the two a file is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Final

from scripts.records.schema.base import (
    SCHEMA_VERSION,
    SchemaError,
    build,
    check_version,
    read_document,
)

ERROR_PAGES_FORMAT: Final = "drf-bench-error-pages"
DEPLOY_CHECK_FORMAT: Final = "drf-bench-deploy-check"


def _plain(record: Any) -> dict[str, Any]:
    return {
        declared.name: list(value) if isinstance(value, tuple) else value
        for declared in fields(record)
        for value in (getattr(record, declared.name),)
    }


def _flat(cls: type[Any], data: Any, name: str) -> Any:
    if not isinstance(data, Mapping):
        raise SchemaError(f"{name} is not an object")
    values = {key: tuple(v) if isinstance(v, list) else v for key, v in data.items()}
    return build(cls, values, name)


@dataclass(frozen=True)
class ErrorPageFigures:
    """What one error response showed a client: its size and type, and counts of what it
    leaks (scripts/harness/error_pages.py counts them)."""

    server: str
    debug: bool
    request: str
    status: int
    content_type: str
    body_bytes: int
    traceback_frames: int
    settings_shown: int
    environment_variables_shown: int
    values_masked: int
    file_paths_shown: int
    sql_statements_shown: int
    url_patterns_shown: int
    versions_shown: tuple[str, ...]
    database_url_shown: bool

    @property
    def leaks(self) -> bool:
        """Whether the page showed anything beyond a status and a message."""
        return bool(
            self.traceback_frames
            or self.settings_shown
            or self.environment_variables_shown
            or self.file_paths_shown
            or self.sql_statements_shown
            or self.url_patterns_shown
            or self.versions_shown
        )


@dataclass(frozen=True)
class ErrorPagesRecord:
    """error_pages.json: every (server, DEBUG, request) answered, and any that could not be."""

    pages: tuple[ErrorPageFigures, ...]
    problems: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "format": ERROR_PAGES_FORMAT,
            "pages": [_plain(page) for page in self.pages],
            "problems": list(self.problems),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ErrorPagesRecord:
        _check(data, ERROR_PAGES_FORMAT, "error_pages.json")
        pages = data.get("pages")
        if not isinstance(pages, list):
            raise SchemaError("error_pages.json lacks pages")
        return cls(
            pages=tuple(_flat(ErrorPageFigures, page, "an error page") for page in pages),
            problems=tuple(str(problem) for problem in data.get("problems") or ()),
        )


@dataclass(frozen=True)
class DeployCheckFigures:
    """What `check --deploy` reported for one set of settings: its check ids, in order."""

    settings: str  # "development" or "production"
    debug: bool
    check_ids: tuple[str, ...]
    silenced: int
    output: str

    @property
    def count(self) -> int:
        return len(self.check_ids)


@dataclass(frozen=True)
class DeployCheckRecord:
    """deploy_check.json: the development and the production settings' reports."""

    checks: tuple[DeployCheckFigures, ...]
    problems: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "format": DEPLOY_CHECK_FORMAT,
            "checks": [_plain(check) for check in self.checks],
            "problems": list(self.problems),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DeployCheckRecord:
        _check(data, DEPLOY_CHECK_FORMAT, "deploy_check.json")
        checks = data.get("checks")
        if not isinstance(checks, list):
            raise SchemaError("deploy_check.json lacks checks")
        return cls(
            checks=tuple(_flat(DeployCheckFigures, check, "a deploy check") for check in checks),
            problems=tuple(str(problem) for problem in data.get("problems") or ()),
        )


ProbeRecord = ErrorPagesRecord | DeployCheckRecord
_READERS: Final[Mapping[str, Callable[[Mapping[str, Any]], ProbeRecord]]] = {
    ERROR_PAGES_FORMAT: ErrorPagesRecord.from_json,
    DEPLOY_CHECK_FORMAT: DeployCheckRecord.from_json,
}


def _check(data: Mapping[str, Any], expected: str, name: str) -> None:
    check_version(data, name)
    if data.get("format") != expected:
        raise SchemaError(f"{name} has format {data.get('format')!r}, expected {expected!r}")


def read_probe(path: Path) -> ProbeRecord:
    """Either probe file, by its `format`; SchemaError naming what is wrong."""
    data = read_document(path)
    reader = _READERS.get(str(data.get("format")))
    if reader is None:
        raise SchemaError(f"{path.name} has format {data.get('format')!r}; not a lesson probe")
    return reader(data)
