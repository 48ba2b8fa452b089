"""Argument parsing shared by the entry points: one clear line and exit status 2 on bad input."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import NoReturn, TypeVar

from servers.registry import server_names

USAGE_ERROR_STATUS = 2
_N = TypeVar("_N", int, float)


class OneLineErrorParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are a single line (no usage dump), exit status 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(USAGE_ERROR_STATUS)


def fail_usage(prog: str, message: str) -> NoReturn:
    """Report bad input found after parsing, the same way argparse reports its own."""
    sys.stderr.write(f"{prog}: error: {message}\n")
    raise SystemExit(USAGE_ERROR_STATUS)


def checked_number(
    text: str, convert: Callable[[str], _N], accept: Callable[[_N], bool], expected: str
) -> _N:
    """The one shape of every numeric argparse type: convert, check, or one line naming what
    was expected ("expected a port 1-65535, got 'x'")."""
    try:
        value = convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if not accept(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    return checked_number(text, int, lambda value: value >= 1, "a whole number >= 1")


def port_number(text: str) -> int:
    """argparse type: a TCP port 1..65535."""
    return checked_number(text, int, lambda value: 1 <= value <= 65535, "a port 1-65535")


def positive_rate(text: str) -> float:
    """argparse type: a number above zero (users started per second, an SLO)."""
    return checked_number(text, float, lambda value: value > 0, "a number above 0")


def error_rate(text: str) -> float:
    """argparse type: a share of requests, 0 to 1 (0.01 is 1 %)."""
    return checked_number(text, float, lambda value: 0 <= value <= 1, "a fraction from 0 to 1")


def server_choice(text: str) -> str:
    """argparse type: a registered server name."""
    if text not in server_names():
        raise argparse.ArgumentTypeError(
            f"unknown server {text!r}; valid servers: {', '.join(server_names())}"
        )
    return text
