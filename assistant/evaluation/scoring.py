"""Scoring one answer against its question record: retrieval, citations, correctness."""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from .. import metrics
from ..errors import EvaluationError
from ..models import Answer

if TYPE_CHECKING:
    from ..pipeline import Assistant

from .dataset import QuestionRecord

log = logging.getLogger(__name__)

RETRIEVAL_K = 5


@dataclass
class QuestionResult:
    id: str
    kind: str
    question: str
    standalone_question: str
    answerable: bool
    refused: bool
    uncertain: bool  # answered, with the warning that the text may not answer exactly this
    answer: str
    generator: str
    notice: str
    verification: dict[str, int] | None  # Answer.verification
    fallback: str | None
    citations: list[dict[str, Any]]
    sentences: list[dict[str, Any]]
    retrieval: dict[str, float]
    gold_quote_hit: float | None
    gold_recall: float | None
    token_f1: float | None
    invalid_markers: int
    markers: int
    timings_ms: dict[str, float]
    words: int
    failures: list[str] = field(default_factory=list)


class Scorer:
    """Scores answers against a question record, with the corpus text at hand for exactness checks."""

    def __init__(self, bot: Assistant) -> None:
        self.bot = bot
        self.texts = {doc.doc_id: doc.text for doc in bot.documents()}
        self.threshold = bot.settings.min_support

    def gold_spans(self, record: QuestionRecord) -> list[metrics.Span]:
        spans = []
        for quote in record.gold_quotes:
            found = [
                (d, t.find(quote), t.find(quote) + len(quote)) for d, t in self.texts.items() if quote in t
            ]
            if not found:
                raise EvaluationError(f"{record.id}: gold quote is not in the corpus: {quote[:60]!r}")
            spans.append(found[0])
        return spans

    def score(self, record: QuestionRecord, answer: Answer) -> QuestionResult:
        gold = self.gold_spans(record)
        ranked = [
            (p.chunk.doc_id, p.chunk.start, p.chunk.end)
            for p in self.bot.retriever.retrieve(answer.standalone_question, 10).passages
        ]
        cited_spans = [(c.doc_id, c.start, c.end) for c in answer.citations]
        by_marker = {c.marker: c.quote for c in answer.citations}
        sentences = []
        for sentence in answer.sentences if not answer.refused else []:
            cited = [by_marker[m] for m in sentence.markers if m in by_marker]
            supported, relevant, total = metrics.citation_scores(
                sentence.text, cited, self.bot.checker, self.threshold
            )
            sentences.append(
                {
                    **asdict(sentence),
                    "supported": supported,
                    "relevant_citations": relevant,
                    "citations": total,
                }
            )
        markers = [int(m) for m in re.findall(r"\[(\d+)\]", answer.answer)]
        result = QuestionResult(
            id=record.id,
            kind=record.kind,
            question=record.question,
            standalone_question=answer.standalone_question,
            answerable=record.answerable,
            refused=answer.refused,
            uncertain=answer.uncertain,
            answer=answer.answer,
            generator=answer.generator,
            notice=answer.notice,
            verification=asdict(answer.verification) if answer.verification else None,
            fallback=answer.fallback,
            citations=[
                {**asdict(c), "exact": self.texts.get(c.doc_id, "")[c.start : c.end] == c.quote}
                for c in answer.citations
            ],
            sentences=sentences,
            retrieval=metrics.retrieval_scores(ranked, gold, RETRIEVAL_K) if gold else {},
            gold_quote_hit=(
                float(any(metrics.overlaps(c, g) for c in cited_spans for g in gold)) if gold else None
            ),
            gold_recall=metrics.gold_answer_recall(answer.answer, record.gold_answers)
            if record.gold_answers
            else None,
            token_f1=metrics.token_f1(answer.answer, record.gold_answers) if record.gold_answers else None,
            invalid_markers=sum(1 for m in markers if m not in by_marker),
            markers=len(markers),
            timings_ms=answer.timings_ms,
            words=len(answer.answer.split()),
        )
        result.failures = _failures(result)
        return result


def _failures(r: QuestionResult) -> list[str]:
    reasons = []
    if r.answerable and r.refused:
        reasons.append("refused an answerable question")
    if not r.answerable and not r.refused:
        reasons.append("answered a question the text does not answer")
    if r.answerable and not r.refused and r.gold_quote_hit == 0.0:
        reasons.append("cited none of the gold sentences")
    if any(not s["supported"] for s in r.sentences):
        reasons.append("a sentence is not supported by its citations")
    if any(not c["exact"] for c in r.citations):
        reasons.append("a quote is not exact")
    if r.invalid_markers:
        reasons.append("invalid citation markers")
    return reasons
