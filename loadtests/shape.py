"""The load shape: the users of each step. A constant load is one step.

One type from the plan to the locustfile, so the user count travels in one form (not as a
tuple here, a "--steps" string there and a file name in the report).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LoadShape:
    """Users per step, in order; a step load has at least two increasing counts."""

    steps: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.steps or min(self.steps) < 1:
            raise ValueError(f"a load shape needs user counts >= 1, got {self.steps!r}")

    @classmethod
    def constant(cls, users: int) -> LoadShape:
        return cls((users,))

    @classmethod
    def from_arg(cls, text: str) -> LoadShape:
        """The form the locustfile takes on its command line: `8,16,32`."""
        return cls(tuple(int(part) for part in text.split(",") if part.strip()))

    def to_arg(self) -> str:
        return ",".join(map(str, self.steps))

    @property
    def stepped(self) -> bool:
        return len(self.steps) > 1

    @property
    def name(self) -> str:
        """`constant` or `steps`, as meta.json and the report call it."""
        return "steps" if self.stepped else "constant"

    @property
    def first_users(self) -> int:
        return self.steps[0]

    @property
    def most_users(self) -> int:
        return max(self.steps)

    @property
    def windows(self) -> int:
        return len(self.steps)
