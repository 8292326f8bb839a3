"""Generators turn retrieved sentences into a draft answer whose every sentence cites quotes.

``Generator`` is the small interface back ends implement. The default,
``ExtractiveGenerator``, needs no model: it scores every candidate sentence with the
fitted models of :mod:`assistant.answer_model` over the signals of
:mod:`assistant.signals`, refuses when the text does not answer, and otherwise quotes
the sentences that state the answer, with the sentences a reader needs around them
(the one an opening "This" leans on; for how/why/judgement questions, the reasons
that follow the verdict). When a "why" question presupposes a stance the text
contradicts, it says so and quotes the correction.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Protocol

import numpy as np

from .answer_model import AnswerModel, Logistic
from .config import Settings
from .lexical import stems
from .models import AnswerKind, Chunk, Fallback, Message, Sentence, VerificationCounts
from .profile import Profile, does
from .questions import QuestionInfo, analyse, gives_focus, stance_of
from .retrieval import Retrieval, ScoredSentence
from .sentences import is_question
from .signals import (
    ANAPHORIC,
    EXPLETIVE_IT,
    QUESTION_FEATURES,
    SENTENCE_FEATURES,
    Question,
    SentenceSource,
    coverage,
    question_vector,
    read_question,
    sentence_matrix,
)

_MULTI_PART = re.compile(
    r"\?\s+|\s+and\s+(?=(what|how|why|who|when|where|which|is|does|do)\b)|\b(compare|contrast|differ|difference|both)\b",
    re.I,
)


class Passages(SentenceSource, Protocol):
    """What the extractive generator reads of a collection beyond the retrieval it is given:
    :class:`~assistant.retrieval.Retriever` over an index, or an in-memory one in the tests."""

    @property
    def doc_ids(self) -> Collection[str]: ...

    def embed(self, text: str) -> np.ndarray: ...

    def sentence_at(self, doc_id: str, start: int) -> Sentence | None: ...

    def chunk_of(self, sentence: Sentence) -> Chunk: ...

    def all_sentences(self) -> list[Sentence]: ...


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
    verification: VerificationCounts | None = None  # see Answer
    fallback: Fallback | None = None
    kind: AnswerKind = "answer"  # see Answer
    premise_corrected: bool = False  # see Answer
    caveat: str = ""  # see Answer: set when the quotes may not answer exactly what was asked

    def __post_init__(self) -> None:
        # A refusal built without saying which kind is a plain refusal: "answer" is never refused.
        if self.refused and self.kind == "answer":
            self.kind = "refusal"

    @classmethod
    def refusal(cls, text: str, generator: str = "extractive", kind: AnswerKind = "refusal") -> Draft:
        """A reply that quotes nothing: the text does not answer, or the question asks for something else."""
        return cls([DraftSentence(text, [])], refused=True, generator=generator, kind=kind)

    def quoted(self) -> list[Quote]:
        """The sentences the draft quotes, each once, in the draft's order."""
        seen: dict[tuple[str, int], Quote] = {}
        for sentence in self.sentences:
            for quote in sentence.quotes:
                seen.setdefault((quote.sentence.doc_id, quote.sentence.start), quote)
        return list(seen.values())


@dataclass(frozen=True)
class Request:
    """Everything a generator may use to answer one question."""

    question: str  # as asked
    standalone: str  # rewritten to stand alone
    info: QuestionInfo
    retrieval: Retrieval
    exclude: frozenset[tuple[str, int]] = frozenset()  # (doc_id, start) of sentences already quoted
    wants_more: bool = False
    previous: tuple[Sentence, ...] = ()  # for a follow-up: where the last answer was in the text


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


# "{reading}" is how the collection's profile names it: "the text", "the readings", "the essay".
REFUSAL_REQUEST = (
    "I can only answer questions about {reading}, quoting the sentences my answer rests on. "
    "Try asking about a topic or a term you found in {reading}."
)
REFUSAL_NOTHING_MORE = "There is nothing more about this in {reading} than the passages already quoted."
GREETING = "Hello! Ask me a question about {reading} and I will answer with quotations from it."
UNCERTAIN = (
    "The quoted text never mentions “{focus}”: it is the nearest I found, "
    "and {reading} may not answer exactly this question."
)
HEADING_MAX_WORDS = 12  # a title or heading is short and has no closing punctuation
# Another candidate is quoted beside the best when the sentence model rates it at least
# this share of the best's probability, and at least FLOOR.
RELATIVE = 0.65
FLOOR = 0.3
SUGGESTED = 2  # example questions a refusal offers


@dataclass(frozen=True)
class Judged:
    """The candidates of one question with their signals and what the fitted models make of them."""

    question: Question
    candidates: list[ScoredSentence]
    rows: np.ndarray  # SENTENCE_FEATURES, one row per candidate
    probabilities: np.ndarray  # that each candidate states the answer
    ranks: np.ndarray  # the same, as the ranking model weighs one question's candidates
    signals: np.ndarray  # QUESTION_FEATURES
    answerability: float


class ExtractiveGenerator(Generator):
    """Answers by quoting the text's own sentences; deterministic and offline."""

    name = "extractive"

    def __init__(
        self,
        retriever: Passages,
        settings: Settings,
        profile: Profile | None = None,
        model: AnswerModel | None = None,
        about: frozenset[str] = frozenset(),
        suggestions: Sequence[str] = (),
    ) -> None:
        self.retriever = retriever
        self.settings = settings
        self.profile = profile or Profile()
        self._model = model
        self.about = about  # stems of the documents' titles and authors
        self.suggestions = list(suggestions)[:SUGGESTED]  # questions a refusal offers instead

    @cached_property
    def model(self) -> AnswerModel:
        """The fit given, or the shipped one (read on first use: fitting needs only the signals)."""
        return self._model or AnswerModel.load()

    @property
    def ranking(self) -> Logistic:
        """What orders the candidates for quoting: the ranking model, where the fit has one."""
        return self.model.ranking or self.model.sentence

    @property
    def reading(self) -> str:
        return self.profile.reading(len(self.retriever.doc_ids))

    def generate(self, request: Request) -> Draft:
        info = request.info
        if info.intent == "greeting":
            return Draft.refusal(GREETING.format(reading=self.reading), kind="greeting")
        if info.intent == "request":
            return Draft.refusal(REFUSAL_REQUEST.format(reading=self.reading), kind="request")
        if info.intent == "summary":
            return self._summary()
        candidates = self.candidates(request)
        if request.wants_more:
            return self._more(candidates, request.exclude)
        judged = self.judge(request, candidates)
        if not candidates or judged.answerability < self.model.threshold or _off_topic(judged, self.settings):
            return Draft.refusal(self._refusal(judged))
        chosen = self._select(request, judged)
        quotes = self._with_context(chosen, reasons=info.asks_reasons)
        # The best-matching sentence carries the text's verdict on what the question presupposes.
        if info.stance and self._stance(chosen[0].sentence.text) == -info.stance:
            draft = self._correction(quotes, info.stance)
        else:
            draft = Draft([DraftSentence(q.sentence.text, [q]) for q in quotes])
        draft.caveat = self.caveat(info, quotes)
        return draft

    def caveat(self, info: QuestionInfo, quotes: Sequence[Quote]) -> str:
        """Why ``quotes`` may not answer the question, "" when nothing says so: they never name
        what a "which county…"/"what is the price of…" question asks for. Quotes on the topic that
        never say which county are near the question, maybe not its answer. Any back end's answer
        resting on quotes is read this way."""
        if gives_focus(info, " ".join(q.sentence.text for q in quotes)):
            return ""
        return UNCERTAIN.format(focus=info.focus, reading=self.reading)

    def candidates(self, request: Request) -> list[ScoredSentence]:
        """The retrieved sentences that could be quoted: not headings, questions or quoted already."""
        return [
            c
            for c in request.retrieval.sentences
            if (c.sentence.doc_id, c.sentence.start) not in request.exclude
            and not is_question(c.sentence.text)  # a line that asks states no answer
            and not _is_heading(c.sentence.text)
        ]

    def signals(self, request: Request, candidates: list[ScoredSentence]) -> tuple[Question, np.ndarray]:
        """The question as the signals read it, and each candidate's SENTENCE_FEATURES."""
        question = read_question(request.info, self.retriever, self.profile.aliases, self.about)
        vector = request.retrieval.vector
        return question, sentence_matrix(question, candidates, self.retriever, vector, request.previous)

    def judge(self, request: Request, candidates: list[ScoredSentence]) -> Judged:
        question, rows = self.signals(request, candidates)
        probabilities = self.model.sentence.probability(rows)
        ranks = self.ranking.probability(rows)
        signals = question_vector(question, candidates, probabilities, self.retriever)
        answerability = float(self.model.answerable.probability(signals[None, :])[0])
        return Judged(question, candidates, rows, probabilities, ranks, signals, answerability)

    # -- saying why the text does not answer ----------------------------------------------

    def _does_not(self, rest: str) -> str:
        """ "The text does not …" or "The readings do not …"."""
        reading = self.reading
        return f"{reading[:1].upper()}{reading[1:]} {does(reading)} not {rest}"

    def _refusal(self, judged: Judged) -> str:
        """The plainest true reason (a name it never uses, a date or number it never gives, or
        neither), then what the reader could ask instead."""
        return f"{self._reason(judged)}{self._instead()}"

    def _reason(self, judged: Judged) -> str:
        question = judged.question
        unknown = [_as_asked(question.info.text, name) for name in question.unknown]
        if unknown:
            listed = ", ".join(f"“{w}”" for w in unknown)
            return self._does_not(f"mention {listed}, so I cannot answer this from it.")
        expected_missing = judged.signals[QUESTION_FEATURES.index("expected_missing")]
        if question.info.expects and expected_missing:
            wanted = {"date": "a date or time", "number": "a number", "name": "a name"}[question.info.expects]
            return self._does_not(f"give {wanted} for this, so I cannot answer it from the text.")
        return self._does_not("answer this question, so I cannot answer it from the text.")

    def _instead(self) -> str:
        """ " You could ask, for example: …? Or: …?", from the collection's example questions (not
        quoted: they may hold quotation marks of their own)."""
        if not self.suggestions:
            return ""
        return " You could ask, for example: " + " Or: ".join(self.suggestions)

    # -- choosing sentences ---------------------------------------------------------------

    def _select(self, request: Request, judged: Judged) -> list[ScoredSentence]:
        order = [int(i) for i in np.argsort(-judged.ranks, kind="stable")]
        candidates, probabilities = judged.candidates, judged.ranks
        best = order[0]
        chosen = [candidates[best]]
        for part in self._parts(request):
            top = self._best_for(part, request, candidates, probabilities)
            if top is not None and top not in chosen:
                chosen.append(top)
        floor = max(RELATIVE * probabilities[best], FLOOR)
        # Beside the best, a sentence is quoted for what it says itself: read without its
        # window, so the best's neighbours are not carried in by the best.
        alone = self.ranking.probability(_without_window(judged.rows))
        for i in order[1:]:
            if len(chosen) >= self.settings.max_quotes:
                break
            if probabilities[i] >= floor and alone[i] >= floor and candidates[i] not in chosen:
                chosen.append(candidates[i])
        return chosen[: self.settings.max_quotes]

    def _parts(self, request: Request) -> list[str]:
        if not _MULTI_PART.search(request.standalone):
            return []
        pieces = re.split(r"\?\s+|\s+and\s+|,\s+", request.standalone)
        return [p for p in pieces if len(p.split()) >= 2]

    def _best_for(
        self, part: str, request: Request, candidates: list[ScoredSentence], probabilities: np.ndarray
    ) -> ScoredSentence | None:
        """The candidate that best answers one part of a several-part question, among those the
        model finds plausible for the whole: the ranking model reads each as if the part were
        the question (its cosine to the part, the part's words it holds)."""
        plausible = [i for i in range(len(candidates)) if probabilities[i] >= FLOOR]
        if not plausible:
            return None
        vector = self.retriever.embed(part)
        question = read_question(analyse(part), self.retriever, self.profile.aliases, self.about)
        vectors = self.retriever.sentence_vectors_for([candidates[i].sentence for i in plausible])
        rescored = [
            replace(
                candidates[i],
                dense=float(v @ vector),
                lexical=coverage(question, set(stems(candidates[i].sentence.text))),
            )
            for i, v in zip(plausible, vectors, strict=True)
        ]
        rows = sentence_matrix(question, rescored, self.retriever, vector, request.previous)
        return candidates[plausible[int(np.argmax(self.ranking.probability(rows)))]]

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
            return Draft.refusal(REFUSAL_NOTHING_MORE.format(reading=self.reading))
        quotes = [
            q
            for q in self._with_context(picked, reasons=False)
            if (q.sentence.doc_id, q.sentence.start) not in exclude
        ]
        return Draft([DraftSentence(q.sentence.text, [q]) for q in quotes])

    def _with_context(self, chosen: list[ScoredSentence], *, reasons: bool) -> list[Quote]:
        """Add what the chosen sentences need to be read; keep document order.

        The sentence before any chosen one that cannot stand alone ("This approach...");
        and for a question that asks how, why or what the author thinks, the sentence
        after the best one (in dialogue, the next paragraph's): a verdict's reasons follow it.
        """
        quotes = {(c.sentence.doc_id, c.sentence.start): Quote(c.sentence, c.chunk, c.score) for c in chosen}
        for c in chosen:
            before, _ = self.retriever.neighbours(c.sentence)
            leans_back = ANAPHORIC.match(c.sentence.text) and not EXPLETIVE_IT.match(c.sentence.text)
            if before and leans_back and (before.doc_id, before.start) not in quotes:
                quotes[(before.doc_id, before.start)] = Quote(
                    before, self.retriever.chunk_of(before), c.score
                )
        # A sentence that ends with a colon introduces what follows it: a list, a rule, a quotation.
        for c in (c for c in chosen if c.sentence.text.rstrip().endswith(":")):
            sentence: Sentence | None = c.sentence
            while sentence is not None and len(quotes) < self.settings.max_quotes:
                sentence = self._quote_next(quotes, sentence, c.score)
        if reasons and len(quotes) < self.settings.max_quotes:
            # In dialogue the reason is often the reply, the next paragraph's first line; a line
            # that asks gives none.
            self._quote_next(quotes, chosen[0].sentence, chosen[0].score, questions_too=False)
        # Document order within a document; the best sentence's document first.
        documents = list(dict.fromkeys(c.sentence.doc_id for c in chosen))
        return [quotes[key] for key in sorted(quotes, key=lambda k: (documents.index(k[0]), k[1]))]

    def _quote_next(
        self,
        quotes: dict[tuple[str, int], Quote],
        sentence: Sentence,
        score: float,
        *,
        questions_too: bool = True,
    ) -> Sentence | None:
        """Quote the sentence after ``sentence`` (across a paragraph break) and return it; None when
        there is none, it is quoted already, it is a heading, or it asks and ``questions_too`` is false."""
        _, after = self.retriever.adjacent(sentence)
        if after is None or (after.doc_id, after.start) in quotes or _is_heading(after.text):
            return None
        if not questions_too and is_question(after.text):
            return None
        quotes[(after.doc_id, after.start)] = Quote(after, self.retriever.chunk_of(after), score)
        return after

    # -- special answers ----------------------------------------------------------------

    def _stance(self, text: str) -> int:
        return stance_of(text, self.profile.stance)

    def _correction(self, quotes: list[Quote], stance: int) -> Draft:
        """Lead with the sentence that most plainly contradicts the question's premise."""
        lead = min(quotes, key=lambda q: self._stance(q.sentence.text) * stance)
        rest = [q for q in quotes if q is not lead]
        who = self.reading if len(self.retriever.doc_ids) <= 1 else f"“{lead.chunk.title}”"
        opening = DraftSentence(
            f"{who[:1].upper()}{who[1:]} takes the opposite view: “{lead.sentence.text}”", [lead]
        )
        return Draft([opening] + [DraftSentence(q.sentence.text, [q]) for q in rest], premise_corrected=True)

    def _summary(self) -> Draft:
        """The sentences closest to the centre of the document: its thesis, as a reader would pick."""
        everything = self.retriever.all_sentences()
        sentences = [s for s in everything if not is_question(s.text) and len(s.text) > 40]
        vectors = self.retriever.sentence_vectors_for(sentences)
        centroid = vectors.mean(axis=0)
        ranked = np.argsort(-(vectors @ centroid))[: self.settings.max_quotes]
        picked = sorted(ranked, key=lambda i: (sentences[i].doc_id, sentences[i].start))
        quotes = [
            Quote(sentences[i], self.retriever.chunk_of(sentences[i]), float(vectors[i] @ centroid))
            for i in picked
        ]
        return Draft([DraftSentence(q.sentence.text, [q]) for q in quotes])


def _without_window(rows: np.ndarray) -> np.ndarray:
    """The rows with each window signal replaced by the sentence's own (its cosine, its coverage)."""
    alone = rows.copy()
    for window, own in (("window_dense", "dense"), ("window_lexical", "lexical")):
        alone[:, SENTENCE_FEATURES.index(window)] = rows[:, SENTENCE_FEATURES.index(own)]
    return alone


def _off_topic(judged: Judged, settings: Settings) -> bool:
    """No word of the question is in the text and no sentence is even loosely close: the fitted
    models never saw such a question (every development question is about its text)."""
    best_dense = judged.signals[QUESTION_FEATURES.index("best_dense")]
    return judged.question.unseen >= 1.0 and best_dense < settings.min_similarity


def _as_asked(question: str, word: str) -> str:
    """A word as the question wrote it ("France", not "france")."""
    match = re.search(rf"\b{re.escape(word)}\b", question, re.IGNORECASE)
    return match.group(0) if match else word


def _is_heading(text: str) -> bool:
    """A title or heading: marked with '#', or short and without closing punctuation."""
    text = text.strip()
    return text.startswith("#") or (
        len(text.split()) <= HEADING_MAX_WORDS and not re.search(r"[.!?:;\"”’)\]]$", text)
    )
