"""The insight page's figures, from the question log's rows: topics (similar questions grouped
by the assistant's own embedding model), gaps (questions refused, or answered with quotes that
may not answer them, grouped), premises corrected,
the paragraphs cited most, and activity per day."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from ..lexical import content_words
from .schema import as_utc

SIMILAR = 0.62  # cosine similarity at which two questions count as the same topic (MiniLM)
TOP = 12


@dataclass(frozen=True)
class Group:
    label: str  # the group's most frequent content words (no student's wording)
    count: int
    examples: tuple[str, ...] = ()  # questions as asked: shown only where transcripts are allowed


@dataclass(frozen=True)
class Insights:
    total: int
    askers: int
    refused: int
    uncertain: int  # answered with the caveat that the quotes may not answer what was asked
    premises_corrected: int
    topics: list[Group]
    gaps: list[Group]
    corrected: list[Group]
    cited: Counter[tuple[str, int]]  # (doc_id, paragraph) -> times cited
    per_day: list[tuple[date, int, int]]  # day, questions, refused
    generators: Counter[str] = field(default_factory=Counter)


def analyse(rows: Sequence[dict[str, Any]], encode: Callable[[list[str]], np.ndarray]) -> Insights:
    refused = [r for r in rows if r["refused"] and r["reason"] == "refusal"]
    uncertain = [r for r in rows if r["uncertain"] and not r["refused"]]
    corrected = [r for r in rows if r["premise_corrected"]]
    cited: Counter[tuple[str, int]] = Counter()
    for row in rows:
        for place in {(c["doc_id"], int(c["paragraph"])) for c in row["cited"]}:
            cited[place] += 1
    days: dict[date, list[int]] = {}
    for row in rows:
        day = as_utc(row["asked_at"]).date()  # days in UTC, whatever the database's zone
        days.setdefault(day, [0, 0])
        days[day][0] += 1
        days[day][1] += int(bool(row["refused"]))
    answered = [r for r in rows if not r["refused"]]
    return Insights(
        total=len(rows),
        askers=len({r["asker"] for r in rows}),
        refused=len(refused),
        uncertain=len(uncertain),
        premises_corrected=len(corrected),
        topics=groups([r["question"] for r in answered], encode),
        gaps=groups([r["question"] for r in refused + uncertain], encode),
        corrected=groups([r["question"] for r in corrected], encode),
        cited=cited,
        per_day=sorted((d, n, k) for d, (n, k) in days.items()),
        generators=Counter(r["generator"] for r in rows),
    )


def groups(questions: list[str], encode: Callable[[list[str]], np.ndarray], top: int = TOP) -> list[Group]:
    """Similar questions grouped (greedy: each joins the most similar group's first question, if
    similar enough), largest first."""
    if not questions:
        return []
    distinct = Counter(q.strip() for q in questions)
    texts = list(distinct)
    vectors = encode(texts)
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    order = sorted(range(len(texts)), key=lambda i: -distinct[texts[i]])
    leaders: list[int] = []
    members: dict[int, list[int]] = {}
    for i in order:
        if leaders:
            similarity = vectors[leaders] @ vectors[i]
            best = int(np.argmax(similarity))
            if similarity[best] >= SIMILAR:
                members[leaders[best]].append(i)
                continue
        leaders.append(i)
        members[i] = [i]
    result = []
    for group in members.values():
        count = sum(distinct[texts[i]] for i in group)
        examples = tuple(texts[i] for i in group[:5])
        result.append(Group(_label([texts[i] for i in group]), count, examples))
    return sorted(result, key=lambda g: -g.count)[:top]


def _label(questions: list[str]) -> str:
    counts = Counter(w for q in questions for w in dict.fromkeys(content_words(q, drop_frame=True)))
    return " · ".join(word for word, _ in counts.most_common(3)) or "(no content words)"
