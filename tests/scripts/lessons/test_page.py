"""The lesson's page (scripts/lessons/page.py): every section with its claim, command,
verdict, chart and figures, in lesson.md and in a self-contained index.html."""

from __future__ import annotations

from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path
from types import MappingProxyType

from scripts import lesson
from scripts.lessons.findings import Figure, Finding, Rating, Series
from scripts.lessons.page import SectionResult, write_lesson
from scripts.lessons.recommendation import recommend
from scripts.lessons.sections import SECTIONS
from tests.scripts.lessons.fixture_lesson import DECIDED, Figures, build_lesson


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


def _rebuilt(results: Path, figures: Figures = DECIDED) -> tuple[str, str]:
    build_lesson(results, figures)
    with redirect_stdout(StringIO()):
        assert lesson.main(["--rebuild", "--results", str(results)]) == 0
    lesson_dir = results / "lesson"
    return (lesson_dir / "lesson.md").read_text(), (lesson_dir / "index.html").read_text()


def test_a_lesson_from_fixture_runs_decides_every_section_and_recommends(
    tmp_path: Path,
) -> None:
    markdown, page = _rebuilt(tmp_path)
    verdicts = [line for line in markdown.splitlines() if line.startswith("**Verdict: ")]
    assert len(verdicts) == len(SECTIONS)
    assert not [line for line in verdicts if Rating.NOT_SUPPORTED.value in line]
    advice = markdown.split("## Recommendation", 1)[1]
    lines = [line for line in advice.splitlines() if line.startswith("- ")]
    assert len(lines) == 5 and "Not supported by this run" not in advice
    # every figure of the recommendation is one of the sections' own
    assert "ran 201 threads" in lines[0] and "201 threads" in markdown.split("## 4.")[0]
    assert "1.9 times runserver's goodput" in lines[1]
    assert "found 2 issues in the development settings and 0 in the production" in lines[4]
    assert "66,827 bytes of text/html" in markdown and "DATABASE_URL among them" in markdown
    assert "replaced 6 workers and failed 0 of 900 requests" in markdown
    assert "<a href='#section-3'>section 3</a>" in page


def test_a_section_that_decided_nothing_takes_its_line_out_of_the_recommendation(
    tmp_path: Path,
) -> None:
    no_gain = {**DECIDED, ("cpu", "gunicorn", 2, 1): [50.0, 52.0]}
    markdown, _ = _rebuilt(tmp_path, no_gain)
    advice = markdown.split("## Recommendation", 1)[1]
    assert "A sync DRF app" not in advice
    assert "sync app: section 2 was not supported by this run" in advice
    assert "runserver: development only" in advice


def test_a_lesson_that_decided_nothing_recommends_nothing() -> None:
    undecided = Finding(Rating.NOT_SUPPORTED, "no data")
    advice = recommend(dict.fromkeys(SECTIONS, undecided))
    assert advice.lines == () and not advice.supported
    assert len(advice.unsupported) == 5
    assert recommend({}).unsupported[0] == "development server: section 3 did not run"
