"""What runs around the server: PROXY, DB and the PROFILE that names a pair of them.

Each choice is data. A proxy name maps to the nginx plan a session starts (or none); a
database name to the PostgreSQL plan it provisions (or none: a SQLite copy per run); a
profile gives values to the flags not given, as a preset does, so `PROFILE=production
WORKERS=2` is production with two workers. A deployment is named by the profile whose
pair it is, else by the pair (`nginx+sqlite`): that name is how the report keeps runs of
different deployments apart.

Everything a deployment needs from the system is checked before anything starts
(`missing_requirement`): a bench that cannot run says so in one line, with exit status 2.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from servers.nginx import ProxyPlan, ProxyUnavailableError, nginx_binary
from servers.postgres import DatabasePlan, DatabaseUnavailableError, PostgresBinaries

NO_PROXY: Final = "none"
SQLITE: Final = "sqlite"
POSTGRES: Final = "postgres"
# The environment variable naming an external PostgreSQL for DB=postgres (credentials
# stay out of the command line and the shell's history).
EXTERNAL_DATABASE_ENV: Final = "DATABASE_URL"

# PROXY name -> what the session starts in front of the server (None: nothing).
PROXIES: Final[Mapping[str, ProxyPlan | None]] = MappingProxyType(
    {NO_PROXY: None, "nginx": ProxyPlan()}
)
DATABASES: Final = (SQLITE, POSTGRES)
CHECKS: Final = ("robustness",)


@dataclass(frozen=True)
class Profile:
    """A named world: its proxy, its database, and whether workers follow each server's
    documented rule (WORKERS=auto) unless WORKERS is given."""

    name: str
    proxy: str
    database: str
    workers_auto: bool
    description: str


PROFILES: Final[Mapping[str, Profile]] = MappingProxyType(
    {
        "dev": Profile(
            "dev", NO_PROXY, SQLITE, False, "the server alone on SQLite, one worker per core"
        ),
        "production": Profile(
            "production",
            "nginx",
            POSTGRES,
            True,
            "nginx in front, PostgreSQL, each server's documented worker count",
        ),
    }
)


@dataclass(frozen=True)
class Deployment:
    """The proxy and database one bench runs every server with."""

    proxy: str = NO_PROXY
    database: str = SQLITE
    external_database_url: str | None = None

    @property
    def name(self) -> str:
        """The profile this pair is, else the pair itself (`nginx+sqlite`)."""
        for profile in PROFILES.values():
            if (profile.proxy, profile.database) == (self.proxy, self.database):
                return profile.name
        return f"{self.proxy}+{self.database}"

    @property
    def proxy_plan(self) -> ProxyPlan | None:
        return PROXIES[self.proxy]

    @property
    def database_plan(self) -> DatabasePlan | None:
        if self.database != POSTGRES:
            return None
        return DatabasePlan(external_url=self.external_database_url)

    def missing_requirement(self) -> str | None:
        """One line saying what the system lacks for this deployment and how to install
        it, or None; nothing is started to find out."""
        try:
            if self.proxy_plan is not None:
                nginx_binary()
            if self.database == POSTGRES and self.external_database_url is None:
                PostgresBinaries.find()
        except (ProxyUnavailableError, DatabaseUnavailableError) as error:
            return str(error)
        return None


def deployment_of(
    proxy: str | None, database: str | None, environ: Mapping[str, str] | None = None
) -> Deployment:
    """The deployment the flags ask for (unset: no proxy, SQLite); DB=postgres uses the
    server at $DATABASE_URL when it is set, else the harness's own cluster."""
    env = os.environ if environ is None else environ
    chosen_database = database or SQLITE
    external = (env.get(EXTERNAL_DATABASE_ENV) or None) if chosen_database == POSTGRES else None
    return Deployment(proxy or NO_PROXY, chosen_database, external)
