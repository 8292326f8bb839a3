"""``assistant eval``'s arguments and what it runs, prints and writes."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import backends
from ..errors import EvaluationError

if TYPE_CHECKING:
    from ..pipeline import Assistant

from .comparison import assistant_factory, compare, generator_names
from .dataset import DEFAULT_PAIRS, DEFAULT_QUESTIONS, load_questions
from .gate import gate, parse_thresholds, pyproject_thresholds
from .running import SCHEMA_VERSION, evaluate

log = logging.getLogger(__name__)


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS, help="question set (JSONL)")
    parser.add_argument("--out", type=Path, default=Path("eval-out"), help="folder for the reports")
    parser.add_argument("--min", action="append", metavar="METRIC=VALUE", help="fail below this (repeatable)")
    parser.add_argument("--max", action="append", metavar="METRIC=VALUE", help="fail above this (repeatable)")
    parser.add_argument("--baseline", type=Path, help="an earlier report.json to compare with")
    parser.add_argument("--max-drop", type=float, default=0.02, help="allowed worsening against --baseline")
    parser.add_argument("--pairs", type=Path, default=DEFAULT_PAIRS, help="labelled support pairs (JSONL)")
    parser.add_argument("--calibrate", action="store_true", help="print the checker calibration table")
    parser.add_argument("--no-baseline", action="store_true", help="skip the naive baseline")
    parser.add_argument(
        "--compare",
        type=generator_names,
        metavar="GEN,GEN",
        help=f"also run these generators ({', '.join(backends.names())}) on the same questions, side by side",
    )


def run_from_args(args: argparse.Namespace, bot: Assistant) -> int:
    """The CLI's eval: 0 pass, 1 below a threshold (each printed), 2 error (raised)."""
    from ..reports import write_reports

    records = load_questions(args.questions)
    minimum, maximum = pyproject_thresholds(args.questions)

    minimum.update(parse_thresholds(args.min))
    maximum.update(parse_thresholds(args.max))
    baseline = _read_baseline(args.baseline) if args.baseline else None
    report = evaluate(bot, records, pairs=args.pairs, baseline=not args.no_baseline, progress=True)
    if args.compare:
        report["comparison"] = compare(
            records, args.compare, assistant_factory(bot), main=report, progress=True
        )
    problems = gate(report, minimum, maximum, baseline, args.max_drop)
    report["gate"] = {"min": minimum, "max": maximum, "problems": problems, "passed": not problems}
    written = write_reports(report, args.out)
    _print_summary(report, written, calibrate=args.calibrate)
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _read_baseline(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EvaluationError(f"Cannot read baseline report {path}: {exc}") from None
    if data.get("schema_version") != SCHEMA_VERSION or "aggregates" not in data:
        raise EvaluationError(f"{path} is not a report.json of schema version {SCHEMA_VERSION}.")
    return data


def _print_summary(report: dict[str, Any], written: list[Path], *, calibrate: bool) -> None:
    from ..reports import comparison_notes, comparison_table

    for name, stat in report["aggregates"].items():
        if not name.startswith("latency.") or name.startswith("latency.total"):
            interval = f"[{stat['ci_low']:.3f}, {stat['ci_high']:.3f}]"
            print(f"{name:40s} {stat['value']:8.3f}  {interval}  n={stat['n']}")
    calibration = report.get("checker_calibration")
    if calibration:
        print(
            f"support checker ({report['checker']}) on {calibration['pairs']} labelled pairs: "
            f"accuracy {calibration['accuracy']:.3f}, kappa {calibration['kappa']:.3f} "
            f"at threshold {calibration['threshold']}"
        )
        if calibrate:
            for row in calibration["sweep"]:
                accuracy, kappa = row["accuracy"], row["kappa"]
                print(f"  threshold {row['threshold']:.1f}: accuracy {accuracy:.3f}, kappa {kappa:.3f}")
    if "comparison" in report:
        head, rows = comparison_table(report["comparison"])
        print(f"Generators compared on {report['comparison']['questions']} questions:")
        for cells in [head, *rows]:
            print(f"  {cells[0]:34s}" + "".join(f" {c:>24s}" for c in cells[1:]))
        for note in comparison_notes(report["comparison"]):
            print(f"  {note}")
    print("Reports: " + ", ".join(str(p) for p in written))
