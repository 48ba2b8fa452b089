"""The report's verdicts: per comparison group, each configuration against the group's best
and against a chosen baseline, for goodput, p50 and p99; and the headline built from them.

A group is the summary's comparison group (scenario, users, window, shape) and, unless the
runs are pooled (POOL=1), one bench: repeats of separate benches were made at different
times on a machine whose numbers drift by tens of percent, so pooling them is the user's
decision, never a default. Each table is one Holm family. "Best" is the configuration with
the highest geometric-mean goodput among those with repeats: the table then says how much
worse each other configuration is, and whether that is shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from scripts.records.schema import ConfigurationSpread, VerdictGroup, VerdictsRecord, VerdictTable
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
    split_answers,
)
from scripts.reporting.verdicts import (
    DEFAULT_ALPHA,
    DEFAULT_THRESHOLD,
    MIN_REPETITIONS,
    NOISY_CV,
)

FEW_RUNS_NOTE: Final = (
    f"not enough data: no configuration has {MIN_REPETITIONS} or more usable runs here; "
    "verdicts need repetitions (REPEATS=4, or PRESET=verdict)"
)
ONE_CONFIGURATION_NOTE: Final = "one configuration only: nothing to compare it with"
SHARED_PROCESS_NOTE: Final = (
    "repeats against one external server share its process: {labels} ran every repeat "
    "against the same running deployment, not a fresh server process per run, so their "
    "verdicts cover that process's run-to-run noise only"
)


@dataclass(frozen=True)
class VerdictOptions:
    """How the report judges: the baseline (a server or a configuration label), whether
    separate benches are pooled, the practical threshold and Holm's alpha."""

    baseline: str | None = None
    pool: bool = False
    threshold: float = DEFAULT_THRESHOLD
    alpha: float = DEFAULT_ALPHA


@dataclass(frozen=True)
class _GroupKey:
    group: Group
    bench_id: str | None

    @property
    def order(self) -> tuple[str, str, int, float, str]:
        group = self.group
        return (group.scenario, group.shape, group.users, group.duration_s, self.bench_id or "")

    @property
    def label(self) -> str:
        return self.group.label + (f" · bench {self.bench_id}" if self.bench_id else "")


def profiles_shown(windows: Sequence[MeasuredWindow]) -> bool:
    """Whether labels name the profile: the usable runs hold several (as in the summary,
    which holds usable runs only)."""
    return several_profiles(window.configuration.profile for window in windows)


def _sides(windows: Sequence[MeasuredWindow], profiles_shown: bool) -> list[Side]:
    """One side per configuration (profile included), in registry order, labelled as the
    summary labels it."""
    by_configuration: dict[Configuration, list[MeasuredWindow]] = {}
    for window in windows:
        by_configuration.setdefault(window.configuration, []).append(window)
    ordered = sorted(by_configuration, key=lambda configuration: configuration.order)
    servers = [configuration.server for configuration in ordered]
    return [
        Side(
            configuration.label(
                ambiguous=servers.count(configuration.server) > 1, profiles_shown=profiles_shown
            ),
            tuple(by_configuration[configuration]),
        )
        for configuration in ordered
    ]


def _spread(side: Side) -> ConfigurationSpread:
    configuration = side.windows[0].configuration
    variation = side.goodput_variation()
    return ConfigurationSpread(
        label=side.label,
        server=configuration.server,
        workers=configuration.workers,
        threads=configuration.threads,
        profile=configuration.profile,
        run_ids=side.run_ids,
        goodput_cv=None if variation is None else variation.cv,
        noisy=variation is not None and variation.noisy,
        noisy_machine_runs=sum(1 for window in side.windows if window.machine_noisy),
        shared_process=side.shared_process,
    )


def _best(sides: Sequence[Side]) -> Side:
    """The side with the highest geometric-mean goodput among those with repeats."""
    repeated = [side for side in sides if len(side.windows) >= MIN_REPETITIONS]
    return max(repeated, key=lambda side: side.geomean(GOODPUT_METRIC) or 0.0)


def _table(
    reference: str, base: Side, sides: Sequence[Side], options: VerdictOptions
) -> VerdictTable:
    questions = [
        Question(metric, base, side)
        for side in sides
        if side is not base
        for metric in VERDICT_METRICS
    ]
    answers = judge_questions(questions, options.threshold, options.alpha)
    verdicts, not_compared = split_answers(answers)
    family = family_size(verdicts)
    return VerdictTable(
        reference=reference,
        reference_label=base.label,
        family_size=family,
        alpha=options.alpha,
        threshold=options.threshold,
        rule=rule_text(family, options.alpha, options.threshold),
        verdicts=verdicts,
        not_compared=not_compared,
    )


def baseline_matches(name: str, sides: Sequence[Side]) -> list[Side]:
    """The sides a BASELINE names: a configuration label exactly, else a server name."""
    exact = [side for side in sides if side.label == name]
    return exact or [side for side in sides if side.windows[0].configuration.server == name]


def _baseline_table(
    sides: Sequence[Side], best: Side, options: VerdictOptions
) -> tuple[VerdictTable | None, str]:
    """The table against the baseline, or None and why there is none."""
    name = options.baseline
    if name is None:
        return None, ""
    matches = baseline_matches(name, sides)
    if not matches:
        return None, f"baseline {name} has no run in this group"
    if len(matches) > 1:
        labels = ", ".join(side.label for side in matches)
        return None, f"baseline {name} names several configurations here ({labels}): name one"
    if matches[0] is best:
        return None, f"the baseline {best.label} is this group's best: its table is the one above"
    return _table("baseline", matches[0], sides, options), ""


def _judge_group(
    key: _GroupKey,
    windows: Sequence[MeasuredWindow],
    options: VerdictOptions,
    profiles_shown: bool,
) -> VerdictGroup:
    sides = _sides(windows, profiles_shown)
    tables: list[VerdictTable] = []
    notes: list[str] = []
    if max(len(side.windows) for side in sides) < MIN_REPETITIONS:
        notes.append(FEW_RUNS_NOTE)
    elif len(sides) < 2:
        notes.append(ONE_CONFIGURATION_NOTE)
    else:
        best = _best(sides)
        tables.append(_table("best", best, sides, options))
        against_baseline, why_not = _baseline_table(sides, best, options)
        if against_baseline is not None:
            tables.append(against_baseline)
        if why_not:
            notes.append(why_not)
    shared = [side.label for side in sides if side.shared_process]
    if shared:
        notes.append(SHARED_PROCESS_NOTE.format(labels=", ".join(shared)))
    return VerdictGroup(
        label=key.label,
        scenario=key.group.scenario,
        users=key.group.users,
        duration_s=key.group.duration_s,
        shape=key.group.shape,
        bench_id=key.bench_id,
        configurations=tuple(_spread(side) for side in sides),
        tables=tuple(tables),
        notes=tuple(notes),
    )


def _headline_table(group: VerdictGroup) -> VerdictTable | None:
    """The table a group's headline speaks from: against the baseline when there is one."""
    by_reference = {table.reference: table for table in group.tables}
    return by_reference.get("baseline") or by_reference.get("best")


def _group_headline(group: VerdictGroup) -> list[str]:
    table = _headline_table(group)
    if table is None:
        return [f"No verdicts ({group.notes[0]})."] if group.notes else []
    goodput = [verdict for verdict in table.verdicts if verdict.metric == GOODPUT_METRIC]
    sentences = []
    if table.reference == "best" and goodput and goodput[0].baseline_geomean is not None:
        sentences.append(
            f"{table.reference_label} had the highest mean goodput "
            f"({goodput[0].baseline_geomean:,.1f} requests per second over "
            f"{goodput[0].baseline_n} runs)."
        )
    sentences += [f"{verdict.headline}." for verdict in goodput]
    noisy = [
        f"{c.label} ({c.goodput_cv * 100:.0f} %)"
        for c in group.configurations
        if c.noisy and c.goodput_cv is not None
    ]
    if noisy:
        sentences.append(
            f"Goodput varied between runs by more than {NOISY_CV * 100:g} % (CV) for "
            f"{', '.join(noisy)}: their verdicts are less certain."
        )
    flagged = [
        f"{c.label} ({c.noisy_machine_runs} of {len(c.run_ids)} runs)"
        for c in group.configurations
        if c.noisy_machine_runs
    ]
    if flagged:
        sentences.append(
            "The machine was noisy (steal or other processes' CPU above its limit) during "
            f"runs of {', '.join(flagged)}: their verdicts are less certain."
        )
    shared = [c.label for c in group.configurations if c.shared_process]
    if shared and group.tables:
        sentences.append(
            f"Repeats against one external server share its process ({', '.join(shared)}): "
            "their verdicts say nothing about a fresh server process."
        )
    return sentences


def headline_sentences(groups: Sequence[VerdictGroup]) -> tuple[str, ...]:
    """A few plain sentences from the goodput verdicts, group by group; a group without a
    table says why (no repeats, one configuration)."""
    if not groups:
        return ("No verdicts: no usable run.",)
    several = len(groups) > 1
    sentences: list[str] = []
    for group in groups:
        own = _group_headline(group)
        if own:
            own[0] = f"{group.label}: {own[0]}" if several else own[0]
        sentences += own
    return tuple(sentences)


def _grouped(
    windows: Sequence[MeasuredWindow], pool: bool
) -> Mapping[_GroupKey, list[MeasuredWindow]]:
    groups: dict[_GroupKey, list[MeasuredWindow]] = {}
    for window in windows:
        key = _GroupKey(window.group, None if pool else window.bench_id)
        groups.setdefault(key, []).append(window)
    return dict(sorted(groups.items(), key=lambda item: item[0].order))


def judge_results(runs: Sequence[RunRecord], options: VerdictOptions) -> VerdictsRecord:
    """verdicts.json's record for the report's runs (usable runs only enter the numbers)."""
    usable = [window for window in measured_windows(runs) if window.usable]
    shown = profiles_shown(usable)
    groups = tuple(
        _judge_group(key, members, options, shown)
        for key, members in _grouped(usable, options.pool).items()
    )
    return VerdictsRecord(
        threshold=options.threshold,
        alpha=options.alpha,
        pooled=options.pool,
        baseline=options.baseline,
        metrics=VERDICT_METRICS,
        headline=headline_sentences(groups),
        groups=groups,
    )


def known_baselines(runs: Sequence[RunRecord], pool: bool) -> set[str]:
    """Every name BASELINE may take for these runs: servers and configuration labels."""
    usable = [window for window in measured_windows(runs) if window.usable]
    shown = profiles_shown(usable)
    names: set[str] = set()
    for members in _grouped(usable, pool).values():
        for side in _sides(members, shown):
            names |= {side.label, side.windows[0].configuration.server}
    return names
