"""What a section's judge hands the page: a verdict, its reason, and the figures under it.

`facts` are the few numbers and names a verdict rests on, kept as data (not only in the
reason's words), so the closing recommendation (scripts/lessons/recommendation.py) is
computed from them and never from hand-written figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType


class Rating(StrEnum):
    CONFIRMED = "confirmed"
    PARTLY_TRUE = "partly true"
    OUT_OF_DATE = "out of date"
    NOT_SUPPORTED = "not supported by this run"


@dataclass(frozen=True)
class Figure:
    """One row of a section's key figures: a configuration and its cells."""

    label: str
    cells: Mapping[str, str]


@dataclass(frozen=True)
class Table:
    """A further table of a section, under its own title (the first column is `label`)."""

    title: str
    label: str
    figures: tuple[Figure, ...]


@dataclass(frozen=True)
class Series:
    """What a section's chart draws: x values (users, or configurations) and, per label,
    the median y value at each x (None: not measured there)."""

    title: str
    x_label: str
    y_label: str
    x: tuple[str, ...]
    lines: Mapping[str, tuple[float | None, ...]]
    kind: str = "bar"  # or "line"


Fact = float | str | tuple[str, ...]


@dataclass(frozen=True)
class Finding:
    rating: Rating
    reason: str
    figures: tuple[Figure, ...] = ()
    comparisons: tuple[str, ...] = ()  # each comparison's headline, with its CI
    chart: Series | None = None
    caveats: tuple[str, ...] = field(default_factory=tuple)
    tables: tuple[Table, ...] = ()
    facts: Mapping[str, Fact] = field(default_factory=lambda: MappingProxyType({}))

    def fact(self, name: str) -> Fact | None:
        return self.facts.get(name)
