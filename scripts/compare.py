"""`make compare BASE=... CAND=...`: baseline vs candidate, with an exit status for CI.

Each side is a results directory, a run directory, a path glob of run directories, or run
ids and globs under RESULTS/runs (scripts/reporting/compare_sides.py). Configurations are
matched by server, workers, threads, scenario, users, window and shape; sides whose checked
metadata differ are refused (scripts/reporting/comparison.py). Prints a table and writes
compare.json and compare.html under <results>/compare/ (or --output).

Exit status (README.md, scripts/options/exit_status.py): 0 no slowdown beyond the
threshold; 4 something is slower; 5 a slowdown beyond the threshold cannot be ruled out;
2 bad input or a refused comparison (nothing written); 6 the files could not be written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from scripts.options.exit_status import ExitStatus
from scripts.options.parsing import OneLineErrorParser, fail_usage
from scripts.reporting.compare_sides import BadSide, resolve_side

PROG = "compare"
DEFAULT_THRESHOLD_PCT = 5.0


def threshold_percent(text: str) -> float:
    """argparse type: the practical threshold in percent (`5` or `5%`), as a fraction."""
    try:
        value = float(text.strip().removesuffix("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a percentage like 5 or 5%, got {text!r}"
        ) from None
    if not 0.1 <= value < 100:
        raise argparse.ArgumentTypeError(
            f"expected a percentage from 0.1 to below 100 (5 means 5 %), got {text!r}"
        )
    return value / 100


def build_parser() -> OneLineErrorParser:
    parser = OneLineErrorParser(
        prog=PROG,
        description="Compare a candidate's runs with a baseline's, configuration by "
        "configuration: Welch's t-test on log values, Holm's correction, a practical "
        "threshold. Exit 0 ok, 4 slower, 5 no verdict, 2 bad input, 6 not written.",
    )
    parser.add_argument(
        "--base",
        required=True,
        help="the baseline: a results directory, a run directory, a path glob of run "
        "directories, or run ids/globs under --results",
    )
    parser.add_argument("--cand", required=True, help="the candidate, in the same forms")
    parser.add_argument(
        "--threshold",
        type=threshold_percent,
        default=DEFAULT_THRESHOLD_PCT / 100,
        metavar="PERCENT",
        help=f"practical threshold in percent (default: {DEFAULT_THRESHOLD_PCT:g})",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=Path("results"),
        help="where run ids are looked up (runs/) and output goes (default: results)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="where to write compare.json and compare.html (default: <results>/compare)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        base_dirs = resolve_side("BASE", args.base, args.results)
        cand_dirs = resolve_side("CAND", args.cand, args.results)
    except BadSide as problem:
        fail_usage(PROG, str(problem))
    # pandas and scipy take seconds to import: only once the input is known to be good.
    from scripts.reporting.compare_page import compare_text, write_compare
    from scripts.reporting.comparison import CompareOptions, Refusal, compare_runs
    from scripts.reporting.load import load_run

    base_runs = [load_run(path)[0] for path in base_dirs]
    cand_runs = [load_run(path)[0] for path in cand_dirs]
    try:
        record = compare_runs(
            args.base, base_runs, args.cand, cand_runs, CompareOptions(threshold=args.threshold)
        )
    except Refusal as refusal:
        fail_usage(PROG, str(refusal))
    print(compare_text(record))
    output_dir: Path = args.output if args.output is not None else args.results / "compare"
    try:
        json_path, html_path = write_compare(record, output_dir)
    except OSError as error:
        print(f"{PROG}: cannot write to {output_dir}: {error}", file=sys.stderr)
        return ExitStatus.NOT_WRITTEN
    print(f"\n{PROG}: {record.conclusion}\n{PROG}: wrote {json_path} and {html_path}")
    return record.exit_status


if __name__ == "__main__":
    sys.exit(main())
