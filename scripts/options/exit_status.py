"""The exit statuses of every command, as one table (README.md shows the same table).

A CI job branches on these numbers, so each keeps one meaning across commands: `make
compare` exits 4 for "slower" and 5 for "no verdict", never 1, which would read as "a run
failed". 128 + N is the shell's convention for "ended by signal N".
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from types import MappingProxyType
from typing import Final


class ExitStatus(IntEnum):
    OK = 0
    RUN_FAILED = 1
    BAD_INPUT = 2
    SLO_MISSED = 3
    SLOWER = 4
    NO_VERDICT = 5
    NOT_WRITTEN = 6


SIGNAL_BASE: Final = 128  # ended by signal N: 128 + N (130 Ctrl-C, 129 hang-up, 143 TERM)

MEANINGS: Final[Mapping[ExitStatus, str]] = MappingProxyType(
    {
        ExitStatus.OK: "done and ok",
        ExitStatus.RUN_FAILED: "a run failed or was invalid",
        ExitStatus.BAD_INPUT: "bad input: nothing was started or written",
        ExitStatus.SLO_MISSED: "an SLO was missed",
        ExitStatus.SLOWER: "compare: the candidate is slower",
        ExitStatus.NO_VERDICT: "a verdict could not be reached (inconclusive, not enough data)",
        ExitStatus.NOT_WRITTEN: "results could not be written (disk full, read-only)",
    }
)
