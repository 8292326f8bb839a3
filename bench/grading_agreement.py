"""How well each support checker agrees with people on labelled (claim, passage, label) pairs.

    python -m bench.grading_agreement [--pairs tests/data/grading/claims.jsonl] [--llm llamacpp]

The lexical checker is reported at its shipped threshold (``min_support``, fitted on the
essay's development set, not on these pairs) and with the threshold fitted leaving one
text out at a time. With ``--llm``, the judge on that back end is reported too. Writes
``bench/results/grading_agreement.json``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from assistant import backends
from assistant.config import Settings
from assistant.grading import LexicalChecker, LLMJudge, agreement, load_pairs

from .common import ROOT, quiet, table, write_results

PAIRS = ROOT / "tests" / "data" / "grading" / "claims.jsonl"


def _row(name: str, result: dict[str, Any], seconds: float) -> list[Any]:
    kinds, labels = result["accuracy_by_kind"], result["accuracy_by_label"]
    return [
        name,
        result["accuracy"],
        result["kappa"],
        kinds.get("copied"),
        kinds.get("paraphrase"),
        labels.get("supported"),
        labels.get("contradicted"),
        labels.get("not_stated"),
        seconds,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--llm", choices=[n for n in backends.names() if n != backends.EXTRACTIVE])
    args = parser.parse_args()
    quiet()
    pairs = load_pairs(args.pairs)
    settings = Settings.load()
    began = time.perf_counter()
    lexical = agreement(LexicalChecker(settings.min_support), pairs)
    rows = [_row(f"lexical at {settings.min_support}", lexical, time.perf_counter() - began)]
    held = lexical["held_out"]
    rows.append(_row(f"lexical, threshold fitted per held-out {held['by']}", held, 0.0))
    results: dict[str, Any] = {"pairs": str(args.pairs), "lexical": lexical}
    if args.llm:
        judge = LLMJudge.from_settings(Settings.load(llm=args.llm))
        began = time.perf_counter()
        results["llm"] = agreement(judge, pairs, progress=True)
        rows.append(_row(judge.name, results["llm"], time.perf_counter() - began))
    table(
        f"Agreement with {len(pairs)} labelled pairs (accuracy of supported / not; kappa)",
        [
            "checker",
            "accuracy",
            "kappa",
            "copied",
            "paraphrase",
            "supported",
            "contradicted",
            "not stated",
            "s",
        ],
        rows,
    )
    write_results("grading_agreement", results)


if __name__ == "__main__":
    main()
