"""What every test shares: a machine-state directory of the suite's own.

The benches and children the tests start take the machine lock and write pid records in
servers/machine_state.py's directory; a suite of its own keeps them from waiting on, or
reclaiming for, a `make bench` the user runs beside the tests (and the reverse).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from servers.machine_state import STATE_DIR_VARIABLE


@pytest.fixture(scope="session", autouse=True)
def _suite_state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    before = os.environ.get(STATE_DIR_VARIABLE)
    os.environ[STATE_DIR_VARIABLE] = str(tmp_path_factory.mktemp("machine-state"))
    yield
    if before is None:
        os.environ.pop(STATE_DIR_VARIABLE, None)
    else:
        os.environ[STATE_DIR_VARIABLE] = before
