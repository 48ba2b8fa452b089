"""The lesson's page in a real browser (headless Chromium, offline), built from committed
fixture runs: every chart loads, every link leads somewhere on the page, and nothing is
wider than a 1280 px window. A script added to a copy of the page measures all three after
the load event and writes them into the DOM, which Chromium then dumps.

Skipped when Chromium is missing, except in CI (tests/scripts/reporting/test_html_browser.py
says how); slow: it starts a real browser.
"""

from __future__ import annotations

import html
import json
import re
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path
from typing import Any, Final

import pytest

from scripts import lesson
from scripts.lessons.sections import SECTIONS
from tests.scripts.lessons.fixture_lesson import build_lesson
from tests.scripts.reporting.test_html_browser import browser, headless

pytestmark = pytest.mark.slow
__all__ = ["browser"]  # the fixture, imported for this module's tests

WINDOW: Final = (1280, 2000)
MEASURE: Final = """
<script>
window.addEventListener("load", () => {
  const found = {images: [], links: [], wide: [], innerWidth: window.innerWidth,
                 scrollWidth: document.documentElement.scrollWidth};
  for (const image of document.images) {
    found.images.push({alt: image.alt, loaded: image.complete && image.naturalWidth > 0});
  }
  for (const link of document.querySelectorAll("a[href]")) {
    const target = link.getAttribute("href");
    const lands = target.startsWith("#") && document.getElementById(target.slice(1)) !== null;
    found.links.push({href: target, lands: lands});
  }
  for (const element of document.body.querySelectorAll("*")) {
    const right = element.getBoundingClientRect().right;
    if (right > window.innerWidth + 0.5) {
      found.wide.push(element.tagName + " " + Math.round(right) + " px");
    }
  }
  const out = document.createElement("pre");
  out.id = "measured";
  out.textContent = JSON.stringify(found);
  document.body.appendChild(out);
});
</script>
"""


def _measured(browser: str, page: Path, profile: Path) -> dict[str, Any]:
    probe = page.with_name("measured.html")
    probe.write_text(page.read_text().replace("</body>", MEASURE + "</body>"))
    done = headless(
        browser, profile, "--virtual-time-budget=10000", "--dump-dom", probe.as_uri(), window=WINDOW
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'<pre id="measured">(.*?)</pre>', done.stdout, flags=re.DOTALL)
    assert found is not None, "the measuring script did not run"
    result: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return result


def test_every_chart_loads_every_link_lands_and_nothing_is_wider_than_the_window(
    browser: str, tmp_path: Path
) -> None:
    build_lesson(tmp_path / "results")
    with redirect_stdout(StringIO()):
        assert lesson.main(["--rebuild", "--results", str(tmp_path / "results")]) == 0
    page = tmp_path / "results" / "lesson" / "index.html"
    found = _measured(browser, page, tmp_path / "profile")
    assert found["innerWidth"] == WINDOW[0]
    images = found["images"]
    assert len(images) == len(SECTIONS), images
    assert all(image["loaded"] for image in images), [i for i in images if not i["loaded"]]
    links = found["links"]
    assert len(links) >= len(SECTIONS) + 1, "the contents list links every section"
    assert all(link["lands"] for link in links), [link for link in links if not link["lands"]]
    assert found["wide"] == [] and found["scrollWidth"] <= WINDOW[0], found["wide"][:10]
