"""Deployment profiles as the report names and orders them (meta.json's `profile`).

A profile is the deployment around the server (results/README.md): `dev` (no proxy,
SQLite: every run made before profiles existed), `production` (nginx and PostgreSQL), or the
PROXY+DB pair given (`nginx+sqlite`, `none+postgres`). It is part of what a configuration
is, so runs of different profiles never pool; and a report whose runs hold one profile only
does not repeat its name on every label. Free of pandas, so every module can use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

DEV_PROFILE: Final = "dev"
PRODUCTION_PROFILE: Final = "production"
# The two named worlds first, in this order; any PROXY+DB pair after them, by name.
NAMED_PROFILES: Final = (DEV_PROFILE, PRODUCTION_PROFILE)
PROFILE_SEPARATOR: Final = " · "


def profile_rank(profile: str) -> tuple[int, str]:
    """dev, then production, then the other profiles alphabetically."""
    if profile in NAMED_PROFILES:
        return (NAMED_PROFILES.index(profile), profile)
    return (len(NAMED_PROFILES), profile)


def several_profiles(profiles: Iterable[Any]) -> bool:
    """Whether labels must name the profile: the runs hold more than one."""
    return len({str(profile) for profile in profiles}) > 1


def with_profile(label: str, profile: str, shown: bool) -> str:
    """`gunicorn 3w` -> `gunicorn 3w · production` when profiles are `shown`."""
    return f"{label}{PROFILE_SEPARATOR}{profile}" if shown else label


def database_unobserved(database: Mapping[str, Any] | None) -> bool:
    """Whether meta.json's `database` says its CPU was not observed (an external PostgreSQL
    given by DATABASE_URL): the report then says so instead of showing an empty figure."""
    return isinstance(database, Mapping) and database.get("cpu_observed") is False


def server_unobserved(meta: Any) -> bool:
    """Whether the run measured an external target (TARGET=..., meta.json's `target`)
    whose server CPU and memory the harness could not observe: the report says so instead
    of an empty chart or a zero."""
    target = getattr(meta, "target", None)
    return target is not None and not bool(getattr(target, "server_cpu_observed", False))
