"""Where the harness keeps what concerns the whole machine, not one results directory:
the lock that keeps two benches from measuring each other (scripts/harness/machine_lock.py)
and the records of the processes it has launched (servers/pid_records.py).

Per user, and outside any results directory, so a bench with RESULTS=elsewhere still sees
them: $DRF_BENCH_STATE_DIR when set (the test suite sets its own), else
$XDG_RUNTIME_DIR/drf-bench, else /tmp/drf-bench-<uid>. Created on first use, mode 0700.
"""

from __future__ import annotations

import os
from pathlib import Path

STATE_DIR_VARIABLE = "DRF_BENCH_STATE_DIR"


def state_dir() -> Path:
    """The machine-wide state directory (created, private to this user)."""
    chosen = os.environ.get(STATE_DIR_VARIABLE)
    if chosen:
        path = Path(chosen)
    elif os.environ.get("XDG_RUNTIME_DIR"):
        path = Path(os.environ["XDG_RUNTIME_DIR"]) / "drf-bench"
    else:
        path = Path("/tmp") / f"drf-bench-{os.getuid()}"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path
