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
from itertools import pairwise

import numpy as np

from .bm25 import BM25, content_key, prune
from .embedding import DIMENSIONS, MiniLMEmbeddings
from .index import Index, sentence_id
from .lexical import FRAME_WORDS, STOP_WORDS, expand_metonyms, stem, stems, words
from .models import Chunk, Passage, Sentence

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
        self.version = index.version()  # read first: a change while reading shows as a new version
        self.chunks = index.chunks()
        self.by_id = {c.chunk_id: c for c in self.chunks}
        self.doc_ids = sorted({c.doc_id for c in self.chunks})
        self.sentences = [s for c in self.chunks for s in c.sentences]
        # Sentences are in document order, so a paragraph's sentences are neighbours in this list.
        self.position = {(s.doc_id, s.start): i for i, s in enumerate(self.sentences)}
        self.owner = {(s.doc_id, s.start): c for c in self.chunks for s in c.sentences}
        self.sentence_owner = {sentence_id(c.chunk_id, s): c for c in self.chunks for s in c.sentences}
        self.chunk_bm25, self.sentence_bm25 = self._lexical_indexes()
        self._vectors: dict[str, np.ndarray] = {}
        # Which document and paragraph each sentence is in, as arrays: word lookups go through
        # the sentence BM25 index instead of per-word tables (those took 200 MB at 100k chunks).
        self._doc_index = {doc_id: i for i, doc_id in enumerate(self.doc_ids)}
        self._sentence_doc = np.array([self._doc_index[s.doc_id] for s in self.sentences], dtype=np.int32)
        self._sentence_paragraph = np.array([s.paragraph for s in self.sentences], dtype=np.int32)
        self._by_prefix: dict[str, list[str]] = defaultdict(list)
        for token in self.vocabulary:
            self._by_prefix[token[:6]].append(token)

    def _lexical_indexes(self) -> tuple[BM25, BM25]:
        """BM25 over chunks and over sentences: loaded if this content's are saved, else built and saved."""
        folder = self.index.settings.index_dir / "lexical" / self.index.name
        key = content_key(self.chunks)
        chunks = BM25.cached(folder / key / "chunks", [c.text for c in self.chunks])
        sentences = BM25.cached(folder / key / "sentences", [s.text for s in self.sentences])
        prune(folder, keep=key)
        return chunks, sentences

    @property
    def vocabulary(self) -> KeysView[str]:
        """Every content stem of the corpus (a view: no copy per question)."""
        return self.sentence_bm25.idf.keys()

    def uses(self, stem: str, doc_ids: Collection[str] | None = None) -> bool:
        """Whether the corpus, or these documents of it, uses this stem."""
        if stem not in self.sentence_bm25.idf or doc_ids is None:
            return stem in self.sentence_bm25.idf
        wanted = [self._doc_index[d] for d in doc_ids if d in self._doc_index]
        holders = self._sentence_doc[self.sentence_bm25.containing([stem])]
        return bool(np.isin(holders, wanted).any())

    def _paragraphs_using(self, prefix: str) -> set[tuple[int, int]]:
        """(document, paragraph) of every sentence with a stem that starts with ``prefix``."""
        found = self.sentence_bm25.containing(self._by_prefix.get(prefix, []))
        docs, paragraphs = self._sentence_doc[found].tolist(), self._sentence_paragraph[found].tolist()
        return set(zip(docs, paragraphs, strict=True))

    def unrelated_pair(self, question: str) -> str | None:
        """Two adjacent words of the question's topic that the corpus uses, but never near each other.

        "about nuclear energy" or "about China's economy": each word is in the essay,
        the topic is not. Only the phrase after "about" (and kin) is checked, since
        elsewhere adjacent words are often a verb and its object.
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
        question = expand_metonyms(question)
        timings: dict[str, float] = {}
        clock = time.perf_counter()
        vector = self.embed(question)
        timings["embed"] = _since(clock)

        clock = time.perf_counter()
        pool = max(k * 3, 20)
        dense_chunks = [cid for cid, _ in self.index.query_chunks(vector, pool, doc_ids)]
        dense_sentences = [
            self.sentence_owner[sid].chunk_id
            for sid, _ in self.index.query_sentences(vector, pool, doc_ids)
            if sid in self.sentence_owner
        ]
        timings["dense"] = _since(clock)

        clock = time.perf_counter()
        query_stems = stems(question, drop_frame=True)
        bm25 = self.chunk_bm25.scores(query_stems)
        if doc_ids:
            bm25[[i for i, c in enumerate(self.chunks) if c.doc_id not in doc_ids]] = 0.0
        lexical_chunks = [self.chunks[i].chunk_id for i in _top(bm25, pool) if bm25[i] > 0]
        timings["bm25"] = _since(clock)

        clock = time.perf_counter()
        passages = self._fuse(dense_chunks, _unique(dense_sentences), lexical_chunks)[:k]
        sentences = self._score_sentences(vector, query_stems, passages)
        timings["fusion"] = _since(clock)
        return Retrieval(vector, passages, sentences, timings)

    def _fuse(self, dense: list[str], dense_sentences: list[str], lexical: list[str]) -> list[Passage]:
        fused: dict[str, float] = defaultdict(float)
        for ranking in (dense, dense_sentences, lexical):
            for rank, chunk_id in enumerate(ranking, start=1):
                fused[chunk_id] += 1.0 / (RRF_K + rank)
        dense_rank = {cid: r for r, cid in enumerate(dense, start=1)}
        lexical_rank = {cid: r for r, cid in enumerate(lexical, start=1)}
        ordered = sorted(fused.items(), key=lambda item: -item[1])
        return [
            Passage(self.by_id[cid], score, dense_rank.get(cid), lexical_rank.get(cid))
            for cid, score in ordered
            if cid in self.by_id
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
        return self.owner[(sentence.doc_id, sentence.start)]

    def sentence_vectors_for(self, sentences: list[Sentence]) -> np.ndarray:
        """Stored sentence embeddings as rows, read once from the index and then cached."""
        ids = [sentence_id(self.chunk_of(s).chunk_id, s) for s in sentences]
        missing = [i for i in ids if i not in self._vectors]
        if missing:
            self._vectors.update(self.index.sentence_vectors(missing))
        if not ids:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return np.stack([self._vectors[i] for i in ids])

    def neighbours(self, sentence: Sentence) -> tuple[Sentence | None, Sentence | None]:
        """The sentences just before and after, within the same paragraph."""
        position = self.position[(sentence.doc_id, sentence.start)]
        before = self.sentences[position - 1] if position > 0 else None
        after = self.sentences[position + 1] if position + 1 < len(self.sentences) else None

        def same_paragraph(other: Sentence | None) -> Sentence | None:
            same = other and other.doc_id == sentence.doc_id and other.paragraph == sentence.paragraph
            return other if same else None

        return same_paragraph(before), same_paragraph(after)


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
