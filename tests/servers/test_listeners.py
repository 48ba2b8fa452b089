"""Who holds a listening socket: read from the kernel's tables, for real sockets."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from servers.listeners import foreign_listener, listening_inodes, socket_inodes
from servers.ports import free_port


def test_our_own_listener_is_ours_and_nobody_elses() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        [inode] = listening_inodes("127.0.0.1", port)
        assert socket_inodes([os.getpid()])[inode] == os.getpid()
        assert foreign_listener([os.getpid()], "127.0.0.1", port) is None
        problem = foreign_listener([], "127.0.0.1", port)
    assert problem is not None and f"pid {os.getpid()}" in problem


def test_a_wildcard_listener_counts_for_loopback() -> None:
    with socket.socket(socket.AF_INET6) as listener:
        listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        listener.bind(("::", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert len(listening_inodes("127.0.0.1", port)) == 1
        assert foreign_listener([], "127.0.0.1", port) is not None


def test_a_listener_in_another_process_is_named() -> None:
    port = free_port()
    code = (
        "import socket, sys, time\n"
        f"s = socket.socket(); s.bind(('127.0.0.1', {port})); s.listen()\n"
        "print('listening', flush=True); time.sleep(30)\n"
    )
    other = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    try:
        assert other.stdout is not None and other.stdout.readline() == b"listening\n"
        problem = foreign_listener([os.getpid()], "127.0.0.1", port)
    finally:
        other.kill()
        other.wait(timeout=10)
    assert problem is not None and f"pid {other.pid}" in problem


def test_nothing_listening_is_said() -> None:
    port = free_port()
    assert foreign_listener([os.getpid()], "127.0.0.1", port) == (
        f"nothing listens on 127.0.0.1:{port}"
    )
