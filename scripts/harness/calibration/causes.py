"""Candidate causes of the harness's extra server CPU per request, tested one at a time.

A calibration found the server spending more CPU per request under the harness than
under wrk (issue 17: a median 2.13 ms against 2.01, in 8 of 12 pairs). Each candidate
here changes exactly one thing about the wrk side, the reference whose own cost is
smallest, and is measured in every pair right next to the plain wrk side (before it in
pairs 1, 3, ..., after it in pairs 2, 4, ..., so drift pushes neighbouring pairs in
opposite directions). The effect of a candidate is then the median over the pairs of its
side against the plain wrk side, of the server's CPU time per request and of the rate, each
with its bootstrap CI (estimates.py), and a verdict against a practical threshold.

What a candidate can and cannot show: it reproduces one difference between Locust and wrk
on the wrk side. An effect there is a cause the harness carries too; no effect clears it.
The candidates the series answer without a run of their own are read off every
calibration's sides (text.evidence_lines): connection churn (connections opened per
request: the servers calibrated here close every connection on every side), steal, the
server's user and system CPU and context switches per request. Token refreshes need no
run: every side uses tokens issued to outlive the calibration, so none refreshes.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from types import MappingProxyType
from typing import Final

# An effect is a cause only when its CI lies beyond this share either way; within it, the
# candidate is cleared. 2 %: a third of the 6 % gap being explained.
PRACTICAL_SHARE: Final = 0.02


def _locust_user_agent() -> str:
    """The User-Agent Locust's FastHttpUser sends (geventhttpclient's default), read from
    the installed distribution without importing it."""
    try:
        return "python/gevent-http-client-" + metadata.version("geventhttpclient")
    except metadata.PackageNotFoundError:
        return "python/gevent-http-client"


@dataclass(frozen=True)
class Cause:
    """One candidate: what it asks, what its wrk side changes, and how (as data)."""

    name: str
    letter: str  # in a pair's order, beside W, H and L
    question: str
    change: str
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    one_token: bool = False
    busy_generator: bool = False


def _causes() -> Mapping[str, Cause]:
    found = (
        Cause(
            name="locust-headers",
            letter="X",
            question="does what Locust sends beyond wrk's request cost the server?",
            change="wrk adds the headers Locust's client sends (User-Agent, Accept-Encoding)",
            extra_headers={
                "User-Agent": _locust_user_agent(),
                "Accept-Encoding": "gzip, deflate, br",
            },
        ),
        Cause(
            name="one-token",
            letter="1",
            question="do per-account tokens and their JWT checks cost the server more than "
            "one token would?",
            change="wrk sends the first account's token with every request",
            one_token=True,
        ),
        Cause(
            name="busy-generator",
            letter="B",
            question="does a busy load generator CPU slow the server on its own CPU (a "
            "shared physical core, caches, the hypervisor)?",
            change="a CPU loop runs on the load generator's CPUs beside wrk while it measures "
            "(Locust keeps its CPU far busier than wrk does)",
            busy_generator=True,
        ),
    )
    return MappingProxyType({cause.name: cause for cause in found})


CAUSES: Final = _causes()


def cause_names(text: str) -> tuple[str, ...]:
    """argparse type: "all", or candidate names, comma-separated."""
    if text.strip() == "all":
        return tuple(CAUSES)
    named = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [name for name in named if name not in CAUSES]
    if unknown or not named:
        raise argparse.ArgumentTypeError(
            f"expected all or one or more of {', '.join(CAUSES)}, got {text!r}"
        )
    return tuple(name for name in CAUSES if name in named)


def wrk_script(cause: Cause | None) -> str:
    """The Lua script of a wrk side: one pre-built request per token, taken in turn, with
    the cause's extra headers (none for the plain side). args[1] names the tokens file."""
    extra = cause.extra_headers if cause else {}
    fields = ", ".join(
        ['["Authorization"] = "Bearer " .. line', *(f'["{k}"] = "{v}"' for k, v in extra.items())]
    )
    side = cause.name if cause else "the plain wrk side"
    return f"""\
-- make calibrate, {side}: one app-issued token per request, in turn
-- (scripts/harness/calibration/sides.py, causes.py); args[1]: one access token a line
local requests = {{}}
local turn = 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then
      requests[#requests + 1] = wrk.format(nil, nil, {{{fields}}})
    end
  end
  if #requests == 0 then
    error("no token in " .. tostring(args[1]))
  end
end

function request()
  turn = turn % #requests + 1
  return requests[turn]
end
"""


def effect_verdict(point: float | None, low: float | None, high: float | None) -> str:
    """How a candidate's median ratio against the plain wrk side reads: "higher" or
    "lower" when its CI lies beyond the practical share, "within 2 %" when inside it,
    else "inconclusive"; "no CI" with too few pairs."""
    if point is None:
        return "not measured"
    if low is None or high is None:
        return "no CI"
    if low > 1 + PRACTICAL_SHARE:
        return "higher"
    if high < 1 - PRACTICAL_SHARE:
        return "lower"
    if low >= 1 - PRACTICAL_SHARE and high <= 1 + PRACTICAL_SHARE:
        return f"within {PRACTICAL_SHARE:.0%}"
    return "inconclusive"
