"""``assistant grade``'s arguments and what it runs, prints and writes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .. import backends
from ..config import Settings
from ..errors import ConfigError
from .alignment import MIN_FUZZY, Aligner, Corpus
from .checkers import Checker, LexicalChecker, LLMJudge, agreement, load_pairs
from .compare import compare, comparison_rows
from .formats import FORMAT_NAMES, read_answers
from .grader import grade
from .reports import write_reports


def add_grade_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("answers", type=Path, help="another system's answers (JSON or JSONL)")
    parser.add_argument("--format", choices=FORMAT_NAMES, default="auto", help="the answers' format")
    parser.add_argument("--out", type=Path, default=Path("grade-out"), help="folder for the reports")
    parser.add_argument(
        "--compare", type=Path, metavar="OTHER", help="a second system's answers, side by side"
    )
    parser.add_argument(
        "--checker",
        choices=["lexical", "llm"],
        default="lexical",
        help="support checker: lexical (default), or llm: a judge on the --llm back end",
    )
    parser.add_argument("--threshold", type=float, help="lexical support threshold (default: min_support)")
    parser.add_argument("--min-fuzzy", type=float, default=MIN_FUZZY, help="fuzzy alignment score (0-100)")
    parser.add_argument("--pairs", type=Path, help="labelled (claim, passage, label) pairs: report agreement")
    parser.add_argument("--strict", action="store_true", help="exit 1 when any answer fails")


def make_checker(kind: str, settings: Settings, threshold: float | None = None) -> Checker:
    if kind == "llm":
        if settings.llm == backends.EXTRACTIVE:
            others = "|".join(n for n in backends.names() if n != backends.EXTRACTIVE)
            raise ConfigError(f"--checker llm needs a language-model back end: add --llm {others}.")
        return LLMJudge.from_settings(settings)
    return LexicalChecker(settings.min_support if threshold is None else threshold)


def run_from_args(args: argparse.Namespace, settings: Settings, corpus_dir: Path) -> int:
    """The CLI's grade: 0 done (1 with --strict when an answer failed); errors are raised."""
    checker = make_checker(args.checker, settings, args.threshold)
    aligner = Aligner(Corpus.load(corpus_dir), args.min_fuzzy)
    fmt, items = read_answers(args.answers, args.format)
    report = grade(items, aligner, checker, answers=str(args.answers), fmt=fmt, progress=True)
    if args.compare:
        other_fmt, other_items = read_answers(args.compare)
        other = grade(other_items, aligner, checker, answers=str(args.compare), fmt=other_fmt, progress=True)
        report["comparison"] = compare(report, other, (args.answers.name, args.compare.name))
    if args.pairs:
        report["checker_agreement"] = agreement(checker, load_pairs(args.pairs))
    written = write_reports(report, args.out)
    _print_summary(report, written)
    failed = sum(1 for r in report["results"] if not r["passed"])
    return 1 if args.strict and failed else 0


def _print_summary(report: dict[str, Any], written: list[Path]) -> None:
    print(f"{report['questions']} answers read as {report['format']}, graded with {report['checker']}")
    for name, stat in report["aggregates"].items():
        print(
            f"{name:32s} {stat['value']:8.3f}  [{stat['ci_low']:.3f}, {stat['ci_high']:.3f}]  n={stat['n']}"
        )
    if "comparison" in report:
        head, rows = comparison_rows(report["comparison"])
        for cells in [head, *rows]:
            print(f"  {cells[0]:44s}" + "".join(f" {c:>20s}" for c in cells[1:]))
    agreement_ = report.get("checker_agreement")
    if agreement_:
        pairs, accuracy, kappa = agreement_["pairs"], agreement_["accuracy"], agreement_["kappa"]
        print(f"checker agreement on {pairs} labelled pairs: accuracy {accuracy:.3f}, kappa {kappa:.3f}")
    print("Reports: " + ", ".join(str(p) for p in written), file=sys.stderr)
