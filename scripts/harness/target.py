"""TARGET: an already-running deployment of the sample app, benchmarked from this machine.

Nothing is launched for such a run: the deployment is someone else's, so the harness can
only see what crosses the network. This module holds what a bench needs to know of one
before anything starts, each checked once into one line and exit status 2 when wrong: the
URL (http or https, a host, an optional port and path prefix; no credentials, no query),
the seeded accounts' credentials (from the environment, never from a flag that would land
in shell history), the CA file TLS is verified against, and the flags that name a local
server's settings and so make no sense beside TARGET.

TLS is verified by default everywhere the harness speaks to the target: the readiness
poll, the response checks and the token logins (one `ssl.SSLContext`, `tls_context()`),
and Locust (FastHttpUser defaults to `insecure=True`; the locustfile sets it False and
loads the same CA file).
"""

from __future__ import annotations

import argparse
import ssl
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Final

from servers.placement import Placement

SCHEMES: Final[Mapping[str, int]] = MappingProxyType({"http": 80, "https": 443})
"""Supported URL schemes and their default ports."""

USER_PREFIX_VARIABLE: Final = "DRF_BENCH_TARGET_USER_PREFIX"
PASSWORD_VARIABLE: Final = "DRF_BENCH_TARGET_PASSWORD"
DEFAULT_USER_PREFIX: Final = "bench"  # `manage.py seed`'s own default

# Flags (by argparse dest) that set up a local server or what runs around it, and the make
# variable a user typed for each: beside TARGET they would silently do nothing.
SERVER_ONLY_FLAGS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "server": "SERVER",
        "workers": "WORKERS",
        "threads": "THREADS",
        "host": "HOST",
        "port": "PORT",
        "profile": "PROFILE",
        "proxy": "PROXY",
        "db": "DB",
        "pin": "PIN",
        "checks": "CHECKS",
        "access_lifetime": "ACCESS_LIFETIME",
        "items": "--items",
        "max_requests": "MAX_REQUESTS",
    }
)

EXTERNAL_SERVER: Final = "external"
"""meta.json's `server` (and `profile`) for a run against a TARGET: no registry entry."""


@dataclass(frozen=True)
class TargetUrl:
    """A validated TARGET: scheme, host, port (the scheme's default when none is given) and
    a path prefix ("" or "/path", no trailing slash) every request path is appended to."""

    scheme: str
    host: str
    port: int
    prefix: str = ""

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.netloc}{self.prefix}"

    @property
    def tls(self) -> bool:
        return self.scheme == "https"


def parse_target(text: str) -> TargetUrl | str:
    """The TARGET, or one line saying what is wrong with `text`."""
    shown = f"TARGET={text!r}"
    if "://" not in text:
        return f"{shown} is not a URL; expected http(s)://host[:port][/prefix]"
    parts = urllib.parse.urlsplit(text.strip())
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        return f"{shown}: unsupported scheme {parts.scheme!r}; expected {' or '.join(SCHEMES)}"
    if parts.username is not None or parts.password is not None:
        return (
            f"TARGET must not carry credentials (they would land in shell history); "
            f"give them in {USER_PREFIX_VARIABLE} and {PASSWORD_VARIABLE}"
        )
    if not parts.hostname:
        return f"{shown} has no host; expected http(s)://host[:port][/prefix]"
    if parts.query or parts.fragment:
        return f"{shown}: a query or fragment has no place in a base URL"
    try:
        port = parts.port
    except ValueError:
        return f"{shown} has an invalid port; expected 1-65535"
    if port == 0:
        return f"{shown} has an invalid port; expected 1-65535"
    return TargetUrl(
        scheme=scheme,
        host=parts.hostname,
        port=port or SCHEMES[scheme],
        prefix=parts.path.rstrip("/"),
    )


def target_argument(text: str) -> TargetUrl:
    """argparse type of --target."""
    parsed = parse_target(text)
    if isinstance(parsed, str):
        raise argparse.ArgumentTypeError(parsed)
    return parsed


def ca_file_argument(text: str) -> Path:
    """argparse type of --target-ca: a readable PEM file of CA certificates."""
    path = Path(text).expanduser()
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"TARGET_CA={text!r} is not a file")
    try:
        ssl.create_default_context(cafile=str(path))
    except (ssl.SSLError, OSError) as error:
        raise argparse.ArgumentTypeError(
            f"TARGET_CA={text!r} holds no usable PEM CA certificate ({error})"
        ) from None
    return path.resolve()


@dataclass(frozen=True)
class TargetAccounts:
    """The seeded accounts on the target (`manage.py seed --prefix P --password X` there):
    <prefix>0001, <prefix>0002, ... sharing one password. The password is never printed
    nor written to a result file."""

    prefix: str
    password: str = field(repr=False)

    def username(self, index: int) -> str:
        """The seeded username for 1-based `index` (the seed command's pattern)."""
        return f"{self.prefix}{index:04d}"


def accounts_from_environment(environ: Mapping[str, str]) -> TargetAccounts | str:
    """The accounts' credentials, or one line naming the variable that is missing."""
    password = environ.get(PASSWORD_VARIABLE, "")
    if not password:
        return (
            f"TARGET needs the seeded accounts' password in ${PASSWORD_VARIABLE} (and their "
            f"username prefix in ${USER_PREFIX_VARIABLE}, default {DEFAULT_USER_PREFIX}); "
            "it is never taken from a flag"
        )
    prefix = environ.get(USER_PREFIX_VARIABLE, "").strip() or DEFAULT_USER_PREFIX
    return TargetAccounts(prefix=prefix, password=password)


def server_only_conflict(given: frozenset[str]) -> str | None:
    """One line naming the server-only flags given beside TARGET, or None."""
    clashing = [variable for dest, variable in SERVER_ONLY_FLAGS.items() if dest in given]
    if not clashing:
        return None
    return (
        f"TARGET benchmarks a deployment that is already running: {', '.join(clashing)} "
        "set up a local server and cannot be combined with it"
    )


@dataclass(frozen=True)
class RemoteTarget:
    """Everything a bench against a TARGET knows before it starts."""

    url: TargetUrl
    accounts: TargetAccounts
    ca_file: Path | None = None

    def tls_context(self) -> ssl.SSLContext | None:
        """The verifying context for the harness's own HTTP (None for http://): the CA
        file's certificates when one is given, else the system's."""
        if not self.url.tls:
            return None
        if self.ca_file is not None:
            return ssl.create_default_context(cafile=str(self.ca_file))
        return ssl.create_default_context()

    @property
    def trusted(self) -> str:
        """What an https target's certificate must chain to."""
        if self.ca_file is not None:
            return f"the CA file {self.ca_file}"
        return "the system's CA certificates"

    @property
    def tls_text(self) -> str:
        """How TLS is verified, as meta.json and the console say it."""
        return f"verified against {self.trusted}" if self.url.tls else "none (http)"


def remote_target(
    url: TargetUrl, ca_file: Path | None, given: frozenset[str], environ: Mapping[str, str]
) -> RemoteTarget | str:
    """The target of a bench, or the one line that refuses it."""
    conflict = server_only_conflict(given)
    if conflict:
        return conflict
    if ca_file is not None and not url.tls:
        return "TARGET_CA verifies TLS: it needs an https:// TARGET"
    accounts = accounts_from_environment(environ)
    if isinstance(accounts, str):
        return accounts
    return RemoteTarget(url=url, accounts=accounts, ca_file=ca_file)


def given_destinations(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None
) -> frozenset[str]:
    """The flags given on the command line (by argparse dest), whatever their values:
    `parser`, one built for this purpose (its defaults are changed), parses `argv` with
    every default suppressed, so only given flags appear in its namespace (`--server
    gunicorn` counts, though it is the default)."""
    for action in parser._actions:  # argparse has no public handle on its actions
        action.default = argparse.SUPPRESS
    known, _ = parser.parse_known_args(argv, argparse.Namespace())
    return frozenset(vars(known))


def external_placement(available: tuple[int, ...]) -> Placement:
    """No server runs here, so there is nothing to keep Locust apart from: it may use
    every CPU this process may."""
    return Placement(
        "external",
        None,
        None,
        f"external target: no server on this machine; Locust may use all {len(available)} CPUs",
    )
