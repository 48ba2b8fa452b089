"""Error pages counted from their bytes (scripts/harness/error_pages.py): a JSON error shows
nothing; Django's technical pages, fetched live from runserver and gunicorn with DEBUG on
(slow: four server starts), show the traceback, settings, environment and URL patterns."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.harness.error_pages import figures_of
from scripts.lessons.probes import error_pages


def test_a_json_error_shows_nothing() -> None:
    page = figures_of(
        "gunicorn", False, "unknown URL", 404, "application/json", b'{"detail": "Not found."}'
    )
    assert not page.leaks and page.body_bytes == 24 and page.content_type == "application/json"


@pytest.mark.slow
def test_debug_pages_leak_and_production_pages_do_not_under_both_servers(tmp_path: Path) -> None:
    record = error_pages(tmp_path)
    assert record.problems == ()
    pages = {(page.server, page.debug, page.request): page for page in record.pages}
    assert len(pages) == 8
    for server in ("runserver", "gunicorn"):
        crash = pages[(server, True, "bad Host header")]
        assert crash.status == 400 and crash.content_type == "text/html"
        assert crash.traceback_frames >= 1 and crash.settings_shown >= 50
        assert crash.environment_variables_shown >= 5
        # runserver (wsgiref) copies its process's environment into every request's;
        # gunicorn passes the request's own variables only
        assert crash.database_url_shown == (server == "runserver")
        assert crash.file_paths_shown >= 1 and crash.values_masked >= 1
        assert any(version.startswith("Django ") for version in crash.versions_shown)
        unknown = pages[(server, True, "unknown URL")]
        assert unknown.status == 404 and unknown.url_patterns_shown == 2  # healthz and api/
        for request in ("unknown URL", "bad Host header"):
            quiet = pages[(server, False, request)]
            assert not quiet.leaks and quiet.content_type == "application/json", quiet
            assert quiet.body_bytes < 100
