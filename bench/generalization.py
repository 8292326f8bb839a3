"""Does the answerer hold on texts it was not fitted on? Leave one text out, per text.

    python -m bench.generalization            # the table: in-sample and held-out, per text
    python -m bench.generalization --gate     # ... exit 1 if a held-out figure is below its floor
    python -m bench.generalization --write    # refit on every text: assistant/answer_model.json
    python -m bench.generalization --against before.json   # ... and which questions changed since

For each development text, the answer model (:mod:`assistant.fitting`) is fitted on the
other texts only and that text's questions are answered and scored with it
(``assistant eval``'s scoring); the in-sample column uses one fit on every text. The
naive baseline (top-2 sentences by cosine, refuse below 0.35) is scored beside it.
Results: ``bench/results/generalization.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

from assistant.evaluation import DEFAULT_QUESTIONS, load_questions
from assistant.fitting import QuestionSet, assistant_for, collect, evaluate_with, fit, leave_one_out

from .common import CACHE, ROOT, quiet, table, write_results

DATA = ROOT / "tests" / "data"
# What every text should reach with a fit that never saw it; a text short of it is listed.
TARGET_MIN = {
    "answer.gold_quote_hit": 0.85,
    "answer.gold_recall": 0.85,
    "abstention.correct_refusal_rate": 0.80,
    "exact_quotes": 1.0,
}
TARGET_MAX = {"abstention.false_refusal_rate": 0.05}
SHOWN = [
    ("gold cited", "answer.gold_quote_hit"),
    ("facts stated", "answer.gold_recall"),
    ("correct refusals", "abstention.correct_refusal_rate"),
    ("false refusals", "abstention.false_refusal_rate"),
    ("unanswerable flagged", "abstention.flagged_rate"),
    ("answerable warned", "abstention.uncertain_answerable_rate"),
    ("exact quotes", "exact_quotes"),
]


def question_sets() -> list[QuestionSet]:
    """The essay, the four-reading library, and each text under tests/data/texts/."""
    sets = [
        QuestionSet("essay", ROOT / "corpus", DEFAULT_QUESTIONS),
        QuestionSet("library", DATA / "library", DATA / "library_questions.jsonl"),
    ]
    for folder in sorted((DATA / "texts").iterdir()):
        if (folder / "questions.jsonl").is_file():
            sets.append(QuestionSet(folder.name, folder / "corpus", folder / "questions.jsonl"))
    return sets


def figures(report: dict[str, Any]) -> dict[str, float]:
    values = {name: stat["value"] for name, stat in report["aggregates"].items()}
    values["exact_quotes"] = 1.0 - values["citation.hallucinated_rate"]
    return values


def floors() -> dict[str, dict[str, float]]:
    """pyproject's ``[tool.assistant.generalization.<text>]``: the held-out figures ``--gate`` holds
    each text to (a metric named ``max:...`` is a ceiling)."""
    table = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    found: dict[str, dict[str, float]] = table["tool"]["assistant"]["generalization"]
    return found


def shortfalls(
    held_out: dict[str, dict[str, float]], minimum: dict[str, float], maximum: dict[str, float], name: str
) -> list[str]:
    values = held_out[name]
    low = [f"{name}: {k} = {values[k]:.3f} < {v}" for k, v in minimum.items() if values[k] < v]
    high = [f"{name}: {k} = {values[k]:.3f} > {v}" for k, v in maximum.items() if values[k] > v]
    return low + high


def _failures(parser: argparse.ArgumentParser, path: Path) -> dict[str, list[dict[str, Any]]]:
    try:
        found: dict[str, list[dict[str, Any]]] = json.loads(path.read_text(encoding="utf-8"))["failures"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        parser.error(f"--against {path}: not a results file of this bench ({exc})")
    return found


def changed(before: dict[str, list[dict[str, Any]]], after: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The questions that failed before and not now (right), or now and not before (wrong): with a
    few unanswerable questions a text, a refit alone moves a figure, so a change is read question by
    question."""
    lines = []
    for name in after:
        old = {r["id"]: r for r in before.get(name, [])}
        new = {r["id"]: r for r in after[name]}
        lines += [f"right now  {name} {i}: {old[i]['question']}" for i in sorted(old.keys() - new.keys())]
        lines += [
            f"wrong now  {name} {i}: {new[i]['question']} -> {new[i]['answer'][:100]}"
            for i in sorted(new.keys() - old.keys())
        ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gate", action="store_true", help="exit 1 when a held-out figure misses its bound")
    parser.add_argument(
        "--write", action="store_true", help="save the fit on every text as the shipped model"
    )
    parser.add_argument("--only", help="comma-separated names of the sets to use (default: all)")
    parser.add_argument(
        "--against", type=Path, help="an earlier results file: list the questions that changed since"
    )
    parser.add_argument("--index-root", type=Path, default=CACHE / "generalization", help="indexes")
    args = parser.parse_args(argv)
    # Read before the run, which overwrites the usual results file and takes minutes.
    earlier = _failures(parser, args.against) if args.against else None
    quiet()
    sets = [s for s in question_sets() if not args.only or s.name in args.only.split(",")]
    bots = {s.name: assistant_for(s, args.index_root) for s in sets}
    examples = [e for s in sets for e in collect(bots[s.name], s, load_questions(s.questions))]
    everything = fit(examples)
    if args.write:
        everything.save()
    in_sample = {s.name: figures(evaluate_with(bots[s.name], s, everything)) for s in sets}
    reports = leave_one_out(sets, bots, examples)
    held_out = {name: figures(report) for name, report in reports.items()}
    baseline = {name: report["baseline"]["aggregates"] for name, report in reports.items()}

    headers = ["text", "questions"] + [f"{label} (in / held out / naive)" for label, _ in SHOWN]
    rows = []
    for s in sets:
        cells: list[Any] = [s.name, int(reports[s.name]["questions"])]
        for _, key in SHOWN:
            naive = baseline[s.name].get(key)
            shown = "-" if naive is None else f"{naive:.2f}"
            cells.append(f"{in_sample[s.name][key]:.2f} / {held_out[s.name][key]:.2f} / {shown}")
        rows.append(cells)
    table("Leave one text out: each text scored with a fit that never saw it", headers, rows)
    short = [p for s in sets for p in shortfalls(held_out, TARGET_MIN, TARGET_MAX, s.name)]
    bounds = floors()
    problems = []
    for s in sets:
        given = bounds.get(s.name, {})
        minimum = {k: v for k, v in given.items() if not k.startswith("max:")}
        maximum = {k[4:]: v for k, v in given.items() if k.startswith("max:")}
        if not given:
            problems.append(f"{s.name}: no floors in pyproject's [tool.assistant.generalization.{s.name}]")
        problems += shortfalls(held_out, minimum, maximum, s.name)
    results: dict[str, Any] = {
        "in_sample": in_sample,
        "held_out": held_out,
        "baseline": baseline,
        "threshold": everything.threshold,
        "short_of_target": short,
        "below_floor": problems,
        "failures": {
            name: [
                {k: r[k] for k in ("id", "kind", "question", "answer", "failures")}
                for r in report["results"]
                if r["failures"]
            ]
            for name, report in reports.items()
        },
    }
    write_results("generalization", results)
    if earlier is not None:
        print("\n".join(changed(earlier, results["failures"])) or "no question changed")
    for line in short:
        print(f"short of the target (held out): {line}")
    for problem in problems:
        print(f"BELOW FLOOR (held out): {problem}", file=sys.stderr)
    return 1 if args.gate and problems else 0


if __name__ == "__main__":
    sys.exit(main())
