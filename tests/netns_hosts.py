"""The project's own test hosts: network namespaces joined by one private switch.

Distributed load and remote targets need more than one host, and the tests may use only
loopback or hosts they create themselves. Each host is a network namespace with its own
address on a private /24; the root namespace (where pytest runs) joins the same segment as
the host named ROOT_HOST, so a Locust master under pytest reaches a worker in a namespace.

The switch is a bridge inside a namespace of its own, not in the root namespace: a bridge in
the root namespace passes through the host's iptables FORWARD chain when br_netfilter is
loaded (Docker sets its policy to DROP), while a new namespace starts with empty tables.

Everything is created under names that carry this process's pid, and removed on exit: every
process still inside a namespace (only ours can be there) is killed first, then the
namespaces go, which removes their veth ends with them.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest

ROOT_HOST = "root"
"""The name under which the root namespace (this process) appears among the hosts."""

_SUBNET_CANDIDATES = tuple(f"10.231.{third}.0/24" for third in range(16, 240, 7))
"""Private /24s tried in turn; the first that no interface of this machine uses is taken."""


@dataclass(frozen=True)
class TestHost:
    """One host of the test network: a namespace (None for the root one) and its address."""

    __test__ = False  # not a pytest test class

    name: str
    namespace: str | None
    address: str

    def command(self, argv: Sequence[str]) -> list[str]:
        """`argv` as run on this host."""
        if self.namespace is None:
            return list(argv)
        return ["ip", "netns", "exec", self.namespace, *argv]


def unavailable_reason() -> str | None:
    """Why namespaces cannot be made here (no `ip`, not root), or None when they can."""
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed"
    if os.geteuid() != 0:
        return "creating network namespaces needs root"
    probe = f"drfb-probe-{os.getpid()}"
    created = _run(["ip", "netns", "add", probe], check=False)
    if created.returncode != 0:
        return f"`ip netns add` failed: {created.stderr.strip()}"
    _run(["ip", "netns", "del", probe], check=False)
    return None


def require_namespaces() -> None:
    """Skip with the reason when namespaces cannot be made; under CI=true, fail instead."""
    reason = unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must be able to create test hosts")
    pytest.skip(reason)


@contextlib.contextmanager
def joined_hosts(names: Sequence[str]) -> Iterator[dict[str, TestHost]]:
    """Hosts named `names` (ROOT_HOST among them means the root namespace joins too), each
    with its own address on one segment; all of it is gone when the block ends."""
    if len(set(names)) != len(names) or not names:
        raise ValueError(f"host names must be distinct and non-empty: {names!r}")
    tag = f"{os.getpid() % 100000}"
    subnet = _free_subnet()
    addresses = list(subnet.hosts())
    switch = f"drfb-{tag}-switch"
    created: list[str] = []
    root_link: str | None = None
    try:
        _run(["ip", "netns", "add", switch])
        created.append(switch)
        _in(switch, ["ip", "link", "add", "br0", "type", "bridge"])
        _in(switch, ["ip", "link", "set", "br0", "up"])
        hosts: dict[str, TestHost] = {}
        for index, name in enumerate(names, start=1):
            address = str(addresses[index - 1])
            outer, inner = f"dbs{tag}x{index}", f"dbh{tag}x{index}"
            namespace = None if name == ROOT_HOST else f"drfb-{tag}-{name}"
            if namespace is not None:
                _run(["ip", "netns", "add", namespace])
                created.append(namespace)
            _run(["ip", "link", "add", inner, "type", "veth", "peer", "name", outer])
            if namespace is None:
                root_link = inner
            _run(["ip", "link", "set", outer, "netns", switch])
            _in(switch, ["ip", "link", "set", outer, "master", "br0"])
            _in(switch, ["ip", "link", "set", outer, "up"])
            on_host = ["ip", "link", "set", inner, "netns", namespace] if namespace else None
            if on_host:
                _run(on_host)
            host = TestHost(name=name, namespace=namespace, address=address)
            _run(host.command(["ip", "addr", "add", f"{address}/{subnet.prefixlen}", "dev", inner]))
            _run(host.command(["ip", "link", "set", inner, "up"]))
            _run(host.command(["ip", "link", "set", "lo", "up"]))
            hosts[name] = host
        yield hosts
    finally:
        for namespace in reversed(created):
            _kill_everything_in(namespace)
            _run(["ip", "netns", "del", namespace], check=False)
        if root_link is not None:
            _run(["ip", "link", "del", root_link], check=False)


def _free_subnet() -> ipaddress.IPv4Network:
    """The first candidate /24 that overlaps no address configured on this machine."""
    shown = _run(["ip", "-o", "-4", "addr", "show"]).stdout
    in_use = [
        ipaddress.ip_interface(word).network
        for line in shown.splitlines()
        for word in line.split()
        if "/" in word and word[0].isdigit()
    ]
    for candidate in _SUBNET_CANDIDATES:
        network = ipaddress.ip_network(candidate)
        if not any(network.overlaps(used) for used in in_use):
            return network
    raise RuntimeError("no free private /24 for the test hosts")


def _kill_everything_in(namespace: str) -> None:
    """Kill the processes left inside `namespace` (the tests started them all)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        listed = _run(["ip", "netns", "pids", namespace], check=False).stdout.split()
        if not listed:
            return
        for pid in listed:
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), sig)
        time.sleep(0.5)


def _in(namespace: str, argv: list[str]) -> None:
    _run(["ip", "netns", "exec", namespace, *argv])


def _run(argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    if check and completed.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {completed.stderr.strip()}")
    return completed
