"""BM25 over stemmed content words, saved beside the index so that workers load it instead of rebuilding it.

Building BM25 means stemming every chunk and sentence: 20 s at 100k chunks. The first
process to open a given corpus content builds it and saves it under
``<index_dir>/lexical/<collection>/<content key>/``; later starts, and every other
``assistant serve`` worker on the machine, memory-map those files, so the arrays are read
once and shared through the page cache. The key hashes the chunks themselves, so an index
that changes while it is read can never be paired with another content's BM25.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Collection
from pathlib import Path

import bm25s
import numpy as np

from .lexical import stems
from .models import Chunk

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)

FORMAT = 1  # part of every key: bump it when tokenisation changes, so saved indexes are rebuilt


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
        model = bm25s.BM25()
        model.index([stems(text) for text in texts], show_progress=False)
        return cls(model)

    @classmethod
    def cached(cls, folder: Path, texts: list[str]) -> BM25:
        """The BM25 saved in ``folder``, or built from ``texts`` and saved there for the next process."""
        try:
            if folder.is_dir():
                loaded = cls(bm25s.BM25.load(str(folder), mmap=True))
                if loaded.size == len(texts):
                    return loaded
                log.warning("The saved BM25 in %s does not match the index; rebuilding it.", folder)
        except Exception as exc:  # any unreadable cache (truncated, foreign, old numpy) is rebuilt
            log.warning("The saved BM25 in %s cannot be read (%s); rebuilding it.", folder, exc)
        built = cls.build(texts)
        built._save(folder)
        return built

    def _save(self, folder: Path) -> None:
        """Write beside, then rename: a reader never sees half a folder, and the first writer wins."""
        partial = folder.with_name(f"{folder.name}.partial-{os.getpid()}")
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(folder, ignore_errors=True)
            self.model.save(str(partial), show_progress=False)
            partial.rename(folder)
        except OSError as exc:  # read-only index folder, or another worker saved it first
            log.info("BM25 not saved to %s (%s); it is rebuilt in memory at each start.", folder, exc)
        finally:
            shutil.rmtree(partial, ignore_errors=True)

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


def content_key(chunks: list[Chunk]) -> str:
    """A hash of the chunks and their sentences, in order: what the saved BM25 was built from."""
    digest = hashlib.sha256(f"format {FORMAT}\n".encode())
    for chunk in chunks:
        digest.update(f"{chunk.chunk_id}\n{chunk.text}\n".encode())
        for sentence in chunk.sentences:
            digest.update(f"{sentence.start} {sentence.end}\n".encode())
    return digest.hexdigest()[:32]


def prune(folder: Path, keep: str) -> None:
    """Remove the saved BM25 of every other content of this collection (readers keep their maps)."""
    for other in folder.iterdir() if folder.is_dir() else []:
        if other.name != keep and ".partial-" not in other.name:
            shutil.rmtree(other, ignore_errors=True)
