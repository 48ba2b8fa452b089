"""Facts about the harness and the machine that are the same for every run of a bench."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from servers.registry import PROJECT_DIR

LIBRARIES = ("django", "djangorestframework", "djangorestframework-simplejwt", "locust")


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


@dataclass(frozen=True)
class MachineInfo:
    """Facts about the harness and machine that are the same for every run of a bench."""

    git_sha: str | None
    git_dirty: bool | None
    python: str
    libraries: dict[str, str | None]
    cpu_model: str
    cpu_count: int
    cpu_affinity: list[int]

    @classmethod
    def collect(cls) -> MachineInfo:
        sha = _git("rev-parse", "HEAD")
        status = _git("status", "--porcelain")
        return cls(
            git_sha=sha,
            git_dirty=None if status is None else bool(status),
            python=platform.python_version(),
            libraries={name: _version(name) for name in LIBRARIES},
            cpu_model=_cpu_model(),
            cpu_count=os.cpu_count() or 1,
            cpu_affinity=sorted(os.sched_getaffinity(0)),
        )

    def versions(self, server_distribution: str, *companions: str) -> dict[str, str | None]:
        """Python's, the libraries', the server's and its companions' versions (a worker
        class or event library shipped apart from the server)."""
        return {
            "python": self.python,
            **self.libraries,
            **{name: _version(name) for name in (server_distribution, *companions)},
        }
