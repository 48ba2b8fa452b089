"""verdicts.json (`make report`) and compare.json (`make compare`): verdicts as data.

Both files hold the answers of the verdict engine (scripts/reporting/verdicts.py) with
everything a reader needs to check them without rerunning anything: which runs stood on
each side, the ratio of geometric means, its 95 % CI, the raw and Holm-corrected p-values,
the rule they were judged by, and the comparisons that were not made and why (a p99 from
too few samples). They are outputs derived from runs/, not results: rewriting them from the
same runs gives the same verdicts. They share SCHEMA_VERSION with the result files, and
`format` names which of the two documents a file is, so neither can be read as the other.

An outcome is stored as its plain text ("faster", "inconclusive", ...): OUTCOMES lists
them, the same values as the engine's `Outcome` (a test holds the two together; this
package cannot import the reporting code).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Final, TypeVar

from scripts.records.schema.base import (
    SCHEMA_VERSION,
    SchemaError,
    build,
    check_version,
    read_document,
)

VERDICTS_FORMAT: Final = "drf-bench-verdicts"
COMPARE_FORMAT: Final = "drf-bench-compare"
OUTCOMES: Final = frozenset(
    {"faster", "slower", "no detectable difference", "inconclusive", "not enough data"}
)
# What a report table's candidates are compared with.
REFERENCES: Final = frozenset({"best", "baseline"})

_T = TypeVar("_T")


def _flat(cls: type[_T], data: Mapping[str, Any], name: str) -> _T:
    """A dataclass of plain fields from JSON: its lists become tuples."""
    if not isinstance(data, Mapping):
        raise SchemaError(f"{name} is not an object")
    values = {key: tuple(v) if isinstance(v, list) else v for key, v in data.items()}
    return build(cls, values, name)


def _plain(record: Any) -> dict[str, Any]:
    """JSON of a dataclass whose fields are plain values and tuples of them."""
    return {
        declared.name: list(value) if isinstance(value, tuple) else value
        for declared in fields(record)
        for value in (getattr(record, declared.name),)
    }


@dataclass(frozen=True, kw_only=True)
class VerdictEntry:
    """One judged comparison: candidate / baseline on one metric, and the outcome.

    Ratio and CI are of geometric means (the test runs on log values); the geometric means
    themselves are given so a reader sees what was divided. `repetitions_to_decide` is per
    side and only for "inconclusive" (None when not even 10,000 would do); `reason` says
    why there is not enough data; `headline` is the verdict as one plain sentence.
    """

    metric: str
    baseline: str
    candidate: str
    baseline_run_ids: tuple[str, ...]
    candidate_run_ids: tuple[str, ...]
    baseline_n: int
    candidate_n: int
    baseline_geomean: float | None
    candidate_geomean: float | None
    outcome: str
    threshold: float
    ratio: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    holm_p_value: float | None
    repetitions_to_decide: int | None
    reason: str
    headline: str
    # what the verdict cannot say, whatever its outcome: e.g. that a side's repeats shared
    # one external server process instead of a fresh one each ("" when nothing; older files)
    caveat: str = ""

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise SchemaError(f"verdict outcome {self.outcome!r}; known: {sorted(OUTCOMES)}")

    def to_json(self) -> dict[str, Any]:
        return _plain(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VerdictEntry:
        return _flat(cls, data, "verdict")


@dataclass(frozen=True, kw_only=True)
class NotCompared:
    """A comparison left out of a table, and why (it is not in Holm's family either)."""

    metric: str
    baseline: str
    candidate: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> NotCompared:
        return _flat(cls, data, "not compared")


def _with_verdicts(
    document: dict[str, Any],
    verdicts: Sequence[VerdictEntry],
    not_compared: Sequence[NotCompared],
) -> dict[str, Any]:
    """The two lists a verdict table and a compared configuration both carry."""
    document["verdicts"] = [verdict.to_json() for verdict in verdicts]
    document["not_compared"] = [entry.to_json() for entry in not_compared]
    return document


def _read_verdicts(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **data,
        "verdicts": tuple(map(VerdictEntry.from_json, data.get("verdicts") or ())),
        "not_compared": tuple(map(NotCompared.from_json, data.get("not_compared") or ())),
    }


@dataclass(frozen=True, kw_only=True)
class ConfigurationSpread:
    """One configuration's usable runs and the run-to-run CV of their goodput; `noisy`
    when the CV is above the limit, so its verdicts carry a warning."""

    label: str
    server: str
    workers: int
    threads: int | None
    run_ids: tuple[str, ...]
    goodput_cv: float | None
    noisy: bool
    noisy_machine_runs: int = 0  # runs whose window the machine's noise flagged
    profile: str = "dev"  # the deployment (meta.json's profile); older files: dev
    shared_process: bool = False  # its runs hit one external server process (TARGET)

    def to_json(self) -> dict[str, Any]:
        return _plain(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ConfigurationSpread:
        return _flat(cls, data, "configuration")


@dataclass(frozen=True, kw_only=True)
class VerdictTable:
    """One table of the report: every configuration of a group against one reference
    (the group's best, or the chosen baseline), Holm over its `family_size` p-values."""

    reference: str  # "best" or "baseline"
    reference_label: str
    family_size: int
    alpha: float
    threshold: float
    rule: str
    verdicts: tuple[VerdictEntry, ...]
    not_compared: tuple[NotCompared, ...] = ()

    def __post_init__(self) -> None:
        if self.reference not in REFERENCES:
            raise SchemaError(f"table reference {self.reference!r}; known: {sorted(REFERENCES)}")

    def to_json(self) -> dict[str, Any]:
        return _with_verdicts(_plain(self), self.verdicts, self.not_compared)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VerdictTable:
        return _flat(cls, _read_verdicts(data), "verdict table")


@dataclass(frozen=True, kw_only=True)
class VerdictGroup:
    """One comparison group (scenario, users, window, shape; and one bench unless the runs
    were pooled, when `bench_id` is None) with its configurations and tables. A group
    without repeats has no tables and says so in `notes`."""

    label: str
    scenario: str
    users: int
    duration_s: float
    shape: str
    bench_id: str | None
    configurations: tuple[ConfigurationSpread, ...]
    tables: tuple[VerdictTable, ...]
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        document = _plain(self)
        document["configurations"] = [c.to_json() for c in self.configurations]
        document["tables"] = [table.to_json() for table in self.tables]
        return document

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VerdictGroup:
        return _flat(
            cls,
            {
                **data,
                "configurations": tuple(
                    map(ConfigurationSpread.from_json, data.get("configurations") or ())
                ),
                "tables": tuple(map(VerdictTable.from_json, data.get("tables") or ())),
            },
            "verdict group",
        )


def _check_format(data: Mapping[str, Any], expected: str, name: str) -> None:
    check_version(data, name)
    if data.get("format") != expected:
        raise SchemaError(f"{name} has format {data.get('format')!r}, expected {expected!r}")


def _reading(name: str, read: Any, data: Mapping[str, Any]) -> Any:
    """Run a reader, turning a malformed document into SchemaError naming the file."""
    try:
        return read(data)
    except SchemaError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise SchemaError(f"{name}: {type(error).__name__}: {error}") from None


@dataclass(frozen=True, kw_only=True)
class VerdictsRecord:
    """verdicts.json: every comparison group's verdict tables and the report's headline."""

    threshold: float
    alpha: float
    pooled: bool  # repeats of separate benches pooled (POOL=1); else one group per bench
    baseline: str | None  # BASELINE, as given
    metrics: tuple[str, ...]
    headline: tuple[str, ...]
    groups: tuple[VerdictGroup, ...]

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "format": VERDICTS_FORMAT}
        document |= _plain(self)
        document["groups"] = [group.to_json() for group in self.groups]
        return document

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VerdictsRecord:
        _check_format(data, VERDICTS_FORMAT, "verdicts.json")

        def read(document: Mapping[str, Any]) -> VerdictsRecord:
            values = {k: v for k, v in document.items() if k not in {"schema_version", "format"}}
            values["groups"] = tuple(map(VerdictGroup.from_json, document.get("groups") or ()))
            return _flat(cls, values, "verdicts.json")

        record: VerdictsRecord = _reading("verdicts.json", read, data)
        return record


@dataclass(frozen=True, kw_only=True)
class ComparedConfiguration:
    """One configuration found on both sides of `make compare`, with its verdicts (candidate
    / base) and the comparisons not made."""

    label: str
    server: str
    workers: int
    threads: int | None
    scenario: str
    users: int
    duration_s: float
    shape: str
    base_run_ids: tuple[str, ...]
    candidate_run_ids: tuple[str, ...]
    base_goodput_cv: float | None
    candidate_goodput_cv: float | None
    verdicts: tuple[VerdictEntry, ...]
    not_compared: tuple[NotCompared, ...] = ()
    profile: str = "dev"  # the deployment (meta.json's profile); older files: dev

    def to_json(self) -> dict[str, Any]:
        return _with_verdicts(_plain(self), self.verdicts, self.not_compared)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ComparedConfiguration:
        return _flat(cls, _read_verdicts(data), "compared configuration")


@dataclass(frozen=True, kw_only=True)
class CompareRecord:
    """compare.json: baseline vs candidate, configuration by configuration, one Holm family
    over every verdict, and the exit status the comparison ended with and why."""

    base: str  # BASE, as given
    candidate: str  # CAND, as given
    threshold: float
    alpha: float
    family_size: int
    rule: str
    configurations: tuple[ComparedConfiguration, ...]
    only_in_base: tuple[str, ...]
    only_in_candidate: tuple[str, ...]
    exit_status: int
    conclusion: str
    headline: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "format": COMPARE_FORMAT}
        document |= _plain(self)
        document["configurations"] = [c.to_json() for c in self.configurations]
        return document

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CompareRecord:
        _check_format(data, COMPARE_FORMAT, "compare.json")

        def read(document: Mapping[str, Any]) -> CompareRecord:
            values = {k: v for k, v in document.items() if k not in {"schema_version", "format"}}
            values["configurations"] = tuple(
                map(ComparedConfiguration.from_json, document.get("configurations") or ())
            )
            return _flat(cls, values, "compare.json")

        record: CompareRecord = _reading("compare.json", read, data)
        return record


def read_verdicts(path: Path) -> VerdictsRecord:
    return VerdictsRecord.from_json(read_document(path))


def read_compare(path: Path) -> CompareRecord:
    return CompareRecord.from_json(read_document(path))
