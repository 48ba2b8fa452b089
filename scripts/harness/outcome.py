"""What one bench run came to, as the closing table and the exit status need it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scripts.records.schema import RunSummary, Status


@dataclass
class RunOutcome:
    """What the closing table shows for one run."""

    run_id: str
    server: str
    status: Status
    reason: str
    path: Path
    summary: RunSummary | None = None
    overhead_s: float = 0.0
    logins_warmup_s: float | None = None

    @property
    def slo_missed(self) -> bool:
        slo = self.summary.slo if self.summary else None
        return isinstance(slo, dict) and slo.get("first_miss_users") is not None

    @property
    def slo_unjudged(self) -> bool:
        slo = self.summary.slo if self.summary else None
        return isinstance(slo, dict) and slo.get("first_unjudged_users") is not None
