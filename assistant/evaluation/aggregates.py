"""Figures over a whole set, the naive baseline beside them, and the support checker's calibration."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import metrics

if TYPE_CHECKING:
    from ..pipeline import Assistant

from .dataset import QuestionRecord, SupportPair, load_jsonl
from .scoring import RETRIEVAL_K, QuestionResult, Scorer

log = logging.getLogger(__name__)

NAIVE_MIN_COSINE = 0.35


def stat(values: list[float], statistic: Any = metrics.mean) -> dict[str, float]:
    low, high = metrics.bootstrap_ci(values, statistic)
    return {
        "value": statistic(values) if values else float("nan"),
        "ci_low": low,
        "ci_high": high,
        "n": len(values),
    }


def aggregate(results: list[QuestionResult]) -> dict[str, dict[str, float]]:
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    answered = [r for r in results if not r.refused]
    sentences = [s for r in answered for s in r.sentences]
    citations = [c for r in results for c in r.citations]
    out: dict[str, dict[str, float]] = {}
    for key in (f"recall@{RETRIEVAL_K}", f"hit@{RETRIEVAL_K}", "mrr@10", "ndcg@10"):
        out[f"retrieval.{key}"] = stat([r.retrieval[key] for r in answerable if r.retrieval])
    out["answer.gold_quote_hit"] = stat([r.gold_quote_hit or 0.0 for r in answerable])
    out["answer.gold_recall"] = stat([r.gold_recall for r in answerable if r.gold_recall is not None])
    out["answer.token_f1"] = stat([r.token_f1 for r in answerable if r.token_f1 is not None])
    out["answer.length_words"] = stat([float(r.words) for r in answered])
    out["citation.recall"] = stat([float(s["supported"]) for s in sentences])
    precision = [s["relevant_citations"] / s["citations"] for s in sentences if s["citations"]]
    out["citation.precision"] = stat(precision)
    out["citation.uncited_rate"] = stat([float(not s["markers"]) for s in sentences])
    out["citation.invalid_marker_rate"] = stat([r.invalid_markers / r.markers for r in answered if r.markers])
    out["citation.hallucinated_rate"] = stat([float(not c["exact"]) for c in citations])
    out["abstention.correct_refusal_rate"] = stat([float(r.refused) for r in unanswerable])
    out["abstention.false_refusal_rate"] = stat([float(r.refused) for r in answerable])
    # Honest without refusing: an unanswerable question refused or answered with the warning
    # that the text may not answer it, and how often an answerable one carries that warning.
    out["abstention.flagged_rate"] = stat([float(r.refused or r.uncertain) for r in unanswerable])
    out["abstention.uncertain_answerable_rate"] = stat([float(r.uncertain) for r in answerable])
    for stage in sorted({k for r in results for k in r.timings_ms}):
        values = [r.timings_ms[stage] for r in results if stage in r.timings_ms]
        out[f"latency.{stage}_p50_ms"] = stat(values, lambda v: metrics.percentile(v, 50))
        out[f"latency.{stage}_p95_ms"] = stat(values, lambda v: metrics.percentile(v, 95))
    return out


def naive_baseline(bot: Assistant, records: list[QuestionRecord], scorer: Scorer) -> dict[str, float]:
    """Embed every sentence, quote the top two, refuse below a fixed cosine: the figure to beat."""
    retriever = bot.retriever
    sentences = retriever.all_sentences()
    vectors = retriever.sentence_vectors_for(sentences)
    hits, refusals_right, refusals_wrong, recalls = [], [], [], []
    for record in records:
        similarities = vectors @ retriever.embed(record.question)
        top = similarities.argsort()[::-1][:2]
        refused = bool(similarities[top[0]] < NAIVE_MIN_COSINE)
        picked = [(sentences[i].doc_id, sentences[i].start, sentences[i].end) for i in top]
        text = " ".join(sentences[i].text for i in top)
        if record.answerable:
            gold = scorer.gold_spans(record)
            hit = not refused and any(metrics.overlaps(p, g) for p in picked for g in gold)
            hits.append(float(hit))
            refusals_wrong.append(float(refused))
            if record.gold_answers:
                recalls.append(0.0 if refused else metrics.gold_answer_recall(text, record.gold_answers))
        else:
            refusals_right.append(float(refused))
    return {
        "answer.gold_quote_hit": metrics.mean(hits),
        "answer.gold_recall": metrics.mean(recalls),
        "abstention.correct_refusal_rate": metrics.mean(refusals_right),
        "abstention.false_refusal_rate": metrics.mean(refusals_wrong),
    }


def calibrate_checker(bot: Assistant, path: Path) -> dict[str, Any]:
    """Accuracy and Cohen's kappa of the support checker on hand-labelled pairs, across thresholds."""
    pairs: list[SupportPair] = load_jsonl(path, SupportPair)
    scores = [bot.checker(p.passage, p.sentence) for p in pairs]
    labels = [p.supported for p in pairs]
    sweep = []
    for step in range(2, 10):
        threshold = step / 10
        predicted = [s >= threshold for s in scores]
        accuracy = metrics.mean([float(a == b) for a, b in zip(labels, predicted, strict=True)])
        sweep.append(
            {"threshold": threshold, "accuracy": accuracy, "kappa": metrics.cohen_kappa(labels, predicted)}
        )
    current = [s >= bot.settings.min_support for s in scores]
    return {
        "pairs": len(pairs),
        "file": str(path),
        "threshold": bot.settings.min_support,
        "accuracy": metrics.mean([float(a == b) for a, b in zip(labels, current, strict=True)]),
        "kappa": metrics.cohen_kappa(labels, current),
        "sweep": sweep,
    }
