"""Who owns the socket listening on a port: a /healthz answer proves only that *someone*
answers there.

Between our free-port check and the server's bind, another process can take the port; a
server that then fails to bind (or retries, as Gunicorn does for 5 s) leaves the other
listener answering, and a readiness check by HTTP alone would measure that process instead.
So a server is ready only when every socket listening where its clients connect is open in
a process of its own tree. The kernel's tables say it without naming any process: the
listening sockets' inodes come from /proc/net/tcp{,6}, and a process's open sockets are the
`socket:[inode]` links in /proc/<pid>/fd.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable
from pathlib import Path

_LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp's `st` column
_TABLES = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _decode_address(hex_address: str) -> Address:
    """/proc/net/tcp{,6} print an address as 32-bit words in host (little-endian) order."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return ipaddress.ip_address(words)


def _reaches(listener: Address, host: Address) -> bool:
    """Would a connection to `host` be accepted by a socket bound to `listener`?"""
    if isinstance(listener, ipaddress.IPv6Address) and listener.ipv4_mapped is not None:
        listener = listener.ipv4_mapped
    if listener == host:
        return True
    if listener.is_unspecified:  # 0.0.0.0, or :: (which also takes IPv4 unless v6only)
        return isinstance(listener, ipaddress.IPv6Address) or isinstance(
            host, ipaddress.IPv4Address
        )
    return False


def listening_inodes(host: str, port: int) -> set[int]:
    """Inodes of the TCP sockets listening on `port` that would accept a connection to
    `host` (the exact address or a wildcard)."""
    target = ipaddress.ip_address(host)
    found: set[int] = set()
    for table in _TABLES:
        try:
            lines = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, _, port_hex = fields[1].partition(":")
            if fields[3] != _LISTEN or int(port_hex, 16) != port:
                continue
            if _reaches(_decode_address(address), target):
                found.add(int(fields[9]))
    return found


def socket_inodes(pids: Iterable[int]) -> dict[int, int]:
    """inode -> pid for every socket open in the given processes (the first holder found)."""
    held: dict[int, int] = {}
    for pid in pids:
        fd_dir = Path(f"/proc/{pid}/fd")
        try:
            names = os.listdir(fd_dir)
        except OSError:
            continue
        for name in names:
            try:
                target = os.readlink(fd_dir / name)
            except OSError:
                continue
            if target.startswith("socket:["):
                held.setdefault(int(target[8:-1]), pid)
    return held


def _all_pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def _describe(pid: int) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return f"pid {pid}"
    command = " ".join(part.decode(errors="replace") for part in argv if part)
    return f"pid {pid} ({command[:80]})" if command else f"pid {pid}"


def foreign_listener(members: Iterable[int], host: str, port: int) -> str | None:
    """None when something listens on host:port and every such socket is open in one of
    `members`; otherwise one line saying what listens there instead."""
    listening = listening_inodes(host, port)
    if not listening:
        return f"nothing listens on {host}:{port}"
    foreign = listening - set(socket_inodes(members))
    if not foreign:
        return None
    holders = socket_inodes(_all_pids())
    owners = sorted({holders[inode] for inode in foreign if inode in holders})
    who = ", ".join(_describe(pid) for pid in owners) or "a process we cannot see"
    return f"{host}:{port} is held by another process, {who}"
