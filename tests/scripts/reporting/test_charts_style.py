"""How servers are drawn (scripts/reporting/charts_style.py)."""

from __future__ import annotations

from scripts.reporting.charts_style import DEVELOPMENT_COLOURS, PRODUCTION_COLOURS, series_style
from servers.registry import SERVERS


def test_each_production_server_has_its_own_colour_from_the_registry() -> None:
    production = [spec.name for spec in SERVERS.values() if spec.production_grade]
    colours = [series_style(name, production_grade=True).colour for name in production]
    assert colours == [
        PRODUCTION_COLOURS[index % len(PRODUCTION_COLOURS)] for index in range(len(production))
    ]
    assert len(set(colours[: len(PRODUCTION_COLOURS)])) == min(
        len(production), len(PRODUCTION_COLOURS)
    )
    assert all(series_style(name, True).linestyle == "-" for name in production)


def test_development_servers_are_drawn_apart() -> None:
    style = series_style("runserver", production_grade=False)
    assert style.colour in DEVELOPMENT_COLOURS
    assert style.hatch and style.linestyle == "--"
    assert style.colour not in PRODUCTION_COLOURS
