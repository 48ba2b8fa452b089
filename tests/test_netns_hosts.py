"""The test hosts really are separate hosts that reach each other, and leave nothing behind."""

from __future__ import annotations

import subprocess
import sys

from tests.netns_hosts import ROOT_HOST, joined_hosts, require_namespaces

_ECHO_SERVER = (
    "import socket,sys\n"
    "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind((sys.argv[1], 8123)); s.listen(); print('ready', flush=True)\n"
    "c,_=s.accept(); c.sendall(c.recv(64).upper()); c.close()\n"
)
_ECHO_CLIENT = (
    "import socket,sys\n"
    "c=socket.create_connection((sys.argv[1], 8123), timeout=5); c.sendall(b'hello')\n"
    "print(c.recv(64).decode())\n"
)


def _namespaces() -> set[str]:
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    return {line.split()[0] for line in listed.stdout.splitlines() if line.strip()}


def test_hosts_reach_each_other_and_vanish_afterwards() -> None:
    require_namespaces()
    before = _namespaces()
    with joined_hosts(["server", "worker", ROOT_HOST]) as hosts:
        server, worker, root = hosts["server"], hosts["worker"], hosts[ROOT_HOST]
        assert len({server.address, worker.address, root.address}) == 3
        assert root.namespace is None
        for client in (worker, root):
            listening = subprocess.Popen(
                server.command([sys.executable, "-c", _ECHO_SERVER, server.address]),
                stdout=subprocess.PIPE,
                text=True,
            )
            try:
                assert listening.stdout is not None
                assert listening.stdout.readline().strip() == "ready"
                answered = subprocess.run(
                    client.command([sys.executable, "-c", _ECHO_CLIENT, server.address]),
                    capture_output=True,
                    text=True,
                    timeout=20,
                    check=True,
                )
                assert answered.stdout.strip() == "HELLO"
            finally:
                listening.kill()
                listening.wait()
        # the server's address is not reachable from the root namespace's loopback
        loopback = subprocess.run(
            server.command(["ip", "-o", "-4", "addr", "show", "lo"]),
            capture_output=True,
            text=True,
            check=True,
        )
        assert "127.0.0.1" in loopback.stdout
    assert _namespaces() == before
