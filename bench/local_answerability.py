"""Does the local model's yes/no make refusals better? Leave one text out, per text.

    python -m bench.local_answerability            # the table (about 30 minutes on two cores)

For every question of every development text that reaches the answer models, two numbers:
the extractive answerability from an answer model fitted without that text (as in
``bench.generalization``), and the local model's P(yes) that the three sentences that model
ranks best answer it (:func:`assistant.composed.answerability`). Their combination (a logistic
model on both log-odds, with the refusal threshold of ``fitting.refusal_threshold``) is fitted
on the other texts and scored on this one as a veto would decide: what the extractive answer
refuses stays refused; an answer (not a corrected premise) is refused when the combination
falls below its threshold. Measured, it did not pay (README), so nothing ships from it.
The model's P(yes) are cached in ``bench/results/cache/local_answerability.json``
(by model, text and question), so a second run takes a minute.
Results: ``bench/results/local_answerability.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from assistant import Assistant, local_model
from assistant.answer_model import Logistic
from assistant.composed import ComposedGenerator, judged_for
from assistant.evaluation import load_questions
from assistant.fitting import QuestionSet, collect, fit, refusal_threshold

from .common import CACHE, quiet, table, write_results
from .generalization import question_sets
from .local_model import auc, local_assistant

CACHED = CACHE / "local_answerability.json"
SCORED = ("extractive", "combined")


@dataclass(frozen=True)
class Judgement:
    """One question as the combination sees it."""

    set_name: str
    record_id: str
    answerable: bool
    extractive: float  # the extractive answerability, from a fit that never saw this set
    model: float  # the local model's P(yes)


@dataclass(frozen=True)
class Combined:
    """A logistic model on both answerabilities' log-odds, and where it would refuse."""

    model: Logistic
    threshold: float

    @classmethod
    def fit(cls, judgements: list[Judgement]) -> Combined:
        rows = np.asarray([_log_odds(j) for j in judgements])
        truth = np.asarray([float(j.answerable) for j in judgements])
        model = Logistic.fit(("extractive", "model"), rows, truth)
        return cls(model, refusal_threshold(model.probability(rows), truth))

    def probability(self, judgement: Judgement) -> float:
        return float(self.model.probability(np.asarray([_log_odds(judgement)]))[0])


def _log_odds(judgement: Judgement) -> list[float]:
    clipped = np.clip([judgement.extractive, judgement.model], 1e-4, 1 - 1e-4)
    return [float(v) for v in np.log(clipped / (1 - clipped))]


def judge_set(
    bot: Assistant, question_set: QuestionSet, cache: dict[str, float], model_id: str
) -> list[tuple[Judgement, bool, bool]]:
    """Each question's judgement, whether the extractive answer refused it, and whether it corrected
    a premise (with the answer model ``bot`` holds now)."""
    generator = bot.generator
    assert isinstance(generator, ComposedGenerator)
    found = []
    records = load_questions(question_set.questions)
    for number, record in enumerate(records, start=1):
        print(f"\r  {question_set.name} {number}/{len(records)}", end="", file=sys.stderr, flush=True)
        request = bot.request(bot.validate_question(record.question), bot.validate_history(record.history))
        if request.info.intent != "question" or request.wants_more:
            continue
        judged = judged_for(bot.extractive, request)
        key = f"{model_id}|{question_set.name}|{record.id}|{request.standalone}"
        if key not in cache:
            cache[key] = generator.answerability(request, judged) or 0.0
        answer = bot.ask(record.question, record.history, generator="extractive")
        extractive = judged.answerability if judged is not None else 0.0
        judgement = Judgement(question_set.name, record.id, record.answerable, extractive, cache[key])
        found.append((judgement, answer.refused, answer.premise_corrected))
    print(file=sys.stderr)
    return found


def rates(decisions: list[tuple[bool, bool]]) -> dict[str, float | None]:
    """Correct refusals (of unanswerable questions) and false refusals (of answerable ones)."""
    refused_no = [refused for answerable, refused in decisions if not answerable]
    refused_yes = [refused for answerable, refused in decisions if answerable]
    return {
        "correct_refusals": round(sum(refused_no) / len(refused_no), 3) if refused_no else None,
        "false_refusals": round(sum(refused_yes) / len(refused_yes), 3) if refused_yes else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    quiet()
    state = local_model.state()
    if not state.exists:
        print(f"The local model is not installed: {local_model.INSTALL}", file=sys.stderr)
        return 2
    model_id = local_model.FILE_NAME  # the one model `make llm` installs, its sha256 checked
    cache: dict[str, float] = json.loads(CACHED.read_text()) if CACHED.is_file() else {}
    sets = question_sets()
    bots = {s.name: local_assistant(s, CACHE / "generalization") for s in sets}
    examples = [e for s in sets for e in collect(bots[s.name], s, load_questions(s.questions))]
    judged: dict[str, list[tuple[Judgement, bool, bool]]] = {}
    for question_set in sets:
        bots[question_set.name].use_answer_model(
            fit([e for e in examples if e.set_name != question_set.name])
        )
        judged[question_set.name] = judge_set(bots[question_set.name], question_set, cache, model_id)
        CACHED.parent.mkdir(parents=True, exist_ok=True)
        CACHED.write_text(json.dumps(cache))

    results: dict[str, Any] = {}
    rows = []
    for question_set in sets:
        name = question_set.name
        combined = Combined.fit([j for other, found in judged.items() if other != name for j, _, _ in found])
        mine = judged[name]
        plain = [(j.answerable, refused) for j, refused, _ in mine]
        vetoed = [
            (
                j.answerable,
                refused or (not corrected and combined.probability(j) < combined.threshold),
            )
            for j, refused, corrected in mine
        ]
        truth = [j.answerable for j, _, _ in mine]
        found = {
            "questions": len(mine),
            "auc_extractive": auc([j.extractive for j, _, _ in mine], truth),
            "auc_model": auc([j.model for j, _, _ in mine], truth),
            "auc_combined": auc([combined.probability(j) for j, _, _ in mine], truth),
            "extractive": rates(plain),
            "combined": rates(vetoed),
            "judgements": [
                {**asdict(j), "refused": refused, "corrected": corrected} for j, refused, corrected in mine
            ],
        }
        results[name] = found
        rows.append(
            [name, len(mine), found["auc_extractive"], found["auc_model"], found["auc_combined"]]
            + [
                f"{found[k]['correct_refusals']} / {found[k]['false_refusals']}"
                for k in ("extractive", "combined")
            ]
        )
    headers = ["text", "n", "AUC extractive", "AUC model", "AUC combined"]
    headers += ["correct / false refusals: extractive", "with the model"]
    table("The local model's yes/no beside the extractive answerability (held out by text)", headers, rows)
    write_results("local_answerability", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
