"""The vector index: documents, chunks and sentences with their embeddings, all in Chroma.

Each assistant collection is a *generation* of three Chroma collections,
``<name>.<generation>.documents`` (each document's stored text, hash and page
offsets: what citations quote and the reading view shows), ``.chunks`` (what is
retrieved) and ``.sentences`` (what is quoted), plus a pointer collection
``<name>.current`` whose metadata names the live generation. Everything lives in
the store, so several web workers can share one Chroma server with no local state.

``ingest`` updates the live generation document by document (a document's record is
written last, so a killed ingest leaves at worst chunks that no record counts, which
the health check sees). A rebuild writes a new generation beside the live one and
then moves the pointer: readers keep answering from the old generation until they
notice the swap, and the generation before the previous one is dropped.
"""

from __future__ import annotations

import fcntl
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import IO, Any, cast

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Documents, EmbeddingFunction, Where
from chromadb.api.types import Embeddings as ChromaEmbeddings

from .chunking import chunk_document
from .config import Settings
from .embedding import MODEL_NAME, MiniLMEmbeddings
from .errors import CorpusError, IndexBusyError, IndexStoreError
from .models import Chunk, Document, Sentence, Source

log = logging.getLogger(__name__)

# Bump when chunking or sentence splitting changes: indexes are then rebuilt.
SCHEMA_VERSION = 5  # 3: a capital of any script opens a sentence; 4, 5: a label joins its sentence
PAGE = 10_000  # rows per read from Chroma
KINDS = ("documents", "chunks", "sentences")
Progress = Callable[[str, int, int], None]  # (stage, done, total)
Loader = Callable[[Source], Document]


class MiniLMFunction(EmbeddingFunction[Documents]):
    """Our embedder in Chroma's protocol, so Chroma never falls back to its downloading default."""

    def __init__(self, embeddings: MiniLMEmbeddings | None = None) -> None:
        self.embeddings = embeddings or MiniLMEmbeddings()

    def __call__(self, input: Documents) -> ChromaEmbeddings:
        return list(self.embeddings.encode(list(input)))

    @staticmethod
    def name() -> str:
        return "assistant-minilm"

    def get_config(self) -> dict[str, Any]:
        return {"model": MODEL_NAME}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMFunction:
        return MiniLMFunction()


@dataclass
class IngestReport:
    """What one ``ingest`` did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # file -> why it could not be read
    chunks: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


class Index:
    """One collection's documents, chunks and sentences in Chroma."""

    def __init__(self, settings: Settings, embeddings: MiniLMEmbeddings) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self.function = MiniLMFunction(embeddings)
        self.name = settings.collection

    # -- opening -------------------------------------------------------------------------

    @cached_property
    def client(self) -> ClientAPI:
        chroma_settings = chromadb.config.Settings(anonymized_telemetry=False, allow_reset=False)
        try:
            if self.settings.chroma_host:
                return chromadb.HttpClient(
                    host=self.settings.chroma_host,
                    port=self.settings.chroma_port,
                    settings=chroma_settings,
                )
            self.settings.index_dir.mkdir(parents=True, exist_ok=True)
            folder = self.settings.index_dir / "chroma"
            if not (folder / "chroma.sqlite3").exists():
                # Deleted under us: Chroma's cached instance for the path points at the lost files.
                _stop_cached_system(folder)
            return chromadb.PersistentClient(path=str(folder), settings=chroma_settings)
        except Exception as exc:  # chromadb raises many types; all mean "cannot open"
            raise IndexStoreError(f"Cannot open the index: {exc}") from exc

    def release(self) -> None:
        """Forget this process's Chroma instance for our folder, so a rebuilt folder is opened afresh.

        Chroma caches one instance per persist directory for the life of the process,
        including one whose database turned out to be damaged.

        Raises IndexBusyError, changing nothing, while another process ingests: its
        store is in the middle of a write, not damaged, and must not be set aside.
        """
        if not self.settings.chroma_host:
            self.check_not_busy()
            _stop_cached_system(self.settings.index_dir / "chroma")
        self.__dict__.pop("client", None)
        self.release_stores()

    def release_stores(self) -> None:
        """Forget which generation and collections were open, so the live ones are opened next."""
        for attribute in ("generation", "document_store", "chunk_store", "sentence_store"):
            self.__dict__.pop(attribute, None)

    def _open(self, name: str, *, create: bool = True) -> Collection:
        try:
            if not create:
                return self.client.get_collection(name, embedding_function=self.function)  # type: ignore[arg-type]
            return self.client.get_or_create_collection(
                name,
                embedding_function=self.function,  # type: ignore[arg-type]
                configuration={"hnsw": {"space": "cosine"}},
            )
        except Exception as exc:
            raise IndexStoreError(f"Cannot open the collection {name}: {exc}") from exc

    @property
    def pointer_name(self) -> str:
        return f"{self.name}.current"

    def _pointer(self) -> dict[str, Any] | None:
        """The pointer's metadata (generation, fingerprint, previous), or None if there is no index."""
        try:
            names = {c.name for c in self.client.list_collections()}
            if self.pointer_name not in names:
                return None
            return dict(self.client.get_collection(self.pointer_name).metadata or {})
        except IndexStoreError:
            raise
        except Exception as exc:
            raise IndexStoreError(f"Cannot read the index: {exc}") from exc

    def _live_pointer(self) -> dict[str, Any] | None:
        pointer = self._pointer()
        if not pointer or pointer.get("fingerprint") != json.dumps(self.fingerprint()):
            return None  # no index, or one built with other settings: it must be rebuilt
        return pointer

    def live_generation(self) -> str | None:
        """The generation readers should use now (asked of the store, not cached)."""
        pointer = self._live_pointer()
        return str(pointer["generation"]) if pointer else None

    def version(self) -> str | None:
        """Changes whenever the live index does (a swap or an update): readers compare it."""
        pointer = self._live_pointer()
        return f"{pointer['generation']}:{pointer.get('updated', 0)}" if pointer else None

    def reads(self, version: str | None) -> bool:
        """Whether ``version`` is still the live one, this object reads its generation, and no
        ingest is writing (an ingest moves the version when it ends): then what was just read
        is exactly that version. An ingest on another machine holds no lock visible here."""
        if version is None or version != self.version() or not version.startswith(f"{self.generation}:"):
            return False
        try:
            self.check_not_busy()
        except IndexBusyError:
            return False
        return True

    @cached_property
    def generation(self) -> str:
        """The generation this object reads and updates; a fresh one if there is no index yet."""
        return self.live_generation() or _new_generation()

    def _store(self, kind: str, generation: str | None = None) -> Collection:
        return self._open(f"{self.name}.{generation or self.generation}.{kind}")

    @cached_property
    def document_store(self) -> Collection:
        return self._store("documents")

    @cached_property
    def chunk_store(self) -> Collection:
        return self._store("chunks")

    @cached_property
    def sentence_store(self) -> Collection:
        return self._store("sentences")

    # -- what is stored ----------------------------------------------------------------------

    def fingerprint(self) -> dict[str, Any]:
        """Settings that, when changed, make every stored chunk invalid."""
        return {"schema": SCHEMA_VERSION, "model": MODEL_NAME, "chunk_chars": self.settings.chunk_chars}

    def read_manifest(self) -> dict[str, Any] | None:
        """The live generation and its documents (sha256, path, title, chunks); None without an index."""
        if self.live_generation() is None:
            return None
        rows = self._rows(self.document_store, include=["metadatas"])
        documents = {
            doc_id: {key: meta[key] for key in ("sha256", "path", "title", "chunks")}
            for doc_id, _, meta in rows
        }
        return {"generation": self.generation, "documents": documents}

    def is_stale(self, sources: list[Source]) -> bool:
        manifest = self.read_manifest()
        if manifest is None:
            return True
        stored = {doc_id: entry["sha256"] for doc_id, entry in manifest["documents"].items()}
        return stored != {source.doc_id: source.sha256 for source in sources}

    def is_readable(self) -> bool:
        """Whether the store opens and its live generation reads; False means it is damaged or gone."""
        try:
            if self.live_generation() is not None:
                self.chunk_store.count()
                self.document_store.get(limit=1)
            return True
        except Exception as exc:
            log.warning("The index cannot be read (%s).", exc)
            return False

    def is_healthy(self) -> bool:
        """The live generation exists and its chunks are exactly those its documents count."""
        try:
            manifest = self.read_manifest()
            if manifest is None:
                return False
            expected = sum(int(entry["chunks"]) for entry in manifest["documents"].values())
            return self.chunk_store.count() == expected
        except Exception as exc:
            log.warning("The index cannot be read (%s).", exc)
            return False

    def documents(self) -> list[Document]:
        """The indexed documents with their stored texts, in doc_id order."""
        if self.live_generation() is None:
            return []
        rows = self._rows(self.document_store, include=["documents", "metadatas"])
        return sorted(
            (_document_from_row(doc_id, text, meta) for doc_id, text, meta in rows), key=lambda d: d.doc_id
        )

    def _rows(self, store: Collection, include: list[str]) -> list[tuple[str, str, dict[str, Any]]]:
        """Every row of ``store``, a page at a time: one unbounded get() fails past ~100k rows."""
        rows: list[tuple[str, str, dict[str, Any]]] = []
        while True:
            try:
                got = store.get(include=include, limit=PAGE, offset=len(rows))  # type: ignore[arg-type]
            except Exception as exc:
                raise IndexStoreError(f"Cannot read the index: {exc}") from exc
            if not got["ids"]:
                return rows
            texts = got["documents"] or [""] * len(got["ids"])
            metas = got["metadatas"] or [{}] * len(got["ids"])
            rows += [(i, t, dict(m)) for i, t, m in zip(got["ids"], texts, metas, strict=True)]

    # -- ingest --------------------------------------------------------------------------

    def check_not_busy(self) -> None:
        """IndexBusyError if another ingest holds the lock now (the lock is not kept)."""
        lock = self.settings.index_dir / "ingest.lock"
        if not lock.exists():
            return
        with open(lock) as handle:
            self._take_lock(handle)
            fcntl.flock(handle, fcntl.LOCK_UN)

    @contextmanager
    def _lock(self) -> Iterator[None]:
        self.settings.index_dir.mkdir(parents=True, exist_ok=True)
        with open(self.settings.index_dir / "ingest.lock", "w") as handle:
            self._take_lock(handle)
            yield

    def _take_lock(self, handle: IO[str]) -> None:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexBusyError(
                f"Another ingest is running on {self.settings.index_dir}; wait for it to finish."
            ) from None

    def ingest(
        self,
        sources: list[Source],
        load: Loader,
        *,
        rebuild: bool = False,
        force: frozenset[str] = frozenset(),
        progress: Progress | None = None,
    ) -> IngestReport:
        """Bring the index in line with ``sources``, reading and embedding only what changed.

        ``rebuild`` (or an index that is missing, damaged or built with other settings)
        builds a new generation and swaps it in when complete; ``force`` re-embeds
        those doc_ids even if unchanged.
        """
        began = time.perf_counter()
        with self._lock(), _store_errors("update the index"):
            self.release_stores()
            if rebuild or not self.is_healthy():
                # Built beside the live generation, which readers keep using until the swap.
                builder = Index(self.settings, self.embeddings)
                builder.__dict__.update(client=self.client, generation=_new_generation())
                report = builder._update(sources, load, {}, force, progress)
                builder._swap()
                self.release_stores()
            else:
                stored = (self.read_manifest() or {"documents": {}})["documents"]
                report = self._update(sources, load, stored, force, progress)
                if report.changed:
                    self._point(self.generation, self._pointer() or {})
        report.seconds = time.perf_counter() - began
        return report

    def _update(
        self,
        sources: list[Source],
        load: Loader,
        stored: dict[str, Any],
        force: frozenset[str],
        progress: Progress | None,
    ) -> IngestReport:
        report = IngestReport()
        for doc_id in sorted(set(stored) - {source.doc_id for source in sources}):
            self._delete(doc_id)
            report.removed.append(doc_id)
        for number, source in enumerate(sources, start=1):
            if progress:
                progress("documents", number - 1, len(sources))
            previous = stored.get(source.doc_id)
            if previous and previous["sha256"] == source.sha256 and source.doc_id not in force:
                report.unchanged.append(source.doc_id)
                continue
            try:
                doc = load(source)
            except CorpusError as exc:  # one unreadable file must not keep the others out
                log.warning("Skipping %s", exc)
                report.skipped[source.path] = str(exc)
                continue
            self._replace(doc, previous is not None)
            (report.updated if previous else report.added).append(source.doc_id)
        if progress:
            progress("documents", len(sources), len(sources))
        report.chunks = self.chunk_store.count()
        return report

    def remove(self, doc_ids: list[str]) -> None:
        """Take documents out of the live generation (their chunks and sentences too)."""
        with self._lock(), _store_errors("update the index"):
            self.release_stores()
            for doc_id in doc_ids:
                self._delete(doc_id)
            self._point(self.generation, self._pointer() or {})

    def _replace(self, doc: Document, existed: bool) -> None:
        if existed:
            self._delete(doc.doc_id)
        chunks = chunk_document(doc, self.settings.chunk_chars)
        self._add(chunks)
        # The document's record last: it is what says the document is fully indexed.
        self.document_store.upsert(
            ids=[doc.doc_id],
            documents=[doc.text],
            embeddings=self.embeddings.encode([doc.title]),
            metadatas=[_document_metadata(doc, len(chunks))],
        )

    def _swap(self) -> None:
        """Point readers at the freshly built generation; drop all but it and the one before."""
        old = self._pointer() or {}
        previous = str(old.get("generation", ""))
        self._point(self.generation, old, previous=previous)
        keep = {f"{self.name}.{g}.{kind}" for g in (self.generation, previous) for kind in KINDS}
        for collection in self.client.list_collections():
            name = collection.name
            ours = name.startswith(f"{self.name}.") and name != self.pointer_name
            if (ours and name not in keep) or name in (f"{self.name}-chunks", f"{self.name}-sentences"):
                self.client.delete_collection(name)  # older generations, and the layout before generations
        log.info("Index %s now serves generation %s.", self.name, self.generation)

    def _point(self, generation: str, old: dict[str, Any], previous: str | None = None) -> None:
        """Write the pointer: the live generation, the one before it, and when it last changed."""
        metadata = {
            "generation": generation,
            "previous": old.get("previous", "") if previous is None else previous,
            "fingerprint": json.dumps(self.fingerprint()),
            "updated": time.time_ns(),
        }
        try:
            if old:
                self.client.get_collection(self.pointer_name).modify(metadata=metadata)
            else:
                self.client.create_collection(self.pointer_name, metadata=metadata)
        except Exception as exc:
            raise IndexStoreError(f"Cannot update the index pointer: {exc}") from exc

    def _delete(self, doc_id: str) -> None:
        where = cast(Where, {"doc_id": doc_id})
        self.document_store.delete(ids=[doc_id])
        self.chunk_store.delete(where=where)
        self.sentence_store.delete(where=where)

    def _add(self, chunks: list[Chunk]) -> None:
        if not chunks:
            return
        sentences = [s for chunk in chunks for s in chunk.sentences]
        vectors = self.embeddings.encode([c.text for c in chunks] + [s.text for s in sentences])
        self._add_rows(
            self.chunk_store,
            ids=[c.chunk_id for c in chunks],
            documents=[c.text for c in chunks],
            embeddings=vectors[: len(chunks)],
            metadatas=[_chunk_metadata(c) for c in chunks],
        )
        owner = {(s.doc_id, s.start): c.chunk_id for c in chunks for s in c.sentences}
        self._add_rows(
            self.sentence_store,
            ids=[sentence_id(owner[(s.doc_id, s.start)], s) for s in sentences],
            documents=[s.text for s in sentences],
            embeddings=vectors[len(chunks) :],
            metadatas=[{"chunk_id": owner[(s.doc_id, s.start)], "doc_id": s.doc_id} for s in sentences],
        )

    def _add_rows(
        self,
        store: Collection,
        ids: list[str],
        documents: list[str],
        embeddings: np.ndarray,
        metadatas: list[dict[str, Any]],
    ) -> None:
        """``store.add`` in slices: Chroma refuses more rows per call than its batch limit (5,461 here)."""
        step = self.client.get_max_batch_size()
        for at in range(0, len(ids), step):
            store.add(
                ids=ids[at : at + step],
                documents=documents[at : at + step],
                embeddings=embeddings[at : at + step],
                metadatas=metadatas[at : at + step],  # type: ignore[arg-type]
            )

    # -- reading -------------------------------------------------------------------------

    def chunks(self) -> list[Chunk]:
        """Every stored chunk, rebuilt with its sentences, in document order."""
        rows = self._rows(self.chunk_store, include=["documents", "metadatas"])
        chunks = [_chunk_from_row(chunk_id, text, meta) for chunk_id, text, meta in rows]
        return sorted(chunks, key=lambda c: (c.doc_id, c.start))

    def query_chunks(
        self, vector: np.ndarray, k: int, doc_ids: list[str] | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` nearest chunks as (chunk_id, cosine similarity), optionally within some documents."""
        return self._query(self.chunk_store, vector, k, doc_ids)

    def query_sentences(
        self, vector: np.ndarray, k: int, doc_ids: list[str] | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` nearest sentences as (sentence_id, cosine similarity)."""
        return self._query(self.sentence_store, vector, k, doc_ids)

    def _query(
        self, store: Collection, vector: np.ndarray, k: int, doc_ids: list[str] | None
    ) -> list[tuple[str, float]]:
        where = cast(Where, {"doc_id": {"$in": doc_ids}}) if doc_ids else None
        try:
            # No count() first: Chroma returns what it has when asked for more, and each
            # call is a round trip (an HTTP request with a Chroma server), two per question.
            got = store.query(query_embeddings=[vector], n_results=k, where=where, include=["distances"])
        except Exception as exc:
            raise IndexStoreError(f"Cannot query the index: {exc}") from exc
        distances = (got["distances"] or [[]])[0]
        return [(i, 1.0 - float(d)) for i, d in zip(got["ids"][0], distances, strict=True)]

    def sentence_vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        try:
            got = self.sentence_store.get(ids=ids, include=["embeddings"])
        except Exception as exc:
            raise IndexStoreError(f"Cannot read the index: {exc}") from exc
        vectors = got["embeddings"] if got["embeddings"] is not None else []
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], vectors, strict=True)}


@contextmanager
def _store_errors(doing: str) -> Iterator[None]:
    """Chroma's own errors (a damaged or read-only database...) as IndexStoreError, which callers handle."""
    try:
        yield
    except IndexStoreError:
        raise
    except chromadb.errors.ChromaError as exc:
        raise IndexStoreError(f"Cannot {doing}: {exc}") from exc


def _stop_cached_system(folder: Path) -> None:
    """Forget and stop Chroma's process-wide instance for ``folder``, if it has one."""
    from chromadb.api.shared_system_client import SharedSystemClient

    system = SharedSystemClient._identifier_to_system.pop(str(folder), None)
    if system is not None:
        try:
            system.stop()
        except Exception as exc:  # a damaged instance may fail to stop; it is dropped anyway
            log.debug("Stopping the old Chroma instance failed: %s", exc)


def _new_generation() -> str:
    """Sortable and unique enough for one collection: the time in milliseconds, in hex."""
    return f"g{time.time_ns() // 1_000_000:x}"


def sentence_id(chunk_id: str, sentence: Sentence) -> str:
    return f"{chunk_id}/{sentence.index}"


def _document_metadata(doc: Document, chunks: int) -> dict[str, str | int]:
    return {
        "doc_id": doc.doc_id,
        "path": doc.path,
        "sha256": doc.sha256,
        "title": doc.title,
        "chunks": chunks,
        "metadata": json.dumps(doc.metadata),
        "pages": json.dumps(doc.pages),
    }


def _document_from_row(doc_id: str, text: str, meta: dict[str, Any]) -> Document:
    return Document(
        doc_id=doc_id,
        path=str(meta["path"]),
        text=text,
        sha256=str(meta["sha256"]),
        title=str(meta["title"]),
        metadata=json.loads(meta["metadata"]),
        pages=tuple(json.loads(meta["pages"])),
    )


def _chunk_metadata(chunk: Chunk) -> dict[str, str | int]:
    spans = [[s.start, s.end, s.index, s.page] for s in chunk.sentences]
    return {
        "doc_id": chunk.doc_id,
        "title": chunk.title,
        "paragraph": chunk.paragraph,
        "start": chunk.start,
        "end": chunk.end,
        "sentences": json.dumps(spans),
    }


def _chunk_from_row(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    start, paragraph, doc_id = int(meta["start"]), int(meta["paragraph"]), str(meta["doc_id"])
    sentences = tuple(
        Sentence(doc_id, paragraph, index, s, e, text[s - start : e - start], page)
        for s, e, index, page in json.loads(meta["sentences"])
    )
    return Chunk(chunk_id, doc_id, paragraph, start, int(meta["end"]), text, sentences, str(meta["title"]))
