"""Generators turn retrieved sentences into a draft answer whose every sentence cites quotes.

``Generator`` is the small interface back ends implement. The default,
``ExtractiveGenerator``, needs no model: it quotes the sentences of the essay that
answer the question, and refuses when the essay does not (nothing close enough, a
term the essay never uses, a date/number/name it never gives, a request that is
not a question about the text). When a "why" question presupposes a stance the
essay contradicts, it says so and quotes the correction.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from .config import Settings
from .lexical import METONYMS, stem
from .models import Chunk, Message, Sentence
from .questions import QuestionInfo, gives_expected, stance_of
from .retrieval import Retrieval, Retriever, ScoredSentence

# A sentence opening with one of these leans on the one before it.
_ANAPHORIC = re.compile(
    r"^(this|that|these|those|it|its|they|their|them|such|he|she|his|her|the same)\b", re.IGNORECASE
)
# "It is no longer realistic to...", "It would be unthinkable to...": "it" points forward.
_EXPLETIVE_IT = re.compile(
    r"^It\s+(is|was|would\s+be|will\s+be|has\s+become|may\s+be|might\s+be|seems)\s+"
    r"(\w+\s+){0,3}?\w+\s+(to|that)\b"
)
_MULTI_PART = re.compile(
    r"\?\s+|\s+and\s+(?=(what|how|why|who|when|where|which|is|does|do)\b)|\b(compare|contrast|differ|difference|both)\b",
    re.I,
)


@dataclass(frozen=True)
class Quote:
    """A sentence of the corpus an answer sentence rests on."""

    sentence: Sentence
    chunk: Chunk
    score: float


@dataclass
class DraftSentence:
    text: str  # without markers
    quotes: list[Quote]


@dataclass
class Draft:
    """What a generator proposes; the pipeline numbers the quotes and checks support."""

    sentences: list[DraftSentence]
    refused: bool = False
    notice: str = ""
    generator: str = "extractive"
    timings_ms: dict[str, float] = field(default_factory=dict)

    @classmethod
    def refusal(cls, text: str, generator: str = "extractive") -> Draft:
        return cls([DraftSentence(text, [])], refused=True, generator=generator)


@dataclass(frozen=True)
class Request:
    """Everything a generator may use to answer one question."""

    question: str  # as asked
    standalone: str  # rewritten to stand alone
    info: QuestionInfo
    retrieval: Retrieval
    exclude: frozenset[tuple[str, int]] = frozenset()  # (doc_id, start) of sentences already quoted
    wants_more: bool = False


class Generator(ABC):
    """Writes a draft answer from retrieved passages."""

    name: str = "generator"

    @abstractmethod
    def generate(self, request: Request) -> Draft: ...

    def stream(self, request: Request) -> Iterator[str | Draft]:
        """Text as it is produced (for display only), then the final draft; by default no text."""
        yield self.generate(request)

    def rewrite_followup(self, question: str, history: Sequence[Message]) -> str | None:
        """A standalone version of a follow-up question, or None to keep the rule-based rewrite."""
        return None


# "{the_text}" is "the essay" for one document, "the readings" for several.
REFUSAL_REQUEST = (
    "I can only answer questions about {the_text}, quoting the sentences my answer rests on. "
    "Try asking what the author argues, or what {the_text} says about a topic."
)
REFUSAL_NOTHING_MORE = "There is nothing more about this in {the_text} than the passages already quoted."
GREETING = "Hello! Ask me a question about {the_text} and I will answer with quotations from it."
HEADING_MAX_WORDS = 12  # a title or heading is short and has no closing punctuation
TOPIC_DOCUMENTS = 3  # the best candidates whose documents must know a name the question uses
# A name other readings use but the ones on this topic never do: only a close match overrides it.
ELSEWHERE_MARGIN = 0.35


class ExtractiveGenerator(Generator):
    """Answers by quoting the essay's own sentences; deterministic and offline."""

    name = "extractive"

    def __init__(self, retriever: Retriever, settings: Settings) -> None:
        self.retriever = retriever
        self.settings = settings

    def generate(self, request: Request) -> Draft:
        info = request.info
        if info.intent == "greeting":
            return Draft.refusal(GREETING.format(the_text=self._the_text))
        if info.intent == "request":
            return Draft.refusal(REFUSAL_REQUEST.format(the_text=self._the_text))
        if info.intent == "summary":
            return self._summary()
        candidates = [
            c
            for c in request.retrieval.sentences
            if (c.sentence.doc_id, c.sentence.start) not in request.exclude
            and not c.sentence.text.endswith("?")
            and not _is_heading(c.sentence.text)
        ]
        if request.wants_more:
            return self._more(candidates, request.exclude)
        reason = self._unanswerable(info, candidates)
        if reason:
            return Draft.refusal(reason)
        chosen = self._select(request, candidates)
        if info.expects and not any(gives_expected(info, q.sentence.text) for q in chosen):
            wanted = {"date": "a date or time", "number": "a number"}[info.expects]
            return Draft.refusal(
                self._does_not(f"give {wanted} for this, so I cannot answer it from the text.")
            )
        quotes = self._with_context(chosen)
        # The best-matching sentence carries the essay's verdict on what the question presupposes.
        if info.stance and stance_of(chosen[0].sentence.text) == -info.stance:
            return self._correction(quotes, info.stance)
        return Draft([DraftSentence(q.sentence.text, [q]) for q in quotes])

    # -- deciding whether the essay answers at all -------------------------------------

    @property
    def _the_text(self) -> str:
        return "the essay" if len(self.retriever.doc_ids) <= 1 else "the readings"

    def _does_not(self, rest: str) -> str:
        """ "The essay does not …" or "The readings do not …"."""
        verb = "does" if self._the_text == "the essay" else "do"
        return f"{self._the_text.capitalize()} {verb} not {rest}"

    def _unanswerable(self, info: QuestionInfo, candidates: list[ScoredSentence]) -> str | None:
        not_covered = self._does_not("address this question, so I cannot answer it from the text.")
        if not candidates:
            return not_covered
        best = candidates[0]
        unknown = self._unknown_words(info, None)  # names no document uses
        if unknown and best.dense < self.settings.min_similarity + 0.15:
            listed = ", ".join(f"“{w}”" for w in unknown)
            return self._does_not(f"mention {listed}, so I cannot answer this from the text.")
        # A name must be known to the documents the answer would quote, not merely to the
        # collection: "China" in one reading does not answer a question about another.
        documents = {c.sentence.doc_id for c in candidates[:TOPIC_DOCUMENTS]}
        elsewhere = [w for w in self._unknown_words(info, documents) if w not in unknown]
        if elsewhere and best.dense < self.settings.min_similarity + ELSEWHERE_MARGIN:
            listed = ", ".join(f"“{w}”" for w in elsewhere)
            return (
                f"The passages on this topic never mention {listed}, so I cannot answer this from the text."
            )
        if best.score < self.settings.min_similarity:
            return not_covered
        missing = self.retriever.unrelated_pair(info.text)
        if missing:
            return self._does_not(f"discuss “{missing}”, so I cannot answer this from the text.")
        return None

    def _unknown_words(self, info: QuestionInfo, documents: set[str] | None) -> list[str]:
        """Question names these documents (None: all) never use; a capital counts as its country."""
        if not info.names:
            return []

        def known(word: str) -> bool:
            alias = METONYMS.get(word, word)
            return all(self.retriever.uses(stem(part), documents) for part in alias.split())

        return [w for w in info.names if not known(w)]

    # -- choosing sentences ---------------------------------------------------------------

    def _select(self, request: Request, candidates: list[ScoredSentence]) -> list[ScoredSentence]:
        best = candidates[0]
        floor = max(best.score * 0.8, self.settings.min_similarity)
        chosen = [best]
        for part in self._parts(request):
            top = self._best_for(part, candidates)
            if top and top not in chosen and top.score >= self.settings.min_similarity * 0.8:
                chosen.append(top)
        for candidate in candidates[1:]:
            if len(chosen) >= self.settings.max_quotes:
                break
            if candidate.score >= floor and candidate not in chosen:
                chosen.append(candidate)
        return chosen[: self.settings.max_quotes]

    def _parts(self, request: Request) -> list[str]:
        if not _MULTI_PART.search(request.standalone):
            return []
        pieces = re.split(r"\?\s+|\s+and\s+|,\s+", request.standalone)
        return [p for p in pieces if len(p.split()) >= 2]

    def _best_for(self, part: str, candidates: list[ScoredSentence]) -> ScoredSentence | None:
        vector = self.retriever.embed(part)
        vectors = self.retriever.sentence_vectors_for([c.sentence for c in candidates])
        scored = [(float(vectors[i] @ vector), c) for i, c in enumerate(candidates)]
        return max(scored, key=lambda pair: pair[0])[1] if scored else None

    def _prefer_neighbours(
        self, candidates: list[ScoredSentence], exclude: frozenset[tuple[str, int]]
    ) -> list[ScoredSentence]:
        near = set()
        for doc_id, start in exclude:
            sentence = self.retriever.sentence_at(doc_id, start)
            for neighbour in self.retriever.neighbours(sentence) if sentence else ():
                if neighbour:
                    near.add((neighbour.doc_id, neighbour.start))
        boosted = [c for c in candidates if (c.sentence.doc_id, c.sentence.start) in near]
        return boosted + [c for c in candidates if c not in boosted]

    def _more(self, candidates: list[ScoredSentence], exclude: frozenset[tuple[str, int]]) -> Draft:
        """ "Why?", "Say more": what has not been quoted yet, the neighbours of what has first."""
        ranked = self._prefer_neighbours(candidates, exclude)
        floor = self.settings.min_similarity * 0.8  # the topic is established; a weaker match will do
        picked = [c for c in ranked if c.score >= floor][: max(1, self.settings.max_quotes - 1)]
        if not picked:
            return Draft.refusal(REFUSAL_NOTHING_MORE.format(the_text=self._the_text))
        quotes = [
            q for q in self._with_context(picked) if (q.sentence.doc_id, q.sentence.start) not in exclude
        ]
        return Draft([DraftSentence(q.sentence.text, [q]) for q in quotes])

    def _with_context(self, chosen: list[ScoredSentence]) -> list[Quote]:
        """Add the sentence before any chosen one that cannot stand alone; keep document order."""
        quotes = {(c.sentence.doc_id, c.sentence.start): Quote(c.sentence, c.chunk, c.score) for c in chosen}
        for c in chosen:
            before, _ = self.retriever.neighbours(c.sentence)
            leans_back = _ANAPHORIC.match(c.sentence.text) and not _EXPLETIVE_IT.match(c.sentence.text)
            if before and leans_back and (before.doc_id, before.start) not in quotes:
                quotes[(before.doc_id, before.start)] = Quote(
                    before, self.retriever.chunk_of(before), c.score
                )
        return [quotes[key] for key in sorted(quotes)]

    # -- special answers ----------------------------------------------------------------

    def _correction(self, quotes: list[Quote], stance: int) -> Draft:
        """Lead with the sentence that most plainly contradicts the question's premise."""
        lead = min(quotes, key=lambda q: stance_of(q.sentence.text) * stance)
        rest = [q for q in quotes if q is not lead]
        if self._the_text == "the essay":
            opening = DraftSentence(f"The essay takes the opposite view: “{lead.sentence.text}”", [lead])
        else:
            opening = DraftSentence(
                f"“{lead.chunk.title}” takes the opposite view: “{lead.sentence.text}”", [lead]
            )
        return Draft([opening] + [DraftSentence(q.sentence.text, [q]) for q in rest])

    def _summary(self) -> Draft:
        """The sentences closest to the centre of the document: its thesis, as a reader would pick."""
        everything = self.retriever.all_sentences()
        sentences = [s for s in everything if not s.text.endswith("?") and len(s.text) > 40]
        vectors = self.retriever.sentence_vectors_for(sentences)
        centroid = vectors.mean(axis=0)
        ranked = np.argsort(-(vectors @ centroid))[: self.settings.max_quotes]
        picked = sorted(ranked, key=lambda i: (sentences[i].doc_id, sentences[i].start))
        quotes = [
            Quote(sentences[i], self.retriever.chunk_of(sentences[i]), float(vectors[i] @ centroid))
            for i in picked
        ]
        return Draft([DraftSentence(q.sentence.text, [q]) for q in quotes])


def _is_heading(text: str) -> bool:
    """A title or heading: marked with '#', or short and without closing punctuation."""
    text = text.strip()
    return text.startswith("#") or (
        len(text.split()) <= HEADING_MAX_WORDS and not re.search(r"[.!?:;\"”’)\]]$", text)
    )
