"""Grading a set of items: every item judged, then the figures over the set, as one report dict."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from ..evaluation.aggregates import stat
from ..evaluation.running import progress_bar, short_hash
from .alignment import Aligner
from .checkers import Checker
from .items import Item
from .judgement import ItemGrade, Judge

SCHEMA_VERSION = 1


def grade(
    items: Sequence[Item],
    aligner: Aligner,
    checker: Checker,
    *,
    answers: str = "",
    fmt: str = "",
    progress: bool = False,
) -> dict[str, Any]:
    """Judge every item and build the grading report (JSON-ready)."""
    began = time.perf_counter()
    judge = Judge(aligner, checker)
    grades = []
    for number, item in enumerate(items, start=1):
        if progress:
            progress_bar(number, len(items))
        grades.append(judge.grade(item))
    corpus = aligner.corpus.documents
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "grading",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "answers": answers,
        "format": fmt,
        "corpus": {doc_id: short_hash(doc.text) for doc_id, doc in corpus.items()},
        "checker": checker.name,
        "threshold": checker.threshold,
        "min_fuzzy": aligner.min_fuzzy,
        "questions": len(grades),
        "aggregates": aggregate(grades),
        "alignment": dict(Counter(s["alignment"]["status"] for g in grades for s in g.sources)),
        "behaviour": behaviour(grades),
        "results": [g.to_dict() for g in grades],
        "seconds": round(time.perf_counter() - began, 2),
    }


def aggregate(grades: Sequence[ItemGrade]) -> dict[str, dict[str, float]]:
    """The set's figures, each with a bootstrap interval (the same shape as ``assistant eval``'s)."""
    answered = [g for g in grades if not g.refused]
    claims = [s for g in answered for s in g.sentences if s.verdict != "refusal"]
    cited = [s for s in claims if s.citations]
    citations = [s for g in grades for s in g.sources if s["kind"] == "citation"]
    contexts = [s for g in grades for s in g.sources if s["kind"] == "context"]
    claimed = [s for s in citations if s["claimed_start"] is not None]
    expected = [g for g in grades if g.expected]
    out = {
        "grade.passed_rate": stat([float(g.passed) for g in grades]),
        "citation.recall": stat([float(s.supported) for s in claims]),
        "citation.precision": stat([s.relevant_citations / s.citations for s in cited]),
        "citation.uncited_rate": stat([float(s.verdict == "uncited") for s in claims]),
        "citation.hallucinated_rate": stat(
            [float(s["alignment"]["status"] == "not_found") for s in citations]
        ),
        "citation.exact_rate": stat([float(s["alignment"]["status"] == "exact") for s in citations]),
        "citation.misquoted_rate": stat([float(s["alignment"]["status"] == "fuzzy") for s in citations]),
        "citation.offset_error_rate": stat([float(s["alignment"]["offsets"] == "wrong") for s in claimed]),
        "context.not_found_rate": stat([float(s["alignment"]["status"] == "not_found") for s in contexts]),
        "behaviour.correct_rate": stat([float(_behaved(g)) for g in expected]),
        "answer.token_f1": stat([g.token_f1 for g in grades if g.token_f1 is not None]),
    }
    return {name: value for name, value in out.items() if value["n"]}


def _behaved(grade: ItemGrade) -> bool:
    wrong = ("refused when", "answered when", "accepted the question's")
    return not any(f.startswith(wrong) for f in grade.failures)


def behaviour(grades: Sequence[ItemGrade]) -> dict[str, dict[str, int]]:
    """Per expected behaviour: how many items, how many behaved so."""
    table: dict[str, dict[str, int]] = {}
    for g in grades:
        if g.expected:
            row = table.setdefault(g.expected, {"items": 0, "correct": 0, "refused": 0})
            row["items"] += 1
            row["correct"] += int(_behaved(g))
            row["refused"] += int(g.refused)
    return table
