"""Metric functions of the evaluation, each a pure function with its source named.

Retrieval metrics follow the usual IR definitions (Manning et al., *Introduction to
Information Retrieval*, 2008, ch. 8; nDCG from Järvelin & Kekäläinen, 2002) with
relevance decided by character-span overlap with gold sentences, so figures do not
depend on chunk size. Citation recall and precision follow ALCE (Gao et al., 2023,
"Enabling Large Language Models to Generate Text with Citations"). Token F1 and
normalised answer matching follow SQuAD (Rajpurkar et al., 2016). Cohen's kappa is
Cohen (1960). Intervals are percentile bootstrap (Efron & Tibshirani, 1993).
"""

from __future__ import annotations

import math
import random
import re
import string
from collections import Counter
from collections.abc import Callable, Sequence

Span = tuple[str, int, int]  # (doc_id, start, end)


def overlaps(a: Span, b: Span) -> bool:
    return a[0] == b[0] and a[1] < b[2] and b[1] < a[2]


def retrieval_scores(ranked: Sequence[Span], gold: Sequence[Span], k: int) -> dict[str, float]:
    """recall@k, hit@k, MRR@10 and nDCG@10 of ranked passage spans against gold sentence spans."""
    relevant = [any(overlaps(p, g) for g in gold) for p in ranked]
    found = {i for i, g in enumerate(gold) for p in ranked[:k] if overlaps(p, g)}
    first = next((rank for rank, rel in enumerate(relevant[:10], start=1) if rel), None)
    dcg = sum(1 / math.log2(rank + 1) for rank, rel in enumerate(relevant[:10], start=1) if rel)
    ideal_hits = min(10, max(1, len(gold)), sum(relevant) or 1)
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, ideal_hits + 1))
    return {
        f"recall@{k}": len(found) / len(gold),
        f"hit@{k}": float(any(relevant[:k])),
        "mrr@10": 1 / first if first else 0.0,
        "ndcg@10": dcg / ideal,
    }


Support = Callable[[str, str], float]


def citation_scores(
    claim: str, cited: Sequence[str], support: Support, threshold: float
) -> tuple[bool, int, int]:
    """ALCE: (is the claim supported by all its citations together, relevant citations, citations)."""
    if not cited:
        return False, 0, 0
    recall = support(" ".join(cited), claim) >= threshold
    relevant = 0
    for i, quote in enumerate(cited):
        alone = support(quote, claim) >= threshold
        rest = [q for j, q in enumerate(cited) if j != i]
        others = bool(rest) and support(" ".join(rest), claim) >= threshold
        # Irrelevant: it does not support the claim alone, and the others still do without it.
        if alone or not others:
            relevant += 1
    return recall, relevant, len(cited)


def normalise(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces."""
    text = text.lower().replace("’", "'").replace("“", '"').replace("”", '"')
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def gold_answer_recall(answer: str, golds: Sequence[str]) -> float:
    """1 if any gold answer occurs in the answer after normalisation."""
    target = normalise(answer)
    return float(any(normalise(g) in target for g in golds))


def token_f1(answer: str, golds: Sequence[str]) -> float:
    """Best SQuAD token F1 between the answer and any gold answer."""
    predicted = normalise(answer).split()
    best = 0.0
    for gold in golds:
        truth = normalise(gold).split()
        common = sum((Counter(predicted) & Counter(truth)).values())
        if common:
            precision, recall = common / len(predicted), common / len(truth)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def cohen_kappa(labels: Sequence[bool], predictions: Sequence[bool]) -> float:
    n = len(labels)
    observed = sum(a == b for a, b in zip(labels, predictions, strict=True)) / n
    p_yes = (sum(labels) / n) * (sum(predictions) / n)
    p_no = (1 - sum(labels) / n) * (1 - sum(predictions) / n)
    expected = p_yes + p_no
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in [0, 100])."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def bootstrap_ci(
    values: Sequence[float],
    statistic: Callable[[Sequence[float]], float] = mean,
    iterations: int = 1000,
    seed: int = 7,
) -> tuple[float, float]:
    """Percentile-bootstrap 95% interval of ``statistic`` (the mean by default)."""
    if not values:
        return float("nan"), float("nan")
    rng = random.Random(seed)
    samples = sorted(statistic(rng.choices(values, k=len(values))) for _ in range(iterations))
    return samples[int(0.025 * iterations)], samples[int(0.975 * iterations) - 1]
