"""Judging one answer, sentence by sentence, as ALCE does, against the corpus itself.

Every source is aligned first; what a sentence is judged against is the *corpus* text
its sources align with, so a quote the corpus does not hold supports nothing (a
hallucinated citation) and a misquoted one is judged by what the text really says.

- An answer with ``[n]`` markers: each sentence against the sources it cites. Citation
  recall: its cited sources together support it; citation precision: a citation is
  irrelevant when it does not support the sentence alone and the others still do
  without it (:func:`assistant.metrics.citation_scores`). A sentence that cites nothing
  is an *uncited claim*.
- An answer without markers: each sentence against the best of its retrieved contexts
  (ALCE without citations), or, with none, against the corpus sentences nearest to it.

The behaviour is checked when the item says what was expected: refused when it should have
answered, answered when it should have refused, or a false premise accepted (answered
without a word of correction).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from rapidfuzz import fuzz, process

from .. import metrics
from ..models import Sentence
from ..verification import ParsedSentence, parse_answer, refusal_like
from .alignment import Aligner, Alignment
from .checkers import Checker
from .items import Item, Source

Verdict = Literal["supported", "unsupported", "uncited", "hallucinated_citation", "refusal"]

# Corpus sentences tried as the nearest to an answer sentence: found by word overlap
# (rapidfuzz, fast on any corpus), then ranked by the support checker.
_NEAREST = 20
_DECLINES = re.compile(
    r"\bI (?:do not|don['’]t) know\b|\bnot (?:enough|sufficient) information\b|\bno relevant\b", re.IGNORECASE
)
# Words with which an answer corrects what a question takes for granted.
_CORRECTION = re.compile(
    r"\b(?:not|no|never|nor|rather|actually|in fact|instead|contrary|however|but|mistaken|incorrect|"
    r"false|wrong|misread|does\s*n['’]t|did\s*n['’]t|is\s*n['’]t|was\s*n['’]t)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SourceSentence:
    """The corpus sentence an answer sentence is set beside, and the part of it its source covers."""

    doc_id: str
    anchor: str
    text: str
    start: int
    end: int
    highlight: tuple[int, int] | None  # within ``text``: the aligned quote, if it lies in this sentence


@dataclass
class SentenceGrade:
    text: str
    markers: list[int]
    verdict: Verdict
    support: float
    supported: bool
    relevant_citations: int = 0
    citations: int = 0
    invalid_markers: list[int] = field(default_factory=list)
    source: SourceSentence | None = None


@dataclass
class ItemGrade:
    id: str
    format: str
    question: str
    answer: str
    expected: str | None
    reference: str | None
    refused: bool
    sources: list[dict[str, Any]]  # each source as given, with its alignment
    sentences: list[SentenceGrade]
    citation_recall: float | None
    citation_precision: float | None
    uncited: int
    hallucinated: int  # citations the corpus does not hold
    misquoted: int  # citations found only fuzzily (a word changed, dropped or added)
    offset_errors: int  # right text, claimed at the wrong offsets
    contexts_not_found: int
    token_f1: float | None
    failures: list[str]

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


class Judge:
    """Grades items against one corpus with one support checker."""

    def __init__(self, aligner: Aligner, checker: Checker) -> None:
        self.aligner = aligner
        self.checker = checker
        self._sentences = aligner.corpus.all_sentences()
        self._texts = [s.text for s in self._sentences]

    def grade(self, item: Item) -> ItemGrade:
        alignments = [self.aligner.align(s) for s in item.sources]
        premises = [a.text if a.found else "" for a in alignments]
        parsed = parse_answer(item.answer)
        marked = any(p.markers for p in parsed)
        sentences = [self._sentence(p, marked, alignments, premises) for p in parsed]
        claims = [s for s in sentences if s.verdict != "refusal"]
        refused = not claims or (
            bool(_DECLINES.search(item.answer) or any(s.verdict == "refusal" for s in sentences))
            and not any(s.supported for s in claims)
        )
        cited = [s for s in claims if s.citations]
        grade = ItemGrade(
            id=item.id,
            format=item.format,
            question=item.question,
            answer=item.answer,
            expected=item.expected,
            reference=item.reference,
            refused=refused,
            sources=[_source_dict(s, a) for s, a in zip(item.sources, alignments, strict=True)],
            sentences=sentences,
            citation_recall=metrics.mean([float(s.supported) for s in claims]) if claims else None,
            citation_precision=(
                sum(s.relevant_citations for s in cited) / sum(s.citations for s in cited) if cited else None
            ),
            uncited=sum(1 for s in claims if s.verdict == "uncited"),
            hallucinated=_count(item.sources, alignments, "citation", lambda a: not a.found),
            misquoted=_count(item.sources, alignments, "citation", lambda a: a.status == "fuzzy"),
            offset_errors=sum(1 for a in alignments if a.offsets == "wrong"),
            contexts_not_found=_count(item.sources, alignments, "context", lambda a: not a.found),
            token_f1=metrics.token_f1(item.answer, [item.reference]) if item.reference else None,
            failures=[],
        )
        grade.failures = _failures(grade, item)
        return grade

    def _sentence(
        self, parsed: ParsedSentence, marked: bool, alignments: list[Alignment], premises: list[str]
    ) -> SentenceGrade:
        text = parsed.text
        if refusal_like(text) or _DECLINES.search(text):
            return SentenceGrade(text, list(parsed.markers), "refusal", 0.0, False)
        if marked:
            return self._cited(parsed, alignments, premises)
        used = [i for i, a in enumerate(alignments) if a.found]
        if not alignments:
            return self._against_corpus(text)
        scored = [(self.checker(premises[i], text), i) for i in used]
        support, best = max(scored, default=(0.0, -1))
        ok = support >= self.checker.threshold
        source = self._beside(text, alignments[best]) if best >= 0 else self._nearest(text)
        return SentenceGrade(
            text, [], "supported" if ok else "unsupported", round(support, 4), ok, source=source
        )

    def _cited(
        self, parsed: ParsedSentence, alignments: list[Alignment], premises: list[str]
    ) -> SentenceGrade:
        text = parsed.text
        valid = [n for n in parsed.markers if 1 <= n <= len(alignments)]
        invalid = [n for n in parsed.markers if n not in valid]
        if not valid:
            return SentenceGrade(
                text,
                list(parsed.markers),
                "uncited",
                0.0,
                False,
                invalid_markers=invalid,
                source=self._nearest(text),
            )
        cited = [premises[n - 1] for n in valid]
        supported, relevant, total = metrics.citation_scores(
            text, cited, self.checker, self.checker.threshold
        )
        support = self.checker(" ".join(c for c in cited if c), text) if any(cited) else 0.0
        verdict: Verdict = "supported" if supported else "unsupported"
        if any(not alignments[n - 1].found for n in valid):
            verdict, supported = "hallucinated_citation", False
        found = [alignments[n - 1] for n in valid if alignments[n - 1].found]
        best = max(found, key=lambda a: self.checker(a.text, text), default=None)
        return SentenceGrade(
            text,
            list(parsed.markers),
            verdict,
            round(support, 4),
            supported,
            relevant,
            total,
            invalid,
            self._beside(text, best) if best else self._nearest(text),
        )

    def _against_corpus(self, text: str) -> SentenceGrade:
        """A sentence given with no sources: judged against the corpus sentences nearest to it."""
        support, nearest = self._nearest_scored(text)
        ok = support >= self.checker.threshold
        verdict: Verdict = "supported" if ok else "unsupported"
        return SentenceGrade(text, [], verdict, round(support, 4), ok, source=nearest)

    def _nearest(self, text: str) -> SourceSentence | None:
        return self._nearest_scored(text)[1]

    def _nearest_scored(self, text: str) -> tuple[float, SourceSentence | None]:
        """The corpus sentence that supports ``text`` best, among those sharing most words with it."""
        candidates = process.extract(text, self._texts, scorer=fuzz.token_set_ratio, limit=_NEAREST)
        scored = [(self.checker(self._texts[i], text), similarity, i) for _, similarity, i in candidates]
        if not scored:
            return 0.0, None
        support, _, best = max(scored)
        return support, _whole(self._sentences[best])

    def _beside(self, claim: str, alignment: Alignment) -> SourceSentence | None:
        """The sentence of an aligned source that best supports ``claim``, its quoted part marked."""
        assert alignment.doc_id is not None and alignment.start is not None and alignment.end is not None
        candidates = self.aligner.corpus.sentences_in(alignment.doc_id, alignment.start, alignment.end)
        if not candidates:
            return None
        sentence = max(candidates, key=lambda s: self.checker(s.text, claim))
        low, high = max(alignment.start, sentence.start), min(alignment.end, sentence.end)
        mark = (low - sentence.start, high - sentence.start) if low < high else None
        return SourceSentence(
            sentence.doc_id, sentence.anchor, sentence.text, sentence.start, sentence.end, mark
        )


def _whole(sentence: Sentence) -> SourceSentence:
    return SourceSentence(sentence.doc_id, sentence.anchor, sentence.text, sentence.start, sentence.end, None)


def _count(sources: list[Source], alignments: list[Alignment], kind: str, test: Any) -> int:
    return sum(1 for s, a in zip(sources, alignments, strict=True) if s.kind == kind and test(a))


def _source_dict(source: Source, alignment: Alignment) -> dict[str, Any]:
    return {
        "kind": source.kind,
        "text": source.text,
        "doc": source.doc,
        "claimed_start": source.start,
        "claimed_end": source.end,
        "alignment": asdict(alignment),
    }


def _failures(grade: ItemGrade, item: Item) -> list[str]:
    reasons = []
    expected = grade.expected
    if expected in ("answer", "correct_premise") and grade.refused:
        reasons.append("refused when it should have answered")
    if expected == "refuse" and not grade.refused:
        reasons.append("answered when it should have refused")
    if expected == "correct_premise" and not grade.refused and not _CORRECTION.search(item.answer):
        reasons.append("accepted the question's false premise")
    if grade.hallucinated:
        reasons.append(f"{grade.hallucinated} hallucinated citation(s): not in the corpus")
    if grade.misquoted:
        reasons.append(f"{grade.misquoted} misquoted citation(s): found only fuzzily")
    if grade.offset_errors:
        reasons.append(f"{grade.offset_errors} citation(s) at the wrong offsets")
    unsupported = sum(1 for s in grade.sentences if s.verdict == "unsupported")
    if unsupported and not grade.refused:
        reasons.append(f"{unsupported} sentence(s) not supported by what they rest on")
    if grade.uncited and not grade.refused:
        reasons.append(f"{grade.uncited} uncited claim(s)")
    if grade.contexts_not_found:
        reasons.append(f"{grade.contexts_not_found} retrieved context(s) not in the corpus")
    return reasons
