"""An in-memory collection for testing the answerer's rules without an index.

``MemoryPassages`` holds a few short texts: their sentences chunked as the indexer chunks
them, embedded with the real MiniLM model and weighed with the real BM25, and nothing
stored anywhere. It implements what the extractive generator reads of a collection
(:class:`assistant.generation.Passages`) and ``retrieve`` ranks every sentence of the
texts for a question, so a rule can be tested on a table of texts of several genres.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import cache

import numpy as np

from assistant.bm25 import BM25
from assistant.chunking import chunk_document
from assistant.embedding import MiniLMEmbeddings
from assistant.generation import Request
from assistant.lexical import Variants, stems
from assistant.models import Chunk, Document, Passage, Sentence
from assistant.questions import analyse
from assistant.retrieval import Retrieval, ScoredSentence
from assistant.signals import coverage, read_question


@cache
def embeddings() -> MiniLMEmbeddings:
    return MiniLMEmbeddings()


class MemoryPassages:
    """Texts by id, each a document of its own (its first line, without '#', is its title)."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        documents = [
            Document(doc_id, f"{doc_id}.md", text, hashlib.sha256(text.encode()).hexdigest(), doc_id)
            for doc_id, text in texts.items()
        ]
        self.doc_ids = [doc.doc_id for doc in documents]
        self.chunks: list[Chunk] = [chunk for doc in documents for chunk in chunk_document(doc)]
        self.sentences: list[Sentence] = [s for chunk in self.chunks for s in chunk.sentences]
        self._chunk_of = {(s.doc_id, s.start): c for c in self.chunks for s in c.sentences}
        self._position = {(s.doc_id, s.start): i for i, s in enumerate(self.sentences)}
        self.vectors = np.asarray(
            embeddings().embed_documents([s.text for s in self.sentences]), dtype=np.float32
        )
        self.bm25 = BM25.build([s.text for s in self.sentences])

    # -- what the signals read (SentenceSource) ---------------------------------------------

    def idf(self, stem: str) -> float | None:
        return self.bm25.idf.get(stem)

    def unseen_idf(self) -> float:
        return self.bm25.unseen_idf

    def variant(self, stem: str) -> str | None:
        return Variants(self.bm25.idf).of(stem)

    def unrelated_pair(self, question: str) -> str | None:
        return None

    def sentence_vectors_for(self, sentences: list[Sentence]) -> np.ndarray:
        return self.vectors[[self._position[(s.doc_id, s.start)] for s in sentences]].reshape(
            -1, self.vectors.shape[1]
        )

    def adjacent(self, sentence: Sentence) -> tuple[Sentence | None, Sentence | None]:
        at = self._position[(sentence.doc_id, sentence.start)]
        before = self.sentences[at - 1] if at > 0 else None
        after = self.sentences[at + 1] if at + 1 < len(self.sentences) else None
        same = [s if s is not None and s.doc_id == sentence.doc_id else None for s in (before, after)]
        return same[0], same[1]

    def neighbours(self, sentence: Sentence) -> tuple[Sentence | None, Sentence | None]:
        before, after = self.adjacent(sentence)
        return sentence.in_paragraph(before), sentence.in_paragraph(after)

    # -- what the generator reads besides (Passages) ------------------------------------------

    def embed(self, text: str) -> np.ndarray:
        return embeddings().encode_query(text)

    def sentence_at(self, doc_id: str, start: int) -> Sentence | None:
        at = self._position.get((doc_id, start))
        return None if at is None else self.sentences[at]

    def chunk_of(self, sentence: Sentence) -> Chunk:
        return self._chunk_of[(sentence.doc_id, sentence.start)]

    def all_sentences(self) -> list[Sentence]:
        return list(self.sentences)

    # -- a retrieval, as the pipeline would hand the generator -----------------------------------

    def request(self, question: str) -> Request:
        """``question`` as the generator gets it: every sentence scored, best first."""
        vector = self.embed(question)
        dense = self.vectors @ vector
        info = analyse(question)
        asked = read_question(info, self, {})  # its words weighed as the retriever weighs them
        by_chunk: dict[str, float] = {}
        for sentence, score in zip(self.sentences, dense, strict=True):
            chunk = self.chunk_of(sentence).chunk_id
            by_chunk[chunk] = max(by_chunk.get(chunk, -1.0), float(score))
        best = max(by_chunk.values())
        scored = [
            ScoredSentence(
                s,
                self.chunk_of(s),
                float(d),
                coverage(asked, set(stems(s.text))),
                by_chunk[self.chunk_of(s).chunk_id] / best,
            )
            for s, d in zip(self.sentences, dense, strict=True)
        ]
        scored.sort(key=lambda c: -c.score)
        passages = [
            Passage(chunk, by_chunk[chunk.chunk_id])
            for chunk in sorted(self.chunks, key=lambda c: -by_chunk[c.chunk_id])
        ]
        retrieval = Retrieval(vector, passages, scored, {})
        return Request(question, question, info, retrieval)
