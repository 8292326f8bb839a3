"""The corpus table: every chunk's and sentence's text and place, saved beside the index.

A worker answering a question needs a few chunks, their sentences and neighbours, never
all of them at once. So the first process to open an index version reads every chunk
from Chroma once and saves, under ``<index_dir>/tables/<collection>/<key>/``, this table
(the texts as one UTF-8 file, the numbers as NumPy arrays) with the two BM25 indexes
built from it. Later starts, and every other ``assistant serve`` worker on the machine,
memory-map those files and read no chunk at all: the pages are shared through the
operating system's cache, and what a worker holds of its own no longer grows with the
corpus (at 100k chunks, Python objects for every chunk took about 190 MB a worker).

The key hashes the index's version (its generation and the time of its last update)
and the tokenisation. Tables are saved only if, once the chunks are read, that version
is still live and no ingest holds the index's lock, so saved tables are their version's
(an ingest from another machine holds no lock visible here: run ingests where the
workers' index folder is). Workers that start together build them once.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import shutil
import tempfile
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import numpy as np

from .bm25 import BM25
from .lexical import STOP_WORDS, stems
from .models import Chunk, Sentence

log = logging.getLogger(__name__)

FORMAT = 2  # part of every key: bump it when the files or the tokenisation change
PREFIX = 24  # characters of a sentence hashed to find it quoted in a text
PARTIAL = ".partial-"  # in the name of a folder being written
ABANDONED_AFTER_S = 3600  # a folder being written this long ago was left by a killed process
_DOC_SHIFT = 40  # a sentence's sort key: its document's number above its start offset
# Column order of the two arrays of numbers.
CHUNK_COLUMNS = ("doc", "paragraph", "start", "end", "first_sentence")
SENTENCE_COLUMNS = ("doc", "paragraph", "index", "start", "end", "page", "chunk")
_ARRAYS = (
    *("ids", "sorted_ids", "sorted_rows", "offsets", "texts", "chunk_fields", "sentence_fields"),
    *("sentence_keys", "prefix_hashes", "prefix_rows", "short_rows", "short_offsets", "short_texts"),
)


@dataclass
class ChunkTable:
    """Chunks in document order, each rebuilt on demand (a few thousand are kept ready)."""

    doc_ids: list[str]  # sorted; a document's number is its position here
    titles: list[str]
    ids: np.ndarray  # chunk ids as UTF-8 bytes, one per row
    sorted_ids: np.ndarray  # the same, sorted, with ...
    sorted_rows: np.ndarray  # ... the row of each, for lookups by id
    offsets: np.ndarray  # where each chunk's text starts in ``texts`` (one more: the end)
    texts: np.ndarray  # every chunk's text, UTF-8, as bytes
    chunk_fields: np.ndarray  # one row per chunk: CHUNK_COLUMNS
    sentence_fields: np.ndarray  # one row per sentence, in document order: SENTENCE_COLUMNS
    sentence_keys: np.ndarray  # each sentence's document number and start, as one sorted int
    prefix_hashes: np.ndarray  # CRC-32 of each long sentence's first PREFIX characters, sorted, ...
    prefix_rows: np.ndarray  # ... with that sentence's position
    short_rows: np.ndarray  # positions of the sentences shorter than PREFIX, with ...
    short_offsets: np.ndarray  # ... where each one's text starts in ``short_texts`` (one more: the end)
    short_texts: np.ndarray  # their texts, UTF-8, as bytes
    _doc_index: dict[str, int] = field(init=False, repr=False)
    chunk: Callable[[int], Chunk] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._doc_index = {doc_id: i for i, doc_id in enumerate(self.doc_ids)}
        self.chunk = lru_cache(maxsize=4096)(self._read_chunk)

    @classmethod
    def build(cls, chunks: list[Chunk]) -> ChunkTable:
        """The table of ``chunks``, which must be in document order (as ``Index.chunks`` gives them)."""
        doc_ids = sorted({c.doc_id for c in chunks})
        number = {doc_id: i for i, doc_id in enumerate(doc_ids)}
        titles = [""] * len(doc_ids)
        chunk_rows: list[tuple[int, ...]] = []
        sentence_rows: list[tuple[int, ...]] = []
        for row, chunk in enumerate(chunks):
            titles[number[chunk.doc_id]] = chunk.title
            doc = number[chunk.doc_id]
            chunk_rows.append((doc, chunk.paragraph, chunk.start, chunk.end, len(sentence_rows)))
            sentence_rows += [
                (doc, s.paragraph, s.index, s.start, s.end, -1 if s.page is None else s.page, row)
                for s in chunk.sentences
            ]
        ids = np.array([c.chunk_id.encode() for c in chunks] or [b""], dtype=bytes)[: len(chunks)]
        order = np.argsort(ids, kind="stable")
        sentences = [s for c in chunks for s in c.sentences]
        hashed = sorted(
            (zlib.crc32(s.text[:PREFIX].encode()), p)
            for p, s in enumerate(sentences)
            if len(s.text) >= PREFIX
        )
        short = [(p, s.text) for p, s in enumerate(sentences) if len(s.text) < PREFIX]
        offsets, texts = _packed([c.text for c in chunks])
        short_offsets, short_texts = _packed([t for _, t in short])
        fields = np.array(sentence_rows, dtype=np.int64).reshape(-1, len(SENTENCE_COLUMNS))
        return cls(
            doc_ids=doc_ids,
            titles=titles,
            ids=ids,
            sorted_ids=ids[order],
            sorted_rows=order.astype(np.int64),
            offsets=offsets,
            texts=texts,
            chunk_fields=np.array(chunk_rows, dtype=np.int64).reshape(-1, len(CHUNK_COLUMNS)),
            sentence_fields=fields,
            sentence_keys=(fields[:, 0] << _DOC_SHIFT) + fields[:, 3],
            prefix_hashes=np.array([h for h, _ in hashed], dtype=np.uint32),
            prefix_rows=np.array([p for _, p in hashed], dtype=np.int64),
            short_rows=np.array([p for p, _ in short], dtype=np.int64),
            short_offsets=short_offsets,
            short_texts=short_texts,
        )

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True)
        (folder / "documents.json").write_text(json.dumps({"doc_ids": self.doc_ids, "titles": self.titles}))
        for name in _ARRAYS:
            np.save(folder / f"{name}.npy", getattr(self, name), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> ChunkTable:
        documents = json.loads((folder / "documents.json").read_text())
        arrays = {
            name: np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in _ARRAYS
        }
        return cls(doc_ids=documents["doc_ids"], titles=documents["titles"], **arrays)

    # -- reading ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.chunk_fields)

    @property
    def sentence_count(self) -> int:
        return len(self.sentence_fields)

    @property
    def chunk_doc(self) -> np.ndarray:
        """The document number of each chunk."""
        return self.chunk_fields[:, 0]

    @property
    def sentence_doc(self) -> np.ndarray:
        return self.sentence_fields[:, 0]

    @property
    def sentence_paragraph(self) -> np.ndarray:
        return self.sentence_fields[:, 1]

    def doc_number(self, doc_id: str) -> int | None:
        return self._doc_index.get(doc_id)

    def chunk_id(self, row: int) -> str:
        return bytes(self.ids[row]).decode()

    def row_of(self, chunk_id: str) -> int | None:
        """The row of the chunk with this id, or None."""
        key = np.bytes_(chunk_id.encode())
        at = int(np.searchsorted(self.sorted_ids, key))
        if at < len(self.sorted_ids) and self.sorted_ids[at] == key:
            return int(self.sorted_rows[at])
        return None

    def _read_chunk(self, row: int) -> Chunk:
        doc, paragraph, start, end, first = (int(v) for v in self.chunk_fields[row])
        text = _unpacked(self.offsets, self.texts, row).decode()
        doc_id = self.doc_ids[doc]
        last = self.chunk_fields[row + 1, 4] if row + 1 < len(self) else self.sentence_count
        sentences = tuple(
            Sentence(
                doc_id,
                int(p),
                int(i),
                int(s),
                int(e),
                text[s - start : e - start],
                None if page < 0 else int(page),
            )
            for _, p, i, s, e, page, _ in self.sentence_fields[first:last].tolist()
        )
        return Chunk(self.chunk_id(row), doc_id, paragraph, start, end, text, sentences, self.titles[doc])

    def sentence(self, position: int) -> Sentence:
        """The sentence at ``position`` in document order."""
        row = int(self.sentence_fields[position, 6])
        return self.chunk(row).sentences[position - int(self.chunk_fields[row, 4])]

    def chunk_of_sentence(self, position: int) -> Chunk:
        return self.chunk(int(self.sentence_fields[position, 6]))

    def position(self, doc_id: str, start: int) -> int | None:
        """Where the sentence of ``doc_id`` that starts at ``start`` is in document order, or None."""
        doc = self._doc_index.get(doc_id)
        if doc is None:
            return None
        key = (doc << _DOC_SHIFT) + start
        at = int(np.searchsorted(self.sentence_keys, key))
        return at if at < self.sentence_count and self.sentence_keys[at] == key else None

    def sentences(self) -> Iterator[Sentence]:
        """Every sentence in document order (for passes over the whole corpus: summaries, baselines)."""
        for row in range(len(self)):
            yield from self._read_chunk(row).sentences

    def quoted_in(self, text: str) -> list[int]:
        """Positions of the sentences whose whole text occurs in ``text``.

        Long sentences are found by a hash of their first characters, then checked;
        short ones (headings, mostly) are few and checked one by one, as UTF-8 bytes
        (a character string occurs in another exactly when its UTF-8 bytes do).
        """
        windows = {zlib.crc32(text[i : i + PREFIX].encode()) for i in range(len(text) - PREFIX + 1)}
        wanted = np.array(sorted(windows), dtype=np.uint32)
        left = np.searchsorted(self.prefix_hashes, wanted, side="left")
        right = np.searchsorted(self.prefix_hashes, wanted, side="right")
        candidates = [int(r) for a, b in zip(left, right, strict=True) for r in self.prefix_rows[a:b]]
        found = [p for p in candidates if self.sentence(p).text in text]
        encoded = text.encode()
        short = enumerate(self.short_rows.tolist())
        found += [p for i, p in short if _unpacked(self.short_offsets, self.short_texts, i) in encoded]
        return sorted(found)


def _packed(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Texts as one UTF-8 byte array, and where each starts in it (one more: the end)."""
    encoded = [text.encode() for text in texts]
    offsets = np.cumsum([0] + [len(e) for e in encoded], dtype=np.int64)
    return offsets, np.frombuffer(b"".join(encoded), dtype=np.uint8)


def _unpacked(offsets: np.ndarray, data: np.ndarray, i: int) -> bytes:
    """The UTF-8 bytes of the ``i``-th text that ``_packed`` packed."""
    return bytes(data[offsets[i] : offsets[i + 1]])


@dataclass(frozen=True)
class Tables:
    """The corpus table and the BM25 indexes over its chunks and its sentences."""

    table: ChunkTable
    chunk_bm25: BM25
    sentence_bm25: BM25

    @classmethod
    def build(cls, chunks: list[Chunk]) -> Tables:
        # A chunk is its sentences and the spaces between them, so its stems are theirs in
        # turn: stemming each sentence once serves both indexes (half the first worker's work).
        by_chunk = [[stems(s.text) for s in c.sentences] for c in chunks]
        chunk_stems = [[t for sentence in sentences for t in sentence] for sentences in by_chunk]
        sentence_stems = [sentence for sentences in by_chunk for sentence in sentences]
        return cls(ChunkTable.build(chunks), BM25.from_stems(chunk_stems), BM25.from_stems(sentence_stems))

    @classmethod
    def load(cls, folder: Path) -> Tables | None:
        """The tables saved in ``folder``; None if there are none, or they cannot be read."""
        if not folder.is_dir():
            return None
        try:
            table = ChunkTable.load(folder / "table")
            chunks, sentences = BM25.load(folder / "chunks-bm25"), BM25.load(folder / "sentences-bm25")
        except Exception as exc:  # any unreadable save (truncated, foreign, old numpy) is rebuilt
            log.warning("The saved tables in %s cannot be read (%s); rebuilding them.", folder, exc)
            return None
        if (chunks.size, sentences.size) != (len(table), table.sentence_count):
            log.warning("The saved tables in %s do not agree with each other; rebuilding them.", folder)
            return None
        return cls(table, chunks, sentences)

    def save(self, folder: Path) -> None:
        """Write beside, then rename: a reader never sees half a folder.

        A folder already there (one that could not be read) is renamed aside first, never
        emptied in place, so a process still reading it keeps whole files.
        """
        partial = Path(tempfile.mkdtemp(prefix=f"{folder.name}{PARTIAL}", dir=folder.parent))
        try:
            self.table.save(partial / "table")
            self.chunk_bm25.save(partial / "chunks-bm25")
            self.sentence_bm25.save(partial / "sentences-bm25")
            if folder.exists():
                aside = folder.with_name(f"{folder.name}.stale-{uuid.uuid4().hex}")
                folder.rename(aside)
                shutil.rmtree(aside, ignore_errors=True)
            partial.rename(folder)
        finally:
            shutil.rmtree(partial, ignore_errors=True)


def open_tables(
    root: Path, version: str | None, read: Callable[[], list[Chunk]], unchanged: Callable[[], bool]
) -> Tables:
    """The tables of index ``version``: mapped from ``root`` if saved, else built from ``read()`` and saved.

    ``unchanged()`` says whether what ``read()`` returned is still exactly that version
    (no swap, no ingest under way): if not, the tables serve this process but are not
    saved. Workers that start together build once: the others wait, then map.
    """
    if version is None:
        return Tables.build(read())
    folder = root / key(version)
    try:
        root.mkdir(parents=True, exist_ok=True)
        lock = open(root / "build.lock", "w")  # noqa: SIM115 - held until the tables are saved
    except OSError as exc:  # a read-only index folder: the tables stay in memory
        log.info("Tables not saved under %s (%s); they are rebuilt at each start.", root, exc)
        return Tables.load(folder) or Tables.build(read())
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return Tables.load(folder) or _build_and_save(root, folder, read, unchanged)


def _build_and_save(
    root: Path, folder: Path, read: Callable[[], list[Chunk]], unchanged: Callable[[], bool]
) -> Tables:
    """Build the tables, save them if what was read is still their version, and map the saved files.

    Called with the build lock held, so no other worker saves or prunes meanwhile.
    """
    built = Tables.build(read())
    try:
        if not unchanged():
            return built
        built.save(folder)
    except Exception as exc:  # a failed save (disk full, a store that went away) loses nothing
        log.warning("Tables not saved to %s (%s); they are rebuilt at each start.", folder, exc)
        return built
    prune(root, keep=folder.name)
    return Tables.load(folder) or built  # mapped: the built arrays are freed


def key(version: str) -> str:
    """A hash of the index version and of the tokenisation (stop words, stemmer and bm25s versions)."""
    digest = hashlib.sha256(f"format {FORMAT}\nversion {version}\n{' '.join(sorted(STOP_WORDS))}\n".encode())
    for package in ("snowballstemmer", "bm25s"):
        digest.update(f"{package} {metadata.version(package)}\n".encode())
    return digest.hexdigest()[:32]


def prune(root: Path, keep: str) -> None:
    """Remove the saved tables of every other version (readers keep their maps), and any
    half-written folder a killed process left (one still being written is recent).

    Best effort: what cannot be listed or removed is left for the next save.
    """
    abandoned = time.time() - ABANDONED_AFTER_S
    try:
        others = [other for other in root.iterdir() if other.is_dir() and other.name != keep]
    except OSError:
        return
    for other in others:
        try:
            if PARTIAL not in other.name or other.stat().st_mtime < abandoned:
                shutil.rmtree(other)
        except OSError:
            continue
