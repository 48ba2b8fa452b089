"""Results that cannot be written (the disk is full, a quota is reached, a file-size limit,
a read-only file system) end the bench, not just the run: every later run would fail the
same way. The server is stopped first (the session always stops it), the runs already
published stay intact, and the bench says in one line which path and which error, then
exits ExitStatus.NOT_WRITTEN (6) instead of a traceback and 1.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Final

NOT_WRITTEN_ERRNOS: Final = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})


def results_not_written(error: BaseException) -> bool:
    """True when `error` says the results could not be written (not a missing file, not a
    refused connection: those are a run's own failures)."""
    return isinstance(error, OSError) and error.errno in NOT_WRITTEN_ERRNOS


def not_written_line(error: OSError, results_dir: Path) -> str:
    """One line: where, what, and what happened to the rest."""
    where = error.filename or f"a file under {results_dir}"
    code = errno.errorcode.get(error.errno or 0, str(error.errno))
    what = error.strerror or os.strerror(error.errno or 0)
    return (
        f"bench: results could not be written: {where}: {what} ({code}); everything the "
        "bench started was stopped, and the runs published before it are intact"
    )
