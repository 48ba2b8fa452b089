"""`make lesson`: why runserver is not for production, measured on the reader's machine.

The chosen sections' experiments run as one deduplicated list of benches (scripts/lessons/
schedule.py), each through `make bench`'s own code, so its runs land in <results>/runs/
like any other and `make report` shows them too. Which runs answer which experiment is
recorded in <results>/lesson/experiments.json after every bench, so an interrupted lesson
keeps what it measured; `--rebuild` writes the page again from that file without running
anything. The verdicts are computed from the runs (scripts/lessons/judges.py) and written
to <results>/lesson/index.html and lesson.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scripts import bench
from scripts.harness.deployment import Deployment
from scripts.harness.plan import results_directory
from scripts.lessons.evidence import ExperimentRuns, read_experiment, read_probe_experiment
from scripts.lessons.judges import judge_section
from scripts.lessons.page import SectionResult, write_lesson
from scripts.lessons.probes import PROBES, run_probe
from scripts.lessons.schedule import MODES, TINY, Mode, PlannedBench, plan_lesson
from scripts.lessons.sections import SECTIONS
from scripts.options.exit_status import SIGNAL_BASE, ExitStatus
from scripts.options.parsing import OneLineErrorParser, fail_usage
from scripts.records.store import write_json

EXPERIMENTS_FILE = "experiments.json"
INTERRUPTED_STATUS = SIGNAL_BASE + 2  # a bench interrupted by Ctrl-C ends the lesson too


def section_list(text: str) -> tuple[int, ...]:
    """argparse type: `all`, or section numbers such as 1,4."""
    if text.strip() == "all":
        return tuple(SECTIONS)
    try:
        numbers = tuple(int(part) for part in text.split(","))
    except ValueError:
        numbers = ()
    if not numbers or any(number not in SECTIONS for number in numbers):
        raise argparse.ArgumentTypeError(
            f"expected all or section numbers from {', '.join(map(str, SECTIONS))}, got {text!r}"
        )
    return tuple(sorted(set(numbers)))


def build_parser() -> OneLineErrorParser:
    parser = OneLineErrorParser(
        prog="lesson",
        description="Run the lesson's experiments and write <results>/lesson/index.html: "
        "each claim about runserver, the experiment, the figures and a verdict from them.",
    )
    parser.add_argument(
        "--lesson",
        choices=sorted(MODES),
        default="full",
        help="full: 3 repetitions of 5 s windows (3 s per step of a step load); quick: 2 of 2 s, "
        "for a classroom (default: full)",
    )
    parser.add_argument(
        "--sections",
        type=section_list,
        default=tuple(SECTIONS),
        help=f"all, or some of {', '.join(map(str, SECTIONS))} (default: all)",
    )
    parser.add_argument(
        "--results",
        type=results_directory,
        default=Path("results"),
        help="results directory (default: results)",
    )
    # tests only: every experiment with 1 s windows
    parser.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="write the page again from <results>/lesson/experiments.json; run nothing",
    )
    return parser


def _run_dirs(results: Path) -> set[Path]:
    runs = results / "runs"
    if not runs.is_dir():
        return set()
    return {path for path in runs.iterdir() if path.is_dir() and not path.name.startswith(".")}


def _record(lesson_dir: Path, mode: str, done: Sequence[Mapping[str, object]]) -> None:
    write_json(lesson_dir / EXPERIMENTS_FILE, {"mode": mode, "benches": done})


def run_benches(
    benches: Sequence[PlannedBench], results: Path, lesson_dir: Path, mode: str
) -> tuple[list[dict[str, object]], bool]:
    """Every bench in turn; (what each produced, whether the lesson was interrupted)."""
    done: list[dict[str, object]] = []
    remaining_s = sum(planned.estimate_s for planned in benches)
    for index, planned in enumerate(benches, start=1):
        sections = ", ".join(f"{number} ({key})" for number, key in planned.serves)
        print(
            f"lesson: experiment {index}/{len(benches)}, section {sections}; about "
            f"{remaining_s / 60:.1f} min left\n  {planned.command}",
            flush=True,
        )
        if planned.probe is not None:
            try:
                written = run_probe(planned.probe, lesson_dir)
            except KeyboardInterrupt:  # its servers are stopped by then (supervised)
                return done, True
            done.append(
                {
                    "probe": planned.probe,
                    "serves": planned.serves,
                    "file": str(written.relative_to(lesson_dir)),
                }
            )
            _record(lesson_dir, mode, done)
            remaining_s -= planned.estimate_s
            continue
        before = _run_dirs(results)
        status = bench.main([*planned.flags, "--results", str(results)])
        produced = sorted(path.name for path in _run_dirs(results) - before)
        done.append({"flags": list(planned.flags), "serves": planned.serves, "runs": produced})
        _record(lesson_dir, mode, done)
        remaining_s -= planned.estimate_s
        if status > SIGNAL_BASE:  # Ctrl-C, TERM or a hang-up ended the bench: end the lesson
            return done, True
    return done, False


def _experiments(
    results: Path, done: Sequence[Mapping[str, Any]]
) -> dict[int, dict[str, ExperimentRuns]]:
    """Section number -> experiment key -> its runs (experiments.json's `benches`)."""
    found: dict[int, dict[str, ExperimentRuns]] = {}
    for entry in done:
        if "probe" in entry:
            name = str(entry["probe"])
            command = "\n".join(PROBES[name].commands)
            path = results / "lesson" / str(entry["file"])
            for number, key in entry["serves"]:
                found.setdefault(int(number), {})[str(key)] = read_probe_experiment(
                    str(key), command, path
                )
            continue
        command = "python -m scripts.bench " + " ".join(str(flag) for flag in entry["flags"])
        run_dirs = [results / "runs" / str(name) for name in entry["runs"]]
        for number, key in entry["serves"]:
            found.setdefault(int(number), {})[str(key)] = read_experiment(
                str(key), command, run_dirs
            )
    return found


def build_page(results: Path, sections: Sequence[int], mode: str, header: str) -> Path:
    lesson_dir = results / "lesson"
    document = json.loads((lesson_dir / EXPERIMENTS_FILE).read_text())
    experiments = _experiments(results, document["benches"])
    written = []
    for number in sections:
        section = SECTIONS[number]
        measured = experiments.get(number, {})
        if set(measured) != {experiment.key for experiment in section.experiments}:
            continue  # an interrupted lesson: this section did not run
        commands = tuple(dict.fromkeys(runs.command for runs in measured.values()))
        written.append(SectionResult(section, judge_section(section.judge, measured), commands))
    return write_lesson(written, lesson_dir, mode, header)


def _needs(sections: Sequence[int], mode: Mode, cpus: tuple[int, ...]) -> str | None:
    """One line naming what the system lacks for the chosen sections (nginx), or None."""
    for planned in plan_lesson(sections, mode, cpus):
        if "--proxy" in planned.flags:
            missing = Deployment(proxy="nginx").missing_requirement()
            if missing:
                return f"{missing} (sections 4 and 5 run servers behind nginx)"
    return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    cpus = tuple(sorted(os.sched_getaffinity(0)))
    results: Path = args.results
    lesson_dir = results / "lesson"
    started = time.monotonic()
    mode: str = TINY.name if args.tiny else args.lesson
    chosen: Mode = TINY if args.tiny else MODES[mode]
    if args.rebuild:
        if not (lesson_dir / EXPERIMENTS_FILE).is_file():
            fail_usage("lesson", f"nothing to rebuild: {lesson_dir / EXPERIMENTS_FILE} is missing")
        mode = json.loads((lesson_dir / EXPERIMENTS_FILE).read_text()).get("mode", mode)
        interrupted = False
    else:
        missing = _needs(args.sections, chosen, cpus)
        if missing:
            fail_usage("lesson", missing)
        benches = plan_lesson(args.sections, chosen, cpus)
        total_s = sum(planned.estimate_s for planned in benches)
        print(
            f"lesson ({mode}): sections {', '.join(map(str, args.sections))}, "
            f"{len(benches)} experiments, about {total_s / 60:.0f} min",
            flush=True,
        )
        lesson_dir.mkdir(parents=True, exist_ok=True)
        _, interrupted = run_benches(benches, results, lesson_dir, mode)
    header = (
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs, "
        f"lesson mode {mode}"
        + (f", in {(time.monotonic() - started) / 60:.1f} min" if not args.rebuild else "")
        + ". Every figure comes from the runs listed in experiments.json."
    )
    try:
        index = build_page(results, args.sections, mode, header)
    except OSError as error:
        print(f"lesson: the page could not be written: {error}", file=sys.stderr)
        return ExitStatus.NOT_WRITTEN
    print(f"lesson: {index}")
    return INTERRUPTED_STATUS if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
