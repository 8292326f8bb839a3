"""The signals the extractive answerer reads off a question and its candidate sentences.

Two small sets of numbers, each roughly in [0, 1], none tied to any one text:

- per sentence (does this sentence state the answer?): its cosine to the question,
  the idf-weighted share of the question's words it holds, its passage's fused rank,
  how far it falls behind the best candidate on each, whether it holds the question's
  names and the kind of thing the question asks for (a date, a number), its place in
  its paragraph, how close its neighbours are, its length, whether it leans on the
  sentence before, whether the sentence before asks what the question asks (in
  dialogue, an interview or a FAQ the next line answers), and, for a follow-up, whether it is
  told near the answer before;
- per question (does the text answer at all?): how likely the best sentence is, its
  cosine and word overlap, how much of the question (by idf) the collection never
  uses, which of its names the collection or the best passage never uses, whether
  anything near the top gives the kind of thing asked for, how much of the question
  the best passage covers, whether two adjacent words of its topic ("about X Y")
  never meet in the text, and whether its rarest word is missing around the best sentence.

:mod:`assistant.answer_model` combines each set with a logistic model fitted on
question sets over several texts (``python -m bench.generalization``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .lexical import stem, stems
from .models import Sentence
from .questions import QuestionInfo, gives_expected
from .retrieval import ScoredSentence
from .sentences import is_question

# A sentence opening with one of these leans on the one before it.
ANAPHORIC = re.compile(
    r"^(this|that|these|those|it|its|they|their|them|such|he|she|his|her|the same)\b", re.IGNORECASE
)
# "It is no longer realistic to...", "It would be unthinkable to...": "it" points forward.
EXPLETIVE_IT = re.compile(
    r"^It\s+(is|was|would\s+be|will\s+be|has\s+become|may\s+be|might\s+be|seems)\s+"
    r"(\w+\s+){0,3}?\w+\s+(to|that)\b"
)

SENTENCE_FEATURES = (
    "dense",
    "lexical",
    "passage",
    "dense_gap",
    "lexical_gap",
    "names",
    "expected_given",
    "expected_missing",
    "opens_paragraph",
    "neighbour_dense",
    "length",
    "leans_back",
    "window_dense",
    "window_lexical",
    "answers_asked",
    "near_previous",
)
QUESTION_FEATURES = (
    "best_probability",
    "best_dense",
    "best_lexical",
    "unseen",
    "names_unknown",
    "names_not_in_passage",
    "expected_missing",
    "passage_coverage",
    "topic_apart",
    "rarest_missing",
)
TOP_EXPECTED = 3  # the candidates that must give a date or number when the question asks for one


class SentenceSource(Protocol):
    """What the signals need from a retriever: the corpus's vocabulary and sentence neighbours."""

    def idf(self, stem: str) -> float | None: ...

    def neighbours(self, sentence: Sentence) -> tuple[Sentence | None, Sentence | None]: ...

    def adjacent(self, sentence: Sentence) -> tuple[Sentence | None, Sentence | None]: ...

    def sentence_vectors_for(self, sentences: list[Sentence]) -> np.ndarray: ...

    def unseen_idf(self) -> float: ...

    def variant(self, stem: str) -> str | None: ...

    def unrelated_pair(self, question: str) -> str | None: ...


@dataclass(frozen=True)
class Question:
    """The question's stems and names as the signals use them, names resolved through aliases."""

    info: QuestionInfo
    weights: dict[str, float]  # content stem -> idf (the unseen idf, halved, for words the corpus lacks)
    names: tuple[tuple[str, ...], ...]  # each name as the stems the text would use
    # How much each name tells, by its idf against a word used once (1.0): a narrator's or a
    # hero's name in every other line hardly singles out the sentence that answers.
    name_weights: tuple[float, ...]
    unknown: tuple[str, ...]  # the names (as in ``info.names``) that the corpus never uses
    unseen: float  # idf share of the question's stems that the corpus never uses


def read_question(
    info: QuestionInfo,
    source: SentenceSource,
    aliases: Mapping[str, str],
    about: frozenset[str] = frozenset(),
) -> Question:
    """``about``: stems of the documents' titles and authors. A name among them (an author's, in a
    book that never names its author) is the document's, not something the question asks about."""
    unseen_idf = source.unseen_idf()
    weights: dict[str, float] = {}
    missing = 0.0
    for s in dict.fromkeys(stems(info.text, drop_frame=True)):
        idf = source.idf(s)
        weights[s] = idf if idf is not None else unseen_idf * 0.5
        missing += 0.0 if idf is not None else weights[s]
    # A name the corpus uses in another form is that form: "Canada" in a text that says "Canadian".
    resolved = {
        name: tuple(
            part if source.idf(part) is not None else source.variant(part) or part
            for part in map(stem, aliases.get(name, name).split())
        )
        for name in info.names
        if stem(name) not in about
    }
    unknown = tuple(n for n, parts in resolved.items() if not all(source.idf(p) is not None for p in parts))
    total = sum(weights.values()) or 1.0
    name_weights = tuple(
        float(np.mean([min((source.idf(p) or unseen_idf) / unseen_idf, 1.0) for p in parts]))
        for parts in resolved.values()
    )
    return Question(info, weights, tuple(resolved.values()), name_weights, unknown, missing / total)


def coverage(question: Question, present: set[str]) -> float:
    """The idf-weighted share of the question's words among ``present`` (a sentence's stems)."""
    total = sum(question.weights.values()) or 1.0
    return sum(w for s, w in question.weights.items() if s in present) / total


def names_share(question: Question, present: set[str]) -> float:
    """The share of the question's names the text holds, each missing name counting by what it
    tells (1 when it names nothing)."""
    if not question.names:
        return 1.0
    missing = [
        weight
        for name, weight in zip(question.names, question.name_weights, strict=True)
        if not all(p in present for p in name)
    ]
    return 1.0 - sum(missing) / len(question.names)


def sentence_matrix(
    question: Question,
    candidates: Sequence[ScoredSentence],
    source: SentenceSource,
    vector: np.ndarray,
    previous: Sequence[Sentence] = (),
) -> np.ndarray:
    """One row of SENTENCE_FEATURES per candidate; ``vector`` is the question's embedding, and
    ``previous`` where the answer before a follow-up was in the text."""
    if not candidates:
        return np.zeros((0, len(SENTENCE_FEATURES)))
    best_dense = max(c.dense for c in candidates)
    best_lexical = max(c.lexical for c in candidates)
    # The window: the sentence with the ones either side, across paragraphs. In dialogue
    # a line's subject (who speaks, of what) is often only in the lines around it.
    windows = [source.adjacent(c.sentence) for c in candidates]
    neighbours = [
        (c.sentence.in_paragraph(b), c.sentence.in_paragraph(a))
        for c, (b, a) in zip(candidates, windows, strict=True)
    ]
    near = [n for pair in windows for n in pair if n is not None]
    vectors = dict(zip(map(id, near), source.sentence_vectors_for(near), strict=True)) if near else {}
    own = source.sentence_vectors_for([c.sentence for c in candidates])
    expects = question.info.expects
    rows = []
    for c, (before, after), window, sentence_vector in zip(candidates, neighbours, windows, own, strict=True):
        close = [float(vectors[id(n)] @ sentence_vector) for n in (before, after) if n is not None]
        given = gives_expected(question.info, c.sentence.text) if expects else False
        text = c.sentence.text
        around = [n for n in window if n is not None]
        window_vector = np.sum([sentence_vector] + [vectors[id(n)] for n in around], axis=0)
        window_stems = set(stems(" ".join([text] + [n.text for n in around])))
        # The line after one that asks what the question asks: how dialogue, interviews and FAQs answer.
        asked = window[0]
        answers_asked = float(vectors[id(asked)] @ vector) if asked and is_question(asked.text) else 0.0
        rows.append(
            [
                c.dense,
                c.lexical,
                c.passage_score,
                c.dense - best_dense,
                c.lexical - best_lexical,
                names_share(question, set(stems(text))),
                float(given),
                float(bool(expects) and not given),
                float(c.sentence.index == 1),
                max(close, default=0.0),
                min(len(text.split()) / 30.0, 1.0),
                float(bool(ANAPHORIC.match(text)) and not EXPLETIVE_IT.match(text)),
                float(window_vector @ vector / (np.linalg.norm(window_vector) or 1.0)),
                coverage(question, window_stems),
                answers_asked,
                near_previous(c.sentence, previous),
            ]
        )
    return np.asarray(rows, dtype=np.float64)


def near_previous(sentence: Sentence, previous: Sequence[Sentence]) -> float:
    """1 in the paragraph of the answer before a follow-up, 0.5 in a paragraph beside it: what a
    follow-up asks about is usually told close to what was just answered."""
    distances = [abs(sentence.paragraph - p.paragraph) for p in previous if p.doc_id == sentence.doc_id]
    closest = min(distances, default=2)
    return 1.0 if closest == 0 else 0.5 if closest == 1 else 0.0


def question_vector(
    question: Question,
    candidates: Sequence[ScoredSentence],
    probabilities: np.ndarray,
    source: SentenceSource,
) -> np.ndarray:
    """QUESTION_FEATURES for a question whose candidates the sentence model has scored."""
    if not candidates:
        return np.asarray([0.0, 0.0, 0.0, question.unseen, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0])
    order = np.argsort(-probabilities)
    best = candidates[int(order[0])]
    passage = set(stems(best.chunk.text))
    expects = question.info.expects
    top = [candidates[int(i)].sentence.text for i in order[:TOP_EXPECTED]]
    expected_missing = bool(expects) and not any(gives_expected(question.info, t) for t in top)
    # The question's rarest word that the corpus uses: absent from the best sentence and its
    # neighbours, the passage is near the topic but not on what is asked.
    known = {s: w for s, w in question.weights.items() if source.idf(s) is not None}
    around = set(stems(best.sentence.text))
    for neighbour in source.neighbours(best.sentence):
        around |= set(stems(neighbour.text)) if neighbour else set()
    rarest_missing = bool(known) and max(known, key=lambda s: known[s]) not in around
    return np.asarray(
        [
            float(probabilities[order[0]]),
            best.dense,
            best.lexical,
            question.unseen,
            len(question.unknown) / len(question.names) if question.names else 0.0,
            1.0 - names_share(question, passage),
            float(expected_missing),
            coverage(question, passage),
            float(source.unrelated_pair(question.info.text) is not None),
            float(rarest_missing),
        ],
        dtype=np.float64,
    )
