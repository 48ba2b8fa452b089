"""`make report`: results/runs/*/ -> summary tables, charts and one HTML page.

The report is a pure function of the run directories: it launches nothing and can be rerun
at any time. It writes, under `<results>/report/` (or `--output`):

    summary.csv, summary.md   one row per configuration (medians and min-max over repeats)
    verdicts.json             per group with repeats: each configuration against the best
                              and the baseline (goodput, p50, p99), and the headline
    runs.csv                  every selected run with its settings, status and reason
    charts/*.png              the charts, one set per comparison group
    index.html                everything above on one self-contained page

Failed, invalid and unreadable runs never enter the numbers: they are listed apart with
their reason, failed and invalid ones with the figures their summary.json holds.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from scripts.options.exit_status import ExitStatus
from scripts.options.parsing import OneLineErrorParser, fail_usage
from scripts.reporting.select import (
    discover_run_dirs,
    parse_run_patterns,
    runs_dir,
    select_run_dirs,
)

PROG = "report"


def build_parser() -> OneLineErrorParser:
    parser = OneLineErrorParser(
        prog=PROG,
        description="Turn benchmark run directories into summary tables, charts and an HTML "
        "page. Launches nothing; safe to rerun.",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=Path("results"),
        help="results directory holding runs/<run_id>/ (default: results)",
    )
    parser.add_argument(
        "--runs",
        default="",
        metavar="IDS_OR_GLOBS",
        help="comma-separated run ids or globs on run ids, e.g. '*-gunicorn-*' "
        "(default: every run)",
    )
    parser.add_argument(
        "--baseline",
        default=None,
        metavar="SERVER_OR_LABEL",
        help="also judge every configuration against this one, e.g. gunicorn or "
        "'gunicorn 2w' (default: only against each group's best)",
    )
    parser.add_argument(
        "--pool",
        action="store_true",
        help="pool repeats from separate benches into one group (default: a group per bench)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="where to write the report (default: <results>/report)",
    )
    return parser


def _select(results_dir: Path, runs_text: str) -> list[Path]:
    """The run directories to report on; a usage error (exit 2) when there are none."""
    if not results_dir.is_dir():
        fail_usage(PROG, f"results directory {str(results_dir)!r} does not exist")
    run_dirs = discover_run_dirs(results_dir)
    if not run_dirs:
        fail_usage(PROG, f"no runs in {runs_dir(results_dir)}; run `make bench` first")
    patterns = parse_run_patterns(runs_text)
    if not patterns:
        if runs_text.strip():
            fail_usage(PROG, f"RUNS={runs_text!r} names no run id or glob")
        return run_dirs
    selected, unmatched = select_run_dirs(run_dirs, patterns)
    if unmatched:
        fail_usage(
            PROG,
            f"RUNS: no run matches {', '.join(map(repr, unmatched))} "
            f"({len(run_dirs)} runs in {runs_dir(results_dir)}, e.g. {run_dirs[-1].name})",
        )
    return selected


def main(argv: Sequence[str] | None = None) -> int:
    started = time.perf_counter()
    args = build_parser().parse_args(argv)
    results_dir: Path = args.results
    run_dirs = _select(results_dir, args.runs)
    output_dir: Path = args.output if args.output is not None else results_dir / "report"
    # pandas and matplotlib take seconds to import: only once the input is known to be good.
    from scripts.records.schema import Status
    from scripts.reporting.load import load_results
    from scripts.reporting.verdict_tables import VerdictOptions, known_baselines
    from scripts.reporting.write import write_report

    results = load_results(results_dir, run_dirs)
    options = VerdictOptions(baseline=args.baseline, pool=args.pool)
    known = known_baselines(results.runs, args.pool)
    if args.baseline is not None and args.baseline not in known:
        valid = ", ".join(sorted(known)) or "none (no usable run)"
        fail_usage(PROG, f"BASELINE={args.baseline!r} names no configuration; valid: {valid}")
    try:
        index, charts = write_report(results, output_dir, args.runs.strip() or "all runs", options)
    except OSError as error:
        print(f"{PROG}: cannot write the report in {output_dir}: {error}", file=sys.stderr)
        return ExitStatus.NOT_WRITTEN
    usable = len(results.usable_runs)
    left_out = len(results.runs) - usable
    elapsed_s = time.perf_counter() - started
    print(
        f"{PROG}: {len(results.runs)} runs ({usable} {Status.OK.value}, {left_out} left out), "
        f"{len(charts)} charts in {elapsed_s:.1f} s -> {index}"
    )
    if left_out:
        for run in results.excluded_runs:
            print(f"  {run.status.value}: {run.run_id}: {run.reason}")
    if not usable:
        print(f"{PROG}: no usable run among the selected ones; the report lists them only")
    return 0


if __name__ == "__main__":
    sys.exit(main())
