"""`make compare`: baseline vs candidate, configuration by configuration, and the exit status.

Configurations are matched by (server, workers, threads, profile, scenario, users, window,
shape): a production deployment is never compared with a dev one.
Runs whose checked metadata differ are refused, as pyperf refuses to compare benchmarks of
different Pythons: a number measured on another machine, with another CPU placement or
another generator, answers another question. When nothing matches, the refusal names the
first field whose values differ between the sides. Every verdict of the comparison is one
Holm family.

The exit status answers a CI pipeline's one question, "may this change go in?": 4 when
some figure is slower; else 5 when a slowdown beyond the threshold cannot be ruled out
(an inconclusive verdict whose CI reaches past the threshold on the worse side, or not
enough data), so two noisy runs never pass silently; else 0. A p99 that cannot be compared
(too few samples) is listed and does not decide the status: it is not a figure at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from scripts.options.exit_status import MEANINGS, ExitStatus
from scripts.records.schema import (
    ComparedConfiguration,
    CompareRecord,
    NotCompared,
    VerdictEntry,
)
from scripts.reporting.load import RunRecord
from scripts.reporting.profiles import several_profiles
from scripts.reporting.run_windows import (
    GOODPUT_METRIC,
    VERDICT_METRICS,
    Configuration,
    MeasuredWindow,
    measured_windows,
)
from scripts.reporting.tables import Group
from scripts.reporting.verdict_rows import (
    Question,
    Side,
    family_size,
    judge_questions,
    rule_text,
    slowdown_ruled_out,
)
from scripts.reporting.verdicts import DEFAULT_ALPHA, DEFAULT_THRESHOLD, Outcome

BASE: Final = "base"
CANDIDATE: Final = "candidate"
# The fields a configuration is matched by, in the order a refusal names them.
KEY_FIELDS: Final[Mapping[str, Callable[[MeasuredWindow], Any]]] = MappingProxyType(
    {
        "scenario": lambda window: window.group.scenario,
        "users": lambda window: window.group.users,
        "duration_s": lambda window: window.group.duration_s,
        "shape": lambda window: window.group.shape,
        "profile": lambda window: window.configuration.profile,
        "server": lambda window: window.configuration.server,
        "workers": lambda window: window.configuration.workers,
        "threads": lambda window: window.configuration.threads,
    }
)
# meta.json settings that must be the same on both sides of a matched configuration.
MACHINE_SETTINGS: Final = (
    "cpu_model",
    "cpu_count",
    "placement.mode",
    "locust_processes",
    "max_requests",  # a recycling run measures worker restarts, not the server
)

NAMED_AT_MOST: Final = 3  # figures a conclusion names before "and N more"

_Key = tuple[Group, Configuration]


class Refusal(ValueError):
    """Two sides that must not be compared; the message is the one line that says why."""


@dataclass(frozen=True)
class CompareOptions:
    threshold: float = DEFAULT_THRESHOLD
    alpha: float = DEFAULT_ALPHA


def configuration_label(
    group: Group, configuration: Configuration, profiles_shown: bool = False
) -> str:
    """A configuration named in full, compactly (`gunicorn 2wx1t read-u4-3s`, and
    `gunicorn 2wx1t · production read-u4-3s` when the sides hold several profiles):
    compare's sides may hold several groups."""
    return f"{configuration.label(ambiguous=True, profiles_shown=profiles_shown)} {group.slug}"


def _text(values: set[Any]) -> str:
    def one(value: Any) -> str:
        if value is None:
            return "none"
        return f"{value:g}" if isinstance(value, float) else str(value)

    return ", ".join(sorted(map(one, values)))


def _by_key(windows: Sequence[MeasuredWindow]) -> dict[_Key, list[MeasuredWindow]]:
    found: dict[_Key, list[MeasuredWindow]] = {}
    for window in windows:
        found.setdefault((window.group, window.configuration), []).append(window)
    return found


def _nothing_in_common(base: Sequence[MeasuredWindow], cand: Sequence[MeasuredWindow]) -> str:
    for name, read in KEY_FIELDS.items():
        base_values, cand_values = {read(w) for w in base}, {read(w) for w in cand}
        if base_values != cand_values:
            return (
                f"cannot compare: {name} differs: {BASE} {_text(base_values)}, "
                f"{CANDIDATE} {_text(cand_values)}"
            )
    return "cannot compare: no configuration is on both sides"


def _machine_mismatch(
    label: str, base: Sequence[MeasuredWindow], cand: Sequence[MeasuredWindow]
) -> str:
    for name in MACHINE_SETTINGS:
        base_values = {w.meta.setting(name) for w in base}
        cand_values = {w.meta.setting(name) for w in cand}
        if base_values != cand_values:
            return (
                f"cannot compare {label}: {name} differs: {BASE} {_text(base_values)}, "
                f"{CANDIDATE} {_text(cand_values)}"
            )
    return ""


def _cv(side: Side) -> float | None:
    variation = side.goodput_variation()
    return None if variation is None else variation.cv


def _usable_side(name: str, windows: Sequence[MeasuredWindow]) -> Side:
    return Side(name, tuple(window for window in windows if window.usable))


def _conclusion(
    configurations: Sequence[ComparedConfiguration], threshold: float
) -> tuple[ExitStatus, str]:
    def named(pairs: Sequence[tuple[ComparedConfiguration, VerdictEntry]]) -> str:
        shown = ", ".join(f"{c.label} {e.metric}" for c, e in pairs[:NAMED_AT_MOST])
        more = len(pairs) - NAMED_AT_MOST
        return shown + (f" and {more} more" if more > 0 else "")

    pairs = [(c, e) for c in configurations for e in c.verdicts]
    slower = [(c, e) for c, e in pairs if e.outcome == Outcome.SLOWER.value]
    if slower:
        return ExitStatus.SLOWER, f"the candidate is slower ({named(slower)})"
    open_ = [(c, e) for c, e in pairs if not slowdown_ruled_out(e)]
    if open_:
        return ExitStatus.NO_VERDICT, (
            f"a slowdown beyond the {threshold * 100:g} % threshold cannot be ruled out "
            f"({named(open_)}): more runs would decide"
        )
    return ExitStatus.OK, f"no slowdown beyond the {threshold * 100:g} % threshold"


def _headline(configurations: Sequence[ComparedConfiguration], conclusion: str) -> tuple[str, ...]:
    sentences = [
        f"{c.label}: {e.headline}." + (f" Caveat: {e.caveat}." if e.caveat else "")
        for c in configurations
        for e in c.verdicts
        if e.metric == GOODPUT_METRIC
    ]
    return (f"Conclusion: {conclusion}.", *sentences)


def compare_runs(
    base_name: str,
    base_runs: Sequence[RunRecord],
    candidate_name: str,
    candidate_runs: Sequence[RunRecord],
    options: CompareOptions,
) -> CompareRecord:
    """compare.json's record; Refusal when the two sides must not be compared."""
    base_windows, cand_windows = measured_windows(base_runs), measured_windows(candidate_runs)
    for name, text, runs, windows in (
        ("BASE", base_name, base_runs, base_windows),
        ("CAND", candidate_name, candidate_runs, cand_windows),
    ):
        if not windows:
            raise Refusal(f"{name}={text!r}: none of its {len(runs)} runs has a readable meta.json")
    base_keys, cand_keys = _by_key(base_windows), _by_key(cand_windows)
    shown = several_profiles(w.configuration.profile for w in [*base_windows, *cand_windows])

    def label_of(key: _Key) -> str:
        return configuration_label(*key, profiles_shown=shown)

    matched = [key for key in base_keys if key in cand_keys]
    if not matched:
        raise Refusal(_nothing_in_common(base_windows, cand_windows))
    matched.sort(key=lambda key: (key[0].scenario, key[0].users, key[1].order))
    questions: list[tuple[int, Question]] = []
    sides: list[tuple[Side, Side]] = []
    for index, key in enumerate(matched):
        label = label_of(key)
        mismatch = _machine_mismatch(label, base_keys[key], cand_keys[key])
        if mismatch:
            raise Refusal(mismatch)
        base, cand = _usable_side(BASE, base_keys[key]), _usable_side(CANDIDATE, cand_keys[key])
        sides.append((base, cand))
        questions += [(index, Question(metric, base, cand)) for metric in VERDICT_METRICS]
    answers = judge_questions([q for _, q in questions], options.threshold, options.alpha)
    configurations = []
    for index, (key, (base, cand)) in enumerate(zip(matched, sides, strict=True)):
        own = [a for (i, _), a in zip(questions, answers, strict=True) if i == index]
        group, configuration = key
        configurations.append(
            ComparedConfiguration(
                label=label_of(key),
                server=configuration.server,
                workers=configuration.workers,
                threads=configuration.threads,
                profile=configuration.profile,
                scenario=group.scenario,
                users=group.users,
                duration_s=group.duration_s,
                shape=group.shape,
                base_run_ids=base.run_ids,
                candidate_run_ids=cand.run_ids,
                base_goodput_cv=_cv(base),
                candidate_goodput_cv=_cv(cand),
                verdicts=tuple(a for a in own if isinstance(a, VerdictEntry)),
                not_compared=tuple(a for a in own if isinstance(a, NotCompared)),
            )
        )
    status, conclusion = _conclusion(configurations, options.threshold)
    family = family_size([e for c in configurations for e in c.verdicts])
    return CompareRecord(
        base=base_name,
        candidate=candidate_name,
        threshold=options.threshold,
        alpha=options.alpha,
        family_size=family,
        rule=rule_text(family, options.alpha, options.threshold),
        configurations=tuple(configurations),
        only_in_base=tuple(label_of(k) for k in base_keys if k not in cand_keys),
        only_in_candidate=tuple(label_of(k) for k in cand_keys if k not in base_keys),
        exit_status=int(status),
        conclusion=f"{conclusion} (exit {int(status)}: {MEANINGS[status]})",
        headline=_headline(configurations, conclusion),
    )
