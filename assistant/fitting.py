"""Fitting the answer model on question sets over several texts, and scoring it on a text it never saw.

A question set is a corpus folder and a JSONL file of questions with gold sentences
(:mod:`assistant.evaluation`). ``collect`` asks each question as far as the models:
the candidates' signals, which of them overlap a gold sentence, and the question's
signals as a function of the sentence model (they include the best sentence's
probability). ``fit`` fits both models and the refusal threshold on any mix of sets;
``leave_one_out`` fits without each set in turn and evaluates that set with the fit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize  # fitting only: 0.4 s to import, kept off the answering path

from . import metrics
from .answer_model import L2, AnswerModel, Logistic
from .config import Settings
from .evaluation import QuestionRecord, Scorer, evaluate, load_questions
from .pipeline import Assistant
from .signals import QUESTION_FEATURES, SENTENCE_FEATURES, question_vector

log = logging.getLogger(__name__)

# The refusal threshold: the highest that refuses at most this share of the training
# sets' answerable questions. Held-out texts refuse a little more often than this.
TRAINING_FALSE_REFUSALS = 0.03


@dataclass(frozen=True)
class QuestionSet:
    """A text (or a few) with its question set."""

    name: str
    corpus: Path
    questions: Path


@dataclass
class Collected:
    """One question as the models see it."""

    set_name: str
    record_id: str
    answerable: bool
    rows: np.ndarray  # SENTENCE_FEATURES of each candidate
    labels: np.ndarray  # 1 where the candidate overlaps a gold sentence
    signals: Callable[[np.ndarray], np.ndarray]  # sentence probabilities -> QUESTION_FEATURES


def assistant_for(question_set: QuestionSet, index_root: Path) -> Assistant:
    """An extractive assistant over the set's corpus, its index in ``index_root/<name>``."""
    settings = Settings.load(
        corpus_dir=question_set.corpus, index_dir=index_root / question_set.name, llm="extractive"
    )
    bot = Assistant(settings)
    bot.ensure_index()
    return bot


def collect(bot: Assistant, question_set: QuestionSet, records: Sequence[QuestionRecord]) -> list[Collected]:
    """The signals of every question that reaches the models (not greetings, requests or "say more")."""
    scorer = Scorer(bot)
    generator = bot.extractive
    collected = []
    for record in records:
        turns = bot.validate_history(record.history)
        request = bot.request(bot.validate_question(record.question), turns, generator=generator)
        if request.info.intent != "question" or request.wants_more:
            continue
        candidates = generator.candidates(request)
        question, rows = generator.signals(request, candidates)
        gold = scorer.gold_spans(record)
        labels = np.asarray(
            [
                float(
                    any(
                        metrics.overlaps((c.sentence.doc_id, c.sentence.start, c.sentence.end), g)
                        for g in gold
                    )
                )
                for c in candidates
            ]
        )
        signals = partial(question_vector, question, candidates, source=bot.retriever)
        collected.append(Collected(question_set.name, record.id, record.answerable, rows, labels, signals))
    return collected


def fit_ranking(
    features: tuple[str, ...], groups: Sequence[tuple[np.ndarray, np.ndarray]], l2: float = L2
) -> Logistic:
    """A model that ranks each question's candidates: the weights maximise the softmax
    likelihood of the gold sentences among their own question's candidates (a conditional
    logit, fitted with L-BFGS), then a bias and scale map the score to a probability (Platt),
    so it reads like :meth:`Logistic.fit`'s. Pooled, a question with many near-gold candidates
    would weigh more than one with a single clear answer; here each question counts once."""
    rows = np.vstack([r for r, _ in groups])
    labels = np.concatenate([lab for _, lab in groups])
    mean, scale = rows.mean(axis=0), rows.std(axis=0)
    scale[scale < 1e-6] = 1.0
    ranked = [((r - mean) / scale, lab > 0) for r, lab in groups if (lab > 0).any()]

    def loss(beta: np.ndarray) -> tuple[float, np.ndarray]:
        total, gradient = 0.5 * l2 * float(beta @ beta), l2 * beta
        for x, gold in ranked:
            z = x @ beta
            e = np.exp(z - z.max())
            total -= float(np.log(e[gold].sum()) - np.log(e.sum()))
            gradient = gradient - (e[gold] / e[gold].sum()) @ x[gold] + (e / e.sum()) @ x
        return total, gradient

    beta = minimize(loss, np.zeros(rows.shape[1]), jac=True, method="L-BFGS-B").x
    score = ((rows - mean) / scale) @ beta
    platt = Logistic.fit(("score",), score[:, None], labels, l2=0.0)
    a = platt.weights[0] / platt.scale[0]
    bias = platt.bias - platt.weights[0] * platt.mean[0] / platt.scale[0]
    return Logistic(
        features,
        tuple(float(m) for m in mean),
        tuple(float(v) for v in scale),
        tuple(float(a * b) for b in beta),
        float(bias),
    )


def fit(examples: Sequence[Collected]) -> AnswerModel:
    """Both models and the refusal threshold, from these examples only."""
    answerable = [e for e in examples if e.answerable and len(e.rows)]
    rows = np.vstack([e.rows for e in answerable])
    labels = np.concatenate([e.labels for e in answerable])
    sentence = Logistic.fit(SENTENCE_FEATURES, rows, labels)
    ranking = fit_ranking(SENTENCE_FEATURES, [(e.rows, e.labels) for e in answerable])
    questions = np.vstack([e.signals(sentence.probability(e.rows)) for e in examples])
    truth = np.asarray([float(e.answerable) for e in examples])
    model = Logistic.fit(QUESTION_FEATURES, questions, truth)
    threshold = refusal_threshold(model.probability(questions), truth)
    sets = tuple(sorted({e.set_name for e in examples}))
    return AnswerModel(sentence, model, threshold, sets, ranking)


def refusal_threshold(scores: np.ndarray, truth: np.ndarray) -> float:
    """The highest cut that refuses at most TRAINING_FALSE_REFUSALS of the answerable questions."""
    answerable_scores = np.sort(scores[truth > 0])
    allowed = int(np.floor(TRAINING_FALSE_REFUSALS * len(answerable_scores)))
    return round(float(answerable_scores[allowed]) - 1e-6, 6) if len(answerable_scores) else 0.5


def leave_one_out(
    sets: Sequence[QuestionSet], bots: dict[str, Assistant], examples: Sequence[Collected]
) -> dict[str, dict[str, Any]]:
    """Each set's evaluation report, with a model fitted on the other sets only."""
    reports = {}
    for held_out in sets:
        model = fit([e for e in examples if e.set_name != held_out.name])
        reports[held_out.name] = evaluate_with(bots[held_out.name], held_out, model)
    return reports


def evaluate_with(bot: Assistant, question_set: QuestionSet, model: AnswerModel) -> dict[str, Any]:
    bot.use_answer_model(model)
    return evaluate(bot, load_questions(question_set.questions), pairs=None, baseline=True)
