"""Loopback port checks: is a port free, and which free port can a test or a run use."""

from __future__ import annotations

import socket
import time

# Ports held by the machine's own services; never hand these out even if they look free.
RESERVED_PORTS = frozenset({3306, 4222, 5432, 5672, 6379, 1883})


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on (host, port).

    SO_REUSEADDR makes connections left in TIME_WAIT by the previous run not count as "in
    use": only a live listener does, which is what would make a server's bind fail.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port the kernel says is free now (there is always a small race until it is bound)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((host, 0))
            port = int(probe.getsockname()[1])
        if port not in RESERVED_PORTS:
            return port


def wait_port_free(host: str, port: int, deadline_s: float) -> bool:
    """Poll until the port is free or the deadline passes; True when it became free."""
    end = time.monotonic() + deadline_s
    while True:
        if port_is_free(host, port):
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(0.05)
