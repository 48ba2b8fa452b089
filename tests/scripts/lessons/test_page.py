"""The lesson's page (scripts/lessons/page.py): every section with its claim, command,
verdict, chart and figures, in lesson.md and in a self-contained index.html."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

from scripts.lessons.findings import Figure, Finding, Rating, Series
from scripts.lessons.page import SectionResult, write_lesson
from scripts.lessons.sections import SECTIONS


def _finding(rating: Rating, kind: str) -> Finding:
    chart = Series(
        "a chart",
        "users",
        "requests per second",
        ("1", "4"),
        MappingProxyType({"runserver": (19.0, 70.0), "gunicorn": (19.0, None)}),
        kind=kind,
    )
    figures = (Figure("runserver", {"1 users": "19.0", "4 users": "70.0"}),)
    return Finding(
        rating, f"because {rating.value}", figures, ("a headline",), chart, ("a caveat",)
    )


def test_every_section_is_written_with_its_chart_embedded(tmp_path: Path) -> None:
    ratings = list(Rating)
    results = [
        SectionResult(section, _finding(ratings[i % 4], "line" if i % 2 else "bar"), ("cmd",))
        for i, section in enumerate(SECTIONS.values())
    ]
    index = write_lesson(results, tmp_path / "lesson", "quick", "measured here")
    page = index.read_text()
    markdown = (tmp_path / "lesson" / "lesson.md").read_text()
    for result in results:
        section = result.section
        assert f"id='section-{section.number}'" in page
        assert (tmp_path / "lesson" / f"section{section.number}.png").stat().st_size > 5000
        assert f"## {section.number}. {section.title}" in markdown
        for claim in section.claims:
            assert claim.text in markdown
    assert page.count("data:image/png;base64,") == len(results)
    assert "src='section" not in page, "the page needs no file beside it"
    for rating in ratings:
        assert rating.value in page and f"**Verdict: {rating.value}**" in markdown
    assert "(quick lesson: 2 repetitions, short windows)" in markdown
    assert "caveat: a caveat" in markdown and "a headline" in page
