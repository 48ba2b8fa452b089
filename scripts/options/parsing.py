"""Argument parsing shared by the entry points: one clear line and exit status 2 on bad input."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from servers.registry import server_names

USAGE_ERROR_STATUS = 2


class OneLineErrorParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are a single line (no usage dump), exit status 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(USAGE_ERROR_STATUS)


def fail_usage(prog: str, message: str) -> NoReturn:
    """Report bad input found after parsing, the same way argparse reports its own."""
    sys.stderr.write(f"{prog}: error: {message}\n")
    raise SystemExit(USAGE_ERROR_STATUS)


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def port_number(text: str) -> int:
    """argparse type: a TCP port 1..65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port 1-65535, got {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port 1-65535, got {text!r}")
    return value


def server_choice(text: str) -> str:
    """argparse type: a registered server name."""
    if text not in server_names():
        raise argparse.ArgumentTypeError(
            f"unknown server {text!r}; valid servers: {', '.join(server_names())}"
        )
    return text
