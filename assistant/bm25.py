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
import shutil
import tempfile
import uuid
from collections.abc import Collection
from importlib import metadata
from pathlib import Path

import bm25s
import numpy as np

from .lexical import STOP_WORDS, stems
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
        tokens = [stems(text) for text in texts]
        # Our own sorted vocabulary: bm25s numbers a set, whose order changes with each
        # process's string hashing, and two workers' saves of one content must be identical.
        vocabulary = {token: i for i, token in enumerate(sorted({t for text in tokens for t in text}))}
        model = bm25s.BM25()
        model.index(([[vocabulary[t] for t in text] for text in tokens], vocabulary), show_progress=False)
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
        """Write beside, then rename: a reader never sees half a folder, and the first writer wins.

        A folder already there (one that could not be read) is renamed aside first, never
        emptied in place, so a process still reading it keeps whole files.
        """
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            partial = Path(tempfile.mkdtemp(prefix=f"{folder.name}.partial-", dir=folder.parent))
        except OSError as exc:  # a read-only index folder: BM25 stays in memory
            log.info("BM25 not saved to %s (%s); it is rebuilt at each start.", folder, exc)
            return
        try:
            self.model.save(str(partial), show_progress=False)
            if folder.exists():
                aside = folder.with_name(f"{folder.name}.stale-{uuid.uuid4().hex}")
                folder.rename(aside)
                shutil.rmtree(aside, ignore_errors=True)
            partial.rename(folder)
        except OSError as exc:  # another worker saved the same content first: theirs serves
            log.info("BM25 not saved to %s (%s).", folder, exc)
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
    """A hash of what the saved BM25 is built from: the chunks and their sentences, in order,
    and the tokenisation (stop words, stemmer and bm25s versions)."""
    digest = hashlib.sha256(f"format {FORMAT}\n{' '.join(sorted(STOP_WORDS))}\n".encode())
    for package in ("snowballstemmer", "bm25s"):
        digest.update(f"{package} {metadata.version(package)}\n".encode())
    for chunk in chunks:
        digest.update(f"{len(chunk.chunk_id)}:{chunk.chunk_id}{len(chunk.text)}:{chunk.text}".encode())
        digest.update("".join(f"{s.start},{s.end};" for s in chunk.sentences).encode())
    return digest.hexdigest()[:32]


def prune(folder: Path, keep: str) -> None:
    """Remove the saved BM25 of every other content of this collection (readers keep their maps).

    Best effort: a folder that cannot be listed or removed is left for the next start.
    """
    try:
        others = [other for other in folder.iterdir() if other.name != keep]
    except OSError:
        return
    for other in others:
        shutil.rmtree(other, ignore_errors=True)
