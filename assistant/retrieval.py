"""Hybrid retrieval: dense (chunks and sentences) and BM25, fused by reciprocal rank.

``Retriever`` ranks passages (chunks) for a question and then scores the sentences
inside them, since sentences are what an answer quotes. ``LangChainRetriever``
(in :mod:`assistant.langchain_retriever`, imported on first use) exposes the passage
ranking as a LangChain ``BaseRetriever``.
"""

from __future__ import annotations

import logging
import re
import time
from collections import defaultdict
from collections.abc import Collection, KeysView
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise

import numpy as np

from .embedding import DIMENSIONS, MiniLMEmbeddings
from .index import Index, sentence_id
from .lexical import FRAME_WORDS, STOP_WORDS, Variants, stem, stems, words
from .models import Chunk, Passage, Sentence
from .sentences import is_question
from .table import ChunkTable, open_tables

log = logging.getLogger(__name__)

_TOPIC_PHRASE = re.compile(
    r"\b(?:about|regarding|concerning|(?:views?|opinion|position|stance|thoughts?)\s+on)\s+(.+)$",
    re.IGNORECASE,
)
RRF_K = 60  # the constant of Cormack et al. (2009); damps the weight of top ranks
# Weights of a sentence's cosine, its idf-weighted term overlap and its passage's rank,
# fitted on the development set (`assistant eval`).
SCORE_WEIGHTS = (0.6, 0.3, 0.1)
# Question words the corpus never uses count this much in the overlap's denominator:
# they cannot match, and are often paraphrases rather than missing topics.
UNSEEN_WEIGHT = 0.5
LEADERS = 2  # the passages at the top of each ranking that are always read for sentences


@dataclass(frozen=True)
class ScoredSentence:
    """A sentence of a retrieved passage, scored as a possible quote."""

    sentence: Sentence
    chunk: Chunk
    dense: float  # cosine similarity to the question
    lexical: float  # share of the question's content stems it contains, idf-weighted
    passage_score: float  # fused score of its passage, scaled to [0, 1]

    @property
    def score(self) -> float:
        dense, lexical, passage = SCORE_WEIGHTS
        return dense * self.dense + lexical * self.lexical + passage * self.passage_score


@dataclass
class Retrieval:
    """What the retriever found for one question, and how long each stage took."""

    vector: np.ndarray
    passages: list[Passage]
    sentences: list[ScoredSentence]
    timings_ms: dict[str, float]


class Retriever:
    """Ranks the passages and sentences of one index for a question."""

    def __init__(self, index: Index, embeddings: MiniLMEmbeddings, top_k: int = 6) -> None:
        self.index = index
        self.embeddings = embeddings
        self.top_k = top_k
        index.release_stores()  # the chunks are read from the generation live now, not one seen before
        self.version = index.version()  # read first: a change while reading shows as a new version
        root = index.settings.index_dir / "tables" / index.name
        tables = open_tables(root, self.version, index.chunks, lambda: index.reads(self.version))
        self.table: ChunkTable = tables.table
        self.chunk_bm25, self.sentence_bm25 = tables.chunk_bm25, tables.sentence_bm25
        self.doc_ids = self.table.doc_ids
        self._vectors: dict[str, np.ndarray] = {}
        self._by_prefix: dict[str, list[str]] = defaultdict(list)
        for token in self.vocabulary:
            self._by_prefix[token[:6]].append(token)

    @property
    def vocabulary(self) -> KeysView[str]:
        """Every content stem of the corpus (a view: no copy per question)."""
        return self.sentence_bm25.idf.keys()

    def idf(self, stem: str) -> float | None:
        """The stem's idf over the corpus's sentences; None when the corpus never uses it."""
        return self.sentence_bm25.idf.get(stem)

    def unseen_idf(self) -> float:
        """The idf a word would have if one sentence used it."""
        return self.sentence_bm25.unseen_idf

    @cached_property
    def _variants(self) -> Variants:
        return Variants(self.vocabulary)

    def variant(self, stem: str) -> str | None:
        """The corpus's own form of a word it uses only in another form ("Canada": "Canadian")."""
        return self._variants.of(stem)

    def _doc_numbers(self, doc_ids: Collection[str]) -> list[int]:
        return [n for n in map(self.table.doc_number, doc_ids) if n is not None]

    def _paragraphs_using(self, prefix: str) -> set[tuple[int, int]]:
        """(document, paragraph) of every sentence with a stem that starts with ``prefix``."""
        found = self.sentence_bm25.containing(self._by_prefix.get(prefix, []))
        docs, paragraphs = (
            self.table.sentence_doc[found].tolist(),
            self.table.sentence_paragraph[found].tolist(),
        )
        return set(zip(docs, paragraphs, strict=True))

    def unrelated_pair(self, question: str) -> str | None:
        """Two adjacent words of the question's topic that the corpus uses, but never near each other.

        "about granite herons": each word is in the text, the topic is not. Only the
        phrase after "about" (and kin) is checked, since elsewhere adjacent words are
        often a verb and its object.
        """
        topic = _TOPIC_PHRASE.search(question)
        if not topic:
            return None
        tokens = words(topic.group(1))
        for first, second in pairwise(tokens):
            if first in STOP_WORDS | FRAME_WORDS or second in STOP_WORDS | FRAME_WORDS:
                continue
            a, b = self._paragraphs_using(stem(first)[:6]), self._paragraphs_using(stem(second)[:6])
            near_b = {(doc, paragraph + step) for doc, paragraph in b for step in (-1, 0, 1)}
            if a and b and a.isdisjoint(near_b):
                return f"{first} {second}"
        return None

    def embed(self, text: str) -> np.ndarray:
        return self.embeddings.encode_query(text)

    def retrieve(self, question: str, k: int | None = None, doc_ids: list[str] | None = None) -> Retrieval:
        """Passages by fused rank, then the sentences of those passages, best first.

        ``doc_ids`` limits the search to those documents (all when None or empty).
        """
        k = k or self.top_k
        timings: dict[str, float] = {}
        clock = time.perf_counter()
        vector = self.embed(question)
        timings["embed"] = _since(clock)

        clock = time.perf_counter()
        pool = max(k * 3, 20)
        # Hits from a version of the index other than the table's are left out before ranking.
        dense_chunks = self._known([cid for cid, _ in self.index.query_chunks(vector, pool, doc_ids)])
        # A sentence's id is its chunk's id, "/" and its index in the paragraph.
        owners = [sid.rpartition("/")[0] for sid, _ in self.index.query_sentences(vector, pool, doc_ids)]
        dense_sentences = self._known(owners)
        timings["dense"] = _since(clock)

        clock = time.perf_counter()
        query_stems = stems(question, drop_frame=True)
        bm25 = self.chunk_bm25.scores(query_stems)
        if doc_ids:
            bm25[~np.isin(self.table.chunk_doc, self._doc_numbers(doc_ids))] = 0.0
        lexical_chunks = [self.table.chunk_id(i) for i in _top(bm25, pool) if bm25[i] > 0]
        timings["bm25"] = _since(clock)

        clock = time.perf_counter()
        fused = self._fuse(dense_chunks, _unique(dense_sentences), lexical_chunks)
        passages = fused[:k]
        # Each ranking's own best passages are read too: reciprocal rank fusion lets the two dense
        # rankings outvote the lexical one, and a rare word's one paragraph would drop out of reach.
        leaders = {
            cid for ranking in (dense_chunks, dense_sentences, lexical_chunks) for cid in ranking[:LEADERS]
        }
        read = self._with_replies(self._within_budget(fused, k, leaders))
        sentences = self._score_sentences(vector, query_stems, read)
        timings["fusion"] = _since(clock)
        return Retrieval(vector, passages, sentences, timings)

    def _within_budget(self, fused: list[Passage], k: int, leaders: set[str]) -> list[Passage]:
        """The best passages up to k full chunks' worth of text, so short paragraphs (dialogue,
        list items) give as much text to choose a sentence from as long ones, and the ``leaders``."""
        budget = k * self.index.settings.chunk_chars
        taken: list[Passage] = []
        used = 0
        for passage in fused:
            if len(taken) >= k and used >= budget:
                if passage.chunk.chunk_id in leaders:
                    taken.append(passage)
                continue
            taken.append(passage)
            used += len(passage.chunk.text)
        return taken

    def _with_replies(self, passages: list[Passage]) -> list[Passage]:
        """The passages, each one that ends by asking followed by the passage after it: in dialogue,
        an interview or a FAQ the line that asks is what matches, and the next line answers."""
        taken = {p.chunk.chunk_id for p in passages}
        replies = []
        for passage in passages:
            if not is_question(passage.chunk.sentences[-1].text):
                continue
            row = self.table.row_of(passage.chunk.chunk_id)
            if row is None or row + 1 >= len(self.table):
                continue
            reply = self.table.chunk(row + 1)
            if reply.doc_id == passage.chunk.doc_id and reply.chunk_id not in taken:
                taken.add(reply.chunk_id)
                replies.append(Passage(reply, passage.score))
        return passages + replies

    def _known(self, chunk_ids: list[str]) -> list[str]:
        return [cid for cid in chunk_ids if self.table.row_of(cid) is not None]

    def _fuse(self, dense: list[str], dense_sentences: list[str], lexical: list[str]) -> list[Passage]:
        fused: dict[str, float] = defaultdict(float)
        for ranking in (dense, dense_sentences, lexical):
            for rank, chunk_id in enumerate(ranking, start=1):
                fused[chunk_id] += 1.0 / (RRF_K + rank)
        dense_rank = {cid: r for r, cid in enumerate(dense, start=1)}
        lexical_rank = {cid: r for r, cid in enumerate(lexical, start=1)}
        ordered = sorted(fused.items(), key=lambda item: -item[1])
        rows = [(self.table.row_of(cid), cid, score) for cid, score in ordered]
        return [
            Passage(self.table.chunk(row), score, dense_rank.get(cid), lexical_rank.get(cid))
            for row, cid, score in rows
            if row is not None
        ]

    def _score_sentences(
        self, vector: np.ndarray, query_stems: list[str], passages: list[Passage]
    ) -> list[ScoredSentence]:
        if not passages:
            return []
        pairs = [(p, s) for p in passages for s in p.chunk.sentences]
        similarities = self.sentence_vectors_for([s for _, s in pairs]) @ vector
        top = passages[0].score
        unseen = self.sentence_bm25.unseen_idf * UNSEEN_WEIGHT
        weights = {s: self.sentence_bm25.idf.get(s, unseen) for s in set(query_stems)}
        total = sum(weights.values()) or 1.0
        scored = []
        for (passage, sentence), dense in zip(pairs, similarities, strict=True):
            present = set(stems(sentence.text))
            lexical = sum(w for s, w in weights.items() if s in present) / total
            scored.append(ScoredSentence(sentence, passage.chunk, float(dense), lexical, passage.score / top))
        return sorted(scored, key=lambda s: -s.score)

    def chunk_of(self, sentence: Sentence) -> Chunk:
        return self.table.chunk_of_sentence(self._position(sentence.doc_id, sentence.start))

    def _position(self, doc_id: str, start: int) -> int:
        position = self.table.position(doc_id, start)
        if position is None:
            raise KeyError(f"no sentence of {doc_id!r} starts at {start}")
        return position

    def sentence_at(self, doc_id: str, start: int) -> Sentence | None:
        """The sentence of ``doc_id`` that starts at ``start``, if there is one."""
        position = self.table.position(doc_id, start)
        return None if position is None else self.table.sentence(position)

    def all_sentences(self) -> list[Sentence]:
        """Every sentence in document order: for passes over the whole corpus only."""
        return list(self.table.sentences())

    def nearest_sentence(self, text: str) -> Sentence | None:
        """The sentence of the corpus closest in meaning to ``text``."""
        for sentence_id_, _ in self.index.query_sentences(self.embed(text), 1):
            chunk_id, _, index = sentence_id_.rpartition("/")
            row = self.table.row_of(chunk_id)  # None: a hit from another version of the index
            if row is not None:
                return next((s for s in self.table.chunk(row).sentences if s.index == int(index)), None)
        return None

    def quoted_in(self, text: str) -> list[Sentence]:
        """The sentences whose whole text occurs in ``text`` (an earlier answer, say)."""
        return [self.table.sentence(p) for p in self.table.quoted_in(text)]

    def sentence_vectors_for(self, sentences: list[Sentence]) -> np.ndarray:
        """Stored sentence embeddings as rows, read once from the index and then cached."""
        ids = [sentence_id(self.chunk_of(s).chunk_id, s) for s in sentences]
        missing = list(dict.fromkeys(i for i in ids if i not in self._vectors))
        if missing:
            self._vectors.update(self.index.sentence_vectors(missing))
        if not ids:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return np.stack([self._vectors[i] for i in ids])

    def neighbours(self, sentence: Sentence) -> tuple[Sentence | None, Sentence | None]:
        """The sentences just before and after, within the same paragraph."""
        before, after = self.adjacent(sentence)
        return sentence.in_paragraph(before), sentence.in_paragraph(after)

    def adjacent(self, sentence: Sentence) -> tuple[Sentence | None, Sentence | None]:
        """The sentences just before and after in the same document, across paragraphs."""
        position = self._position(sentence.doc_id, sentence.start)
        before = self.table.sentence(position - 1) if position > 0 else None
        after = self.table.sentence(position + 1) if position + 1 < self.table.sentence_count else None

        def same_document(other: Sentence | None) -> Sentence | None:
            return other if other and other.doc_id == sentence.doc_id else None

        return same_document(before), same_document(after)


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` highest scores, best first.

    A partial partition, then a sort of those ``k`` only: a full argsort of every
    chunk's score cost 2.8 ms a question at 100k chunks, this 0.5 ms.
    """
    if len(scores) <= k:
        return np.argsort(-scores)
    top = np.argpartition(-scores, k)[:k]
    ordered: np.ndarray = top[np.argsort(-scores[top])]
    return ordered


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _since(clock: float) -> float:
    return (time.perf_counter() - clock) * 1000.0
