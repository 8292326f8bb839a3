"""The local model against the extractive answer, per development text, held out by text.

    python -m bench.local_model                          # 6 answerable + 4 unanswerable per text
    python -m bench.local_model --answerable 15 --unanswerable 10 --only essay

Every development text of ``bench.generalization`` (the essay, the library, the five texts
under tests/data/texts/) is answered with an answer model fitted on the *other* texts
(leave one text out, as there; ``--in-sample`` uses the shipped fit instead). The sample is
fixed, so runs compare: the first N answerable and the first M unanswerable records of each
question file, in file order (two cores shared with other people do not allow all 406).

Each question is answered twice on the same assistant: extractively, and by the ``local``
back end (:class:`~assistant.composed.ComposedGenerator`: the model rewrites the extractive
quotes, every sentence verified). Per text, for each: gold sentence cited, key facts stated,
correct and false refusals; for the model, the share of its sentences that survived
verification, how often it fell back, and the p50 time to its first verified sentence
(after retrieval) and to the whole answer. The answerability job is measured beside them:
the model's P(yes) that the three best-ranked sentences answer the question, its ranking of
answerable over unanswerable questions (AUC) against the extractive answerability's, and the
refusals if a confident "no" (P(yes) < ``--veto``) also refused an extractive answer.
Results: ``bench/results/local_model.json``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from assistant import Assistant, local_model
from assistant.composed import ComposedGenerator
from assistant.config import Settings
from assistant.evaluation import QuestionRecord, Scorer, load_questions
from assistant.evaluation.aggregates import aggregate
from assistant.fitting import QuestionSet, collect, fit

from .common import CACHE, percentiles, quiet, table, write_results
from .generalization import question_sets

LOCAL = "local"
SHOWN = [
    ("gold cited", "answer.gold_quote_hit"),
    ("key facts", "answer.gold_recall"),
    ("correct refusals", "abstention.correct_refusal_rate"),
    ("false refusals", "abstention.false_refusal_rate"),
]


def sample(records: list[QuestionRecord], answerable: int, unanswerable: int) -> list[QuestionRecord]:
    """The first ``answerable`` answerable and ``unanswerable`` unanswerable records, in file order."""
    yes = [r for r in records if r.answerable][:answerable]
    no = [r for r in records if not r.answerable][:unanswerable]
    return [r for r in records if r in yes or r in no]


def auc(scores: list[float], truth: list[bool]) -> float | None:
    """P(an answerable question scores above an unanswerable one); ties count half."""
    positive = [s for s, t in zip(scores, truth, strict=True) if t]
    negative = [s for s, t in zip(scores, truth, strict=True) if not t]
    if not positive or not negative:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in positive for n in negative)
    return round(wins / (len(positive) * len(negative)), 3)


def local_assistant(question_set: QuestionSet, index_root: Path) -> Assistant:
    settings = Settings.load(
        corpus_dir=question_set.corpus, index_dir=index_root / question_set.name, llm=LOCAL, llm_timeout=120
    )
    bot = Assistant(settings)
    bot.ensure_index()
    return bot


def run_set(bot: Assistant, records: list[QuestionRecord], veto: float) -> dict[str, Any]:
    scorer = Scorer(bot)
    generator = bot.generator
    assert isinstance(generator, ComposedGenerator)
    extractive, composed, judged = [], [], []
    first_verified, whole = [], []
    for number, record in enumerate(records, start=1):
        print(f"\r  {number}/{len(records)}", end="", file=sys.stderr, flush=True)
        plain = scorer.score(record, bot.ask(record.question, record.history, generator="extractive"))
        answer = bot.ask(record.question, record.history)
        model = scorer.score(record, answer)
        extractive.append(plain)
        composed.append(model)
        if answer.generator == generator.name:
            retrieval = answer.timings_ms.get("retrieve", 0.0)
            first_verified.append(retrieval + answer.timings_ms["first_verified"])
        if "model" in answer.timings_ms:  # the model was asked
            whole.append(answer.timings_ms["total"])
        request = bot.request(bot.validate_question(record.question), bot.validate_history(record.history))
        if request.info.intent == "question" and not request.wants_more:
            candidates = bot.extractive.candidates(request)
            signal = bot.extractive.judge(request, candidates).answerability if candidates else 0.0
            p_yes = generator.answerability(request)
            judged.append(
                {
                    "id": record.id,
                    "answerable": record.answerable,
                    "extractive": round(signal, 4),
                    "model": None if p_yes is None else round(p_yes, 4),
                    "refused": plain.refused,
                }
            )
    print(file=sys.stderr)
    counts = [r.verification for r in composed if r.verification]
    written = sum(c["sentences"] for c in counts)
    surviving = sum(c["supported"] for c in counts)
    truth = [j["answerable"] for j in judged]
    vetoed = [j["refused"] or (j["model"] is not None and j["model"] < veto) for j in judged]
    return {
        "questions": len(records),
        "extractive": aggregate(extractive),
        "local": aggregate(composed),
        "local_answers": sum(r.generator == generator.name for r in composed),
        "model_asked": len(whole),
        "fallbacks": {
            code: sum(r.fallback == code for r in composed)
            for code in {r.fallback for r in composed} - {None}
        },
        "llm_sentences": written,
        "llm_sentences_verified": surviving,
        "first_verified_ms": percentiles(first_verified),
        "whole_answer_ms": percentiles(whole),
        "answerability": {
            "judged": judged,
            "auc_extractive": auc([j["extractive"] for j in judged], truth),
            "auc_model": auc([j["model"] or 0.0 for j in judged], truth),
            "auc_mean": auc([(j["extractive"] + (j["model"] or 0.0)) / 2 for j in judged], truth),
            "veto": veto,
            "correct_refusals_with_veto": _rate([v for v, t in zip(vetoed, truth, strict=True) if not t]),
            "false_refusals_with_veto": _rate([v for v, t in zip(vetoed, truth, strict=True) if t]),
        },
        "answers": [
            {
                "id": r.id,
                "question": r.question,
                "generator": r.generator,
                "answer": r.answer,
                "notice": r.notice,
            }
            for r in composed
        ],
    }


def _value(aggregates: dict[str, dict[str, float]], key: str) -> str:
    value = aggregates.get(key, {}).get("value", float("nan"))
    return "-" if value != value else f"{value:.2f}"  # NaN: no question of that kind in the sample


def _rate(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 3) if flags else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answerable", type=int, default=6, help="answerable questions per text (first N)")
    parser.add_argument("--unanswerable", type=int, default=4, help="unanswerable questions per text")
    parser.add_argument("--only", help="comma-separated names of the texts (default: all)")
    parser.add_argument("--in-sample", action="store_true", help="the shipped answer model, not held out")
    parser.add_argument("--veto", type=float, default=0.1, help="P(yes) below which the model's no refuses")
    parser.add_argument("--index-root", type=Path, default=CACHE / "generalization", help="indexes")
    args = parser.parse_args(argv)
    quiet()
    if local_model.state().parts_installed == 0 and not local_model.state().exists:
        print(f"The local model is not installed: {local_model.INSTALL}", file=sys.stderr)
        return 2
    every = question_sets()
    chosen = [s for s in every if not args.only or s.name in args.only.split(",")]
    bots = {s.name: local_assistant(s, args.index_root) for s in (chosen if args.in_sample else every)}
    examples = (
        []
        if args.in_sample
        else [e for s in every for e in collect(bots[s.name], s, load_questions(s.questions))]
    )
    results: dict[str, Any] = {}
    for question_set in chosen:
        bot = bots[question_set.name]
        if not args.in_sample:
            bot.use_answer_model(fit([e for e in examples if e.set_name != question_set.name]))
        records = sample(load_questions(question_set.questions), args.answerable, args.unanswerable)
        print(f"{question_set.name}: {len(records)} questions", file=sys.stderr)
        results[question_set.name] = run_set(bot, records, args.veto)

    headers = ["text", "n"] + [f"{label} (extr / local)" for label, _ in SHOWN]
    headers += ["LLM sentences verified", "model answers", "first verified p50", "whole answer p50"]
    rows = []
    for name, found in results.items():
        cells: list[Any] = [name, found["questions"]]
        for _, key in SHOWN:
            cells.append(f"{_value(found['extractive'], key)} / {_value(found['local'], key)}")
        written = found["llm_sentences"]
        cells.append(f"{found['llm_sentences_verified']}/{written}" if written else "-")
        cells.append(f"{found['local_answers']}/{found['model_asked']}")
        for key in ("first_verified_ms", "whole_answer_ms"):
            p50 = found[key].get("p50")
            cells.append("-" if p50 is None else f"{p50 / 1000:.1f} s")
        rows.append(cells)
    held = "in sample" if args.in_sample else "held out by text"
    table(f"Extractive vs the local model ({held}; sample of each text)", headers, rows)
    judged_rows = []
    for name, found in results.items():
        a = found["answerability"]
        plain = found["extractive"]
        judged_rows.append(
            [
                name,
                a["auc_extractive"],
                a["auc_model"],
                a["auc_mean"],
                f"{_value(plain, 'abstention.correct_refusal_rate')} -> {a['correct_refusals_with_veto']}",
                f"{_value(plain, 'abstention.false_refusal_rate')} -> {a['false_refusals_with_veto']}",
            ]
        )
    table(
        f"Answerability: AUC, and refusals if P(yes) < {args.veto} also refuses",
        ["text", "AUC extractive", "AUC model", "AUC mean", "correct refusals", "false refusals"],
        judged_rows,
    )
    write_results(
        "local_model",
        {
            "sample": {"answerable": args.answerable, "unanswerable": args.unanswerable},
            "held_out": not args.in_sample,
            "threads": os.cpu_count(),
            "load_average": os.getloadavg(),
            "texts": results,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
