"""BM25 over stemmed content words, over chunks and over sentences.

Building it means stemming every chunk and sentence: 20 s at 100k chunks. So it is
saved beside the index with the corpus table (:mod:`assistant.table`), and later
processes memory-map the saved arrays instead of building it again.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Collection
from pathlib import Path

import bm25s
import numpy as np

from .lexical import stems

logging.getLogger("bm25s").setLevel(logging.WARNING)


class BM25:
    """BM25 over the stems of a list of texts, with the idf table kept for overlap scores."""

    def __init__(self, model: bm25s.BM25) -> None:
        self.model = model
        self.size = int(model.scores["num_docs"])
        # Each text holding a token is one stored score in that token's column (bm25s adds
        # an empty token past the last column, which no text holds).
        frequency = np.diff(np.asarray(model.scores["indptr"]))
        self.idf = {
            token: float(np.log(1 + self.size / frequency[i]))
            for token, i in model.vocab_dict.items()
            if i < len(frequency) and frequency[i] > 0
        }
        self.unseen_idf = float(np.log(1 + self.size))

    @classmethod
    def build(cls, texts: list[str]) -> BM25:
        return cls.from_stems([stems(text) for text in texts])

    @classmethod
    def from_stems(cls, tokens: list[list[str]]) -> BM25:
        """BM25 over texts already stemmed, one list of stems per text."""
        # Our own sorted vocabulary: bm25s numbers a set, whose order changes with each
        # process's string hashing, and two workers' saves of one content must be identical.
        vocabulary = {token: i for i, token in enumerate(sorted({t for text in tokens for t in text}))}
        if not vocabulary:  # texts of stop words only (or none): bm25s needs a token, none holds this one
            vocabulary = {"\x00": 0}
        model = bm25s.BM25()
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the mean length of no texts
            model.index(([[vocabulary[t] for t in text] for text in tokens], vocabulary), show_progress=False)
        return cls(model)

    @classmethod
    def load(cls, folder: Path) -> BM25:
        """The BM25 saved in ``folder``, its arrays memory-mapped."""
        return cls(bm25s.BM25.load(str(folder), mmap=True))

    def save(self, folder: Path) -> None:
        self.model.save(str(folder), show_progress=False)

    def scores(self, query_stems: Collection[str]) -> np.ndarray:
        known = [s for s in query_stems if s in self.idf]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        scores: np.ndarray = np.asarray(self.model.get_scores(known), dtype=np.float32)
        return scores

    def containing(self, query_stems: Collection[str]) -> np.ndarray:
        """Positions of the texts that hold any of these stems (BM25 scores a held word above 0)."""
        found: np.ndarray = np.flatnonzero(self.scores(query_stems))
        return found
