"""A real PostgreSQL under the app: DB=postgres.

The machine's own PostgreSQL is an unpinned system service: its backends would run on the
load generator's CPUs and be missing from the deployment's CPU. So the harness runs its own
cluster from Debian's binaries (`make system-deps`), measured like the server:

- `initdb` once into a cache directory (it takes about a second, and a cluster is reusable);
- `postgres` itself as a managed child (not `pg_ctl start`, which daemonizes out of our
  session), as the `postgres` user when we are root (initdb and postgres refuse root; the
  user switch and the parent-death signal share one setpriv, see servers/child.py), pinned
  to the server's CPUs, listening on a Unix socket only (no TCP port, no clash with the
  system's 5432), ready when `pg_isready` says so, stopped with SIGINT (its fast shutdown);
- a seeded template database, made once per seed plan and app migrations, and a fresh
  database per run from it (`CREATE DATABASE run_x TEMPLATE seeded_...`), dropped after.

Django's native pool (psycopg 3) is sized from the server's processes and threads and kept
under max_connections. `DATABASE_URL=postgres://...` uses an external server instead: it is
migrated and seeded as is, and its CPU is not observed, which the facts say.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Final

import psycopg
from psycopg import sql

from servers.app import AppSettings, SeedPlan, prepare_database
from servers.child import (
    ChildLaunchError,
    ChildSpec,
    ManagedChild,
    StopReport,
    child_environment,
    wrapped_argv,
)
from servers.registry import SAMPLEAPP_DIR
from servers.supervisor import log_tail

BIN_ROOT: Final = Path("/usr/lib/postgresql")
REQUIRED_BINARIES: Final = ("postgres", "initdb", "pg_isready")
INSTALL_HINT: Final = "install it with `make system-deps` (Debian package postgresql)"
CLUSTER_USER_AS_ROOT: Final = "postgres"
SUPERUSER: Final = "bench"
TEMPLATE_PREFIX: Final = "seeded_"
READY_DEADLINE_S: Final = 30.0
# Connections a server process's pool holds when the server has no thread setting (runserver:
# a thread per request, unbounded; ASGI servers: Django's executor for sync views).
FALLBACK_POOL_SIZE: Final = 4
# superuser_reserved_connections (3) plus the harness's own connections.
RESERVED_CONNECTIONS: Final = 5
DEFAULT_MAX_CONNECTIONS: Final = 100
# What meta.json records of the server's settings (read back with SHOW).
RECORDED_SETTINGS: Final = (
    "server_version",
    "max_connections",
    "shared_buffers",
    "work_mem",
    "fsync",
    "synchronous_commit",
    "wal_level",
)
# What decides a seeded database's content, besides the seed plan: a change here is a new
# template.
SCHEMA_SOURCES: Final = (
    SAMPLEAPP_DIR / "api" / "migrations",
    SAMPLEAPP_DIR / "api" / "management" / "commands" / "seed.py",
)


class DatabaseUnavailableError(RuntimeError):
    """PostgreSQL's binaries are missing or the external URL is unusable; one line."""


class DatabaseStartError(RuntimeError):
    """The cluster could not be initialised or started; the message carries its log's tail."""


@dataclass(frozen=True)
class PostgresBinaries:
    """One installed PostgreSQL version's programs."""

    bin_dir: Path
    major: int

    @classmethod
    def find(cls, root: Path | None = None) -> PostgresBinaries:
        """The newest version under `root` (default BIN_ROOT, read at the call) that has
        every program the harness runs; DatabaseUnavailableError (one line) when none has."""
        root = BIN_ROOT if root is None else root
        versions = sorted(
            (int(entry.name), entry / "bin")
            for entry in (root.iterdir() if root.is_dir() else ())
            if entry.name.isdigit()
            and all(os.access(entry / "bin" / name, os.X_OK) for name in REQUIRED_BINARIES)
        )
        if not versions:
            raise DatabaseUnavailableError(
                f"DB=postgres: PostgreSQL is not installed (no {root}/<version>/bin/postgres); "
                f"{INSTALL_HINT}"
            )
        major, bin_dir = versions[-1]
        return cls(bin_dir=bin_dir, major=major)

    def program(self, name: str) -> str:
        return str(self.bin_dir / name)


def cluster_user() -> str | None:
    """Who runs the cluster: `postgres` when we are root (PostgreSQL refuses root), else we
    ourselves (None)."""
    return CLUSTER_USER_AS_ROOT if os.geteuid() == 0 else None


def default_cluster_dir(major: int) -> Path:
    """Where the cluster is kept between benches. A root's home is usually closed to other
    users, so as root it is under /var/tmp (kept across reboots, reachable by `postgres`);
    otherwise under the user's cache directory."""
    if os.geteuid() == 0:
        return Path("/var/tmp/drf-server-bench") / f"pg{major}"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "drf-server-bench" / f"pg{major}"


def _owner_ids(user: str | None) -> tuple[int, int]:
    if user is None:
        return os.geteuid(), os.getegid()
    account = pwd.getpwnam(user)
    return account.pw_uid, account.pw_gid


def _owned_directory(path: Path, user: str | None, mode: int) -> None:
    """Create `path` (and its parents, 0755) owned by `user`; refuse a symlink or a directory
    someone else owns (the cache may sit in a world-writable /var/tmp)."""
    uid, gid = _owner_ids(user)
    for parent in reversed(path.parents):
        if not parent.exists():
            parent.mkdir(mode=0o755)
    if not path.exists():
        path.mkdir(mode=mode)
        os.chown(path, uid, gid)
    if path.is_symlink() or path.stat().st_uid != uid:
        raise DatabaseStartError(f"{path} is not a directory owned by {user or 'us'}; remove it")
    path.chmod(mode)


def ensure_cluster(binaries: PostgresBinaries, directory: Path, user: str | None) -> Path:
    """The cluster's data directory under `directory`, made by initdb the first time (into
    data.partial, renamed when complete, so an interrupted initdb is redone)."""
    data = directory / "data"
    if (data / "PG_VERSION").is_file():
        return data
    _owned_directory(directory, user, 0o700)
    partial = directory / "data.partial"
    shutil.rmtree(partial, ignore_errors=True)
    argv = wrapped_argv(
        [
            binaries.program("initdb"),
            "-D",
            str(partial),
            "-A",
            "trust",
            "-U",
            SUPERUSER,
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ],
        cpus=None,
        die_with_parent=True,
        run_as=user,
    )
    done = subprocess.run(
        argv,
        cwd=directory,
        env=child_environment({}),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-10:])
        raise DatabaseStartError(f"initdb failed with status {done.returncode}:\n{tail}")
    partial.rename(data)
    return data


@dataclass(frozen=True)
class ClusterSettings:
    """The server settings the harness sets; everything else keeps Debian's defaults."""

    max_connections: int = DEFAULT_MAX_CONNECTIONS

    def flags(self, socket_dir: Path) -> list[str]:
        return [
            "-k",
            str(socket_dir),
            "-c",
            "listen_addresses=",
            # the socket's owner (and root) only: authentication is "trust"
            "-c",
            "unix_socket_permissions=0700",
            "-c",
            f"max_connections={self.max_connections}",
        ]


@dataclass
class RunningCluster:
    """The harness's PostgreSQL, started; `stop` it."""

    child: ManagedChild
    binaries: PostgresBinaries
    data_dir: Path
    socket_dir: Path
    settings: ClusterSettings
    ready_after_s: float

    @property
    def pid(self) -> int:
        """The postmaster: its pid is also its session id, which every backend shares."""
        return self.child.pid

    def members(self) -> list[int]:
        return self.child.members()

    def url(self, database: str) -> str:
        """The app's DATABASE_URL for `database` over this cluster's socket."""
        host = urllib.parse.quote(str(self.socket_dir), safe="/")
        return f"postgres://{SUPERUSER}@/{database}?host={host}"

    def connect(self, database: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host=str(self.socket_dir), dbname=database, user=SUPERUSER, autocommit=True
        )

    def stop(self) -> StopReport:
        """SIGINT (fast shutdown), KILL after the grace; the socket directory is removed."""
        try:
            return self.child.stop()
        finally:
            shutil.rmtree(self.socket_dir, ignore_errors=True)


def start_cluster(
    binaries: PostgresBinaries,
    data_dir: Path,
    *,
    user: str | None,
    cpus: tuple[int, ...] | None,
    log_path: Path,
    settings: ClusterSettings = ClusterSettings(),
) -> RunningCluster:
    """Start `postgres` on `data_dir` with a fresh socket directory and wait for it."""
    socket_dir = Path(tempfile.mkdtemp(prefix="drfb-pg-"))
    uid, gid = _owner_ids(user)
    os.chown(socket_dir, uid, gid)
    socket_dir.chmod(0o700)
    spec = ChildSpec(
        name="postgres",
        argv=(binaries.program("postgres"), "-D", str(data_dir), *settings.flags(socket_dir)),
        environment=child_environment({}),
        log_path=log_path,
        cwd=data_dir.parent,
        cpus=cpus,
        stop_signal=signal.SIGINT,
        stop_grace_s=10.0,
        run_as=user,
    )
    started = time.monotonic()
    try:
        child = ManagedChild.start(spec)
    except ChildLaunchError as error:
        shutil.rmtree(socket_dir, ignore_errors=True)
        raise DatabaseStartError(str(error)) from error
    cluster = RunningCluster(
        child=child,
        binaries=binaries,
        data_dir=data_dir,
        socket_dir=socket_dir,
        settings=settings,
        ready_after_s=0.0,
    )
    try:
        _wait_ready(cluster, log_path, started)
    except BaseException:
        cluster.stop()
        raise
    cluster.ready_after_s = time.monotonic() - started
    return cluster


def _wait_ready(cluster: RunningCluster, log_path: Path, started: float) -> None:
    probe = [cluster.binaries.program("pg_isready"), "-q", "-t", "1", "-h"]
    while True:
        status = cluster.child.exit_code
        if status is not None:
            raise DatabaseStartError(
                f"postgres exited with status {status} before it was ready; last lines of "
                f"{log_path}:\n{log_tail(log_path)}"
            )
        done = subprocess.run(
            [*probe, str(cluster.socket_dir), "-U", SUPERUSER],
            env=child_environment({}),
            capture_output=True,
            timeout=10,
            check=False,
        )
        if done.returncode == 0:
            return
        if time.monotonic() - started > READY_DEADLINE_S:
            raise DatabaseStartError(
                f"postgres was not ready within {READY_DEADLINE_S:.0f} s; last lines of "
                f"{log_path}:\n{log_tail(log_path)}"
            )
        time.sleep(0.1)


def template_name(seed: SeedPlan) -> str:
    """The seeded template's name: a digest of the seed plan and of what shapes the schema
    and the seed (migrations, the seed command), so a change makes a new template."""
    digest = hashlib.sha256(repr(seed).encode())
    for source in SCHEMA_SOURCES:
        files = sorted(source.rglob("*.py")) if source.is_dir() else [source]
        for path in files:
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return TEMPLATE_PREFIX + digest.hexdigest()[:16]


def run_database_name() -> str:
    """A fresh, valid database name for one run."""
    return f"run_{uuid.uuid4().hex[:16]}"


def ensure_template(cluster: RunningCluster, app: AppSettings, seed: SeedPlan) -> str:
    """The seeded template for `seed`, migrated and seeded the first time (into a scratch
    database, renamed when complete); older templates are dropped."""
    name = template_name(seed)
    with cluster.connect() as connection:
        found = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s AND datistemplate", [name]
        ).fetchone()
        if found:
            return name
        building = f"{name}_building"
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(building))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(building)))
    prepare_database(replace(app, database_url=cluster.url(building), db_pool_max_size=None), seed)
    with cluster.connect() as connection:
        connection.execute(
            sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                sql.Identifier(building), sql.Identifier(name)
            )
        )
        connection.execute(
            sql.SQL("ALTER DATABASE {} IS_TEMPLATE true").format(sql.Identifier(name))
        )
        stale = connection.execute(
            "SELECT datname FROM pg_database WHERE datistemplate AND datname LIKE %s "
            "AND datname <> %s",
            [TEMPLATE_PREFIX + "%", name],
        ).fetchall()
        for (old,) in stale:
            identifier = sql.Identifier(str(old))
            connection.execute(sql.SQL("ALTER DATABASE {} IS_TEMPLATE false").format(identifier))
            connection.execute(sql.SQL("DROP DATABASE {}").format(identifier))
    return name


def create_run_database(cluster: RunningCluster, template: str, name: str) -> None:
    with cluster.connect() as connection:
        connection.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )


def drop_database(cluster: RunningCluster, name: str) -> None:
    with cluster.connect() as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def database_names(cluster: RunningCluster) -> list[str]:
    with cluster.connect() as connection:
        rows = connection.execute("SELECT datname FROM pg_database ORDER BY datname").fetchall()
    return [str(row[0]) for row in rows]


def show_settings(connection: psycopg.Connection[tuple[object, ...]]) -> dict[str, str]:
    """RECORDED_SETTINGS as the server reports them."""
    settings: dict[str, str] = {}
    for name in RECORDED_SETTINGS:
        row = connection.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()
        settings[name] = str(row[0]) if row else ""
    return settings


@dataclass(frozen=True)
class PoolSizing:
    """Django's pool per server process, and what all processes hold together."""

    per_process: int
    processes: int
    max_connections: int
    rule: str

    @property
    def total(self) -> int:
        return self.per_process * self.processes

    @classmethod
    def for_server(
        cls, *, workers: int, threads: int, threads_supported: bool, max_connections: int
    ) -> PoolSizing:
        """One connection per thread a process runs (FALLBACK_POOL_SIZE where the server has
        no thread setting); ValueError, one line, when workers x that does not fit under
        max_connections with RESERVED_CONNECTIONS left."""
        per_process = threads if threads_supported else FALLBACK_POOL_SIZE
        rule = (
            f"{per_process} per process (= threads)"
            if threads_supported
            else f"{per_process} per process (the server has no thread setting)"
        )
        sizing = cls(per_process, workers, max_connections, rule)
        if sizing.total + RESERVED_CONNECTIONS > max_connections:
            raise ValueError(
                f"{workers} processes x {per_process} connections = {sizing.total} do not fit "
                f"under max_connections {max_connections} with {RESERVED_CONNECTIONS} reserved"
            )
        return sizing

    @staticmethod
    def cluster_max_connections(workers: int, threads: int, threads_supported: bool) -> int:
        """max_connections for the harness's own cluster: Debian's 100, raised when the
        server's pools need more."""
        per_process = threads if threads_supported else FALLBACK_POOL_SIZE
        return max(DEFAULT_MAX_CONNECTIONS, workers * per_process + RESERVED_CONNECTIONS)


@dataclass(frozen=True)
class DatabaseFacts:
    """What meta.json records about a run's PostgreSQL."""

    engine: str
    managed: bool  # the harness's own cluster (pinned, measured) or an external server
    cpu_observed: bool
    version: str
    settings: Mapping[str, str]
    pool_per_process: int
    pool_processes: int
    pool_rule: str
    max_connections: int
    database: str
    template: str | None = None
    cluster_dir: str | None = None
    cpus: tuple[int, ...] | None = None
    note: str = ""

    def as_meta(self) -> dict[str, object]:
        return {
            "engine": self.engine,
            "managed": self.managed,
            "cpu_observed": self.cpu_observed,
            "version": self.version,
            "settings": dict(self.settings),
            "pool": {
                "per_process": self.pool_per_process,
                "processes": self.pool_processes,
                "total": self.pool_per_process * self.pool_processes,
                "rule": self.pool_rule,
            },
            "max_connections": self.max_connections,
            "database": self.database,
            "template": self.template,
            "cluster_dir": self.cluster_dir,
            "cpus": list(self.cpus) if self.cpus else None,
            "note": self.note,
        }


@dataclass(frozen=True)
class DatabasePlan:
    """DB=postgres: the harness's own cluster (in `cluster_dir`, default per version), or
    the external server at `external_url`."""

    external_url: str | None = None
    cluster_dir: Path | None = None


@dataclass(frozen=True)
class ServerLoad:
    """What the pool is sized from: the server's processes and threads."""

    workers: int
    threads: int
    threads_supported: bool


@dataclass
class ProvisionedDatabase:
    """A run's database, ready for the app: its URL and pool size, the facts, and (for the
    harness's own cluster) the running cluster; `close` drops the run's database and stops
    the cluster, always."""

    url: str
    pool_max_size: int
    facts: DatabaseFacts
    cluster: RunningCluster | None = None
    problems: list[str] = field(default_factory=list)

    def close(self) -> StopReport | None:
        """Drop the run's database and stop the cluster; never raises (what failed is kept
        in `problems`)."""
        if self.cluster is None:
            return None
        try:
            drop_database(self.cluster, self.facts.database)
        except psycopg.Error as error:
            self.problems.append(f"dropping {self.facts.database}: {error}")
        return self.cluster.stop()

    def app_settings(self, app: AppSettings) -> AppSettings:
        return replace(app, database_url=self.url, db_pool_max_size=self.pool_max_size)


def provision(
    plan: DatabasePlan,
    app: AppSettings,
    seed: SeedPlan,
    load: ServerLoad,
    *,
    cpus: tuple[int, ...] | None,
    log_dir: Path,
) -> ProvisionedDatabase:
    """The run's database: on the harness's own cluster (started here, pinned to `cpus`),
    or on the external server of `plan.external_url` (migrated and seeded as is)."""
    if plan.external_url is not None:
        return _external(plan.external_url, app, seed, load)
    binaries = PostgresBinaries.find()
    user = cluster_user()
    directory = plan.cluster_dir or default_cluster_dir(binaries.major)
    data_dir = ensure_cluster(binaries, directory, user)
    settings = ClusterSettings(
        max_connections=PoolSizing.cluster_max_connections(
            load.workers, load.threads, load.threads_supported
        )
    )
    pool = PoolSizing.for_server(
        workers=load.workers,
        threads=load.threads,
        threads_supported=load.threads_supported,
        max_connections=settings.max_connections,
    )
    cluster = start_cluster(
        binaries,
        data_dir,
        user=user,
        cpus=cpus,
        log_path=log_dir / "postgres.log",
        settings=settings,
    )
    try:
        template = ensure_template(cluster, app, seed)
        name = run_database_name()
        create_run_database(cluster, template, name)
        with cluster.connect(name) as connection:
            shown = show_settings(connection)
    except psycopg.Error as error:
        cluster.stop()
        raise DatabaseStartError(f"PostgreSQL: {error}") from error
    except BaseException:
        cluster.stop()
        raise
    facts = DatabaseFacts(
        engine="postgresql",
        managed=True,
        cpu_observed=True,
        version=shown["server_version"],
        settings=MappingProxyType(shown),
        pool_per_process=pool.per_process,
        pool_processes=pool.processes,
        pool_rule=pool.rule,
        max_connections=settings.max_connections,
        database=name,
        template=template,
        cluster_dir=str(directory),
        cpus=cpus,
        note="the harness's own cluster, on the server's CPUs; its CPU is the database's",
    )
    return ProvisionedDatabase(
        url=cluster.url(name), pool_max_size=pool.per_process, facts=facts, cluster=cluster
    )


_POSTGRES_URL = re.compile(r"^postgres(ql)?://")


def _external(url: str, app: AppSettings, seed: SeedPlan, load: ServerLoad) -> ProvisionedDatabase:
    if not _POSTGRES_URL.match(url):
        raise DatabaseUnavailableError(
            f"DATABASE_URL must start with postgres:// or postgresql://, got {url.split(':')[0]}:"
        )
    try:
        with psycopg.connect(url, connect_timeout=5, autocommit=True) as connection:
            shown = show_settings(connection)
            database = str(connection.info.dbname)
    except psycopg.Error as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else "no answer"
        raise DatabaseUnavailableError(f"DATABASE_URL is unreachable: {first_line}") from error
    max_connections = int(shown["max_connections"])
    pool = PoolSizing.for_server(
        workers=load.workers,
        threads=load.threads,
        threads_supported=load.threads_supported,
        max_connections=max_connections,
    )
    prepare_database(replace(app, database_url=url, db_pool_max_size=None), seed)
    facts = DatabaseFacts(
        engine="postgresql",
        managed=False,
        cpu_observed=False,
        version=shown["server_version"],
        settings=MappingProxyType(shown),
        pool_per_process=pool.per_process,
        pool_processes=pool.processes,
        pool_rule=pool.rule,
        max_connections=max_connections,
        database=database,
        note="an external server (DATABASE_URL): used as is, its CPU was not observed",
    )
    return ProvisionedDatabase(url=url, pool_max_size=pool.per_process, facts=facts)
