"""The vector index: chunks and sentences with their embeddings, in Chroma.

Two Chroma collections per assistant collection: ``<name>-chunks`` (retrieval) and
``<name>-sentences`` (the sentences that get quoted). A JSON manifest beside them
records each document's content hash and chunk ids, so ``ingest`` re-embeds only
what changed; it is written last, atomically, so a killed ingest leaves a manifest
that still describes what is stored, or no manifest (which forces a rebuild).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, cast

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Documents, EmbeddingFunction, Where
from chromadb.api.types import Embeddings as ChromaEmbeddings

from .chunking import chunk_document
from .config import Settings
from .embedding import MODEL_NAME, MiniLMEmbeddings
from .errors import IndexBusyError, IndexStoreError
from .models import Chunk, Document, Sentence

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
PAGE = 10_000  # rows per read from Chroma
Progress = Callable[[str, int, int], None]  # (stage, done, total)


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
    chunks: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


class Index:
    """One collection's chunks and sentences in Chroma, plus its manifest."""

    def __init__(self, settings: Settings, embeddings: MiniLMEmbeddings) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self.function = MiniLMFunction(embeddings)
        self.manifest_path = settings.index_dir / f"{settings.collection}.manifest.json"

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
        for attribute in ("client", "chunk_store", "sentence_store"):
            self.__dict__.pop(attribute, None)

    def _collection(self, kind: str) -> Collection:
        try:
            return self.client.get_or_create_collection(
                f"{self.settings.collection}-{kind}",
                embedding_function=self.function,  # type: ignore[arg-type]
                configuration={"hnsw": {"space": "cosine"}},
            )
        except Exception as exc:
            raise IndexStoreError(f"Cannot open the {kind} collection: {exc}") from exc

    @cached_property
    def chunk_store(self) -> Collection:
        return self._collection("chunks")

    @cached_property
    def sentence_store(self) -> Collection:
        return self._collection("sentences")

    # -- manifest ------------------------------------------------------------------------

    def fingerprint(self) -> dict[str, Any]:
        """Settings that, when changed, make every stored chunk invalid."""
        return {"schema": SCHEMA_VERSION, "model": MODEL_NAME, "chunk_chars": self.settings.chunk_chars}

    def read_manifest(self) -> dict[str, Any] | None:
        try:
            manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning(
                "Index manifest %s is unreadable (%s); the index will be rebuilt.", self.manifest_path, exc
            )
            return None
        if not isinstance(manifest, dict) or manifest.get("fingerprint") != self.fingerprint():
            return None
        return manifest

    def _write_manifest(self, docs: dict[str, Any]) -> None:
        tmp = self.manifest_path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps({"fingerprint": self.fingerprint(), "documents": docs}, indent=1), encoding="utf-8"
        )
        os.replace(tmp, self.manifest_path)

    def is_stale(self, documents: list[Document]) -> bool:
        manifest = self.read_manifest()
        if manifest is None:
            return True
        stored = {doc_id: entry["sha256"] for doc_id, entry in manifest["documents"].items()}
        return stored != {doc.doc_id: doc.sha256 for doc in documents}

    # -- ingest --------------------------------------------------------------------------

    def check_not_busy(self) -> None:
        """IndexBusyError if another ingest holds the lock now (the lock is not kept)."""
        lock = self.settings.index_dir / "ingest.lock"
        if not lock.exists():
            return
        with open(lock) as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise IndexBusyError(
                    f"Another ingest is running on {self.settings.index_dir}; wait for it to finish."
                ) from None
            fcntl.flock(handle, fcntl.LOCK_UN)

    @contextmanager
    def _lock(self) -> Iterator[None]:
        self.settings.index_dir.mkdir(parents=True, exist_ok=True)
        with open(self.settings.index_dir / "ingest.lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise IndexBusyError(
                    f"Another ingest is running on {self.settings.index_dir}; wait for it to finish."
                ) from None
            yield

    def ingest(
        self, documents: list[Document], *, rebuild: bool = False, progress: Progress | None = None
    ) -> IngestReport:
        """Bring the index in line with ``documents``, embedding only what changed."""
        began = time.perf_counter()
        report = IngestReport()
        with self._lock(), _store_errors("update the index"):
            manifest = None if rebuild else self.read_manifest()
            if manifest is None:
                self._drop_collections()
            stored: dict[str, Any] = dict(manifest["documents"]) if manifest else {}
            current = {doc.doc_id: doc for doc in documents}
            for doc_id in sorted(set(stored) - set(current)):
                self._delete(stored.pop(doc_id)["chunk_ids"])
                report.removed.append(doc_id)
            for number, doc in enumerate(documents, start=1):
                if progress:
                    progress("documents", number - 1, len(documents))
                previous = stored.get(doc.doc_id)
                if previous and previous["sha256"] == doc.sha256:
                    report.unchanged.append(doc.doc_id)
                    continue
                if previous:
                    self._delete(previous["chunk_ids"])
                chunks = chunk_document(doc, self.settings.chunk_chars)
                self._add(chunks)
                stored[doc.doc_id] = {
                    "sha256": doc.sha256,
                    "path": doc.path,
                    "title": doc.title,
                    "chunk_ids": [c.chunk_id for c in chunks],
                }
                (report.updated if previous else report.added).append(doc.doc_id)
                # Save after each document so a killed ingest keeps what it finished.
                self._write_manifest(stored)
            self._write_manifest(stored)
            if progress:
                progress("documents", len(documents), len(documents))
        report.chunks = sum(len(entry["chunk_ids"]) for entry in stored.values())
        report.seconds = time.perf_counter() - began
        return report

    def _drop_collections(self) -> None:
        for kind in ("chunks", "sentences"):
            name = f"{self.settings.collection}-{kind}"
            if name in {c.name for c in self.client.list_collections()}:
                self.client.delete_collection(name)
        for attribute in ("chunk_store", "sentence_store"):
            self.__dict__.pop(attribute, None)
        self.manifest_path.unlink(missing_ok=True)

    def _delete(self, chunk_ids: list[str]) -> None:
        if chunk_ids:
            self.chunk_store.delete(ids=chunk_ids)
            where = cast(Where, {"chunk_id": {"$in": chunk_ids}})
            self.sentence_store.delete(where=where)

    def _add(self, chunks: list[Chunk]) -> None:
        if not chunks:
            return
        sentences = [s for chunk in chunks for s in chunk.sentences]
        vectors = self.embeddings.encode([c.text for c in chunks] + [s.text for s in sentences])
        self.chunk_store.add(
            ids=[c.chunk_id for c in chunks],
            documents=[c.text for c in chunks],
            embeddings=vectors[: len(chunks)],
            metadatas=[_chunk_metadata(c) for c in chunks],
        )
        owner = {(s.doc_id, s.start): c.chunk_id for c in chunks for s in c.sentences}
        self.sentence_store.add(
            ids=[sentence_id(owner[(s.doc_id, s.start)], s) for s in sentences],
            documents=[s.text for s in sentences],
            embeddings=vectors[len(chunks) :],
            metadatas=[{"chunk_id": owner[(s.doc_id, s.start)], "doc_id": s.doc_id} for s in sentences],
        )

    # -- reading -------------------------------------------------------------------------

    def chunks(self) -> list[Chunk]:
        """Every stored chunk, rebuilt with its sentences, in document order.

        Read a page at a time: one unbounded get() fails past ~100k chunks ("too many SQL variables").
        """
        chunks: list[Chunk] = []
        while True:
            try:
                got = self.chunk_store.get(include=["documents", "metadatas"], limit=PAGE, offset=len(chunks))
            except Exception as exc:
                raise IndexStoreError(f"Cannot read the index: {exc}") from exc
            if not got["ids"]:
                break
            rows = zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True)
            chunks += [_chunk_from_row(chunk_id, text, dict(meta)) for chunk_id, text, meta in rows]
        return sorted(chunks, key=lambda c: (c.doc_id, c.start))

    def query_chunks(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The ``k`` nearest chunks as (chunk_id, cosine similarity)."""
        return self._query(self.chunk_store, vector, k)

    def query_sentences(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The ``k`` nearest sentences as (sentence_id, cosine similarity)."""
        return self._query(self.sentence_store, vector, k)

    def _query(self, store: Collection, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        try:
            count = store.count()
            if count == 0:
                return []
            got = store.query(query_embeddings=[vector], n_results=min(k, count), include=["distances"])
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


def sentence_id(chunk_id: str, sentence: Sentence) -> str:
    return f"{chunk_id}/{sentence.index}"


def _chunk_metadata(chunk: Chunk) -> dict[str, str | int]:
    spans = [[s.start, s.end, s.index] for s in chunk.sentences]
    return {
        "doc_id": chunk.doc_id,
        "paragraph": chunk.paragraph,
        "start": chunk.start,
        "end": chunk.end,
        "sentences": json.dumps(spans),
    }


def _chunk_from_row(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    start, paragraph, doc_id = int(meta["start"]), int(meta["paragraph"]), str(meta["doc_id"])
    sentences = tuple(
        Sentence(doc_id, paragraph, index, s, e, text[s - start : e - start])
        for s, e, index in json.loads(meta["sentences"])
    )
    return Chunk(chunk_id, doc_id, paragraph, start, int(meta["end"]), text, sentences)
