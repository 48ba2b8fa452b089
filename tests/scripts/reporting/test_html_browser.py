"""The report's HTML page in a real browser: headless Chromium renders it, offline.

Skipped when Chromium is not installed (`make system-deps` installs it), except in CI
(`CI=true`), where a missing browser is a failure: the page must be checked there. Marked
slow: it starts a real browser.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image as mpimg

from scripts import report

PROJECT_DIR = Path(__file__).resolve().parents[3]
FIXTURE_RUNS = PROJECT_DIR / "tests" / "fixtures" / "runs"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome")
WINDOW = (1400, 3000)
BROWSER_TIMEOUT_S = 120

pytestmark = pytest.mark.slow


def find_browser() -> str | None:
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> str:
    found = find_browser()
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("headless Chromium is required in CI (Debian package: chromium)")
        pytest.skip("Chromium is not installed (make system-deps installs the chromium package)")
    return found


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    results = tmp_path_factory.mktemp("results")
    shutil.copytree(FIXTURE_RUNS, results / "runs")
    with redirect_stdout(StringIO()):
        assert report.main(["--results", str(results)]) == 0
    yield results / "report" / "index.html"


def headless(
    browser: str, profile: Path, *args: str, window: tuple[int, int] = WINDOW
) -> subprocess.CompletedProcess[str]:
    """One headless Chromium run, isolated from the network and from any user profile, in a
    window of `window` (width, height) pixels."""
    return subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            f"--window-size={window[0]},{window[1]}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=BROWSER_TIMEOUT_S,
        check=False,
    )


def test_rendered_dom_has_the_tables_and_charts(browser: str, page: Path, tmp_path: Path) -> None:
    done = headless(browser, tmp_path / "profile", "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    charts = sorted((page.parent / "charts").glob("*.png"))
    images = re.findall(r'<img src="data:image/png;base64,', dom)
    assert len(images) == len(charts) == 13
    # Two comparison groups, each a table with one row per server and its charts.
    groups = re.findall(r'<section class="group".*?</section>', dom, flags=re.DOTALL)
    assert len(groups) == 2
    for group in groups:
        first_cells = re.findall(r'<tr(?: class="dev")?><td>([^<]*)</td>', group)
        assert first_cells == ["runserver (dev)", "gunicorn", "uvicorn"]
        assert group.count("<img ") == 6
    # The left-out runs with their status, and every run's settings.
    assert dom.count("status status-unreadable") >= 2
    assert "status status-failed" in dom
    assert dom.count("<details") == 12


def test_screenshot_is_not_blank(browser: str, page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    done = headless(browser, tmp_path / "profile", f"--screenshot={shot}", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.read_bytes().startswith(PNG_SIGNATURE)
    pixels = mpimg.imread(shot)
    assert pixels.shape[:2] == (WINDOW[1], WINDOW[0])
    colours = np.unique((pixels[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 50, f"only {len(colours)} distinct colours: the page looks blank"
    # Keep it for a human to look at when asked: REPORT_SCREENSHOT=/some/file.png
    keep = os.environ.get("REPORT_SCREENSHOT")
    if keep:
        shutil.copyfile(shot, keep)
